#!/usr/bin/env bash
# The PostgreSQL figures a city runs on, each on a fresh database: tickets (256 connections),
# call-next (100 windows, and 2 windows one call at a time), two servers on one database (kiosks
# on one with windows or displays on the other; deadlocks counted from pg_stat_database), catalogue
# search on 100,000 situations (zipf and cold mixes) and 1,000 display clients.
#
#   scripts/bench/postgres.sh target/release/yichuang [postgres://postgres@127.0.0.1:5432/test] [SITUATIONS]
#
# Two template databases are made once (the demo hall; the demo hall with the synthetic
# catalogue), and every figure runs on a copy of one (`create database … template …`), so no
# figure sees the tickets or cases another left. Prints one JSON line per figure. Loopback only;
# every run is bounded by --duration.
set -euo pipefail
BIN="$(realpath "$1")"
PG_BASE="${2:-postgres://postgres@127.0.0.1:5432/test}"
SITUATIONS="${3:-100000}"
DUR="${BENCH_DURATION:-10s}"
WORK="$(mktemp -d)"
A=18490
B=18491
TAG="yc_bench_pg_$$"
HALL="${TAG}_hall"
CATALOG="${TAG}_catalog"
DB="${TAG}_run"
URL="${PG_BASE%/*}/$DB"
SERVERS=""
cleanup() {
  stop
  for d in "$DB" "$HALL" "$CATALOG"; do psql_admin "drop database if exists $d" >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

psql_admin() { psql -w -X -q -h 127.0.0.1 -U postgres -d postgres -v ON_ERROR_STOP=1 -c "$1"; }
deadlocks() { psql -w -X -q -t -A -h 127.0.0.1 -U postgres -d postgres -c "select deadlocks from pg_stat_database where datname = '$DB'"; }
serve() {
  YICHUANG_RATE_LIMIT_PER_SECOND=0 YICHUANG_KIOSK_HOURS=false "$BIN" --database-url "$URL" serve --listen "127.0.0.1:$1" \
    >>"$WORK/server-$1.log" 2>&1 &
  SERVERS="$SERVERS $!"
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$1/healthz" >/dev/null && return; sleep 0.1; done
  echo "server on $1 did not start" >&2; exit 1
}
stop() {
  [ -n "$SERVERS" ] && { kill $SERVERS 2>/dev/null || true; wait $SERVERS 2>/dev/null || true; }
  SERVERS=""
}
# fresh TEMPLATE: the run database again, copied from TEMPLATE, with one server on it.
fresh() {
  stop
  psql_admin "drop database if exists $DB"
  psql_admin "create database $DB template $1"
  serve "$A"
}
bench() { "$BIN" --database-url "$URL" bench "$@" --json | tail -1; }
# A server answers searches from its in-memory index once it has built it (seconds after it
# starts); the search figures are of a running server, so they wait for it, and print its time.
index_ready() {
  for _ in $(seq 1 1200); do
    m="$(curl -fs "http://127.0.0.1:$A/metrics" | grep '^search_index_build_seconds' || true)"
    [ -n "$m" ] && { echo "search-index   {\"build_seconds\": ${m##* }}"; return; }
    sleep 0.1
  done
  echo "search-index   not built within 120 s" >&2
}

for d in "$HALL" "$CATALOG"; do
  psql_admin "drop database if exists $d"
  psql_admin "create database $d"
  "$BIN" --database-url "${PG_BASE%/*}/$d" migrate >/dev/null
  "$BIN" --database-url "${PG_BASE%/*}/$d" demo >/dev/null 2>&1 || true
done
"$BIN" --database-url "${PG_BASE%/*}/$CATALOG" catalog generate --situations "$SITUATIONS" --center GX >/dev/null

fresh "$HALL"
echo "tickets-256    $(bench tickets --url "http://127.0.0.1:$A" --concurrency 256 --duration "$DUR")"
fresh "$HALL"
echo "call-next-100  $(bench call-next --url "http://127.0.0.1:$A" --concurrency 100 --duration "$DUR")"
fresh "$HALL"
echo "call-next-2    $(bench call-next --url "http://127.0.0.1:$A" --concurrency 2 --duration "$DUR")"
fresh "$CATALOG"
index_ready
echo "search-zipf    $(bench search --url "http://127.0.0.1:$A" --center GX --concurrency 32 --duration "$DUR")"
fresh "$CATALOG"
index_ready
echo "search-cold    $(bench search --url "http://127.0.0.1:$A" --center GX --concurrency 32 --duration "$DUR" --queries cold)"
fresh "$HALL"
echo "display-1000   $(bench display --url "http://127.0.0.1:$A" --concurrency 1000 --duration "$DUR")"
# Two servers on one database: kiosks on one while the other's windows call, then kiosks on
# one while the other's displays follow calls.
fresh "$HALL"
serve "$B"
before="$(deadlocks)"
bench tickets --url "http://127.0.0.1:$A" --concurrency 64 --duration "$DUR" >"$WORK/two-tickets" &
T=$!
bench call-next --url "http://127.0.0.1:$B" --concurrency 50 --duration "$DUR" >"$WORK/two-calls"
wait "$T"
echo "two-servers-tickets  $(cat "$WORK/two-tickets")"
echo "two-servers-calls    $(cat "$WORK/two-calls")"
echo "two-servers-deadlocks {\"deadlocks\": $(( $(deadlocks) - before ))}"
fresh "$HALL"
serve "$B"
before="$(deadlocks)"
bench tickets --url "http://127.0.0.1:$A" --concurrency 64 --duration "$DUR" >"$WORK/two-tickets" &
T=$!
bench display --url "http://127.0.0.1:$B" --concurrency 500 --duration "$DUR" >"$WORK/two-display"
wait "$T"
echo "two-servers-tickets2 $(cat "$WORK/two-tickets")"
echo "two-servers-display  $(cat "$WORK/two-display")"
echo "two-servers-deadlocks2 {\"deadlocks\": $(( $(deadlocks) - before ))}"
