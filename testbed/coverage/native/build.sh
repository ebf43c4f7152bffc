#!/bin/sh
# Builds the native coverage fixture: magic_server.c instrumented with gcc's
# -fsanitize-coverage=trace-pc and linked with mcpfuzz's runtime (coverage/native/
# mcpfuzz_cov.c), which writes AFL-style edges into the __AFL_SHM_ID map.
#
#   testbed/coverage/native/build.sh [OUT_DIR]
#
# OUT_DIR defaults to ${MCPFUZZ_TOOLS:-$HOME/.cache/mcpfuzz/tools}/native. Writes there:
#   magic_server        instrumented, reports edges when __AFL_SHM_ID is set
#   magic_server_plain  the same source without instrumentation (for overhead comparisons)
#   magic_server_clang_guard  only when clang is on PATH: clang -fsanitize-coverage=
#                       trace-pc-guard, the callback style rustc and AFL++'s pcguard use
# and prints the OUT_DIR path on stdout. Each binary is built under a temporary name and
# renamed into place, so concurrent builds never expose a half-written file. CC overrides
# the compiler (default gcc).
#
# With AFL++ installed (untested here), no runtime is needed: afl-cc brings its own, e.g.
#   afl-clang-fast -O1 -o magic_server_afl magic_server.c
# (or afl-gcc-fast / afl-cc) gives a binary that reads __AFL_SHM_ID and AFL_MAP_SIZE itself.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
out=${1:-${MCPFUZZ_TOOLS:-$HOME/.cache/mcpfuzz/tools}/native}
cc=${CC:-gcc}
mkdir -p "$out"
out=$(cd "$out" && pwd)

tmp=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

warnings="-std=c99 -Wall -Wextra"
# The runtime itself must not be instrumented: its callbacks would call themselves.
$cc $warnings -O2 -c "$root/coverage/native/mcpfuzz_cov.c" -o "$tmp/mcpfuzz_cov.o"
$cc $warnings -O1 -g -fsanitize-coverage=trace-pc -c "$here/magic_server.c" -o "$tmp/magic_server.o"
$cc "$tmp/magic_server.o" "$tmp/mcpfuzz_cov.o" -o "$tmp/magic_server"
$cc $warnings -O1 -g "$here/magic_server.c" -o "$tmp/magic_server_plain"

mv -f "$tmp/magic_server" "$out/magic_server"
mv -f "$tmp/magic_server_plain" "$out/magic_server_plain"

if command -v clang >/dev/null 2>&1; then
    clang $warnings -O2 -c "$root/coverage/native/mcpfuzz_cov.c" -o "$tmp/mcpfuzz_cov_clang.o"
    clang $warnings -O1 -g -fsanitize-coverage=trace-pc-guard -c "$here/magic_server.c" \
        -o "$tmp/magic_server_guard.o"
    clang "$tmp/magic_server_guard.o" "$tmp/mcpfuzz_cov_clang.o" -o "$tmp/magic_server_clang_guard"
    mv -f "$tmp/magic_server_clang_guard" "$out/magic_server_clang_guard"
fi
echo "$out"
