#!/usr/bin/env bash
# Throughput of a CRUD/search mix with 1, 2 and 3 API nodes on one PostgreSQL server, and of the
# same mix on one node with the embedded SQLite file, in the same run (issue #7, docs/deploy.md).
#
# Mix (bench/wrk/crud_mix.lua): 50% read by id, 25% Patient search, 15% update, 10% create, over
# --patients seeded Patients; wrk threads are spread over the nodes (thread i -> node i mod N).
# For each run it prints requests/s, latency, and the database server's own share of the CPU
# time used by database + nodes (from /proc: the postmaster and all its backends), and the
# ratio of each figure to the one-node PostgreSQL run. Never asserts speed (not a timed test).
#
# PostgreSQL runs with the same durability as SQLite's synchronous=FULL (fsync and
# synchronous_commit on; scripts/pg-temp.sh turns them off for tests, this script back on).
# On a small machine (2 cores) nodes, database and wrk share the CPUs: more nodes cannot add
# throughput there; the figures say where the time goes.
#
# usage: bench/multinode_bench.sh [--bin PATH] [--duration S] [--connections N] [--patients N]
#                                 [--nodes 1,2,3] [--statements] [--baseline-bin PATH] [--quick] [--keep]
#   --statements    load pg_stat_statements and print, for the one-node runs, the statements by
#                   database time with their calls per HTTP request (where PostgreSQL spends it)
#   --baseline-bin  also measure one node of this other binary first (own database, same server)
#                   ("baseline×1"): a before/after comparison in one run
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init multinode_bench 2,21
DURATION=10
CONNS=24
PATIENTS=400
WRK_THREADS=3
NODES="1,2,3"
STATEMENTS=0
BASELINE_BIN=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) DURATION="$2"; shift 2 ;;
    --connections) CONNS="$2"; shift 2 ;;
    --patients) PATIENTS="$2"; shift 2 ;;
    --nodes) NODES="$2"; shift 2 ;;
    --statements) STATEMENTS=1; shift ;;
    --baseline-bin) BASELINE_BIN="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"; shift 2 ;;
    --quick) DURATION=3; PATIENTS=100; shift ;;
    *) bench_option "$@"; shift "$BENCH_SHIFT" ;;
  esac
done
bench_require wrk node curl psql
bench_check_bin
bench_tmp
export BENCH_PG_STATEMENTS=$STATEMENTS
bench_pg_start
PUBLIC="http://bench.carechart.test"

# measure LABEL NODES_CSV CPU_PIDS... : one warm-up and one measured wrk run; appends a row.
ROWS=()
measure() {
  local label="$1" nodes="$2"; shift 2
  local first="http://${nodes%%,*}"
  BENCH_NODES="$nodes" wrk -t"$WRK_THREADS" -c"$CONNS" -d2s -s "$HERE/wrk/crud_mix.lua" "$first" -- "$IDS" >/dev/null 2>&1 || true
  [[ $STATEMENTS == 1 && "$label" == *×1 && "$label" != sqlite* ]] && psql "${PGURI%/*}/${STATS_DB:-bench}" -XAtq -c "SELECT pg_stat_statements_reset()" >/dev/null
  local db0 nodes0=0 db1 nodes1=0 p
  db0="$(cpu_of_tree "$POSTMASTER")"
  for p in "$@"; do nodes0="$(awk -v a="$nodes0" -v b="$(cpu_of_tree "$p")" 'BEGIN{print a+b}')"; done
  local out
  out="$(BENCH_NODES="$nodes" wrk -t"$WRK_THREADS" -c"$CONNS" -d"${DURATION}s" --timeout 10s --latency \
    -s "$HERE/wrk/crud_mix.lua" "$first" -- "$IDS" 2>&1)"
  db1="$(cpu_of_tree "$POSTMASTER")"
  for p in "$@"; do nodes1="$(awk -v a="$nodes1" -v b="$(cpu_of_tree "$p")" 'BEGIN{print a+b}')"; done
  local line
  line="$(grep '^RESULT' <<<"$out")" || { echo "no RESULT from wrk for $label:"; echo "$out"; exit 1; }
  ROWS+=("$label db0=$db0 db1=$db1 n0=$nodes0 n1=$nodes1 $line")
  if [[ $STATEMENTS == 1 && "$label" == *×1 && "$label" != sqlite* ]]; then
    statements_report "$label" "$(wrk_field requests "$line")"
  fi
}

# Where the database time of the one-node run went: statements by total execution time.
statements_report() {
  local label="$1" requests="$2"
  echo
  echo "== pg_stat_statements, $label run ($requests HTTP requests): top statements by database time =="
  local db="${STATS_DB:-bench}"
  psql "${PGURI%/*}/$db" -XAq -P pager=off -F ' | ' -c "
    SELECT round(total_exec_time)::bigint AS total_ms,
           round(100 * total_exec_time / sum(total_exec_time) OVER ())::int AS pct,
           round(calls::numeric / $requests, 2) AS per_req,
           round(mean_exec_time::numeric, 3) AS mean_ms,
           rows / greatest(calls, 1) AS rows_per_call,
           left(regexp_replace(query, '\s+', ' ', 'g'), 110) AS statement
    FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '$db')
    ORDER BY total_exec_time DESC LIMIT 25"
  psql "${PGURI%/*}/$db" -XAtq -c "
    SELECT 'statements per HTTP request: ' || round(sum(calls)::numeric / $requests, 1) ||
           ', database execution time per request: ' || round((sum(total_exec_time) / $requests)::numeric, 2) || ' ms' ||
           ', WAL bytes per request: ' || round(sum(wal_bytes) / $requests)
    FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '$db')"
  echo
}

hp() { echo "${1#http://}"; }
# Statistics for the planner right after seeding, as autovacuum would gather within a minute:
# without them the Patient search joins every female Patient to every name row (EXPLAIN).
analyze() { psql "$1" -XAtq -c "ANALYZE" >/dev/null; }
IFS=, read -r -a NODE_COUNTS <<<"$NODES"

# ------------------------------------------------------------------ PostgreSQL: 1, 2, 3 nodes
PG_BENCH_URI="$(bench_pg_newdb bench)"
PGDB=(--db "$TMP/pg-node.db" --postgres "$PG_BENCH_URI")
PGARGS=("${PGDB[@]}" --bulk-dir "$TMP/bulk" --public-base-url "$PUBLIC/fhir")
export CARECHART_BEARER
CARECHART_BEARER="$(bench_token "$PUBLIC/fhir" "${PGDB[@]}")"
if [[ -n "$BASELINE_BIN" ]]; then
  # A database of its own (the other binary may know another schema version), seeded alike.
  BIN_MAIN="$BIN" BIN="$BASELINE_BIN"
  BASE_URI="$(bench_pg_newdb bench_base)"
  BASEDB=(--db "$TMP/pg-base.db" --postgres "$BASE_URI")
  CARECHART_BEARER="$(bench_token "$PUBLIC/fhir" "${BASEDB[@]}")"
  bench_start_node baseline "${BASEDB[@]}" --bulk-dir "$TMP/bulk-base" --public-base-url "$PUBLIC/fhir"
  BIN="$BIN_MAIN"
  IDS="$TMP/base-ids.txt"
  node "$HERE/seed.mjs" --base "$NODE_URL/fhir" --count "$PATIENTS" --ids "$IDS" --www "$TMP/www-base" >/dev/null
  analyze "$BASE_URI"
  STATS_DB=bench_base measure "baseline×1" "$(hp "$NODE_URL")" "$NODE_PID"
  bench_stop_node "$NODE_PID"
  CARECHART_BEARER="$(bench_token "$PUBLIC/fhir" "${PGDB[@]}")"
fi
URLS=() NPIDS=()
max_nodes=0
for n in "${NODE_COUNTS[@]}"; do (( n > max_nodes )) && max_nodes=$n; done
for i in $(seq 1 "$max_nodes"); do
  bench_start_node "pg$i" "${PGARGS[@]}"
  URLS+=("$(hp "$NODE_URL")"); NPIDS+=("$NODE_PID")
  if (( i == 1 )); then
    IDS="$TMP/pg-ids.txt"
    node "$HERE/seed.mjs" --base "$NODE_URL/fhir" --count "$PATIENTS" --ids "$IDS" --www "$TMP/www-pg" >/dev/null
    analyze "$PG_BENCH_URI"
  fi
done
for n in "${NODE_COUNTS[@]}"; do
  csv="$(IFS=,; echo "${URLS[*]:0:$n}")"
  measure "postgres×$n" "$csv" "${NPIDS[@]:0:$n}"
done
for p in "${NPIDS[@]}"; do bench_stop_node "$p"; done

# ------------------------------------------------------------------ SQLite: one node, same mix
SQDB=(--db "$TMP/sqlite.db")
CARECHART_BEARER="$(bench_token "$PUBLIC/fhir" "${SQDB[@]}")"
bench_start_node sqlite "${SQDB[@]}" --bulk-dir "$TMP/bulk-sqlite" --public-base-url "$PUBLIC/fhir"
IDS="$TMP/sqlite-ids.txt"
node "$HERE/seed.mjs" --base "$NODE_URL/fhir" --count "$PATIENTS" --ids "$IDS" --www "$TMP/www-sq" >/dev/null
measure "sqlite×1" "$(hp "$NODE_URL")" "$NODE_PID"

# ------------------------------------------------------------------ report
echo
echo "CRUD/search mix (50% read, 25% search, 15% update, 10% create), $PATIENTS Patients,"
echo "$CONNS connections, $WRK_THREADS wrk threads, ${DURATION}s per run, $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-12s %10s %8s %8s %7s %12s %16s %8s\n' run "req/s" "p50 ms" "p99 ms" non2xx "DB CPU share" "DB CPU ms/1k req" "vs pg×1"
base=""
for row in "${ROWS[@]}"; do [[ "${row%% *}" == "postgres×1" ]] && base="$(wrk_field rps "$row")"; done
for row in "${ROWS[@]}"; do
  label="${row%% *}"
  rps="$(wrk_field rps "$row")"
  db="$(minus "$(wrk_field db1 "$row")" "$(wrk_field db0 "$row")")"
  nd="$(minus "$(wrk_field n1 "$row")" "$(wrk_field n0 "$row")")"
  pct="n/a"; perk="n/a"
  if [[ "$label" != sqlite* ]]; then
    pct="$(share "$db" "$nd")"
    perk="$(awk -v d="$db" -v r="$(wrk_field requests "$row")" 'BEGIN{ if (r>0) printf "%.1f", 1e6*d/r; else print "n/a"}')"
  fi
  printf '%-12s %10.0f %8s %8s %7s %12s %16s %8s\n' "$label" "$rps" \
    "$(us_to_ms "$(wrk_field p50_us "$row")")" "$(us_to_ms "$(wrk_field p99_us "$row")")" \
    "$(wrk_field non2xx "$row")" "$pct" "$perk" "$(ratio "$rps" "$base")"
done
echo "DB CPU share: CPU time of the PostgreSQL server / (server + the carechart nodes), during the run."
