#!/usr/bin/env bash
# Starts a local chain on a fresh Debian machine: installs what the build needs if it is
# missing (clang and libclang-dev for RocksDB's bindings; a Rust toolchain is assumed),
# builds only the `aurum` binary, then runs `aurum up` with the arguments given, e.g.
#   ./up.sh --nodes 4
# Everything after the script name goes to `aurum up` (see `./up.sh --help`).
set -euo pipefail
cd "$(dirname "$0")"

scripts/deps.sh build

# Only the binary and its dependencies (no tests, benches or dev-dependencies): the cold
# build is RocksDB's C++ plus the binary, nothing else.
cargo build --release --locked --bin aurum
target="${CARGO_TARGET_DIR:-target}"
exec "$target/release/aurum" up "$@"
