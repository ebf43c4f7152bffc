#!/bin/bash -eu
# ClusterFuzzLite build for mcpfuzz: puts into $OUT
#
#   jsonrpc                      the libFuzzer harness (cargo fuzz build -O)
#   jsonrpc.options              libFuzzer flags: max_len, a timeout that leaves room for
#                                triage, the dictionary, no leak detection in the harness
#   jsonrpc.dict                 names and values the target announces (mcpfuzz dict)
#   jsonrpc_seed_corpus.zip      corpus/jsonrpc
#   mcpfuzz.toml                 the target, found by the harness beside its own executable,
#                                and [fuzz] stop_on_finding = true: ClusterFuzzLite sees a
#                                bug only when the fuzzer crashes
#   target/                      the target server (here the bundled demo server)
#
# ClusterFuzzLite runs $OUT/jsonrpc with flags of its own and none of our environment
# variables, from a working directory of its choosing: everything the harness needs is
# named in $OUT/mcpfuzz.toml, with paths relative to it.
#
# To fuzz your own server, change pack_target: copy the server into $OUT/target and name
# it in the mcpfuzz.toml it writes. The runner image has python3 but no Node.js: a Node
# server needs a node binary packed beside it (and named in the command).
#
# Outside Docker (scripts/check-clusterfuzzlite): SRC, OUT and WORK name temporary
# directories and SANITIZER is unset, which builds without a sanitizer on stable Rust.

mcpfuzz=${MCPFUZZ_SRC:-$SRC/mcpfuzz}
cd "$mcpfuzz"

pack_target() {
    mkdir -p "$OUT/target"
    cp testbed/demo_server.py testbed/jsonline.py "$OUT/target/"
    cat >"$OUT/mcpfuzz.toml" <<'TOML'
# Written by .clusterfuzzlite/build.sh. Relative paths are taken from this file's directory.
[target]
command = ["python3", "target/demo_server.py"]

[fuzz]
stop_on_finding = true
crashes = "crashes"
TOML
}

# The base image puts -Zsanitizer=address into RUSTFLAGS itself; other sanitizers do not
# apply to Rust, and none is what runs on stable.
case "${SANITIZER:-none}" in
    address) sanitizer=address ;;
    *) sanitizer=none ;;
esac
cargo fuzz build -O --sanitizer "$sanitizer" jsonrpc
host=$(rustc -vV | sed -n 's/^host: //p')
cp "fuzz/target/${CARGO_BUILD_TARGET:-$host}/release/jsonrpc" "$OUT/jsonrpc"

pack_target

cat >"$OUT/jsonrpc.options" <<'OPTIONS'
[libfuzzer]
max_len = 4096
timeout = 900
dict = jsonrpc.dict
detect_leaks = 0
OPTIONS

# The dictionary needs the target started once, by the mcpfuzz CLI built for the build
# machine: without the fuzzing flags of RUSTFLAGS, in a directory of its own.
if env -u RUSTFLAGS -u CARGO_BUILD_TARGET cargo build --release --quiet --bin mcpfuzz \
        --target-dir "$WORK/mcpfuzz-cli" \
    && MCPFUZZ_CONFIG="$OUT/mcpfuzz.toml" "$WORK/mcpfuzz-cli/release/mcpfuzz" dict \
        --output "$OUT/jsonrpc.dict"; then
    :
else
    echo "build.sh: no dictionary (mcpfuzz dict failed); fuzzing without one" >&2
    sed -i '/^dict = /d' "$OUT/jsonrpc.options"
fi

rm -f "$OUT/jsonrpc_seed_corpus.zip"
zip -q -j "$OUT/jsonrpc_seed_corpus.zip" corpus/jsonrpc/seed-*
