#!/usr/bin/env bash
# Does HTTP/2 to an upstream pay for a proxy? Measures HAProxy (one thread, its own process) in
# front of nginx over TLS, speaking HTTP/1.1 to nginx on one port and HTTP/2 (ALPN h2) on another,
# for a canned chat completion and a canned 9-event stream, at concurrency 1 and 32, in one run.
# Issue 18 asked for HTTP/2 to upstreams "if it pays"; this is the measurement behind not building
# it (bench/README.md). Loopback only; needs nginx, haproxy, wrk and openssl (bench/run.sh installs
# them).
#
#   bash bench/http2-upstream.sh            # 6 s per row
#   DURATION=10s bash bench/http2-upstream.sh
set -euo pipefail

DURATION=${DURATION:-6s}
HOST=127.0.0.1
NGINX_TLS_PORT=18186
H1_PORT=18187
H2_PORT=18188
TMP=$(mktemp -d /tmp/multiprodigy-h2.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT
for tool in nginx haproxy wrk openssl; do
    command -v "$tool" >/dev/null || { echo "missing $tool (bench/run.sh installs it)" >&2; exit 1; }
done

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$TMP/server.key" -out "$TMP/server.pem" >/dev/null 2>&1

chunk() { printf '{"id":"c1","object":"chat.completion.chunk","created":1741569952,"model":"m","choices":[{"index":0,"delta":%s,"finish_reason":%s}]}' "$1" "$2"; }
JSON='{"id":"chatcmpl-1","object":"chat.completion","created":1741569952,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I assist you today?"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":10,"total_tokens":19}}'
STREAM="data: $(chunk '{"role":"assistant","content":""}' null)\\n\\n"
for word in "Hello!" " How" " can" " I" " help?"; do STREAM+="data: $(chunk "{\"content\":\"$word\"}" null)\\n\\n"; done
STREAM+="data: $(chunk '{}' '"stop"')\\n\\ndata: [DONE]\\n\\n"

mkdir -p "$TMP/nginx/logs"
chmod 755 "$TMP" "$TMP/nginx"
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $TMP/nginx/cb; proxy_temp_path $TMP/nginx/p;
    fastcgi_temp_path $TMP/nginx/f; uwsgi_temp_path $TMP/nginx/u; scgi_temp_path $TMP/nginx/s;
    keepalive_requests 1000000;
    server {
        listen $HOST:$NGINX_TLS_PORT ssl http2;
        ssl_certificate $TMP/server.pem;
        ssl_certificate_key $TMP/server.key;
        location = /v1/chat/completions { default_type application/json; return 200 '$JSON'; }
        location = /stream/v1/chat/completions { default_type text/event-stream; return 200 '$STREAM'; }
    }
}
EOF
cat >"$TMP/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn 4096
defaults
    mode http
    option http-keep-alive
    http-reuse always
    timeout connect 10s
    timeout client 60s
    timeout server 60s
frontend h1
    bind $HOST:$H1_PORT
    default_backend nginx_h1
frontend h2
    bind $HOST:$H2_PORT
    default_backend nginx_h2
backend nginx_h1
    server n $HOST:$NGINX_TLS_PORT ssl verify required ca-file $TMP/server.pem alpn http/1.1
backend nginx_h2
    server n $HOST:$NGINX_TLS_PORT ssl verify required ca-file $TMP/server.pem alpn h2
EOF
nginx -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" -g 'daemon off;' &
PIDS+=($!)
haproxy -f "$TMP/haproxy.cfg" -db >"$TMP/haproxy.log" 2>&1 &
PIDS+=($!)
sleep 1

BODY='{"model":"m","messages":[{"role":"user","content":"hi"}]}'
printf 'wrk.method = "POST"\nwrk.body = %s\nwrk.headers["Content-Type"] = "application/json"\n' "'$BODY'" >"$TMP/post.lua"

# Each path must answer 200 through both backends before anything is measured.
for port in $H1_PORT $H2_PORT; do
    for path in /v1/chat/completions /stream/v1/chat/completions; do
        code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d "$BODY" "http://$HOST:$port$path")
        [[ $code == 200 ]] || { echo "port $port $path answered $code" >&2; cat "$TMP/haproxy.log" >&2; exit 1; }
    done
done

printf '%-14s %-7s %5s %12s %12s %12s\n' upstream kind c p50 p99 req/s
for kind in plain stream; do
    path=/v1/chat/completions
    [[ $kind == stream ]] && path=/stream/v1/chat/completions
    for c in 1 32; do
        for proto in http/1.1 h2; do
            port=$H1_PORT
            [[ $proto == h2 ]] && port=$H2_PORT
            wrk -t1 -c$c -d2s -s "$TMP/post.lua" "http://$HOST:$port$path" >/dev/null
            out=$(wrk -t$((c > 1 ? 2 : 1)) -c$c -d"$DURATION" --latency -s "$TMP/post.lua" "http://$HOST:$port$path")
            p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
            p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
            rps=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
            errors=$(grep -E "Non-2xx|Socket errors" <<<"$out" || true)
            printf '%-14s %-7s %5s %12s %12s %12s %s\n' "$proto" "$kind" "$c" "$p50" "$p99" "$rps" "$errors"
        done
    done
done
