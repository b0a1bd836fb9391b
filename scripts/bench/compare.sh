#!/usr/bin/env bash
# Runs the queue and search benchmarks (`yichuang bench tickets | call-next | search`) for one
# binary on a fresh SQLite file and a fresh PostgreSQL database, so that two builds (before and
# after a change) can be measured one after the other on the same machine.
#
#   scripts/bench/compare.sh target/release/yichuang [postgres://postgres@127.0.0.1:5432/test] [SITUATIONS]
#
# Prints one JSON line per scenario and engine (prefixed with the engine). Loopback only;
# every run is bounded by --duration.
set -euo pipefail
BIN="$(realpath "$1")"
PG_BASE="${2:-postgres://postgres@127.0.0.1:5432/test}"
SITUATIONS="${3:-100000}"
DUR="${BENCH_DURATION:-10s}"
WORK="$(mktemp -d)"
PORT=18480
trap 'kill "${SERVER:-0}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

pg_admin() { psql -w -X -q -h 127.0.0.1 -U postgres -d postgres -v ON_ERROR_STOP=1 -c "$1"; }

run_engine() {
  local engine="$1" db="$2"
  "$BIN" --database-url "$db" migrate >/dev/null
  "$BIN" --database-url "$db" demo >/dev/null 2>&1 || true
  "$BIN" --database-url "$db" catalog generate --situations "$SITUATIONS" --center GX >/dev/null
  YICHUANG_RATE_LIMIT_PER_SECOND=0 YICHUANG_KIOSK_HOURS=false "$BIN" --database-url "$db" serve --listen "127.0.0.1:$PORT" \
    >"$WORK/$engine.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
  local url="http://127.0.0.1:$PORT"
  echo "$engine tickets   $("$BIN" --database-url "$db" bench tickets --url "$url" --concurrency 256 --duration "$DUR" --json | tail -1)"
  echo "$engine call-next $("$BIN" --database-url "$db" bench call-next --url "$url" --concurrency 100 --duration "$DUR" --json | tail -1)"
  echo "$engine search    $("$BIN" bench search --url "$url" --center GX --concurrency 32 --duration "$DUR" --json | tail -1)"
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
}

run_engine sqlite "sqlite://$WORK/bench.db"
PG_DB="yc_bench_$$"
pg_admin "drop database if exists $PG_DB"
pg_admin "create database $PG_DB"
run_engine postgres "${PG_BASE%/*}/$PG_DB"
pg_admin "drop database if exists $PG_DB"
