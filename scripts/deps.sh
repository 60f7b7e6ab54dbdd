#!/usr/bin/env bash
# Installs, from Debian's packages, what a fresh machine lacks for one purpose:
#   scripts/deps.sh build   clang + libclang-dev (RocksDB's bindings)
#   scripts/deps.sh test    the above, Node.js + npm (ethers.js suite), python3 + venv
#                           (web3.py suite), the PostgreSQL server binaries (its tests),
#                           Prometheus (metrics test), Chromium + chromedriver (explorer test)
# Nothing is installed when everything is present; sudo is used when not root.
set -euo pipefail
purpose="${1:-build}"

need=()
command -v clang >/dev/null 2>&1 || need+=(clang)
dpkg -s libclang-dev >/dev/null 2>&1 || need+=(libclang-dev)
if [ "$purpose" = test ]; then
  command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
  command -v python3 >/dev/null 2>&1 || need+=(python3)
  python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 \
    || need+=(postgresql)
  command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "deps.sh: installing ${need[*]}" >&2
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "deps.sh: cargo not found: install Rust 1.95 or later from https://rustup.rs" >&2
  exit 1
fi
