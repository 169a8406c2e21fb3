#!/usr/bin/env bash
# Soak test (issue 21, item 4; not part of CI): a mixed load through the gateway for a while, against
# a fake upstream that injects every fault the failover tests know, while keys are created and
# revoked, the config is reloaded every 30 s and bad requests arrive. Ends with a verdict.
#
#   bash bench/soak.sh [--minutes N]        # default 10 (or SOAK_MINUTES)
#
# What runs (all on 127.0.0.1, all in a temp dir, all stopped on exit):
#   - the fake upstream (`bench/soak.py upstream`): path prefixes /good, /flaky (40 % faults) and
#     /broken (every request a fault): 429 with and without Retry-After, 500, 503, a reset before any
#     byte, silence, a head then silence, a stream cut mid-way, a stall mid-stream, a malformed chunk,
#     a stream without [DONE];
#   - the gateway: `multiprodigy serve --config TMP/gateway.yaml --listen 127.0.0.1:PORT --log-level warning`;
#   - the driver (`bench/soak.py drive`): 8 workers (SOAK_WORKERS), a key-churn thread, a reload
#     thread, a bad-request thread and a sampler (RSS, fds, threads, /health latency every 10 s),
#     through a warm-up (SOAK_WARMUP_SECONDS, 30), a quiet spell (SOAK_SETTLE_SECONDS, 20: the
#     baseline), the load, and a second quiet spell (the figures compared with the baseline);
#   - then SIGTERM to the gateway, and the verdict (`bench/soak.py verdict`), which also reads the ledger.
#
# Env:   SOAK_MINUTES       minutes of measured load (default 10; --minutes wins)
#        GATEWAY_BIN        the gateway binary to soak (default: built by scripts/build-release.sh)
#        SOAK_KEEP_TMP=1    keep the temp dir (config, gateway log, report, ledger) and print its path
#        SOAK_WORKERS, SOAK_WARMUP_SECONDS, SOAK_SETTLE_SECONDS  see above
# Exit status: 0 only on a clean verdict.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO_ROOT=$(pwd)
SOAK_PY="$REPO_ROOT/bench/soak.py"
MINUTES=${SOAK_MINUTES:-10}
STOP_GRACE_SECONDS=30          # after SIGTERM: drain_timeout (10 s) and some
START_WAIT_TENTHS=100          # 10 s for the fake upstream to listen

log() { printf '[soak %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --minutes) [[ $# -ge 2 ]] || die "--minutes needs a number"; MINUTES=$2; shift 2 ;;
        --minutes=*) MINUTES=${1#--minutes=}; shift ;;
        -h|--help) sed -n '2,25p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) die "unknown argument '$1' (usage: bash bench/soak.sh [--minutes N])" ;;
    esac
done
[[ "$MINUTES" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "--minutes takes a number, not '$MINUTES'"
command -v python3 >/dev/null || die "python3 is needed"

TMP=$(mktemp -d /tmp/soak.XXXXXX)
UPSTREAM_PID=""
GATEWAY_PID=""

stop_pid() {
    local pid=$1
    [[ -n "$pid" ]] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local status=$?
    stop_pid "$GATEWAY_PID"
    stop_pid "$UPSTREAM_PID"
    if [[ "${SOAK_KEEP_TMP:-0}" == 1 ]]; then
        log "kept $TMP"
    else
        rm -rf "$TMP"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The gateway.
if [[ -n "${GATEWAY_BIN:-}" ]]; then
    GATEWAY_BIN=$(cd "$(dirname "$GATEWAY_BIN")" && pwd)/$(basename "$GATEWAY_BIN")
else
    log "building multiprodigy as it ships (scripts/build-release.sh)"
    GATEWAY_BIN=$(bash scripts/build-release.sh)
fi
[[ -x "$GATEWAY_BIN" ]] || die "$GATEWAY_BIN is not an executable"
log "gateway $GATEWAY_BIN; $MINUTES min of load; temp dir $TMP"

# The fake upstream.
python3 -u "$SOAK_PY" upstream --port-file "$TMP/upstream.port" >"$TMP/upstream.log" 2>&1 &
UPSTREAM_PID=$!
for _ in $(seq 1 "$START_WAIT_TENTHS"); do
    [[ -s "$TMP/upstream.port" ]] && break
    kill -0 "$UPSTREAM_PID" 2>/dev/null || die "the fake upstream exited: $(cat "$TMP/upstream.log")"
    sleep 0.1
done
[[ -s "$TMP/upstream.port" ]] || die "the fake upstream did not start"
UPSTREAM_PORT=$(cat "$TMP/upstream.port")

# A free port for the gateway (bound and released; nothing else on a loopback soak races for it).
GATEWAY_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
CONFIG="$TMP/gateway.yaml"
LEDGER="$TMP/ledger.db"
python3 "$SOAK_PY" config --upstream-port "$UPSTREAM_PORT" --storage "$LEDGER" --out "$CONFIG"
"$GATEWAY_BIN" check --config "$CONFIG" >"$TMP/check.log" 2>&1 || die "the soak's config is refused: $(cat "$TMP/check.log")"

(cd "$TMP" && exec "$GATEWAY_BIN" serve --config "$CONFIG" --listen "127.0.0.1:$GATEWAY_PORT" --log-level warning) \
    >"$TMP/gateway.log" 2>&1 &
GATEWAY_PID=$!
log "fake upstream on 127.0.0.1:$UPSTREAM_PORT (pid $UPSTREAM_PID), gateway on 127.0.0.1:$GATEWAY_PORT (pid $GATEWAY_PID)"

# The load. The driver's own failure (it could not start, say) is reported, then judged like the rest.
driver_status=0
python3 -u "$SOAK_PY" drive --gateway "127.0.0.1:$GATEWAY_PORT" --pid "$GATEWAY_PID" --config "$CONFIG" \
    --upstream-port "$UPSTREAM_PORT" --storage "$LEDGER" --minutes "$MINUTES" --report "$TMP/report.json" \
    || driver_status=$?
[[ $driver_status -eq 0 ]] || log "the driver exited with status $driver_status"

# SIGTERM, and the gateway's own exit status (124: it did not exit within STOP_GRACE_SECONDS).
gateway_status=0
if kill -0 "$GATEWAY_PID" 2>/dev/null; then
    kill -TERM "$GATEWAY_PID"
    for _ in $(seq 1 $((STOP_GRACE_SECONDS * 10))); do
        kill -0 "$GATEWAY_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$GATEWAY_PID" 2>/dev/null; then
        log "the gateway did not exit within ${STOP_GRACE_SECONDS} s of SIGTERM; killing it"
        kill -KILL "$GATEWAY_PID" 2>/dev/null || true
        wait "$GATEWAY_PID" 2>/dev/null || true
        gateway_status=124
    else
        wait "$GATEWAY_PID" || gateway_status=$?
    fi
else
    wait "$GATEWAY_PID" || gateway_status=$?
    log "the gateway was already gone (exit status $gateway_status)"
    [[ $gateway_status -ne 0 ]] || gateway_status=125
fi
GATEWAY_PID=""

log "gateway log: $(grep -c . "$TMP/gateway.log" || true) lines ($(grep -ci 'error' "$TMP/gateway.log" || true) with 'error'); the last ones:"
tail -n 5 "$TMP/gateway.log" >&2 || true

[[ -s "$TMP/report.json" ]] || die "the driver wrote no report (status $driver_status)"
verdict_status=0
python3 "$SOAK_PY" verdict --report "$TMP/report.json" --storage "$LEDGER" --exit-code "$gateway_status" \
    --gateway-bin "$GATEWAY_BIN" || verdict_status=$?
[[ $driver_status -eq 0 ]] || verdict_status=1
exit "$verdict_status"
