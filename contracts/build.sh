#!/usr/bin/env bash
# Regenerates contracts/artifacts/ from contracts/src/ with the solc and OpenZeppelin
# versions pinned in package-lock.json (solc 0.8.28, @openzeppelin/contracts 5.7.0).
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
node build.js
