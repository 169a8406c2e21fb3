#!/usr/bin/env bash
# Runs the gateway's fuzz targets under libFuzzer with AddressSanitizer (Fuzz/README.md).
#
#   bash scripts/fuzz.sh TARGET [SECONDS]      # one target, 300 s by default
#   bash scripts/fuzz.sh --all SECONDS         # every target in turn, SECONDS each (CI: .ci/run)
#   bash scripts/fuzz.sh --list                # the targets (Fuzz/README.md says what each checks)
#
# Builds `multiprodigy-fuzz` in .build-fuzz (git-ignored; MULTIPRODIGY_FUZZ=1 adds it to the package)
# and runs it on a copy of the checked-in corpus (Fuzz/corpus/TARGET), so the seeds stay small: inputs
# worth keeping are copied back by hand (`Fuzz/README.md`). A crash, a broken property, a leak or a
# timeout ends the run with exit 1, the reproducer's path, its bytes in hex and the command that
# replays it. Env: FUZZ_BUILD_PATH (default .build-fuzz), FUZZ_WORK (default .build-fuzz/work),
# FUZZ_JOBS (parallel workers for one target, default 1), FUZZ_SKIP_BUILD=1.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! command -v swift >/dev/null 2>&1 && [[ -x /opt/swift/usr/bin/swift ]]; then
    PATH=/opt/swift/usr/bin:$PATH
fi

root=$PWD
# Absolute paths: the fuzzer runs in its work folder, and the printed replay command works anywhere.
absolute() { [[ "$1" == /* ]] && echo "$1" || echo "$root/$1"; }
build_path=$(absolute "${FUZZ_BUILD_PATH:-.build-fuzz}")
work=$(absolute "${FUZZ_WORK:-$build_path/work}")
binary=$build_path/debug/multiprodigy-fuzz

usage() {
    sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

build() {
    [[ "${FUZZ_SKIP_BUILD:-0}" == 1 && -x "$binary" ]] && return
    echo "==> building multiprodigy-fuzz in $build_path" >&2
    MULTIPRODIGY_FUZZ=1 swift build --product multiprodigy-fuzz --build-path "$build_path" >&2
}

targets() {
    ls Fuzz/corpus
}

# Exits with the list of targets unless $1 is one.
require_target() {
    if [[ ! -d "Fuzz/corpus/$1" ]]; then
        echo "unknown target '$1'; targets: $(targets | tr '\n' ' ')" >&2
        exit 2
    fi
}

# Prints a failed run's reproducer: its path, its bytes, the replay command.
report() {
    local target=$1 log=$2
    local artifact
    artifact=$(grep -oE "(crash|leak|timeout|oom|slow-unit)-[0-9a-f]+" "$log" | tail -1 || true)
    echo "==> $target FAILED; libFuzzer's output ends:" >&2
    tail -40 "$log" >&2
    if [[ -z "$artifact" ]]; then
        echo "==> no reproducer named in $log (with FUZZ_JOBS > 1, see the workers' fuzz-N.log there)" >&2
    elif [[ -f "$work/$target/$artifact" ]]; then
        echo "==> reproducer $work/$target/$artifact ($(wc -c < "$work/$target/$artifact") bytes):" >&2
        od -A d -t x1 -v "$work/$target/$artifact" | head -40 >&2
        echo "==> replay: MULTIPRODIGY_FUZZ_TARGET=$target SWIFT_BACKTRACE=enable=no $binary $work/$target/$artifact" >&2
    fi
}

run() {
    local target=$1 seconds=$2
    local corpus=$work/$target/corpus
    mkdir -p "$corpus"
    # Seeds not copied yet (a copy libFuzzer minimised or grew stays as it is).
    local seed
    for seed in Fuzz/corpus/"$target"/*; do
        [[ -e "$corpus/${seed##*/}" ]] || cp "$seed" "$corpus/"
    done
    local options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1)
    [[ -f "Fuzz/dict/$target.dict" ]] && options+=(-dict="$PWD/Fuzz/dict/$target.dict")
    [[ "${FUZZ_JOBS:-1}" -gt 1 ]] && options+=(-jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS")
    local log=$work/$target/fuzz.log
    echo "==> fuzzing $target for ${seconds}s" >&2
    local status=0
    # -timeout: one input taking over 10 s is a hang; -rss_limit_mb bounds memory; -max_len keeps
    # inputs near the size the corpus has; detect_leaks stays on (AddressSanitizer's LeakSanitizer).
    # SWIFT_BACKTRACE: the Swift runtime's crash reporter reads memory AddressSanitizer reports as a wild read.
    (cd "$work/$target" && MULTIPRODIGY_FUZZ_TARGET=$target ASAN_OPTIONS=detect_leaks=1:malloc_context_size=5 SWIFT_BACKTRACE=enable=no \
        "$binary" "${options[@]}" corpus >fuzz.log 2>&1) || status=$?
    if [[ $status -ne 0 ]]; then
        report "$target" "$log"
        return 1
    fi
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$log" | tr '\n' ' ' >&2 || true
    echo >&2
}

case "${1:-}" in
    "" | -h | --help) usage ;;
    --list)
        targets
        ;;
    --all)
        [[ $# -eq 2 ]] || usage
        build
        failed=0
        for target in $(targets); do run "$target" "$2" || failed=1; done
        exit $failed
        ;;
    *)
        require_target "$1"
        build
        run "$1" "${2:-300}"
        ;;
esac
