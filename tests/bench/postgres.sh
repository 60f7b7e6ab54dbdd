#!/usr/bin/env bash
# PostgreSQL against RocksDB in one session: `aurum bench chain` on a single node and on a 4-node
# chain, each backend in turn, on a throwaway PostgreSQL 15 (fsync on, synchronous_commit on,
# other settings default). Usage: tests/bench/postgres.sh [TXS] [ROUNDS]; needs the release
# binary (cargo build --release) and the PostgreSQL server binaries.
set -euo pipefail
cd "$(dirname "$0")/../.."
TXS=${1:-20000}
ROUNDS=${2:-1}
BIN=${CARGO_TARGET_DIR:-target}/release/aurum
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
WORK=$(mktemp -d /tmp/aurum-pgbench.XXXXXX)
PORT=$((25000 + RANDOM % 2000))
as_pg() { if [ "$(id -u)" = 0 ]; then chown -R postgres: "$WORK"; runuser -u postgres -- "$@"; else "$@"; fi; }
as_pg "$PGBIN/initdb" -D "$WORK/pg" -U postgres -A trust -E UTF8 --locale=C >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg.log" -w \
  -o "-p $PORT -k $WORK -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200" start >/dev/null
UP=
cleanup() {
  if [ -n "$UP" ]; then kill "$UP" 2>/dev/null || true; wait "$UP" 2>/dev/null || true; fi
  as_pg "$PGBIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# run NAME NODES [up flags…]: a fresh chain, one bench against node 0, figures to stdout.
run() {
  local name=$1 nodes=$2; shift 2
  local dir="$WORK/$name" rpc=21400
  "$BIN" up --nodes "$nodes" --dir "$dir" --rpc-port $rpc --p2p-port 0 "$@" >"$WORK/$name.up.log" 2>&1 &
  UP=$!
  for _ in $(seq 600); do
    n=$( (find "$dir" -maxdepth 2 -name ready.json 2>/dev/null || true) | wc -l)
    [ "$n" -ge "$nodes" ] && break
    sleep 0.1
  done
  local tps
  tps=$("$BIN" bench chain --url "http://127.0.0.1:$rpc" --txs "$TXS" ${BENCH_FLAGS:-} 2>&1 | tee "$WORK/$name.bench.log" \
    | grep -oiE '[0-9.]+ ?(k )?TPS' | head -1 || true)
  echo "$name: $tps"
  grep -iE "tps|commit" "$WORK/$name.bench.log" | sed 's/^/    /' | head -8 || true
  kill "$UP" 2>/dev/null || true; wait "$UP" 2>/dev/null || true; UP=
}

for round in $(seq "$ROUNDS"); do
  echo "== round $round ($TXS transfers)"
  run "rocks1-$round" 1
  run "pg1-$round" 1 --storage "postgres://postgres@127.0.0.1:$PORT/pg1_$round"
  run "rocks4-$round" 4
  run "pg4-$round" 4 --storage "postgres://postgres@127.0.0.1:$PORT/pg4_$round"
done
