# MultiProdigy Gateway container.
#   docker build -t multiprodigy .
#   docker run -p 4100:4100 -e OPENAI_API_KEY multiprodigy

# Build stage: the official Swift image compiles the release binary as scripts/build-release.sh
# makes it (the build bench/run.sh measures): the Swift runtime linked in statically, so the runtime
# image needs no Swift toolchain, and packed relocations, which need glibc 2.36+ (Ubuntu 24.04 has 2.39).
FROM swift:6.3-noble AS build
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libsqlite3-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY . .
RUN binary="$(bash scripts/build-release.sh)" \
    && install -D "$binary" /staging/multiprodigy

# Runtime stage: a slim Ubuntu with CA certificates (TLS to cloud providers), curl (health check) and
# SQLite (usage ledger and keys, in /app/multiprodigy.db by default). /var/lib/multiprodigy belongs to the
# gateway's user, so a volume mounted there (deploy/compose.yaml's usage journals) is writable.
FROM ubuntu:24.04
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl libsqlite3-0 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app --create-home multiprodigy \
    && install -d -o multiprodigy -g multiprodigy /var/lib/multiprodigy
WORKDIR /app
COPY --from=build /staging/multiprodigy /usr/local/bin/multiprodigy
COPY --chown=multiprodigy:multiprodigy config/gateway.yaml /app/config/gateway.yaml
USER 10001
EXPOSE 4100
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD ["curl", "-fsS", "http://127.0.0.1:4100/health"]
ENTRYPOINT ["/usr/local/bin/multiprodigy"]
CMD ["serve", "--config", "/app/config/gateway.yaml", "--listen", "0.0.0.0:4100"]
