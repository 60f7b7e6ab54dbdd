#!/usr/bin/env bash
# Runs every check and test of the project. One build profile (release) serves the tests,
# the benches and the local chain, so RocksDB's C++ compiles once.
set -euo pipefail
cd "$(dirname "$0")"

# A fresh Debian machine gets what the build and the suites need (nothing if present).
scripts/deps.sh test

echo "== fmt"
cargo fmt --all -- --check
echo "== clippy"
cargo clippy --release --workspace --all-targets -- -D warnings
echo "== contracts: artifacts regenerate byte-identically from source (pinned solc)"
if command -v npm >/dev/null 2>&1; then
  contracts/build.sh
  git diff --exit-code --stat -- contracts/artifacts
else
  echo "npm not found: skipping the artifact check (the Rust tests use the committed artifacts)"
fi
echo "== tests"
cargo test --release --workspace
echo "== client suites: ethers.js and web3.py against a real \`aurum up\` (binary built by the tests above)"
tests/clients/run.sh
