#!/usr/bin/env bash
# Write speed on PostgreSQL beside SQLite, in the same run (issue #7): generated patients loaded
#
#  (n) import   `carechart import` of the resources as NDJSON files, into a new SQLite file and
#               into a new PostgreSQL database
#  (h) HTTP     the same patients' transaction Bundles POSTed by C clients to a server on each
#
# For each: resources/s, the ratio PostgreSQL ÷ SQLite, and on PostgreSQL the database server's
# own share of the CPU time (postmaster and backends ÷ (those + the carechart side); for HTTP
# the carechart side includes the Node client that sends the Bundles). PostgreSQL runs with
# fsync and synchronous_commit on, as durable as SQLite's synchronous=FULL (scripts/pg-temp.sh
# turns them off for tests; this script turns them back on). Prints a table; never fails on speed.
#
# usage: bench/ingest_pg_bench.sh [--bin PATH] [--patients N] [--clients C] [--quick] [--keep]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init ingest_pg_bench 2,14
PATIENTS=100
CLIENTS=8
while [[ $# -gt 0 ]]; do
  case "$1" in
    --patients) PATIENTS="$2"; shift 2 ;;
    --clients) CLIENTS="$2"; shift 2 ;;
    --quick) PATIENTS=6; CLIENTS=2; shift ;;
    *) bench_option "$@"; shift "$BENCH_SHIFT" ;;
  esac
done
bench_require node psql
bench_check_bin
bench_tmp
bench_pg_start

echo "ingest_pg_bench: generating $PATIENTS patients in $TMP"
"$BIN" demo-data --patients "$PATIENTS" --format bundle --out "$TMP/bundles" | tail -1
"$BIN" demo-data --patients "$PATIENTS" --format ndjson --out "$TMP/ndjson" | tail -1
TOTAL="$(cat "$TMP"/ndjson/*.ndjson | wc -l)"

# import_run ARGS... (database options) → "resources seconds carechart_cpu_s db_cpu_s"
import_run() {
  local db0 out n s user sys
  db0="$(cpu_of_tree "$POSTMASTER")"
  out="$( { /usr/bin/time -f "cpu=%U %S" "$BIN" import "$@" --log-level warn "$TMP/ndjson"; } 2>&1)"
  n="$(sed -n 's/^imported \([0-9]*\) resources.*/\1/p' <<<"$out")"
  s="$(sed -n 's/^imported .* in \([0-9.]*\) s.*/\1/p' <<<"$out")"
  read -r user sys < <(sed -n 's/^cpu=\([0-9.]*\) \([0-9.]*\)/\1 \2/p' <<<"$out")
  [[ -n "$n" ]] || { echo "ingest_pg_bench: import failed: $out" >&2; exit 1; }
  echo "$n $s $(awk -v a="$user" -v b="$sys" 'BEGIN{print a + b}') $(minus "$(cpu_of_tree "$POSTMASTER")" "$db0")"
}

echo "(n) carechart import, NDJSON: SQLite"
read -r SN SS SC _ < <(import_run --db "$TMP/import.db")
echo "(n) carechart import, NDJSON: PostgreSQL"
read -r PN PS PC PD < <(import_run --db "$TMP/import-pg.db" --postgres "$(bench_pg_newdb bench_import)")

# http_run BACKEND_ENV... → the figures line of ingest_http.mjs plus " cpu=S db=D"
http_run() {
  local db0 line pid cpu
  db0="$(cpu_of_tree "$POSTMASTER")"
  env "$@" CARECHART_BIN="$BIN" node "$HERE/ingest_http.mjs" "$TMP/bundles" "$CLIENTS" "$TMP" >"$TMP/http.out" 2>&1 &
  pid=$!
  cpu=0
  # The client and the server it starts: sample the tree until it ends (children exit first).
  while kill -0 "$pid" 2>/dev/null; do
    cpu="$(cpu_of_tree "$pid" 2>/dev/null || echo "$cpu")"
    sleep 0.2
  done
  wait "$pid" || { cat "$TMP/http.out" >&2; exit 1; }
  line="$(tail -1 "$TMP/http.out")"
  echo "$line cpu=$cpu db=$(minus "$(cpu_of_tree "$POSTMASTER")" "$db0")"
}
field() { sed -n "s/.*\b$2=\([^ ]*\).*/\1/p" <<<"$1"; }
echo "(h) HTTP transactions, $CLIENTS clients: SQLite"
HS="$(http_run CARECHART_BACKEND=sqlite)"
echo "(h) HTTP transactions, $CLIENTS clients: PostgreSQL"
HP="$(http_run CARECHART_BACKEND=postgres CARECHART_TEST_POSTGRES_URI="$PGURI")"
for h in "$HS" "$HP"; do
  [[ "$(field "$h" errors)" == 0 ]] || echo "warning: $(field "$h" errors) Bundles failed"
done

row() { printf '%-40s %10s %10s %14s\n' "$@"; }
echo
echo "== carechart ingest on PostgreSQL beside SQLite: $PATIENTS patients, $TOTAL resources, $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) =="
row "path" "res/s" "÷ SQLite" "DB CPU share"
row "----------------------------------------" "----------" "----------" "--------------"
SR="$(rate "$SN" "$SS")"; PR="$(rate "$PN" "$PS")"
row "(n) import NDJSON, SQLite" "$SR" "1.00" ""
row "(n) import NDJSON, PostgreSQL" "$PR" "$(ratio "$PR" "$SR")" "$(share "$PD" "$PC")"
HSR="$(field "$HS" rate)"; HPR="$(field "$HP" rate)"
row "(h) HTTP transactions x$CLIENTS, SQLite" "$HSR" "1.00" ""
row "(h) HTTP transactions x$CLIENTS, PostgreSQL" "$HPR" "$(ratio "$HPR" "$HSR")" "$(share "$(field "$HP" db)" "$(field "$HP" cpu)")"
echo
echo "DB CPU share: CPU time of the PostgreSQL server ÷ (server + carechart side) during the run."
