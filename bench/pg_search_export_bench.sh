#!/usr/bin/env bash
# Search and Bulk Data export on PostgreSQL beside SQLite, in the same run (issue #7 item 7).
#
# One generated corpus (`carechart demo-data --db`, deterministic: the same resources and ids on
# both backends) is written into a SQLite file and into a PostgreSQL database. Then, on a server
# for each backend in turn:
#   search   the scenarios of bench/search_bench.sh (values drawn from the corpus by
#            bench/search_paths.mjs), wrk with each --clients count: req/s, p50, p99
#   export   a system-level $export: kick-off, poll until the manifest, download every file:
#            resources/s (job until manifest, and with the downloads)
# and prints each figure with the ratio PostgreSQL ÷ SQLite and the database server's share of
# the CPU time (PostgreSQL: postmaster and backends ÷ (those + the carechart node)). PostgreSQL
# runs with fsync and synchronous_commit on, as durable as SQLite's synchronous=FULL. Figures
# only; never fails on speed (not a timed test).
#
# usage: bench/pg_search_export_bench.sh [--bin PATH] [--patients N] [--duration S]
#          [--clients N[,N]] [--scenarios LIST] [--quick] [--keep]
#   --patients N   generated patients (default 50; ~900 resources each)
#   --duration S   seconds per wrk run (default 3; 1 s of warm-up before each)
#   --clients      client counts (default 1,8)
#   --quick        --patients 3 --duration 1 --clients 1 (a check that it works, not figures)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init pg_search_export_bench 2,21
PATIENTS=50
DURATION=3
WARMUP=1
CLIENTS="1,8"
SCENARIOS="read,name,identifier,birthdate_gender,obs_patient_code_date,obs_code_value,encounter_revinclude,chain_subject_name,has_observation_code,sort_date,everything"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --patients) PATIENTS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --clients) CLIENTS="$2"; shift 2 ;;
    --scenarios) SCENARIOS="$2"; shift 2 ;;
    --quick) PATIENTS=3; DURATION=1; WARMUP=0; CLIENTS=1; shift ;;
    *) bench_option "$@"; shift "$BENCH_SHIFT" ;;
  esac
done
bench_require wrk node curl psql sqlite3
bench_check_bin
bench_tmp
bench_pg_start
IFS=, read -r -a CLIENT_LIST <<<"$CLIENTS"
IFS=, read -r -a SCEN_LIST <<<"$SCENARIOS"
echo "pg_search_export_bench: $PATIENTS patients, clients $CLIENTS, ${DURATION}s per run, $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"

# ------------------------------------------------------------------ the corpus, on both backends
PG_DB_URI="$(bench_pg_newdb corpus)"
declare -A DBARGS=([sqlite]="--db $TMP/sqlite.db" [postgres]="--db $TMP/pg.db --postgres $PG_DB_URI")
for backend in sqlite postgres; do
  t0="$(now_s)"; db0="$(cpu_of_tree "$POSTMASTER")"
  # shellcheck disable=SC2086  # DBARGS holds no spaces but between options
  "$BIN" demo-data --patients "$PATIENTS" ${DBARGS[$backend]} --log-level warn | tail -1
  echo "  demo-data --db on $backend: $(minus "$(now_s)" "$t0") s (database CPU $(minus "$(cpu_of_tree "$POSTMASTER")" "$db0") s)"
done
# Planner statistics, as autovacuum gathers them within a minute of a bulk load (none yet here).
psql "$PG_DB_URI" -XAtq -c "ANALYZE" >/dev/null
RESOURCES="$(sqlite3 -readonly "$TMP/sqlite.db" "SELECT count(*) FROM resource WHERE deleted = 0")"
PG_RESOURCES="$(psql "$PG_DB_URI" -XAtq -c "SELECT count(*) FROM resource WHERE deleted = 0")"
[[ "$RESOURCES" == "$PG_RESOURCES" ]] || { echo "corpus differs: SQLite $RESOURCES, PostgreSQL $PG_RESOURCES resources" >&2; exit 1; }
node "$HERE/search_paths.mjs" --bin "$BIN" --db "$TMP/sqlite.db" --out "$TMP/paths" --variants 200

# ------------------------------------------------------------------ measurements
# RESULT lines: "<backend> <scenario> <clients> db=<db cpu s> node=<node cpu s> <wrk RESULT>"
RESULTS="$TMP/results.txt"
: >"$RESULTS"
measure_searches() {
  local backend="$1" url="$2" pid="$3" s c file first code threads out line db0 n0
  for s in "${SCEN_LIST[@]}"; do
    file="$TMP/paths/$s.paths"
    [[ -f "$file" ]] || { echo "unknown scenario $s" >&2; exit 2; }
    # One request by hand first: the scenario must answer 200 on both (else its figures mean nothing).
    first="$(head -1 "$file")"
    code="$(curl -s -H "Authorization: Bearer $CARECHART_BEARER" -o "$TMP/first.json" -w '%{http_code}' "$url$first")"
    [[ "$code" == 200 ]] || { echo "$backend, $s: GET $first answered $code: $(head -c 300 "$TMP/first.json")" >&2; exit 1; }
    for c in "${CLIENT_LIST[@]}"; do
      threads=$((c < 2 ? 1 : 2))
      ((WARMUP > 0)) && { wrk -t"$threads" -c"$c" -d"${WARMUP}s" -s "$HERE/wrk/paths.lua" "$url" -- "$file" >/dev/null 2>&1 || true; }
      db0="$(cpu_of_tree "$POSTMASTER")"; n0="$(cpu_of_tree "$pid")"
      out="$(wrk -t"$threads" -c"$c" -d"${DURATION}s" --timeout 10s --latency -s "$HERE/wrk/paths.lua" "$url" -- "$file" 2>&1)" ||
        { echo "wrk failed for $backend $s c=$c: $out" >&2; exit 1; }
      line="$(grep '^RESULT' <<<"$out" | tail -1)" || { echo "no RESULT from wrk: $out" >&2; exit 1; }
      echo "$backend $s $c db=$(minus "$(cpu_of_tree "$POSTMASTER")" "$db0") node=$(minus "$(cpu_of_tree "$pid")" "$n0") $line" >>"$RESULTS"
      printf '  %-8s %-22s c=%-3s %9s req/s  p50 %7s ms  p99 %8s ms\n' "$backend" "$s" "$c" "$(wrk_field rps "$line")" \
        "$(us_to_ms "$(wrk_field p50_us "$line")")" "$(us_to_ms "$(wrk_field p99_us "$line")")"
    done
  done
}

# A system-level $export: "<backend> export - db=... node=... seconds=<job> all_seconds=<with downloads> count=<lines>"
measure_export() {
  local backend="$1" base="$2/fhir" pid="$3" auth="Authorization: Bearer $CARECHART_BEARER"
  local t0 t_done t_dl db0 n0 status code n=0 url lines
  db0="$(cpu_of_tree "$POSTMASTER")"; n0="$(cpu_of_tree "$pid")"; t0="$(now_s)"
  status="$(curl -sS -D - -o /dev/null -H "$auth" -H 'Prefer: respond-async' -H 'Accept: application/fhir+json' "$base/\$export" |
    tr -d '\r' | sed -n 's/^[Cc]ontent-[Ll]ocation: //p')"
  [[ -n "$status" ]] || { echo "$backend: no Content-Location from \$export" >&2; exit 1; }
  while :; do
    code="$(curl -sS -H "$auth" -o "$TMP/manifest.json" -w '%{http_code}' "$status")"
    [[ "$code" == 202 ]] || break
    sleep 0.05
  done
  t_done="$(now_s)"
  if [[ "$code" != 200 ]]; then  # reported, and the run goes on: the other figures stand
    echo "  $backend  \$export FAILED ($code): $(head -c 300 "$TMP/manifest.json")"
    echo "$backend export - failed=$code" >>"$RESULTS"
    return 0
  fi
  rm -rf "$TMP/dl" && mkdir -p "$TMP/dl"
  for url in $(grep -o '"url":"[^"]*"' "$TMP/manifest.json" | sed 's/"url":"//; s/"$//'); do
    n=$((n + 1))
    curl -sS -H "$auth" -o "$TMP/dl/$n.ndjson" "$url"
  done
  t_dl="$(now_s)"
  lines="$(cat "$TMP"/dl/*.ndjson | wc -l)"
  echo "$backend export - db=$(minus "$(cpu_of_tree "$POSTMASTER")" "$db0") node=$(minus "$(cpu_of_tree "$pid")" "$n0") seconds=$(minus "$t_done" "$t0") all_seconds=$(minus "$t_dl" "$t0") count=$lines files=$n" >>"$RESULTS"
  echo "  $backend  \$export: $lines resources in $n files, $(minus "$t_done" "$t0") s to the manifest, $(minus "$t_dl" "$t0") s with the downloads"
}

for backend in sqlite postgres; do
  # shellcheck disable=SC2206
  args=(${DBARGS[$backend]})
  bench_start_node "$backend" "${args[@]}" --bulk-dir "$TMP/bulk-$backend" --no-access-log
  export CARECHART_BEARER
  CARECHART_BEARER="$(bench_token "$NODE_URL/fhir" "${args[@]}")"
  echo "$backend: $NODE_URL"
  measure_searches "$backend" "$NODE_URL" "$NODE_PID"
  measure_export "$backend" "$NODE_URL" "$NODE_PID"
  bench_stop_node "$NODE_PID"
done

# ------------------------------------------------------------------ table
get() { # get BACKEND SCENARIO CLIENTS FIELD
  local line
  line="$(awk -v b="$1" -v s="$2" -v c="$3" '$1==b && $2==s && $3==c' "$RESULTS" | head -1)"
  [[ -n "$line" ]] && wrk_field "$4" "$line" || echo ""
}
echo
echo "== search and export on PostgreSQL beside SQLite: $PATIENTS patients, $RESOURCES resources, $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) =="
printf '%-22s %4s | %9s %8s %8s | %9s %8s %8s | %7s %7s\n' scenario c "SQ req/s" "p50 ms" "p99 ms" "PG req/s" "p50 ms" "p99 ms" "PG÷SQ" "DB CPU"
for s in "${SCEN_LIST[@]}"; do
  for c in "${CLIENT_LIST[@]}"; do
    sr="$(get sqlite "$s" "$c" rps)"; pr="$(get postgres "$s" "$c" rps)"
    printf '%-22s %4s | %9.0f %8s %8s | %9.0f %8s %8s | %7s %7s\n' "$s" "$c" \
      "$sr" "$(us_to_ms "$(get sqlite "$s" "$c" p50_us)")" "$(us_to_ms "$(get sqlite "$s" "$c" p99_us)")" \
      "$pr" "$(us_to_ms "$(get postgres "$s" "$c" p50_us)")" "$(us_to_ms "$(get postgres "$s" "$c" p99_us)")" \
      "$(ratio "$pr" "$sr")" "$(share "$(get postgres "$s" "$c" db)" "$(get postgres "$s" "$c" node)")"
  done
done
echo
printf '%-34s | %12s %12s | %12s %12s | %7s %7s\n' "system \$export ($RESOURCES resources)" "SQ res/s" "+downloads" "PG res/s" "+downloads" "PG÷SQ" "DB CPU"
SQ_E="$(rate "$(get sqlite export - count)" "$(get sqlite export - seconds)")"
PG_E="$(rate "$(get postgres export - count)" "$(get postgres export - seconds)")"
printf '%-34s | %12s %12s | %12s %12s | %7s %7s\n' "job until the manifest" \
  "$SQ_E" "$(rate "$(get sqlite export - count)" "$(get sqlite export - all_seconds)")" \
  "$PG_E" "$(rate "$(get postgres export - count)" "$(get postgres export - all_seconds)")" \
  "$(ratio "$PG_E" "$SQ_E")" "$(share "$(get postgres export - db)" "$(get postgres export - node)")"
echo "exported: SQLite $(get sqlite export - count), PostgreSQL $(get postgres export - count) resources"
awk '{ for (i = 1; i <= NF; i++) if (($i ~ /^non2xx=/ && $i != "non2xx=0") || ($i ~ /^timeouts=/ && $i != "timeouts=0")) print "warning: " $1 " " $2 " c=" $3 " (" $i "): figures are suspect" }' "$RESULTS"
echo "DB CPU: CPU time of the PostgreSQL server ÷ (server + the carechart node) during the PostgreSQL run."
