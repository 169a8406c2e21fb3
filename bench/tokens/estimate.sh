#!/usr/bin/env bash
# Builds the throwaway estimator driver (release, -O) into $TMPDIR and runs it with the given arguments.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${TMPDIR:-/tmp}/multiprodigy-token-driver"
sources=(
    "$root/Sources/MultiProdigy/Routing/TokenEstimator.swift"
    "$root/Sources/MultiProdigy/Routing/TokenTally.swift"
    "$root/Sources/MultiProdigy/API/JSONScanner.swift"
    "$root/Sources/MultiProdigy/API/JSONMember.swift"
    "$root/Sources/MultiProdigy/API/JSONElement.swift"
    "$root/Sources/MultiProdigy/API/JSONValueKind.swift"
    "$root/Sources/MultiProdigy/API/JSONSyntaxError.swift"
    "$here/driver/main.swift"
)
newest="$(ls -t "${sources[@]}" | head -1)"
if [[ ! -x "$out" || "$newest" -nt "$out" ]]; then
    swiftc -O -wmo -swift-version 6 -module-name TokenDriver "${sources[@]}" -o "$out" >&2
fi
exec "$out" "$@"
