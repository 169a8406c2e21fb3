#!/usr/bin/env bash
# Benchmarks the gateway's per-request overhead against a canned upstream.
#
# Four targets answer the same POST /v1/chat/completions with the same ~400-byte body:
#   direct       nginx returning the canned JSON itself              (127.0.0.1:18081)
#   nginx-proxy  nginx reverse-proxying to "direct" with keepalive    (127.0.0.1:18082)
#   haproxy      HAProxy (its own process, 1 thread) proxying to "direct" (127.0.0.1:18087)
#   gateway      multiprodigy (release build) in front of "direct"    (127.0.0.1:18083)
# "direct" is the floor; "nginx-proxy" and "haproxy" are what a mature, minimal proxy hop costs, so
# the gateway is judged against them rather than against zero. HAProxy is the reference of issue
# 18: like the gateway it is a process of its own, where nginx-proxy shares direct's worker.
#
# Streams (BENCH_STREAMS, default 1): the same targets in front of a canned stream of 7 chunks and a
# usage chunk that nginx serves at /stream/v1/chat/completions:
#   direct-stream, nginx-proxy-stream (proxy_buffering off), haproxy-stream, chat-stream (the
#   gateway, "stream": true). chat-stream and haproxy-stream are also run with 1,000 connections
#   (wrk -t2 -c1000 --timeout 2s): the "conc 1000" rows.
#
# TLS upstream (BENCH_TLS, default 1): nginx also serves the canned answers over TLS on
# 127.0.0.1:18086, with a certificate for 127.0.0.1 and localhost signed by a CA made with openssl
# in the temp dir at start:
#   direct-tls, direct-tls-stream    wrk straight to nginx's TLS listener (the floor of the TLS rows)
#   haproxy-tls, haproxy-tls-stream  HAProxy (plain on 127.0.0.1:18088) to nginx over TLS, verifying
#                                    the certificate against the bench CA
#   gateway-tls, gateway-tls-stream  the gateway to nginx over TLS (provider `ca_file:` = the CA)
#
# Two more gateways, when PostgreSQL's server binaries are installed (BENCH_POSTGRES), measure
# shared storage against local storage in the same run: identical configs but for `storage:`, each
# driven with a virtual key that has a budget and an RPM limit (too large to ever refuse here):
#   gateway-sqlite-key    storage: sqlite:FILE                          (127.0.0.1:18084)
#   gateway-postgres-key  storage: postgres://… (a private cluster)     (127.0.0.1:18085)
# The PostgreSQL cluster is the script's own: initdb'd into the temp dir, 127.0.0.1:18090 and a
# unix socket in the temp dir, fsync=off (throwaway data), stopped and removed on exit.
#
# The same gateway also serves the other front-door APIs (BENCH_APIS, default 1):
#   responses         POST /v1/responses ("store": false: chat stores nothing either), passed
#                     through to nginx's canned Responses answer (type: openai, native)
#   responses-stream  the same, streamed
#   messages          POST /v1/messages, passed through to nginx's canned Anthropic message
#                     (type: anthropic, native)
#   messages-stream   the same, streamed
#   *-via-chat        the same four, translated through chat to the canned chat answers
# Each API's added latency is judged against chat's (non-streaming against `gateway`, streams
# against `chat-stream`). The stream rows among them need BENCH_STREAMS=1.
#
# Usage: bash bench/run.sh
# Env:   BENCH_DURATION     wrk duration of each measured run (default 10s)
#        BENCH_WARMUP       wrk duration of the warm-up run per target (default 2s)
#        NGINX_WORKERS      nginx worker_processes (default 1)
#        BENCH_SKIP_BUILD=1 use the existing binary as is
#        GATEWAY_BIN        the gateway binary to measure (default: the shipped build, made by
#                           scripts/build-release.sh in .build-production); when set, nothing is
#                           built, so any other build can be benched
#        BENCH_KEEP_TMP=1   keep the temp dir (configs, logs, raw wrk output) for inspection
#        BENCH_STREAMS      0: no stream rows at all (default 1)
#        BENCH_TLS          0: no TLS rows (default 1; the gateway-tls rows need a gateway that
#                           knows the provider key `ca_file`)
#        BENCH_MANY_STREAMS connections of the many-streams rows (default 1000; 0 skips them)
#        BENCH_POSTGRES     1: bench the two keyed gateways (fail if PostgreSQL is missing);
#                           0: skip them; unset: bench them when /usr/lib/postgresql/*/bin/postgres
#                           exists, else skip them with a message
#        BENCH_APIS         0: no Responses or Messages rows
#        BENCH_TRACING      1: also bench a second gateway with OpenTelemetry tracing on at
#                           sample_ratio 1 (127.0.0.1:18089), exporting every span over OTLP/HTTP
#                           to a sink nginx serves (127.0.0.1:18092, answers 200 and drops the
#                           spans): the rows gateway-traced and chat-stream-traced, beside gateway
#                           and chat-stream (default 0)
#        BENCH_PG_PORT      the private PostgreSQL's TCP port (default 18090)
#        BENCH_KEY_BUDGET   the bench key's --budget (default 1000000usd/month)
#        BENCH_KEY_RPM      the bench key's --rpm (default 100000000: slices of 2 % of it are never
#                           spent during a run; a smaller one makes the replicas lease again)
#
# Everything listens on and talks to 127.0.0.1 only.
set -euo pipefail

BENCH_DURATION=${BENCH_DURATION:-10s}
BENCH_WARMUP=${BENCH_WARMUP:-2s}
# One nginx worker by default: on a 2-core machine, nginx, the gateway and wrk all share the CPUs,
# and several nginx workers would take cycles from the process under test and flatter nginx-proxy.
# One worker per nginx role keeps the comparison fair; raise it on bigger machines.
NGINX_WORKERS=${NGINX_WORKERS:-1}

DIRECT_PORT=18081
PROXY_PORT=18082
GATEWAY_PORT=18083
SQLITE_KEY_PORT=18084
POSTGRES_KEY_PORT=18085
TLS_PORT=18086
HAPROXY_PORT=18087
HAPROXY_TLS_PORT=18088
PG_PORT=${BENCH_PG_PORT:-18090}
BENCH_KEY_BUDGET=${BENCH_KEY_BUDGET:-1000000usd/month}
BENCH_KEY_RPM=${BENCH_KEY_RPM:-100000000}
HOST=127.0.0.1
API_PATH=/v1/chat/completions
STREAMS=${BENCH_STREAMS:-1}
TLS=${BENCH_TLS:-1}
APIS=${BENCH_APIS:-1}
TRACING=${BENCH_TRACING:-0}
TRACED_PORT=18089
OTLP_SINK_PORT=18092
MANY_STREAMS=${BENCH_MANY_STREAMS:-1000}

# The script lives in bench/; the build must run from the package root wherever we are called from.
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

[[ "$STREAMS" == [01] ]] || die "BENCH_STREAMS must be 0 or 1, not '$STREAMS'"
[[ "$TLS" == [01] ]] || die "BENCH_TLS must be 0 or 1, not '$TLS'"
[[ "$APIS" == [01] ]] || die "BENCH_APIS must be 0 or 1, not '$APIS'"
[[ "$TRACING" == [01] ]] || die "BENCH_TRACING must be 0 or 1, not '$TRACING'"
[[ "$MANY_STREAMS" =~ ^[0-9]+$ ]] && ((MANY_STREAMS == 0 || MANY_STREAMS >= 64)) ||
    die "BENCH_MANY_STREAMS must be 0 or a number of connections of at least 64, not '$MANY_STREAMS'"
((STREAMS)) || MANY_STREAMS=0

# ---------------------------------------------------------------------------------------------
# Cleanup: registered before anything starts so a failure at any step still stops what we ran.
# ---------------------------------------------------------------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/multiprodigy-bench.XXXXXX")
NGINX_PID=""
HAPROXY_PID=""
GATEWAY_PID=""
SQLITE_KEY_PID=""
POSTGRES_KEY_PID=""
TRACED_PID=""
PG_PID=""

stop_pid() {
    local pid=$1
    [[ -n "$pid" ]] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    # The gateway drains in-flight requests on SIGTERM; give it a moment, then insist.
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# PostgreSQL: a fast shutdown (SIGINT ends its sessions; the gateways are already gone), bounded,
# then SIGKILL for the postmaster and whatever of its children is left.
stop_postgres() {
    [[ -n "$PG_PID" ]] || return 0
    kill -0 "$PG_PID" 2>/dev/null || return 0
    kill -INT "$PG_PID" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$PG_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$PG_PID" 2>/dev/null; then
        local children
        children=$(pgrep -P "$PG_PID" || true)
        kill -KILL "$PG_PID" $children 2>/dev/null || true
    fi
    wait "$PG_PID" 2>/dev/null || true
}

cleanup() {
    local status=$?
    stop_pid "$TRACED_PID"
    stop_pid "$POSTGRES_KEY_PID"
    stop_pid "$SQLITE_KEY_PID"
    stop_pid "$GATEWAY_PID"
    stop_postgres
    stop_pid "$HAPROXY_PID"
    stop_pid "$NGINX_PID"
    if [[ "${BENCH_KEEP_TMP:-0}" == 1 ]]; then
        log "kept $TMP"
    else
        rm -rf "$TMP"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------------------------
missing=()
for tool in nginx haproxy wrk curl openssl; do
    # nginx and haproxy live in /usr/sbin, which is not on every user's PATH.
    command -v "$tool" >/dev/null 2>&1 || [[ -x "/usr/sbin/$tool" ]] || missing+=("$tool")
done
if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    SUDO=""
    [[ $(id -u) -eq 0 ]] || SUDO=sudo
    # Debian's package scripts may try to start the system nginx on :80 (and a system haproxy);
    # we never use them and run our own instances with private configs below.
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x "$NGINX" ]] || die "nginx not found"
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
[[ -x "$HAPROXY" ]] || die "haproxy not found"

# The many-streams rows hold 1,000 client connections to the gateway and 1,000 more from it to
# nginx (and as many through HAProxy); each process needs a descriptor per socket and inherits
# our limit.
NOFILE_NEEDED=$((8 * MANY_STREAMS + 1024))
if (($(ulimit -n) < NOFILE_NEEDED)); then
    ulimit -n "$NOFILE_NEEDED" 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    (($(ulimit -n) >= NOFILE_NEEDED)) ||
        die "open-file limit $(ulimit -n) is below $NOFILE_NEEDED (hard limit $(ulimit -Hn)); raise it or lower BENCH_MANY_STREAMS"
fi

# The keyed pair needs PostgreSQL's server binaries (15 if there, else the newest installed).
PG_BIN=""
for dir in /usr/lib/postgresql/15/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -rn); do
    if [[ -x "$dir/postgres" && -x "$dir/initdb" && -x "$dir/psql" && -x "$dir/pg_isready" ]]; then
        PG_BIN=$dir
        break
    fi
done
case "${BENCH_POSTGRES:-auto}" in
0) KEYED=0 ;;
1)
    [[ -n "$PG_BIN" ]] || die "BENCH_POSTGRES=1 but no PostgreSQL server in /usr/lib/postgresql/*/bin (apt-get install postgresql-15)"
    KEYED=1
    ;;
auto)
    if [[ -n "$PG_BIN" ]]; then
        KEYED=1
    else
        KEYED=0
        log "skipping gateway-sqlite-key and gateway-postgres-key: no PostgreSQL server in /usr/lib/postgresql/*/bin (apt-get install postgresql-15; BENCH_POSTGRES=0 skips them silently)"
    fi
    ;;
*) die "BENCH_POSTGRES must be 0 or 1, not '$BENCH_POSTGRES'" ;;
esac

# A leftover from an earlier run (or anything else) on our ports would silently be benchmarked.
PORTS=($DIRECT_PORT $PROXY_PORT $GATEWAY_PORT $HAPROXY_PORT)
((TLS)) && PORTS+=($TLS_PORT $HAPROXY_TLS_PORT)
((KEYED)) && PORTS+=($SQLITE_KEY_PORT $POSTGRES_KEY_PORT $PG_PORT)
((TRACING)) && PORTS+=($TRACED_PORT $OTLP_SINK_PORT)
for port in "${PORTS[@]}"; do
    if (exec 3<>"/dev/tcp/$HOST/$port") 2>/dev/null; then
        die "$HOST:$port is already in use; stop whatever listens there first"
    fi
done

# ---------------------------------------------------------------------------------------------
# Build first: it is the slowest and most failure-prone step, and nothing needs to be running yet.
# ---------------------------------------------------------------------------------------------
if [[ -n "${GATEWAY_BIN:-}" ]]; then
    GATEWAY_BIN=$(cd "$(dirname "$GATEWAY_BIN")" && pwd)/$(basename "$GATEWAY_BIN")
elif [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
    # The build that ships (the Dockerfile's): measuring another would measure something else.
    log "building multiprodigy as it ships (scripts/build-release.sh)"
    GATEWAY_BIN=$(bash scripts/build-release.sh)
fi
GATEWAY_BIN=${GATEWAY_BIN:-"$REPO_ROOT/.build-production/release/multiprodigy"}
[[ -x "$GATEWAY_BIN" ]] || die "$GATEWAY_BIN not found; build it or unset BENCH_SKIP_BUILD"

# ---------------------------------------------------------------------------------------------
# nginx: canned upstream + reference reverse proxy
# ---------------------------------------------------------------------------------------------
# A realistic non-streaming chat.completion (~400 bytes). It goes inside a single-quoted nginx
# string, so it must contain no single quotes and no '$' (nginx would expand it as a variable).
CANNED_JSON='{"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion","created":1741569952,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I assist you today?","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":10,"total_tokens":19},"service_tier":"default","system_fingerprint":"fp_06737a9306"}'
[[ "$CANNED_JSON" != *"'"* && "$CANNED_JSON" != *'$'* ]] || die "CANNED_JSON must not contain ' or \$"

# The canned stream: a role chunk, 5 content chunks, a finish chunk and a usage chunk, then [DONE],
# with nginx's \n escapes for the event separators (the same rules as CANNED_JSON).
stream_chunk() { # delta finish_reason
    printf '{"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":%s,"logprobs":null,"finish_reason":%s}]}' "$1" "$2"
}
CANNED_STREAM="data: $(stream_chunk '{"role":"assistant","content":""}' null)\\n\\n"
for word in "Hello!" " How" " can" " I" " help?"; do
    CANNED_STREAM+="data: $(stream_chunk "{\"content\":\"$word\"}" null)\\n\\n"
done
CANNED_STREAM+="data: $(stream_chunk '{}' '"stop"')\\n\\n"
CANNED_STREAM+='data: {"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-mini-2024-07-18","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":10,"total_tokens":19}}\n\ndata: [DONE]\n\n'
[[ "$CANNED_STREAM" != *"'"* && "$CANNED_STREAM" != *'$'* ]] || die "CANNED_STREAM must not contain ' or \$"

# The native answers of the other front-door APIs, for the providers that speak them: OpenAI's
# Responses (a `response` object, and its event stream) and Anthropic's Messages (a message, and
# its events), the same five words as the chat stream. Same quoting rules as CANNED_JSON.
CANNED_RESPONSE='{"id":"resp_67ccd2bed1ec8190b14f964abc054267","object":"response","created_at":1741476542,"status":"completed","error":null,"incomplete_details":null,"model":"gpt-4o-mini-2024-07-18","output":[{"type":"message","id":"msg_67ccd2bf17f0819081ff3bb2cf6508e6","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hello! How can I assist you today?","annotations":[]}]}],"usage":{"input_tokens":9,"input_tokens_details":{"cached_tokens":0},"output_tokens":10,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":19}}'
responses_event() { # type sequence_number fields
    printf 'event: %s\\ndata: {"type":"%s",%s,"sequence_number":%d}\\n\\n' "$1" "$1" "$3" "$2"
}
RESPONSE_HEAD='"id":"resp_67ccd2bed1ec8190b14f964abc054267","object":"response","created_at":1741476542,"model":"gpt-4o-mini-2024-07-18"'
CANNED_RESPONSES_STREAM=$(responses_event response.created 0 "\"response\":{$RESPONSE_HEAD,\"status\":\"in_progress\",\"output\":[]}")
CANNED_RESPONSES_STREAM+=$(responses_event response.in_progress 1 "\"response\":{$RESPONSE_HEAD,\"status\":\"in_progress\",\"output\":[]}")
CANNED_RESPONSES_STREAM+=$(responses_event response.output_item.added 2 '"output_index":0,"item":{"type":"message","id":"msg_1","status":"in_progress","role":"assistant","content":[]}')
sequence=3
for word in "Hello!" " How" " can" " I" " help?"; do
    CANNED_RESPONSES_STREAM+=$(responses_event response.output_text.delta $sequence "\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"delta\":\"$word\"")
    sequence=$((sequence + 1))
done
CANNED_RESPONSES_STREAM+=$(responses_event response.output_text.done $sequence '"item_id":"msg_1","output_index":0,"content_index":0,"text":"Hello! How can I help?"')
CANNED_RESPONSES_STREAM+=$(responses_event response.completed $((sequence + 1)) "\"response\":{$RESPONSE_HEAD,\"status\":\"completed\",\"output\":[{\"type\":\"message\",\"id\":\"msg_1\",\"status\":\"completed\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\",\"text\":\"Hello! How can I help?\",\"annotations\":[]}]}],\"usage\":{\"input_tokens\":9,\"input_tokens_details\":{\"cached_tokens\":0},\"output_tokens\":10,\"output_tokens_details\":{\"reasoning_tokens\":0},\"total_tokens\":19}}")
CANNED_MESSAGE='{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Hello! How can I assist you today?"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":9,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":10}}'
messages_event() { # type data
    printf 'event: %s\\ndata: %s\\n\\n' "$1" "$2"
}
CANNED_MESSAGES_STREAM=$(messages_event message_start '{"type":"message_start","message":{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":9,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}')
CANNED_MESSAGES_STREAM+=$(messages_event content_block_start '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}')
for word in "Hello!" " How" " can" " I" " help?"; do
    CANNED_MESSAGES_STREAM+=$(messages_event content_block_delta "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"$word\"}}")
done
CANNED_MESSAGES_STREAM+=$(messages_event content_block_stop '{"type":"content_block_stop","index":0}')
CANNED_MESSAGES_STREAM+=$(messages_event message_delta '{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":10}}')
CANNED_MESSAGES_STREAM+=$(messages_event message_stop '{"type":"message_stop"}')
for canned in "$CANNED_RESPONSE" "$CANNED_RESPONSES_STREAM" "$CANNED_MESSAGE" "$CANNED_MESSAGES_STREAM"; do
    [[ "$canned" != *"'"* && "$canned" != *'$'* ]] || die "a canned native answer must not contain ' or \$"
done

# ---------------------------------------------------------------------------------------------
# TLS: a private CA and a server certificate for 127.0.0.1 and localhost, signed by it
# ---------------------------------------------------------------------------------------------
TLS_DIR=$TMP/tls
CA_PEM=$TLS_DIR/ca.pem
if ((TLS)); then
    mkdir -p "$TLS_DIR"
    log "making a bench CA and a server certificate for $HOST (openssl)"
    # P-256 keys: what most large API front ends present today. A CA must say it is one
    # (basicConstraints CA:TRUE, keyCertSign), or strict verifiers refuse the chain.
    {
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
            -subj "/CN=multiprodigy bench CA" -keyout "$TLS_DIR/ca.key" -out "$CA_PEM" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" &&
            openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
                -subj "/CN=localhost" -keyout "$TLS_DIR/server.key" -out "$TLS_DIR/server.csr" &&
            printf '%s\n' "basicConstraints=critical,CA:FALSE" \
                "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" \
                "subjectAltName=IP:$HOST,DNS:localhost" \
                "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid" >"$TLS_DIR/server.ext" &&
            openssl x509 -req -in "$TLS_DIR/server.csr" -CA "$CA_PEM" -CAkey "$TLS_DIR/ca.key" \
                -CAcreateserial -days 2 -extfile "$TLS_DIR/server.ext" -out "$TLS_DIR/server.pem" &&
            openssl verify -CAfile "$CA_PEM" "$TLS_DIR/server.pem"
    } >"$TLS_DIR/openssl.log" 2>&1 || die "openssl failed: $(tail -20 "$TLS_DIR/openssl.log")"
    # The gateway and HAProxy read the CA; nginx's master reads the key before dropping privileges.
    chmod 755 "$TLS_DIR"
    chmod 644 "$CA_PEM"
fi

mkdir -p "$TMP/nginx/logs"
# Workers of a root-started nginx run as 'nobody' and must be able to reach the prefix.
chmod 755 "$TMP" "$TMP/nginx"
# The canned answers, served by the plain "direct" listener and by the TLS one alike.
# Static files would answer POST with 405, so 'return' them.
CANNED_LOCATIONS="
        location = $API_PATH {
            default_type application/json;
            return 200 '$CANNED_JSON';
        }
        location = /stream$API_PATH {
            default_type text/event-stream;
            return 200 '$CANNED_STREAM';
        }
        location = /v1/responses {
            default_type application/json;
            return 200 '$CANNED_RESPONSE';
        }
        location = /stream/v1/responses {
            default_type text/event-stream;
            return 200 '$CANNED_RESPONSES_STREAM';
        }
        location = /v1/messages {
            default_type application/json;
            return 200 '$CANNED_MESSAGE';
        }
        location = /stream/v1/messages {
            default_type text/event-stream;
            return 200 '$CANNED_MESSAGES_STREAM';
        }
        location / {
            return 404;
        }"
TLS_SERVER=""
if ((TLS)); then
    # The same answers over TLS. Upstream connections are kept alive, so a handshake is rare and
    # what is measured is the record layer's cost per request.
    TLS_SERVER="
    server {
        listen $HOST:$TLS_PORT ssl;
        ssl_certificate $TLS_DIR/server.pem;
        ssl_certificate_key $TLS_DIR/server.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache shared:bench:1m;
$CANNED_LOCATIONS
    }"
fi
OTLP_SINK_SERVER=""
if ((TRACING)); then
    # The traced gateway's OTLP/HTTP collector: takes each batch of spans and drops it, answering as
    # a collector does (200, an empty protobuf ExportTraceServiceResponse).
    OTLP_SINK_SERVER="
    server {
        listen $HOST:$OTLP_SINK_PORT;
        client_max_body_size 64m;
        location = /v1/traces {
            default_type application/x-protobuf;
            return 200 '';
        }
    }"
fi
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes $NGINX_WORKERS;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;

events {
    worker_connections 8192;
}

http {
    access_log off;
    # Private temp paths: the defaults point into /var/lib/nginx, shared with the system nginx.
    client_body_temp_path $TMP/nginx/client_body;
    proxy_temp_path $TMP/nginx/proxy;
    fastcgi_temp_path $TMP/nginx/fastcgi;
    uwsgi_temp_path $TMP/nginx/uwsgi;
    scgi_temp_path $TMP/nginx/scgi;

    keepalive_requests 1000000;
    keepalive_timeout 75s;

    # direct: the canned answers.
    server {
        listen $HOST:$DIRECT_PORT;
$CANNED_LOCATIONS
    }
$TLS_SERVER
$OTLP_SINK_SERVER

    upstream canned {
        server $HOST:$DIRECT_PORT;
        keepalive 64;
        keepalive_requests 1000000;
    }

    # nginx-proxy: a plain reverse-proxy hop with pooled upstream connections, like the gateway's.
    server {
        listen $HOST:$PROXY_PORT;
        location / {
            proxy_pass http://canned;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
        # Streams pass as they come, as a proxy of server-sent events must.
        location /stream/ {
            proxy_pass http://canned;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
        }
    }
}
EOF

log "starting nginx (worker_processes $NGINX_WORKERS)"
"$NGINX" -t -q -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" -e "$TMP/nginx/logs/error.log"
"$NGINX" -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" -e "$TMP/nginx/logs/error.log" -g 'daemon off;' &
NGINX_PID=$!

wait_for() { # url timeout_seconds pid
    local url=$1 timeout=$2 pid=$3
    for _ in $(seq $((timeout * 10))); do
        curl -sf -o /dev/null "$url" && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/$HOST/$PROXY_PORT") 2>/dev/null && break
    kill -0 "$NGINX_PID" 2>/dev/null || die "nginx exited: $(cat "$TMP/nginx/logs/error.log")"
    sleep 0.1
done

# ---------------------------------------------------------------------------------------------
# HAProxy: the reference proxy of issue 18, a process of its own like the gateway
# ---------------------------------------------------------------------------------------------
# One thread, as nginx has one worker; keep-alive on both sides and idle server connections shared
# between clients (http-reuse always), as the gateway's pool does; no logs. The TLS frontend is
# plain for the client and TLS to nginx, verifying nginx's certificate against the bench CA and its
# name against the SNI it sends, as the gateway does with `ca_file`.
HAPROXY_TLS_SECTIONS=""
if ((TLS)); then
    HAPROXY_TLS_SECTIONS="
frontend haproxy-tls
    bind $HOST:$HAPROXY_TLS_PORT
    default_backend canned-tls

backend canned-tls
    server direct-tls $HOST:$TLS_PORT ssl verify required ca-file $CA_PEM sni str(localhost) verifyhost localhost"
fi
mkdir -p "$TMP/haproxy"
cat >"$TMP/haproxy/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn $((2 * MANY_STREAMS + 1024))
    pidfile $TMP/haproxy/haproxy.pid

defaults
    mode http
    option http-keep-alive
    http-reuse always
    timeout connect 10s
    timeout client 120s
    timeout server 120s
    timeout http-request 60s
    timeout http-keep-alive 120s

frontend haproxy
    bind $HOST:$HAPROXY_PORT
    default_backend canned

backend canned
    server direct $HOST:$DIRECT_PORT
$HAPROXY_TLS_SECTIONS
EOF
log "starting haproxy ($("$HAPROXY" -v | head -n 1 | awk '{print $3}'), nbthread 1)"
"$HAPROXY" -c -q -f "$TMP/haproxy/haproxy.cfg" >"$TMP/haproxy.log" 2>&1 ||
    die "haproxy rejects its config: $(cat "$TMP/haproxy.log")"
"$HAPROXY" -f "$TMP/haproxy/haproxy.cfg" -db >"$TMP/haproxy.log" 2>&1 &
HAPROXY_PID=$!
haproxy_up=0
for _ in $(seq 50); do
    if (exec 3<>"/dev/tcp/$HOST/$HAPROXY_PORT") 2>/dev/null; then
        haproxy_up=1
        break
    fi
    kill -0 "$HAPROXY_PID" 2>/dev/null || break
    sleep 0.1
done
((haproxy_up)) || die "haproxy did not listen on $HOST:$HAPROXY_PORT: $(tail -20 "$TMP/haproxy.log")"

BODY='{"model":"bench-model","messages":[{"role":"user","content":"Say hello"}]}'
STREAM_BODY='{"model":"bench-stream","messages":[{"role":"user","content":"Say hello"}],"stream":true}'

# Each target must answer POST with 200 and JSON (or an event stream) before we time it; a fast
# error page would otherwise make for impressive, meaningless numbers. https is checked against the
# bench CA, so a target that answers over TLS answers with the certificate the gateway must trust.
check_target() { # name url [virtual key secret] [body] [expected content type]
    local name=$1 url=$2 out code ctype auth=() tls=() body=${4:-$BODY} expected=${5:-application/json}
    [[ -z "${3:-}" ]] || auth=(-H "Authorization: Bearer $3")
    [[ "$url" != https://* ]] || tls=(--cacert "$CA_PEM")
    out=$(curl -s -o "$TMP/check-$name.body" -w '%{http_code} %{content_type}' "${tls[@]}" \
        -X POST -H 'content-type: application/json' "${auth[@]}" --data "$body" "$url") || die "$name: curl failed"
    code=${out%% *}
    ctype=${out#* }
    [[ "$code" == 200 ]] || die "$name: POST $url -> $code: $(head -c 500 "$TMP/check-$name.body")"
    [[ "$ctype" == "$expected"* ]] || die "$name: unexpected content-type '$ctype'"
    log "$name: POST $url -> $code $ctype, $(wc -c <"$TMP/check-$name.body") bytes"
}

# The rows, each a URL and a body; TARGETS is the order they are run and reported in.
declare -A URL=() BODY_OF=()
TARGETS=()
add_target() { # name url [body]
    URL[$1]=$2
    BODY_OF[$1]=${3:-$BODY}
    TARGETS+=("$1")
}
# Checks a row of TARGETS: an event stream for the stream rows, JSON for the others.
check_row() { # name
    local expected=application/json
    [[ "$1" != *-stream* ]] || expected=text/event-stream
    check_target "$1" "${URL[$1]}" "" "${BODY_OF[$1]}" "$expected"
}

add_target direct "http://$HOST:$DIRECT_PORT$API_PATH"
add_target nginx-proxy "http://$HOST:$PROXY_PORT$API_PATH"
add_target haproxy "http://$HOST:$HAPROXY_PORT$API_PATH"
add_target gateway "http://$HOST:$GATEWAY_PORT$API_PATH"
if ((STREAMS)); then
    add_target direct-stream "http://$HOST:$DIRECT_PORT/stream$API_PATH" "$STREAM_BODY"
    add_target nginx-proxy-stream "http://$HOST:$PROXY_PORT/stream$API_PATH" "$STREAM_BODY"
    add_target haproxy-stream "http://$HOST:$HAPROXY_PORT/stream$API_PATH" "$STREAM_BODY"
    add_target chat-stream "http://$HOST:$GATEWAY_PORT$API_PATH" "$STREAM_BODY"
fi
if ((TLS)); then
    add_target direct-tls "https://$HOST:$TLS_PORT$API_PATH"
    add_target haproxy-tls "http://$HOST:$HAPROXY_TLS_PORT$API_PATH"
    add_target gateway-tls "http://$HOST:$GATEWAY_PORT$API_PATH" \
        '{"model":"bench-tls","messages":[{"role":"user","content":"Say hello"}]}'
    if ((STREAMS)); then
        add_target direct-tls-stream "https://$HOST:$TLS_PORT/stream$API_PATH" "$STREAM_BODY"
        add_target haproxy-tls-stream "http://$HOST:$HAPROXY_TLS_PORT/stream$API_PATH" "$STREAM_BODY"
        add_target gateway-tls-stream "http://$HOST:$GATEWAY_PORT$API_PATH" \
            '{"model":"bench-tls-stream","messages":[{"role":"user","content":"Say hello"}],"stream":true}'
    fi
fi
# Rows served by the gateway (its CPU is counted per request) and by HAProxy (likewise).
is_gateway_row() { [[ "$1" == gateway* || "$1" == chat-stream || "$1" == responses* || "$1" == messages* ]]; }
is_haproxy_row() { [[ "$1" == haproxy* ]]; }

# Everything but the gateway is up: check those rows now, so a broken nginx or HAProxy config is
# reported before the gateway's start.
for target in "${TARGETS[@]}"; do
    is_gateway_row "$target" || check_row "$target"
done

# ---------------------------------------------------------------------------------------------
# Gateway
# ---------------------------------------------------------------------------------------------
# The usage ledger is on, as in production: every request appends its row to the journal.
cat >"$TMP/gateway.yaml" <<EOF
server:
  listen: $HOST:$GATEWAY_PORT
storage: sqlite:$TMP/ledger.db
providers:
  canned: {type: openai, base_url: "http://$HOST:$DIRECT_PORT/v1", locality: local}
  canned-stream: {type: openai, base_url: "http://$HOST:$DIRECT_PORT/stream/v1", locality: local}
  # The same canned server asked through chat for Responses: the translated path.
  canned-chat: {type: openai, base_url: "http://$HOST:$DIRECT_PORT/v1", locality: local, options: {responses_api: translate}}
  canned-chat-stream: {type: openai, base_url: "http://$HOST:$DIRECT_PORT/stream/v1", locality: local, options: {responses_api: translate}}
  canned-anthropic: {type: anthropic, base_url: "http://$HOST:$DIRECT_PORT", locality: local}
  canned-anthropic-stream: {type: anthropic, base_url: "http://$HOST:$DIRECT_PORT/stream", locality: local}
$( ((TLS)) && cat <<TLS_PROVIDERS
  # The canned answers over TLS, trusting the bench CA only for these providers.
  canned-tls: {type: openai, base_url: "https://$HOST:$TLS_PORT/v1", ca_file: "$CA_PEM", locality: local}
  canned-tls-stream: {type: openai, base_url: "https://$HOST:$TLS_PORT/stream/v1", ca_file: "$CA_PEM", locality: local}
TLS_PROVIDERS
)
models:
  bench-model: {provider: canned, model: gpt-4o-mini}
  bench-stream: {provider: canned-stream, model: gpt-4o-mini}
  bench-chat: {provider: canned-chat, model: gpt-4o-mini}
  bench-chat-stream: {provider: canned-chat-stream, model: gpt-4o-mini}
  bench-claude: {provider: canned-anthropic, model: claude-sonnet-4-5}
  bench-claude-stream: {provider: canned-anthropic-stream, model: claude-sonnet-4-5}
$( ((TLS)) && cat <<TLS_MODELS
  bench-tls: {provider: canned-tls, model: gpt-4o-mini}
  bench-tls-stream: {provider: canned-tls-stream, model: gpt-4o-mini}
TLS_MODELS
)
EOF

# Starts `multiprodigy serve` as target NAME with $TMP/NAME.yaml and waits until it is healthy;
# its pid is in STARTED_PID.
start_gateway() { # name port
    local name=$1 port=$2
    log "starting $name"
    # --log-level warning: per-request logging (info) would measure the terminal, not the gateway.
    "$GATEWAY_BIN" serve --config "$TMP/$name.yaml" --listen "$HOST:$port" --log-level warning \
        >"$TMP/$name.log" 2>&1 &
    STARTED_PID=$!
    if ! wait_for "http://$HOST:$port/health" 60 "$STARTED_PID"; then
        if grep -q "unknown key 'ca_file'" "$TMP/$name.log"; then
            die "$name: this gateway binary does not know the provider key 'ca_file' (issue 18), which the TLS rows need; bench a newer build, or run with BENCH_TLS=0 to skip the TLS rows. Its words: $(grep -m 1 "ca_file" "$TMP/$name.log")"
        fi
        die "$name did not become healthy within 60 s: $(tail -20 "$TMP/$name.log")"
    fi
}

# A build whose tasks run on Swift's default executor would only look slow; say what it is.
check_executor() { # name
    if grep -q "default executor" "$TMP/$1.log"; then
        die "$1 runs Swift Concurrency on its default executor, not on its event loops: $(grep "default executor" "$TMP/$1.log")"
    fi
}

start_gateway gateway "$GATEWAY_PORT"
GATEWAY_PID=$STARTED_PID

# The other front-door APIs (BENCH_APIS): native rows pass the canned server's own Responses and
# Messages answers through; "-via-chat" rows translate the same requests through chat to the canned
# chat answers. Their stream rows need BENCH_STREAMS.
if ((APIS)); then
    add_target responses "http://$HOST:$GATEWAY_PORT/v1/responses" \
        '{"model":"bench-model","input":"Say hello","store":false}'
    ((STREAMS)) && add_target responses-stream "http://$HOST:$GATEWAY_PORT/v1/responses" \
        '{"model":"bench-stream","input":"Say hello","store":false,"stream":true}'
    add_target messages "http://$HOST:$GATEWAY_PORT/v1/messages" \
        '{"model":"bench-claude","max_tokens":64,"messages":[{"role":"user","content":"Say hello"}]}'
    ((STREAMS)) && add_target messages-stream "http://$HOST:$GATEWAY_PORT/v1/messages" \
        '{"model":"bench-claude-stream","max_tokens":64,"messages":[{"role":"user","content":"Say hello"}],"stream":true}'
    add_target responses-via-chat "http://$HOST:$GATEWAY_PORT/v1/responses" \
        '{"model":"bench-chat","input":"Say hello","store":false}'
    ((STREAMS)) && add_target responses-stream-via-chat "http://$HOST:$GATEWAY_PORT/v1/responses" \
        '{"model":"bench-chat-stream","input":"Say hello","store":false,"stream":true}'
    add_target messages-via-chat "http://$HOST:$GATEWAY_PORT/v1/messages" \
        '{"model":"bench-model","max_tokens":64,"messages":[{"role":"user","content":"Say hello"}]}'
    ((STREAMS)) && add_target messages-stream-via-chat "http://$HOST:$GATEWAY_PORT/v1/messages" \
        '{"model":"bench-stream","max_tokens":64,"messages":[{"role":"user","content":"Say hello"}],"stream":true}'
fi
for target in "${TARGETS[@]}"; do
    ! is_gateway_row "$target" || check_row "$target"
done
check_executor gateway
RSS_IDLE_KB=$(awk '/^VmRSS:/ {print $2}' "/proc/$GATEWAY_PID/status")

# ---------------------------------------------------------------------------------------------
# The keyed pair: the same gateway with a budgeted, rate-limited key, on SQLite and on PostgreSQL
# ---------------------------------------------------------------------------------------------
declare -A KEY_SECRET=()
if ((KEYED)); then
    # A private cluster in $TMP. initdb and postgres refuse to run as root: as root they run as the
    # `postgres` OS user through setpriv, which execs in place, so $! is the postmaster itself.
    PG_DIR=$TMP/pg
    AS_PG=()
    mkdir -m 700 "$PG_DIR"
    if [[ $(id -u) -eq 0 ]]; then
        getent passwd postgres >/dev/null ||
            die "running as root, but there is no 'postgres' OS user to run PostgreSQL as (the postgresql package creates it)"
        command -v setpriv >/dev/null || die "running as root needs setpriv (util-linux) to run PostgreSQL as 'postgres'"
        AS_PG=(setpriv --reuid=postgres --regid=postgres --init-groups --)
        chown postgres:postgres "$PG_DIR"
    fi
    # ${AS_PG[@]+…}: an empty array is "unbound" to `set -u` in older bash.
    as_pg() { "${AS_PG[@]+"${AS_PG[@]}"}" "$@"; }
    as_pg test -w "$PG_DIR" ||
        die "the postgres user cannot reach $PG_DIR; point TMPDIR at a directory it can traverse (such as /tmp)"
    # Nothing from our environment (PGHOST, PGPASSWORD, ~/.pgpass, ~/.psqlrc) changes where psql goes.
    unset PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE PGSERVICE
    export PGPASSFILE=$TMP/no-pgpass PGCONNECT_TIMEOUT=10

    log "initdb ($PG_BIN)"
    timeout 120 env LC_ALL=C "${AS_PG[@]+"${AS_PG[@]}"}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres \
        --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C --no-sync --no-instructions \
        >"$TMP/initdb.log" 2>&1 || die "initdb failed: $(tail -20 "$TMP/initdb.log")"
    # TCP only on loopback and only with the password (the gateway's URL carries it); the unix
    # socket, in the private $PG_DIR, is trusted for this script's own psql.
    printf 'local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n' >"$PG_DIR/data/pg_hba.conf"
    # fsync=off: the data is thrown away at exit, and the bench measures the gateway, not this VM's
    # disk. Commits still wait for their WAL write (synchronous_commit stays on).
    cat >>"$PG_DIR/data/postgresql.conf" <<EOF

# multiprodigy bench: throwaway data
fsync = off
full_page_writes = off
password_encryption = 'scram-sha-256'
EOF
    [[ -z "${AS_PG[*]}" ]] || chown postgres:postgres "$PG_DIR/data/pg_hba.conf" "$PG_DIR/data/postgresql.conf"

    log "starting PostgreSQL on $HOST:$PG_PORT"
    "${AS_PG[@]+"${AS_PG[@]}"}" "$PG_BIN/postgres" -D "$PG_DIR/data" -p "$PG_PORT" -k "$PG_DIR" \
        -c listen_addresses="$HOST" >"$TMP/postgres.log" 2>&1 &
    PG_PID=$!
    pg_ready=0
    for _ in $(seq 300); do
        if "$PG_BIN/pg_isready" -q -h "$PG_DIR" -p "$PG_PORT" -t 2; then
            pg_ready=1
            break
        fi
        kill -0 "$PG_PID" 2>/dev/null || break
        sleep 0.1
    done
    ((pg_ready)) || die "PostgreSQL did not accept connections within 30 s: $(tail -20 "$TMP/postgres.log")"

    # Superuser SQL over the unix socket; one statement per call (CREATE DATABASE cannot run in a
    # transaction block with others).
    pg_sql() { # database sql
        timeout 30 "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$PG_DIR" -p "$PG_PORT" -U postgres -d "$1" -c "$2"
    }
    # Hexadecimal, so it needs no escaping in the URL.
    PG_PASSWORD=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
    pg_sql postgres "CREATE ROLE bench LOGIN PASSWORD '$PG_PASSWORD'" >/dev/null || die "could not create the role"
    pg_sql postgres "CREATE DATABASE bench OWNER bench" >/dev/null || die "could not create the database"
    PG_URL="postgres://bench:$PG_PASSWORD@$HOST:$PG_PORT/bench?sslmode=disable"

    # Identical but for storage. A master key makes virtual keys mandatory, as in production: a
    # request whose key went missing would get 401 and show in the error columns, where without one
    # it would quietly be served keyless. A budget needs a priced model (else 400 unpriced_model);
    # the price is gpt-4o-mini's. The PostgreSQL journal goes to $TMP, not ./multiprodigy-usage-journal.
    MASTER_KEY=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
    write_keyed_config() { # name port
        cat >"$TMP/$1.yaml" <<EOF
server:
  listen: $HOST:$2
auth:
  master_key: $MASTER_KEY
$(cat)
providers:
  canned: {type: openai, base_url: "http://$HOST:$DIRECT_PORT/v1", locality: local}
models:
  bench-model: {provider: canned, model: gpt-4o-mini, price: {input: 0.15, output: 0.6}}
EOF
    }
    write_keyed_config gateway-sqlite-key "$SQLITE_KEY_PORT" <<EOF
storage: sqlite:$TMP/ledger-key.db
EOF
    write_keyed_config gateway-postgres-key "$POSTGRES_KEY_PORT" <<EOF
storage:
  url: $PG_URL
  journal: $TMP/postgres-journal
EOF

    # The key is made with the CLI of the binary under test, reading the same config (so the same
    # storage and journal), before its gateway starts. Its secret never reaches the terminal.
    create_key() { # name
        local out secret
        out=$(cd "$TMP" && timeout 60 "$GATEWAY_BIN" keys create --config "$TMP/$1.yaml" --name bench \
            --budget "$BENCH_KEY_BUDGET" --rpm "$BENCH_KEY_RPM" --json 2>"$TMP/$1-keys.err") ||
            die "$1: keys create failed: $(cat "$TMP/$1-keys.err")"
        secret=$(printf '%s' "$out" | sed -n 's/.*"secret" *: *"\([^"]*\)".*/\1/p' | head -n 1)
        [[ "$secret" =~ ^[A-Za-z0-9._-]+$ ]] || die "$1: keys create printed no usable secret"
        KEY_SECRET[$1]=$secret
    }
    for name in gateway-sqlite-key gateway-postgres-key; do
        create_key "$name"
    done

    start_gateway gateway-sqlite-key "$SQLITE_KEY_PORT"
    SQLITE_KEY_PID=$STARTED_PID
    start_gateway gateway-postgres-key "$POSTGRES_KEY_PORT"
    POSTGRES_KEY_PID=$STARTED_PID
    for name in gateway-sqlite-key gateway-postgres-key; do
        check_executor "$name"
    done
    check_target gateway-sqlite-key "http://$HOST:$SQLITE_KEY_PORT$API_PATH" "${KEY_SECRET[gateway-sqlite-key]}"
    check_target gateway-postgres-key "http://$HOST:$POSTGRES_KEY_PORT$API_PATH" "${KEY_SECRET[gateway-postgres-key]}"
    for name in gateway-sqlite-key gateway-postgres-key; do
        port=$SQLITE_KEY_PORT
        [[ "$name" == gateway-sqlite-key ]] || port=$POSTGRES_KEY_PORT
        code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'content-type: application/json' \
            --data "$BODY" "http://$HOST:$port$API_PATH") || die "$name: curl failed"
        [[ "$code" == 401 ]] || die "$name: a request without a key got $code, not 401: keys are not enforced"
    done
fi

# ---------------------------------------------------------------------------------------------
# The traced gateway (BENCH_TRACING): the same configuration with every request traced
# ---------------------------------------------------------------------------------------------
if ((TRACING)); then
    sed "s/^  listen: .*/  listen: $HOST:$TRACED_PORT/; s|^storage: .*|storage: sqlite:$TMP/ledger-traced.db|" \
        "$TMP/gateway.yaml" >"$TMP/gateway-traced.yaml"
    cat >>"$TMP/gateway-traced.yaml" <<EOF
tracing:
  enabled: true
  endpoint: http://$HOST:$OTLP_SINK_PORT/v1/traces
  sample_ratio: 1
EOF
    start_gateway gateway-traced "$TRACED_PORT"
    TRACED_PID=$STARTED_PID
    check_executor gateway-traced
    add_target gateway-traced "http://$HOST:$TRACED_PORT$API_PATH"
    ((STREAMS)) && add_target chat-stream-traced "http://$HOST:$TRACED_PORT$API_PATH" "$STREAM_BODY"
    check_row gateway-traced
    ((STREAMS)) && check_row chat-stream-traced
fi

# ---------------------------------------------------------------------------------------------
# wrk
# ---------------------------------------------------------------------------------------------
# One script per target: the keyed targets send their key's secret (it only goes to $TMP).
write_lua() { # target [virtual key secret]
    local auth="" body=${BODY_OF[$1]:-$BODY}
    [[ -z "${2:-}" ]] || auth="wrk.headers[\"Authorization\"] = \"Bearer $2\""
    cat >"$TMP/chat-$1.lua" <<EOF
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
$auth

-- One machine-readable line per run; the table below is built from it.
-- errors.status is wrk's "Non-2xx or 3xx responses" (status > 399); only 2xx is expected here.
function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "BENCH p50_us=%d p99_us=%d rps=%.1f requests=%d non2xx=%d connect=%d read=%d write=%d timeout=%d errors=%d\n",
        latency:percentile(50), latency:percentile(99),
        summary.requests / (summary.duration / 1e6), summary.requests,
        e.status, e.connect, e.read, e.write, e.timeout,
        e.status + e.connect + e.read + e.write + e.timeout))
end
EOF
}

# The process serving each row whose CPU per request is counted, and its log.
declare -A PID_OF=() LOG_OF=()
for target in "${TARGETS[@]}"; do
    if is_gateway_row "$target"; then
        PID_OF[$target]=$GATEWAY_PID
        LOG_OF[$target]=$TMP/gateway.log
    elif is_haproxy_row "$target"; then
        PID_OF[$target]=$HAPROXY_PID
        LOG_OF[$target]=$TMP/haproxy.log
    fi
done
if ((KEYED)); then
    add_target gateway-sqlite-key "http://$HOST:$SQLITE_KEY_PORT$API_PATH"
    add_target gateway-postgres-key "http://$HOST:$POSTGRES_KEY_PORT$API_PATH"
    PID_OF[gateway-sqlite-key]=$SQLITE_KEY_PID
    PID_OF[gateway-postgres-key]=$POSTGRES_KEY_PID
    LOG_OF[gateway-sqlite-key]=$TMP/gateway-sqlite-key.log
    LOG_OF[gateway-postgres-key]=$TMP/gateway-postgres-key.log
fi
if ((TRACING)); then
    for target in gateway-traced chat-stream-traced; do
        [[ -n "${URL[$target]:-}" ]] || continue
        PID_OF[$target]=$TRACED_PID
        LOG_OF[$target]=$TMP/gateway-traced.log
    done
fi
for target in "${TARGETS[@]}"; do
    write_lua "$target" "${KEY_SECRET[$target]:-}"
done

# The many-streams rows: every connection opens at once, and a request that takes longer than
# 2 s is a timeout, counted among the errors.
declare -A WRK_ARGS=([1]="-t1 -c1" [32]="-t2 -c32" [$MANY_STREAMS]="-t2 -c$MANY_STREAMS --timeout 2s")
MANY_STREAM_TARGETS=()
((MANY_STREAMS)) && MANY_STREAM_TARGETS=(chat-stream haproxy-stream)
declare -A RESULT=()

# utime+stime of a process in clock ticks: CPU per request tells "slow code" from "waiting" apart.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
CLK_TCK=$(getconf CLK_TCK)
declare -A GATEWAY_CPU_US=() # target,conc -> µs (the gateway's, or HAProxy's for its rows)
# PostgreSQL's CPU: the postmaster, its live children (backends, WAL writer…) and those that
# exited (the postmaster's cutime+cstime), so the database's share of a request is seen too.
pg_cpu_ticks() {
    local total pid
    total=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$PG_PID/stat")
    for pid in $(pgrep -P "$PG_PID"); do
        total=$((total + $(cpu_ticks "$pid" 2>/dev/null || echo 0)))
    done
    echo "$total"
}
declare -A PG_CPU_US=() # conc -> µs

run_wrk() { # target conc duration outfile
    # shellcheck disable=SC2086 # WRK_ARGS holds several words on purpose
    wrk ${WRK_ARGS[$2]} -d "$3" --latency -s "$TMP/chat-$1.lua" "${URL[$1]}" >"$4" 2>&1 ||
        die "wrk against $1 failed: $(cat "$4")"
}

# wrk, nginx and the gateway share the machine; anything else running (a compiler, say) skews the
# numbers, most of all req/s at c=32. Say so rather than print quietly wrong results.
LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$LOAD_BEFORE" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
    log "warning: load average is $LOAD_BEFORE on $(nproc) CPUs; other work will skew the results"
fi

# Transactions committed or rolled back in the bench database so far, and rows inserted
# (PostgreSQL's statistics), as "transactions|rows": the database round trips the gateway made,
# and the usage ledger's rows among the database's work.
pg_transactions() {
    pg_sql bench "SELECT xact_commit + xact_rollback, tup_inserted FROM pg_stat_database WHERE datname = 'bench'" ||
        die "could not read pg_stat_database"
}

# CPU time of TICKS clock ticks per request of a BENCH line, in µs.
cpu_us_per_request() { # ticks line
    awk -v t="$1" -v hz="$CLK_TCK" -v line="$2" \
        'BEGIN { match(line, /requests=[0-9]+/); n = substr(line, RSTART + 9, RLENGTH - 9);
                 printf "%.0f", (n > 0 ? t / hz * 1e6 / n : 0) }'
}

declare -A WARMED=()
measure() { # target conc
    local target=$1 conc=$2 out pid line ticks0="" pg_ticks0=""
    if [[ -z "${WARMED[$target]:-}" ]]; then
        # Opens the upstream keepalive pools and faults in lazily built state, so the first
        # measured run does not pay for connection set-up the others do not.
        log "warm-up $target ($BENCH_WARMUP)"
        run_wrk "$target" 32 "$BENCH_WARMUP" "$TMP/wrk-$target-warmup.txt"
        WARMED[$target]=1
    fi
    log "measuring $target c=$conc ($BENCH_DURATION)"
    out="$TMP/wrk-$target-c$conc.txt"
    pid=${PID_OF[$target]:-}
    [[ -z "$pid" ]] || ticks0=$(cpu_ticks "$pid")
    if [[ "$target,$conc" == gateway-postgres-key,32 ]]; then
        XACT_BEFORE=$(pg_transactions)
        XACT_T0=$(date +%s.%N)
    fi
    [[ "$target" != gateway-postgres-key ]] || pg_ticks0=$(pg_cpu_ticks)
    run_wrk "$target" "$conc" "$BENCH_DURATION" "$out"
    line=$(grep '^BENCH ' "$out") || die "no BENCH line in wrk output for $target c=$conc: $(cat "$out")"
    RESULT[$target,$conc]=$line
    if [[ "$target" == gateway-postgres-key ]]; then
        PG_CPU_US[$conc]=$(cpu_us_per_request $(($(pg_cpu_ticks) - pg_ticks0)) "$line")
    fi
    if [[ -n "$pid" ]]; then
        GATEWAY_CPU_US[$target,$conc]=$(cpu_us_per_request $(($(cpu_ticks "$pid") - ticks0)) "$line")
    fi
}

for conc in 1 32; do
    for target in "${TARGETS[@]}"; do
        measure "$target" "$conc"
    done
done

check_alive() {
    local target
    for target in "${!PID_OF[@]}"; do
        kill -0 "${PID_OF[$target]}" 2>/dev/null || die "$target exited during the run: $(tail -20 "${LOG_OF[$target]}")"
    done
}
check_alive
# Most of the RSS is mapped Swift runtime/Foundation/ICU text (file-backed, shared between
# processes); the anonymous part is what the gateway itself allocated.
rss_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; } # pid VmRSS|RssAnon|RssFile
RSS_KB=$(rss_kb "$GATEWAY_PID" VmRSS)
RSS_ANON_KB=$(rss_kb "$GATEWAY_PID" RssAnon)
RSS_FILE_KB=$(rss_kb "$GATEWAY_PID" RssFile)

# Many streams at once, last: what they leave behind (connections, buffers) is in the RSS read
# after them, not in the other rows' numbers. wrk opens all its connections at once; when a
# listener's accept queue is full the kernel drops the handshake's last ACK, and that connection's
# first request waits for a retransmission (about 1 s). The kernel counts those drops
# (TcpExt ListenOverflows, for the whole network namespace: only the bench connects here).
listen_overflows() {
    awk '/^TcpExt:/ { if (!col) { for (i = 1; i <= NF; i++) if ($i == "ListenOverflows") col = i }
                      else { print $col; exit } }' /proc/net/netstat
}
declare -A LISTEN_OVERFLOWS=()
for target in "${MANY_STREAM_TARGETS[@]}"; do
    overflows0=$(listen_overflows)
    measure "$target" "$MANY_STREAMS"
    LISTEN_OVERFLOWS[$target]=$(($(listen_overflows) - overflows0))
    if [[ "$target" == chat-stream ]]; then
        RSS_MANY_KB=$(rss_kb "$GATEWAY_PID" VmRSS)
        RSS_MANY_ANON_KB=$(rss_kb "$GATEWAY_PID" RssAnon)
        RSS_MANY_FILE_KB=$(rss_kb "$GATEWAY_PID" RssFile)
        RSS_MANY_AT=$SECONDS
    fi
done
# And once the burst is over: the gateway gives a burst's freed memory back within about 5 s of
# its connections closing (MemoryReturnService). The HAProxy row usually covers the wait.
if ((MANY_STREAMS)); then
    (( SECONDS - RSS_MANY_AT >= 7 )) || sleep $(( 7 - (SECONDS - RSS_MANY_AT) ))
    RSS_SETTLED_KB=$(rss_kb "$GATEWAY_PID" VmRSS)
    RSS_SETTLED_ANON_KB=$(rss_kb "$GATEWAY_PID" RssAnon)
fi
check_alive
LOAD_AFTER=$(cut -d' ' -f1 /proc/loadavg)

if ((KEYED)); then
    # A backend reports its counts when it goes idle, at most once a second and within 10 s
    # (PostgreSQL's PGSTAT_IDLE_INTERVAL), so the count after the c=32 run is read 11 s later.
    log "waiting 11 s for PostgreSQL's statistics of the c=32 run"
    sleep 11
    XACT_AFTER=$(pg_transactions)
    XACT_T1=$(date +%s.%N)
fi

field() { # target conc key
    local kv
    for kv in ${RESULT[$1,$2]:-}; do
        [[ "$kv" == "$3="* ]] && { echo "${kv#*=}"; return; }
    done
    echo "?"
}

# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------
echo
echo "duration $BENCH_DURATION per run, nginx worker_processes $NGINX_WORKERS, $(nproc) CPUs, load average before: $LOAD_BEFORE, after: $LOAD_AFTER"
# cpu_us: the CPU per request of the gateway (its rows) or of HAProxy (its rows).
print_row() { # target conc
    printf '%-26s %5s %8s %8s %11s %7s %7s %7s\n' "$1" "$2" \
        "$(field "$1" "$2" p50_us)" "$(field "$1" "$2" p99_us)" \
        "$(field "$1" "$2" rps)" "$(field "$1" "$2" errors)" \
        "$(field "$1" "$2" non2xx)" "${GATEWAY_CPU_US[$1,$2]:--}"
}
printf '%-26s %5s %8s %8s %11s %7s %7s %7s\n' target conc p50_us p99_us req_per_s errors non2xx cpu_us
for conc in 1 32; do
    for target in "${TARGETS[@]}"; do
        print_row "$target" "$conc"
    done
done
for target in "${MANY_STREAM_TARGETS[@]}"; do
    print_row "$target" "$MANY_STREAMS"
done

direct_p50=$(field direct 1 p50_us)
proxy_p50=$(field nginx-proxy 1 p50_us)
gateway_p50=$(field gateway 1 p50_us)
proxy_rps=$(field nginx-proxy 32 rps)
gateway_rps=$(field gateway 32 rps)

echo
printf 'gateway p50 overhead vs direct at c=1:      %6d us\n' $((gateway_p50 - direct_p50))
printf 'nginx-proxy p50 overhead vs direct at c=1:  %6d us\n' $((proxy_p50 - direct_p50))
awk -v g="$gateway_rps" -v p="$proxy_rps" \
    'BEGIN { printf "gateway req/s at c=32 vs nginx-proxy:       %6.1f %%\n", (p > 0 ? 100 * g / p : 0) }'
printf 'gateway CPU per request:                    %6s us at c=1, %s us at c=32\n' \
    "${GATEWAY_CPU_US[gateway,1]}" "${GATEWAY_CPU_US[gateway,32]}"
awk -v idle="$RSS_IDLE_KB" -v kb="$RSS_KB" -v anon="$RSS_ANON_KB" -v file="$RSS_FILE_KB" \
    'BEGIN { printf "gateway RSS after the runs:                 %6.1f MiB (anon %.1f, file-backed %.1f; %.1f MiB before the runs)\n",
             kb / 1024, anon / 1024, file / 1024, idle / 1024 }'
if ((MANY_STREAMS)); then
    awk -v kb="$RSS_MANY_KB" -v anon="$RSS_MANY_ANON_KB" -v file="$RSS_MANY_FILE_KB" -v n="$MANY_STREAMS" \
        'BEGIN { printf "%-44s%6.1f MiB (anon %.1f, file-backed %.1f)\n",
                 "gateway RSS at the end of the " n "-stream row:", kb / 1024, anon / 1024, file / 1024 }'
    awk -v kb="$RSS_SETTLED_KB" -v anon="$RSS_SETTLED_ANON_KB" \
        'BEGIN { printf "%-44s%6.1f MiB (anon %.1f)\n", "gateway RSS 7 s after it, idle:", kb / 1024, anon / 1024 }'
fi
echo
echo "target: gateway p50 overhead ≤ 100 µs at c=1; gateway ≥ 40 % of nginx-proxy req/s at c=32; RSS < 40 MB"

if ((APIS)); then
    # Added latency: the API's p50 at c=1 over the canned answer's own (direct, or direct-stream for
    # a stream); its ratio to chat's is the issue's measure (target ≤ 1.3).
    stream_p50=$(field direct-stream 1 p50_us)
    echo
    echo "front-door APIs, native and via chat (added p50 at c=1 over direct; req/s at c=32; gateway CPU per request):"
    printf '%-26s %9s %8s %11s %9s %12s\n' api added_us vs_chat req_per_s vs_chat cpu_us_c32
    for target in gateway responses messages responses-via-chat messages-via-chat \
        chat-stream responses-stream messages-stream responses-stream-via-chat messages-stream-via-chat; do
        [[ -n "${RESULT[$target,1]:-}" ]] || continue # a stream row, with BENCH_STREAMS=0
        if [[ "$target" == *-stream* ]]; then base=$stream_p50 chat=chat-stream; else base=$direct_p50 chat=gateway; fi
        added=$(($(field "$target" 1 p50_us) - base))
        chat_added=$(($(field "$chat" 1 p50_us) - base))
        awk -v t="$target" -v a="$added" -v c="$chat_added" -v r="$(field "$target" 32 rps)" -v cr="$(field "$chat" 32 rps)" \
            -v cpu="${GATEWAY_CPU_US[$target,32]}" \
            'BEGIN { printf "%-26s %9d %7.2fx %11.1f %8.1f%% %12s\n", (t == "gateway" ? "chat" : t), a, (c > 0 ? a / c : 0), r, (cr > 0 ? 100 * r / cr : 0), cpu }'
    done
    echo "target: each API's added latency within 1.3x of chat's (non-streaming and streaming)"
fi

if ((KEYED)); then
    sqlite_p50=$(field gateway-sqlite-key 1 p50_us)
    postgres_p50=$(field gateway-postgres-key 1 p50_us)
    sqlite_rps=$(field gateway-sqlite-key 32 rps)
    postgres_rps=$(field gateway-postgres-key 32 rps)
    postgres_requests=$(field gateway-postgres-key 32 requests)
    echo
    echo "keyed gateways (key with --budget $BENCH_KEY_BUDGET --rpm $BENCH_KEY_RPM; PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}'), fsync=off):"
    printf 'sqlite key p50 vs keyless gateway at c=1:   %+6d us\n' $((sqlite_p50 - gateway_p50))
    printf 'postgres vs sqlite p50 at c=1:              %+6d us (target ≤ 50 µs)\n' $((postgres_p50 - sqlite_p50))
    awk -v pg="$postgres_rps" -v sq="$sqlite_rps" \
        'BEGIN { printf "postgres vs sqlite req/s at c=32:           %6.1f %% (target ≥ 90 %%)\n", (sq > 0 ? 100 * pg / sq : 0) }'
    for target in gateway-sqlite-key gateway-postgres-key; do
        printf '%-43s %6s us at c=1, %s us at c=32\n' "$target CPU per request:" \
            "${GATEWAY_CPU_US[$target,1]}" "${GATEWAY_CPU_US[$target,32]}"
    done
    printf '%-43s %6s us at c=1, %s us at c=32\n' "PostgreSQL CPU per request (all processes):" \
        "${PG_CPU_US[1]}" "${PG_CPU_US[32]}"
    for target in gateway-sqlite-key gateway-postgres-key; do
        pid=${PID_OF[$target]}
        awk -v kb="$(rss_kb "$pid" VmRSS)" -v anon="$(rss_kb "$pid" RssAnon)" -v file="$(rss_kb "$pid" RssFile)" -v t="$target RSS after the runs:" \
            'BEGIN { printf "%-43s %6.1f MiB (anon %.1f, file-backed %.1f)\n", t, kb / 1024, anon / 1024, file / 1024 }'
    done
    # Background work is in the count too, whether requests come or not: the key-change check
    # (every 250 ms) and the usage batches; hence the rate per second beside the rate per request.
    awk -v x=$((${XACT_AFTER%|*} - ${XACT_BEFORE%|*})) -v r=$((${XACT_AFTER#*|} - ${XACT_BEFORE#*|})) \
        -v n="$postgres_requests" -v t0="$XACT_T0" -v t1="$XACT_T1" \
        'BEGIN { printf "PostgreSQL transactions, c=32 run + 11 s:    %d for %d requests (%.4f per request; %.1f per second over %.0f s)\n",
                 x, n, (n > 0 ? x / n : 0), x / (t1 - t0), t1 - t0;
                 printf "PostgreSQL rows inserted, the same window:   %d (%.2f per request)\n", r, (n > 0 ? r / n : 0) }'
fi

# ---------------------------------------------------------------------------------------------
# Issue 18: the gateway against HAProxy, plain and TLS upstream, single and streamed answers
# ---------------------------------------------------------------------------------------------
SUMMARY_PASS=0
SUMMARY_FAIL=0
# One line of the summary; VERDICT is PASS, FAIL or empty (a figure with no target of its own).
summary_line() { # kind measure value target verdict
    printf '%-14s %-44s %12s %10s %s\n' "$1" "$2" "$3" "$4" "$5"
    case "$5" in
    PASS) SUMMARY_PASS=$((SUMMARY_PASS + 1)) ;;
    FAIL) SUMMARY_FAIL=$((SUMMARY_FAIL + 1)) ;;
    esac
}
# A ratio A/B with two decimals, or n/a when B is not positive (an added latency within noise).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
# PASS when VALUE OP LIMIT holds (OP: le, ge, lt, eq), FAIL when not, n/a when VALUE is n/a.
judge() { # value op limit
    [[ "$1" != n/a ]] || { echo n/a; return; }
    awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
        ok = (op == "le" ? v <= l : op == "ge" ? v >= l : op == "lt" ? v < l : v == l)
        print (ok ? "PASS" : "FAIL") }'
}
ran() { [[ -n "${RESULT[$1,1]:-}" ]]; }

echo
echo "issue 18: gateway against HAProxy (added = p50 or p99 at c=1 minus the direct row's of the same kind)"
summary_line kind measure value target result
for kind in plain plain-stream tls tls-stream; do
    case $kind in
    plain) direct=direct haproxy=haproxy gateway=gateway rps_target=0.6 ;;
    plain-stream) direct=direct-stream haproxy=haproxy-stream gateway=chat-stream rps_target=0.5 ;;
    tls) direct=direct-tls haproxy=haproxy-tls gateway=gateway-tls rps_target=0.6 ;;
    tls-stream) direct=direct-tls-stream haproxy=haproxy-tls-stream gateway=gateway-tls-stream rps_target=0.5 ;;
    esac
    if ! ran "$gateway"; then
        why=BENCH_STREAMS=0
        [[ "$kind" != tls* ]] || ((TLS)) || why=BENCH_TLS=0
        summary_line "$kind" "skipped ($why)" "" "" ""
        continue
    fi
    haproxy_added=$(($(field "$haproxy" 1 p50_us) - $(field "$direct" 1 p50_us)))
    gateway_added=$(($(field "$gateway" 1 p50_us) - $(field "$direct" 1 p50_us)))
    gateway_added99=$(($(field "$gateway" 1 p99_us) - $(field "$direct" 1 p99_us)))
    summary_line "$kind" "haproxy added p50, c=1" "$haproxy_added us" "" ""
    summary_line "$kind" "gateway added p50, c=1" "$gateway_added us" "" ""
    value=$(ratio "$gateway_added" "$haproxy_added")
    summary_line "$kind" "gateway/haproxy added p50, c=1" "$value" "<= 2" "$(judge "$value" le 2)"
    value=$(ratio "$gateway_added99" "$gateway_added")
    if [[ "$kind" == *-stream ]]; then
        summary_line "$kind" "gateway added p99/added p50, c=1" "$value" "" ""
    else
        summary_line "$kind" "gateway added p99/added p50, c=1" "$value" "<= 3" "$(judge "$value" le 3)"
    fi
    value=$(ratio "$(field "$gateway" 32 rps)" "$(field "$haproxy" 32 rps)")
    summary_line "$kind" "gateway/haproxy req/s, c=32" "$value" ">= $rps_target" "$(judge "$value" ge "$rps_target")"
    summary_line "$kind" "CPU/request c=32: gateway (haproxy)" \
        "${GATEWAY_CPU_US[$gateway,32]} us (${GATEWAY_CPU_US[$haproxy,32]})" "" ""
done
# What a TLS upstream costs the gateway: the client's p50 at c=1 and the requests per second at c=32
# (plain over TLS, so that a cost reads as a ratio above 1, as the p50 one does).
for pair in gateway:gateway-tls chat-stream:gateway-tls-stream; do
    plain=${pair%%:*} tls=${pair#*:}
    ran "$plain" && ran "$tls" || continue
    value=$(ratio "$(field "$tls" 1 p50_us)" "$(field "$plain" 1 p50_us)")
    summary_line tls/plain "$tls/$plain p50, c=1" "$value" "<= 1.2" "$(judge "$value" le 1.2)"
    value=$(ratio "$(field "$plain" 32 rps)" "$(field "$tls" 32 rps)")
    summary_line plain/tls "$plain/$tls req/s, c=32" "$value" "<= 1.2" "$(judge "$value" le 1.2)"
done
if ((MANY_STREAMS)); then
    kind="$MANY_STREAMS streams"
    for target in "${MANY_STREAM_TARGETS[@]}"; do
        errors=$(field "$target" "$MANY_STREAMS" errors)
        p99=$(awk -v us="$(field "$target" "$MANY_STREAMS" p99_us)" 'BEGIN { printf "%.1f", us / 1000 }')
        label=gateway
        [[ "$target" == chat-stream ]] || label=haproxy
        if [[ "$target" == chat-stream ]]; then
            summary_line "$kind" "$label errors+timeouts+non-2xx" "$errors" "= 0" "$(judge "$errors" eq 0)"
            summary_line "$kind" "$label p99" "$p99 ms" "< 100 ms" "$(judge "$p99" lt 100)"
            summary_line "$kind" "$label accept queue overflows" "${LISTEN_OVERFLOWS[$target]}" "" ""
            # MB, not MiB: the target is 80 MB.
            value=$(awk -v kb="$RSS_MANY_KB" 'BEGIN { printf "%.1f", kb * 1024 / 1e6 }')
            summary_line "$kind" "$label RSS at the end of the row" "$value MB" "" ""
            value=$(awk -v kb="$RSS_SETTLED_KB" 'BEGIN { printf "%.1f", kb * 1024 / 1e6 }')
            summary_line "$kind" "$label RSS after the run (7 s, idle)" "$value MB" "< 80 MB" "$(judge "$value" lt 80)"
        else
            summary_line "$kind" "$label errors+timeouts+non-2xx (reference)" "$errors" "" ""
            summary_line "$kind" "$label p99 (reference)" "$p99 ms" "" ""
            summary_line "$kind" "$label accept queue overflows (reference)" "${LISTEN_OVERFLOWS[$target]}" "" ""
        fi
    done
fi
echo "issue 18 targets: $SUMMARY_PASS PASS, $SUMMARY_FAIL FAIL"

for result in "${!RESULT[@]}"; do
    target=${result%,*} conc=${result#*,}
    target_errors=$(field "$target" "$conc" errors)
    if ((target_errors > 0)); then
        echo "warning: $target had $target_errors errors at c=$conc; see raw wrk output (BENCH_KEEP_TMP=1)" >&2
    fi
done
