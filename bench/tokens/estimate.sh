#!/usr/bin/env bash
# Builds the throwaway estimator driver (release, -O) into $TMPDIR and runs it with the given arguments.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${TMPDIR:-/tmp}/multiprodigy-token-driver"
sources=(
    "$root/Sources/MultiProdigyRouting/TokenEstimator.swift"
    "$root/Sources/MultiProdigyRouting/TokenTally.swift"
    "$root/Sources/MultiProdigyJSON/JSONScanner.swift"
    "$root/Sources/MultiProdigyJSON/JSONMember.swift"
    "$root/Sources/MultiProdigyJSON/JSONElement.swift"
    "$root/Sources/MultiProdigyJSON/JSONValueKind.swift"
    "$root/Sources/MultiProdigyJSON/JSONSyntaxError.swift"
    "$here/driver/main.swift"
)
newest="$(ls -t "${sources[@]}" | head -1)"
if [[ ! -x "$out" || "$newest" -nt "$out" ]]; then
    # The files come from several of the package's modules; compiled as one, their imports of each
    # other go.
    flat="$(mktemp -d)"
    trap 'rm -rf "$flat"' EXIT
    for source in "${sources[@]}"; do
        grep -v '^import MultiProdigy' "$source" >"$flat/$(basename "$source")"
    done
    swiftc -O -wmo -swift-version 6 -module-name TokenDriver -package-name TokenDriver "$flat"/*.swift -o "$out" >&2
fi
exec "$out" "$@"
