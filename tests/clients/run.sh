#!/usr/bin/env bash
# Real-client suites against a real `aurum up` chain: ethers.js (node --test) and web3.py
# (unittest). Each suite starts its own chain in a temp dir and stops it by pid.
#   AURUM_BIN   the aurum binary (default: ${CARGO_TARGET_DIR:-target}/release/aurum)
#   SUITES      which suites to run: "js py" (default), "js" or "py"
set -euo pipefail
cd "$(dirname "$0")"
HERE="$(pwd)"
ROOT="$(cd ../.. && pwd)"

target="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$target" in /*) ;; *) target="$ROOT/$target" ;; esac
export AURUM_BIN="${AURUM_BIN:-$target/release/aurum}"
if [ ! -x "$AURUM_BIN" ]; then
  echo "aurum binary not found at $AURUM_BIN: run 'cargo build --release' first or set AURUM_BIN" >&2
  exit 1
fi
case "$AURUM_BIN" in /*) ;; *) AURUM_BIN="$(cd "$(dirname "$AURUM_BIN")" && pwd)/$(basename "$AURUM_BIN")" ;; esac
echo "aurum binary: $AURUM_BIN"

SUITES="${SUITES:-js py}"

# Steps are chained with && because errexit does not apply inside `( … ) || …`.
run_js() {
  command -v node >/dev/null 2>&1 || { echo "node not found: the JS client suite needs Node.js >= 20" >&2; return 1; }
  local start
  start=$(date +%s)
  cd "$HERE/js" &&
    npm ci --no-audit --no-fund --loglevel=error &&
    echo "npm ci: $(( $(date +%s) - start ))s" &&
    node --test 2>&1 | tee "$LOGS/js.log"
}

run_py() {
  local start
  start=$(date +%s)
  cd "$HERE/python" || return 1
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv --clear .venv || return 1
  fi
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt &&
    echo "pip install: $(( $(date +%s) - start ))s" &&
    .venv/bin/python -m unittest -v 2>&1 | tee "$LOGS/py.log"
}

LOGS="$(mktemp -d)"
trap 'rm -rf "$LOGS"' EXIT

# Counts from each runner's closing lines; a suite that ran nothing counts as one failure.
count_js() {
  local p f c
  p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$LOGS/js.log" 2>/dev/null | tail -1)
  f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$LOGS/js.log" 2>/dev/null | tail -1)
  c=$(sed -n 's/^# cancelled \([0-9]*\)$/\1/p' "$LOGS/js.log" 2>/dev/null | tail -1)
  if [ -z "$p" ]; then echo "0 1"; else echo "$p $(( ${f:-0} + ${c:-0} ))"; fi
}
count_py() {
  local ran last bad=0 skipped=0 kv
  ran=$(sed -n 's/^Ran \([0-9]*\) tests\{0,1\} in .*/\1/p' "$LOGS/py.log" 2>/dev/null | tail -1)
  if [ -z "$ran" ]; then echo "0 1"; return; fi
  last=$(grep -E '^(OK|FAILED)' "$LOGS/py.log" | tail -1)
  for kv in $(grep -oE '(failures|errors|unexpected successes|skipped)=[0-9]+' <<<"$last" | tr ' ' '_'); do
    case "$kv" in
      skipped=*) skipped=${kv#*=} ;;
      *) bad=$(( bad + ${kv#*=} )) ;;
    esac
  done
  if [ "$ran" -eq 0 ] && [ "$bad" -eq 0 ]; then bad=1; fi
  local ok=$(( ran - bad - skipped ))
  echo "$(( ok > 0 ? ok : 0 )) $bad"
}

# A failing suite does not keep the next from running; the script fails if any did.
failed=()
total_pass=0
total_fail=0
for suite in $SUITES; do
  case "$suite" in
    js)
      echo "== client suite: ethers.js (node --test)"
      ok=1
      (run_js) || { failed+=(js); ok=0; }
      read -r p f < <(count_js)
      ;;
    py)
      echo "== client suite: web3.py (unittest)"
      ok=1
      (run_py) || { failed+=(py); ok=0; }
      read -r p f < <(count_py)
      ;;
    *)
      echo "unknown suite '$suite' (expected js or py)" >&2
      exit 2
      ;;
  esac
  if [ "$ok" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  total_pass=$(( total_pass + p ))
  total_fail=$(( total_fail + f ))
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "client suites failed: ${failed[*]}"
else
  echo "client suites: all passed"
fi
echo "clients: $total_pass passed, $total_fail failed"
[ ${#failed[@]} -eq 0 ]
