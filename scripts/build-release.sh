#!/usr/bin/env bash
# Builds the gateway as it ships: the Dockerfile and bench/run.sh both use this build.
#
#   bash scripts/build-release.sh        # prints the binary's path on stdout, build output on stderr
#
# - release configuration, the Swift runtime and Foundation linked in statically
#   (--static-swift-stdlib), so the binary needs no Swift toolchain where it runs;
# - linked by lld with packed relative relocations (-z pack-relative-relocs): the dynamic loader's
#   relocation table shrinks from about 3 MiB to about 50 KiB. The binary then needs glibc 2.36 or
#   newer (Debian 12, Ubuntu 24.04);
# - without exporting its symbols (--no-export-dynamic; the toolchain exports the executable's own):
#   nothing loads plug-ins into the gateway, and every symbol lookup the C libraries make at start
#   would otherwise wander through a 4 MiB symbol table.
# Together these keep about 9 MiB less resident than a plain `swift build -c release` (bench/README.md).
#
# It builds in .build-production (git-ignored), apart from `swift build`'s own .build, so the two
# builds do not undo each other. Env: BUILD_PATH to build elsewhere.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# Toolchains unpacked to /opt/swift (as on this project's machines) are often not on PATH.
if ! command -v swift >/dev/null 2>&1 && [[ -x /opt/swift/usr/bin/swift ]]; then
    PATH=/opt/swift/usr/bin:$PATH
fi

arguments=(
    -c release --product multiprodigy --build-path "${BUILD_PATH:-.build-production}"
    --static-swift-stdlib
    -Xswiftc -use-ld=lld -Xlinker -z -Xlinker pack-relative-relocs -Xlinker --no-export-dynamic
)
swift build "${arguments[@]}" >&2
bin_path=$(swift build "${arguments[@]}" --show-bin-path)
[[ -x "$bin_path/multiprodigy" ]] || { echo "error: no binary at $bin_path/multiprodigy after the build" >&2; exit 1; }
echo "$bin_path/multiprodigy"
