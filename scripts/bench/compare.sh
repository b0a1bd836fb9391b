#!/usr/bin/env bash
# Compares two builds (before and after a change) on the queue and search benchmarks
# (`yichuang bench tickets | call-next | search`), alternating them over several rounds on the
# same machine so that drift (other load, the disk's cache, the CPU's clock) falls on both alike.
# Each round runs, for each engine, the old binary then the new one (the order swaps every
# round), each on a fresh SQLite file or a fresh PostgreSQL database.
#
#   scripts/bench/compare.sh OLD_BIN NEW_BIN [postgres://postgres@127.0.0.1:5432/test] [SITUATIONS] [ROUNDS]
#
# One binary alone (`compare.sh BIN`) runs one round of it. Prints one JSON line per run, then a
# table per scenario and engine: each binary's median, lowest and highest throughput and p99, and
# the change of the medians. Loopback only; every run is bounded by --duration (BENCH_DURATION,
# 10s by default).
set -euo pipefail
OLD="$(realpath "$1")"
NEW="$(realpath "${2:-$1}")"
PG_BASE="${3:-postgres://postgres@127.0.0.1:5432/test}"
SITUATIONS="${4:-20000}"
ROUNDS="${5:-3}"
[ "$OLD" = "$NEW" ] && [ -z "${2:-}" ] && ROUNDS=1
DUR="${BENCH_DURATION:-10s}"
WORK="$(mktemp -d)"
PORT=18480
trap 'kill "${SERVER:-0}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

pg_admin() { psql -w -X -q -h 127.0.0.1 -U postgres -d postgres -v ON_ERROR_STOP=1 -c "$1"; }

# run_one LABEL BIN ENGINE DB_URL: prepares the database and runs the three scenarios.
run_one() {
  local label="$1" bin="$2" engine="$3" db="$4"
  "$bin" --database-url "$db" migrate >/dev/null
  "$bin" --database-url "$db" demo >/dev/null 2>&1 || true
  "$bin" --database-url "$db" catalog generate --situations "$SITUATIONS" --center GX >/dev/null
  YICHUANG_RATE_LIMIT_PER_SECOND=0 YICHUANG_KIOSK_HOURS=false "$bin" --database-url "$db" serve --listen "127.0.0.1:$PORT" \
    >"$WORK/$label-$engine.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
  local url="http://127.0.0.1:$PORT"
  echo "$label $engine tickets $("$bin" --database-url "$db" bench tickets --url "$url" --concurrency 256 --duration "$DUR" --json | tail -1)"
  echo "$label $engine call-next $("$bin" --database-url "$db" bench call-next --url "$url" --concurrency 100 --duration "$DUR" --json | tail -1)"
  echo "$label $engine search $("$bin" bench search --url "$url" --center GX --concurrency 32 --duration "$DUR" --json | tail -1)"
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
}

run_engine() {
  local label="$1" bin="$2" engine="$3"
  if [ "$engine" = sqlite ]; then
    rm -f "$WORK"/bench.db*
    run_one "$label" "$bin" sqlite "sqlite://$WORK/bench.db"
  else
    local pg_db="yc_bench_$$"
    pg_admin "drop database if exists $pg_db"
    pg_admin "create database $pg_db"
    run_one "$label" "$bin" postgres "${PG_BASE%/*}/$pg_db"
    pg_admin "drop database if exists $pg_db"
  fi
}

for round in $(seq 1 "$ROUNDS"); do
  for engine in sqlite postgres; do
    if [ "$OLD" = "$NEW" ]; then
      run_engine new "$NEW" "$engine"
    elif [ $((round % 2)) = 1 ]; then
      run_engine old "$OLD" "$engine"; run_engine new "$NEW" "$engine"
    else
      run_engine new "$NEW" "$engine"; run_engine old "$OLD" "$engine"
    fi
  done
done | tee "$WORK/runs.txt"

python3 - "$WORK/runs.txt" <<'PY'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    label, engine, scenario, payload = line.split(" ", 3)
    r = json.loads(payload)
    runs.setdefault((engine, scenario), {}).setdefault(label, []).append((r["rps"], r["p99_ms"]))
print()
print(f"{'engine':9} {'scenario':10} {'build':5} {'runs':>4} {'/s median':>10} {'/s low':>9} {'/s high':>9} {'p99 ms median':>14}")
for (engine, scenario), by in sorted(runs.items()):
    med = {}
    for label in ("old", "new"):
        if label not in by:
            continue
        rps = [x[0] for x in by[label]]
        p99 = [x[1] for x in by[label]]
        med[label] = statistics.median(rps)
        print(f"{engine:9} {scenario:10} {label:5} {len(rps):>4} {med[label]:>10.0f} {min(rps):>9.0f} {max(rps):>9.0f} {statistics.median(p99):>14.1f}")
    if len(med) == 2:
        print(f"{'':9} {'':10} change of the medians: {100 * (med['new'] / med['old'] - 1):+.1f} %")
PY
