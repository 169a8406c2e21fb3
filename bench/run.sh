#!/usr/bin/env bash
# Benchmarks the gateway's per-request overhead against a canned upstream.
#
# Three targets answer the same POST /v1/chat/completions with the same ~400-byte body:
#   direct       nginx returning the canned JSON itself              (127.0.0.1:18081)
#   nginx-proxy  nginx reverse-proxying to "direct" with keepalive    (127.0.0.1:18082)
#   gateway      multiprodigy (release build) in front of "direct"    (127.0.0.1:18083)
# "direct" is the floor; "nginx-proxy" is what a mature, minimal proxy hop costs, so the gateway
# is judged against it rather than against zero.
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
HOST=127.0.0.1
API_PATH=/v1/chat/completions

# The script lives in bench/; the build must run from the package root wherever we are called from.
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# Cleanup: registered before anything starts so a failure at any step still stops what we ran.
# ---------------------------------------------------------------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/multiprodigy-bench.XXXXXX")
NGINX_PID=""
GATEWAY_PID=""

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

cleanup() {
    local status=$?
    stop_pid "$GATEWAY_PID"
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
for tool in nginx wrk curl; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    SUDO=""
    [[ $(id -u) -eq 0 ]] || SUDO=sudo
    # Debian's package scripts may try to start the system nginx on :80; we never use it and run
    # our own instance with a private prefix below.
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# nginx lives in /usr/sbin, which is not on every user's PATH.
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x "$NGINX" ]] || die "nginx not found"

# A leftover from an earlier run (or anything else) on our ports would silently be benchmarked.
for port in $DIRECT_PORT $PROXY_PORT $GATEWAY_PORT; do
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

mkdir -p "$TMP/nginx/logs"
# Workers of a root-started nginx run as 'nobody' and must be able to reach the prefix.
chmod 755 "$TMP" "$TMP/nginx"
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes $NGINX_WORKERS;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;

events {
    worker_connections 4096;
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

    # direct: the canned answer. Static files would answer POST with 405, so 'return' it.
    server {
        listen $HOST:$DIRECT_PORT;
        location = $API_PATH {
            default_type application/json;
            return 200 '$CANNED_JSON';
        }
        location / {
            return 404;
        }
    }

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

BODY='{"model":"bench-model","messages":[{"role":"user","content":"Say hello"}]}'

# Each target must answer POST with 200 and JSON before we time it; a fast error page would
# otherwise make for impressive, meaningless numbers.
check_target() { # name url
    local name=$1 url=$2 out code ctype
    out=$(curl -s -o "$TMP/check-$name.body" -w '%{http_code} %{content_type}' \
        -X POST -H 'content-type: application/json' --data "$BODY" "$url") || die "$name: curl failed"
    code=${out%% *}
    ctype=${out#* }
    [[ "$code" == 200 ]] || die "$name: POST $url -> $code: $(head -c 500 "$TMP/check-$name.body")"
    [[ "$ctype" == application/json* ]] || die "$name: unexpected content-type '$ctype'"
    log "$name: POST $url -> $code $ctype, $(wc -c <"$TMP/check-$name.body") bytes"
}
check_target direct "http://$HOST:$DIRECT_PORT$API_PATH"
check_target nginx-proxy "http://$HOST:$PROXY_PORT$API_PATH"

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
models:
  bench-model: {provider: canned, model: gpt-4o-mini}
EOF

log "starting gateway"
# --log-level warning: per-request logging (info) would measure the terminal, not the gateway.
"$GATEWAY_BIN" serve --config "$TMP/gateway.yaml" --listen "$HOST:$GATEWAY_PORT" --log-level warning \
    >"$TMP/gateway.log" 2>&1 &
GATEWAY_PID=$!
wait_for "http://$HOST:$GATEWAY_PORT/health" 60 "$GATEWAY_PID" ||
    die "gateway did not become healthy within 60 s: $(tail -20 "$TMP/gateway.log")"
check_target gateway "http://$HOST:$GATEWAY_PORT$API_PATH"
# A build whose tasks run on Swift's default executor would only look slow; say what it is.
if grep -q "default executor" "$TMP/gateway.log"; then
    die "the gateway runs Swift Concurrency on its default executor, not on its event loops: $(grep "default executor" "$TMP/gateway.log")"
fi
RSS_IDLE_KB=$(awk '/^VmRSS:/ {print $2}' "/proc/$GATEWAY_PID/status")

# ---------------------------------------------------------------------------------------------
# wrk
# ---------------------------------------------------------------------------------------------
cat >"$TMP/chat.lua" <<EOF
wrk.method = "POST"
wrk.body = '$BODY'
wrk.headers["Content-Type"] = "application/json"

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

declare -A URL=(
    [direct]="http://$HOST:$DIRECT_PORT$API_PATH"
    [nginx-proxy]="http://$HOST:$PROXY_PORT$API_PATH"
    [gateway]="http://$HOST:$GATEWAY_PORT$API_PATH"
)
TARGETS=(direct nginx-proxy gateway)
declare -A WRK_ARGS=([1]="-t1 -c1" [32]="-t2 -c32")
declare -A RESULT=()

# utime+stime of a process in clock ticks: CPU per request tells "slow code" from "waiting" apart.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
CLK_TCK=$(getconf CLK_TCK)
declare -A GATEWAY_CPU_US=()

run_wrk() { # target conc duration outfile
    # shellcheck disable=SC2086 # WRK_ARGS holds several words on purpose
    wrk ${WRK_ARGS[$2]} -d "$3" --latency -s "$TMP/chat.lua" "${URL[$1]}" >"$4" 2>&1 ||
        die "wrk against $1 failed: $(cat "$4")"
}

# wrk, nginx and the gateway share the machine; anything else running (a compiler, say) skews the
# numbers, most of all req/s at c=32. Say so rather than print quietly wrong results.
LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$LOAD_BEFORE" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
    log "warning: load average is $LOAD_BEFORE on $(nproc) CPUs; other work will skew the results"
fi

declare -A WARMED=()
for conc in 1 32; do
    for target in "${TARGETS[@]}"; do
        if [[ -z "${WARMED[$target]:-}" ]]; then
            # Opens the upstream keepalive pools and faults in lazily built state, so the first
            # measured run does not pay for connection set-up the others do not.
            log "warm-up $target ($BENCH_WARMUP)"
            run_wrk "$target" 32 "$BENCH_WARMUP" "$TMP/wrk-$target-warmup.txt"
            WARMED[$target]=1
        fi
        log "measuring $target c=$conc ($BENCH_DURATION)"
        out="$TMP/wrk-$target-c$conc.txt"
        ticks0=$(cpu_ticks "$GATEWAY_PID")
        run_wrk "$target" "$conc" "$BENCH_DURATION" "$out"
        line=$(grep '^BENCH ' "$out") || die "no BENCH line in wrk output for $target c=$conc: $(cat "$out")"
        RESULT[$target,$conc]=$line
        if [[ "$target" == gateway ]]; then
            ticks1=$(cpu_ticks "$GATEWAY_PID")
            GATEWAY_CPU_US[$conc]=$(awk -v t=$((ticks1 - ticks0)) -v hz="$CLK_TCK" -v line="$line" \
                'BEGIN { match(line, /requests=[0-9]+/); n = substr(line, RSTART + 9, RLENGTH - 9);
                         printf "%.0f", (n > 0 ? t / hz * 1e6 / n : 0) }')
        fi
    done
done

kill -0 "$GATEWAY_PID" 2>/dev/null || die "gateway exited during the run: $(tail -20 "$TMP/gateway.log")"
RSS_KB=$(awk '/^VmRSS:/ {print $2}' "/proc/$GATEWAY_PID/status")
# Most of the RSS is mapped Swift runtime/Foundation/ICU text (file-backed, shared between
# processes); the anonymous part is what the gateway itself allocated.
RSS_ANON_KB=$(awk '/^RssAnon:/ {print $2}' "/proc/$GATEWAY_PID/status")
RSS_FILE_KB=$(awk '/^RssFile:/ {print $2}' "/proc/$GATEWAY_PID/status")

field() { # target conc key
    local kv
    for kv in ${RESULT[$1,$2]}; do
        [[ "$kv" == "$3="* ]] && { echo "${kv#*=}"; return; }
    done
    echo "?"
}

# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------
echo
echo "duration $BENCH_DURATION per run, nginx worker_processes $NGINX_WORKERS, $(nproc) CPUs, load average before: $LOAD_BEFORE"
printf '%-12s %5s %8s %8s %11s %7s %7s\n' target conc p50_us p99_us req_per_s errors non2xx
for conc in 1 32; do
    for target in "${TARGETS[@]}"; do
        printf '%-12s %5s %8s %8s %11s %7s %7s\n' "$target" "$conc" \
            "$(field "$target" "$conc" p50_us)" "$(field "$target" "$conc" p99_us)" \
            "$(field "$target" "$conc" rps)" "$(field "$target" "$conc" errors)" \
            "$(field "$target" "$conc" non2xx)"
    done
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
    "${GATEWAY_CPU_US[1]}" "${GATEWAY_CPU_US[32]}"
awk -v idle="$RSS_IDLE_KB" -v kb="$RSS_KB" -v anon="$RSS_ANON_KB" -v file="$RSS_FILE_KB" \
    'BEGIN { printf "gateway RSS after the runs:                 %6.1f MiB (anon %.1f, file-backed %.1f; %.1f MiB before the runs)\n",
             kb / 1024, anon / 1024, file / 1024, idle / 1024 }'
echo
echo "target: gateway p50 overhead ≤ 100 µs at c=1; gateway ≥ 40 % of nginx-proxy req/s at c=32; RSS < 40 MB"

gateway_errors=$(($(field gateway 1 errors) + $(field gateway 32 errors)))
if ((gateway_errors > 0)); then
    echo "warning: the gateway had $gateway_errors errors; see raw wrk output (BENCH_KEEP_TMP=1)" >&2
fi
