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
#                                 [--quick] [--keep]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
BIN="${CARECHART_BIN:-$REPO/build/src/app/carechart}"
DURATION=10
CONNS=24
PATIENTS=400
WRK_THREADS=3
KEEP=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bin) BIN="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --connections) CONNS="$2"; shift 2 ;;
    --patients) PATIENTS="$2"; shift 2 ;;
    --quick) DURATION=3; PATIENTS=100; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
for tool in wrk node curl psql; do
  command -v "$tool" >/dev/null || { echo "multinode_bench: needs $tool" >&2; exit 2; }
done
[[ -x "$BIN" ]] || { echo "multinode_bench: no carechart binary at $BIN (--bin)" >&2; exit 2; }

TMP="$(mktemp -d /tmp/carechart-mnbench-XXXXXX)"
chmod 755 "$TMP"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  "$REPO/scripts/pg-temp.sh" stop "$TMP/pg" >/dev/null 2>&1 || true
  if [[ $KEEP == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

PUBLIC="http://bench.carechart.test"
PGURI="$("$REPO/scripts/pg-temp.sh" start "$TMP/pg")"
psql "$PGURI" -XAtq -c "ALTER SYSTEM SET fsync = on" -c "ALTER SYSTEM SET synchronous_commit = on" \
  -c "ALTER SYSTEM SET full_page_writes = on" -c "SELECT pg_reload_conf()" >/dev/null
POSTMASTER="$(head -1 "$TMP/pg/data/postmaster.pid")"

# CPU seconds (user+system) of a process, with its waited-for children, plus its live children.
cpu_of_tree() {
  local pid="$1" hz total=0 t
  hz="$(getconf CLK_TCK)"
  t="$(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12+$13+$14+$15}')"
  total=$((total + t))
  for child in $(pgrep -P "$pid" || true); do
    t="$(sed 's/^.*) //' "/proc/$child/stat" 2>/dev/null | awk '{print $12+$13}')" || t=0
    total=$((total + ${t:-0}))
  done
  awk -v t="$total" -v hz="$hz" 'BEGIN{printf "%.3f", t/hz}'
}

# start_node NAME ARGS... : runs carechart serve in the background; sets NODE_URL, NODE_PID.
start_node() {
  local name="$1"; shift
  "$BIN" serve --host 127.0.0.1 --port 0 --public-base-url "$PUBLIC/fhir" --log-level "${BENCH_LOG_LEVEL:-warn}" "$@" \
    >"$TMP/$name.out" 2>"$TMP/$name.err" &
  NODE_PID=$!
  PIDS+=("$NODE_PID")
  for _ in $(seq 1 300); do
    NODE_URL="$(grep -oE 'http://127\.0\.0\.1:[0-9]+' "$TMP/$name.out" | head -1 || true)"
    [[ -n "$NODE_URL" ]] && return 0
    kill -0 "$NODE_PID" 2>/dev/null || { echo "node $name exited:"; cat "$TMP/$name.err"; exit 1; }
    sleep 0.1
  done
  echo "node $name did not start"; cat "$TMP/$name.err"; exit 1
}

token_for() {  # token_for ARGS... (database options): a backend client's access token
  "$BIN" client add bench --kind backend --scope "system/*.cruds" "$@" >/dev/null 2>>"$TMP/cli.err"
  "$BIN" token "$@" --client bench --base-url "$PUBLIC/fhir" --expires-in 86400 2>>"$TMP/cli.err"
}

# measure LABEL NODES_CSV CPU_PIDS... : one warm-up and one measured wrk run; appends a row.
ROWS=()
measure() {
  local label="$1" nodes="$2"; shift 2
  local first="http://${nodes%%,*}"
  BENCH_NODES="$nodes" wrk -t"$WRK_THREADS" -c"$CONNS" -d2s -s "$HERE/wrk/crud_mix.lua" "$first" -- "$IDS" >/dev/null 2>&1 || true
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
}

# ------------------------------------------------------------------ PostgreSQL: 1, 2, 3 nodes
PGDB=(--db "$TMP/pg-node.db" --postgres "$PGURI")
PGARGS=("${PGDB[@]}" --bulk-dir "$TMP/bulk")
export CARECHART_BEARER
CARECHART_BEARER="$(token_for "${PGDB[@]}")" || { cat "$TMP/cli.err"; exit 1; }
start_node pg1 "${PGARGS[@]}"; URL1="$NODE_URL"; PID1="$NODE_PID"
IDS="$TMP/pg-ids.txt"
node "$HERE/seed.mjs" --base "$URL1/fhir" --count "$PATIENTS" --ids "$IDS" --www "$TMP/www-pg" >/dev/null
start_node pg2 "${PGARGS[@]}"; URL2="$NODE_URL"; PID2="$NODE_PID"
start_node pg3 "${PGARGS[@]}"; URL3="$NODE_URL"; PID3="$NODE_PID"
hp() { echo "${1#http://}"; }
measure "postgres×1" "$(hp "$URL1")" "$PID1"
measure "postgres×2" "$(hp "$URL1"),$(hp "$URL2")" "$PID1" "$PID2"
measure "postgres×3" "$(hp "$URL1"),$(hp "$URL2"),$(hp "$URL3")" "$PID1" "$PID2" "$PID3"
kill "$PID1" "$PID2" "$PID3" 2>/dev/null || true

# ------------------------------------------------------------------ SQLite: one node, same mix
SQDB=(--db "$TMP/sqlite.db")
SQARGS=("${SQDB[@]}" --bulk-dir "$TMP/bulk-sqlite")
CARECHART_BEARER="$(token_for "${SQDB[@]}")" || { cat "$TMP/cli.err"; exit 1; }
start_node sqlite "${SQARGS[@]}"; URLS="$NODE_URL"; PIDS_SQ="$NODE_PID"
IDS="$TMP/sqlite-ids.txt"
node "$HERE/seed.mjs" --base "$URLS/fhir" --count "$PATIENTS" --ids "$IDS" --www "$TMP/www-sq" >/dev/null
measure "sqlite×1" "$(hp "$URLS")" "$PIDS_SQ"

# ------------------------------------------------------------------ report
field() { grep -oE "(^| )$2=[^ ]+" <<<"$1" | head -1 | cut -d= -f2; }
echo
echo "CRUD/search mix (50% read, 25% search, 15% update, 10% create), $PATIENTS Patients,"
echo "$CONNS connections, $WRK_THREADS wrk threads, ${DURATION}s per run, $(nproc) CPUs on this machine"
printf '%-12s %10s %8s %8s %7s %12s %16s %8s\n' run "req/s" "p50 ms" "p99 ms" non2xx "DB CPU share" "DB CPU ms/1k req" "vs pg×1"
base=""
for row in "${ROWS[@]}"; do
  label="${row%% *}"
  rps="$(field "$row" rps)"; [[ -z "$base" && "$label" == "postgres×1" ]] && base="$rps"
  db="$(awk -v a="$(field "$row" db0)" -v b="$(field "$row" db1)" 'BEGIN{print b-a}')"
  nd="$(awk -v a="$(field "$row" n0)" -v b="$(field "$row" n1)" 'BEGIN{print b-a}')"
  share="n/a"; perk="n/a"
  if [[ "$label" != sqlite* ]]; then
    share="$(awk -v d="$db" -v n="$nd" 'BEGIN{ if (d+n>0) printf "%.0f%%", 100*d/(d+n); else print "n/a"}')"
    perk="$(awk -v d="$db" -v r="$(field "$row" requests)" 'BEGIN{ if (r>0) printf "%.1f", 1e6*d/r; else print "n/a"}')"
  fi
  printf '%-12s %10.0f %8.1f %8.1f %7s %12s %16s %8s\n' "$label" "$rps" \
    "$(awk -v u="$(field "$row" p50_us)" 'BEGIN{print u/1000}')" \
    "$(awk -v u="$(field "$row" p99_us)" 'BEGIN{print u/1000}')" \
    "$(field "$row" non2xx)" "$share" "$perk" \
    "$(awk -v r="$rps" -v b="$base" 'BEGIN{ if (b>0) printf "%.2f", r/b; else print "n/a"}')"
done
echo "DB CPU share: CPU time of the PostgreSQL server / (server + the carechart nodes), during the run."
