#!/usr/bin/env bash
# Runs every check and test of the project. One build profile (release) serves the tests,
# the benches and the local chain, so RocksDB's C++ compiles once.
set -euo pipefail
cd "$(dirname "$0")"

echo "== fmt"
cargo fmt --all -- --check
echo "== clippy"
cargo clippy --release --workspace --all-targets -- -D warnings
echo "== tests"
cargo test --release --workspace
