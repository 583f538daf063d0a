#!/usr/bin/env bash
# Carechart HTTP benchmarks (see shared design BENCHMARKS.md). Builds nothing.
#
#  (a) read by id      GET /fhir/Patient/{id}, 64 keep-alive connections (wrk --latency)
#  (b) reference       the same JSON bodies served as static files by nginx, same client/connections
#  (c) create          POST /fhir/Patient, 32 connections
#  (d) server memory   VmHWM / VmRSS of the carechart process
#
# Each measurement runs --runs times (default 3); the table shows the median. Never asserts speed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init bench/run.sh
DURATION=10
READ_CONNS=64
CREATE_CONNS=32
PATIENTS=1000
RUNS=3
WRK_THREADS=2
SERVER_THREADS=""
SERVER_EXTRA=()
WARMUP=2
QUICK=0

usage() {
  cat <<EOF
usage: bench/run.sh [options]

Starts carechart on a temporary database, seeds Patients, and measures with wrk:
read-by-id vs nginx serving the same JSON as static files, create rate, server RSS.
Prints a table of medians over --runs runs. Never fails on speed.

options:
  --bin PATH               carechart binary (default: \$CARECHART_BIN or $REPO/build/src/app/carechart)
  --duration SECONDS       length of each wrk run (default $DURATION)
  --connections N          keep-alive connections for the read tests (default $READ_CONNS)
  --create-connections N   connections for the create test (default $CREATE_CONNS)
  --patients N             Patients seeded before the read tests (default $PATIENTS)
  --runs N                 runs per measurement; the median is reported (default $RUNS)
  --wrk-threads N          wrk threads (default $WRK_THREADS)
  --server-threads N       pass --threads N to carechart (default: its own default)
  --server-arg ARG         extra argument for 'carechart serve' (repeatable), e.g. --server-arg --no-access-log
  --warmup SECONDS         unmeasured warm-up before each scenario (default $WARMUP; 0 = none)
  --quick                  CI-tiny settings: --duration 1 --patients 50 --connections 8
                           --create-connections 4 --warmup 0 (still --runs runs)
  --keep                   keep the temporary directory (database, logs, nginx config)
  -h, --help               this help

requires: wrk, nginx (Debian nginx-light), node, curl
EOF
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) DURATION="$2"; shift 2 ;;
    --connections) READ_CONNS="$2"; shift 2 ;;
    --create-connections) CREATE_CONNS="$2"; shift 2 ;;
    --patients) PATIENTS="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --wrk-threads) WRK_THREADS="$2"; shift 2 ;;
    --server-threads) SERVER_THREADS="$2"; shift 2 ;;
    --server-arg) SERVER_EXTRA+=("$2"); shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --quick) DURATION=1; PATIENTS=50; READ_CONNS=8; CREATE_CONNS=4; WARMUP=0; QUICK=1; shift ;;
    *) bench_option "$@"; shift "$BENCH_SHIFT" ;;
  esac
done
bench_require wrk nginx node curl
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
[[ -x "$BIN" ]] || { echo "bench/run.sh: carechart binary not found at $BIN (use --bin or CARECHART_BIN)" >&2; exit 2; }
(( WRK_THREADS > READ_CONNS )) && WRK_THREADS=$READ_CONNS

TMP="$(mktemp -d "${TMPDIR:-/tmp}/carechart-bench.XXXXXX")"
CC_PID=""
NGINX_PID=""

cleanup() {
  local rc=$?
  if [[ -n "$CC_PID" ]] && kill -0 "$CC_PID" 2>/dev/null; then
    kill -TERM "$CC_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$CC_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$CC_PID" 2>/dev/null || true
  fi
  if [[ -n "$NGINX_PID" ]] && kill -0 "$NGINX_PID" 2>/dev/null; then
    kill -QUIT "$NGINX_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$NGINX_PID" 2>/dev/null || true
  fi
  if [[ $KEEP == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# median of the numbers given as arguments
median() {
  printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END { if (NR==0) print "nan"; else if (NR%2) print a[(NR+1)/2]; else printf "%.1f\n", (a[NR/2]+a[NR/2+1])/2 }'
}

# field NAME from a wrk RESULT line
field() { sed -n "s/.*[ ]$1=\([^ ]*\).*/\1/p" <<<"$2"; }

# run_wrk LABEL CONNS SCRIPT URL [script args...] → appends RESULT lines to $TMP/LABEL.results
run_wrk() {
  local label="$1" conns="$2" script="$3" url="$4"; shift 4
  local threads=$WRK_THREADS
  (( threads > conns )) && threads=$conns
  if (( WARMUP > 0 )); then
    wrk -t"$threads" -c"$conns" -d"${WARMUP}s" -s "$script" "$url" -- "$@" >/dev/null 2>&1 || true
  fi
  for run in $(seq 1 "$RUNS"); do
    local out
    out="$(wrk -t"$threads" -c"$conns" -d"${DURATION}s" --timeout 10s --latency -s "$script" "$url" -- "$@" 2>&1)" || {
      echo "wrk failed for $label:"; echo "$out"; exit 1; }
    local line
    line="$(grep '^RESULT' <<<"$out" | tail -1 || true)"  # no match must reach the message below, not set -e
    [[ -n "$line" ]] || { echo "no RESULT line from wrk for $label:"; echo "$out"; exit 1; }
    echo "$line" >>"$TMP/$label.results"
    printf '  %-9s run %d/%d: %10s req/s  p50 %6.2f ms  p99 %7.2f ms  non-2xx %s  socket errors %s\n' \
      "$label" "$run" "$RUNS" "$(field rps "$line")" \
      "$(awk -v u="$(field p50_us "$line")" 'BEGIN{print u/1000}')" \
      "$(awk -v u="$(field p99_us "$line")" 'BEGIN{print u/1000}')" \
      "$(field non2xx "$line")" "$(field sockerr "$line")"
  done
}

# med LABEL FIELD → median over runs
med() {
  local vals=()
  while IFS= read -r l; do vals+=("$(field "$2" "$l")"); done <"$TMP/$1.results"
  median "${vals[@]}"
}

# ---------------------------------------------------------------- start carechart
echo "carechart benchmark — $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores"
echo "binary: $BIN"
CC_ARGS=(serve --db "$TMP/bench.db" --host 127.0.0.1 --port 0)
[[ -n "$SERVER_THREADS" ]] && CC_ARGS+=(--threads "$SERVER_THREADS")
(( ${#SERVER_EXTRA[@]} > 0 )) && CC_ARGS+=("${SERVER_EXTRA[@]}")
echo "command: $BIN ${CC_ARGS[*]}"
"$BIN" "${CC_ARGS[@]}" >"$TMP/carechart.out" 2>"$TMP/carechart.err" &
CC_PID=$!
CC_URL=""
for _ in $(seq 1 300); do
  CC_URL="$(sed -n 's/^carechart: listening on \(http:\/\/127\.0\.0\.1:[0-9]*\)$/\1/p' "$TMP/carechart.out" | head -1)"
  [[ -n "$CC_URL" ]] && break
  kill -0 "$CC_PID" 2>/dev/null || { echo "carechart exited during start-up:"; cat "$TMP/carechart.err"; exit 1; }
  sleep 0.1
done
[[ -n "$CC_URL" ]] || { echo "carechart did not print its listening line within 30 s"; cat "$TMP/carechart.err"; exit 1; }
echo "carechart: $CC_URL (pid $CC_PID)"
# Every FHIR request needs an access token: a backend client's (system/*.cruds), from carechart token
# (wrk scripts and seed.mjs read CARECHART_BEARER; verifying it is part of what is measured).
CARECHART_BEARER="$("$BIN" client add bench --kind backend --scope "system/*.cruds" --db "$TMP/bench.db" >/dev/null 2>>"$TMP/carechart.err" && "$BIN" token --db "$TMP/bench.db" --client bench --base-url "$CC_URL/fhir" --expires-in 86400 2>>"$TMP/carechart.err")" \
  || { echo "could not get an access token (carechart token)"; exit 1; }
export CARECHART_BEARER
AUTH_HEADER="Authorization: Bearer $CARECHART_BEARER"

# ---------------------------------------------------------------- seed
mkdir -p "$TMP/www"
SEED_T0=$(date +%s.%N)
node "$HERE/seed.mjs" --base "$CC_URL/fhir" --count "$PATIENTS" --ids "$TMP/ids.txt" --www "$TMP/www"
SEED_T1=$(date +%s.%N)
echo "seeding: $(awk -v a="$SEED_T0" -v b="$SEED_T1" -v n="$PATIENTS" 'BEGIN{printf "%.0f Patients/s (sequential-ish, 16 clients, create+read each)", n/(b-a)}')"
SAMPLE_ID="$(head -1 "$TMP/ids.txt")"
curl -fsS -H "$AUTH_HEADER" "$CC_URL/fhir/Patient/$SAMPLE_ID" -o /dev/null || { echo "read of a seeded Patient failed"; exit 1; }

# ---------------------------------------------------------------- start nginx on the same JSON
NG_PORT="$(free_port)"
mkdir -p "$TMP/nginx/logs" "$TMP/nginx/tmp"
chmod 755 "$TMP" "$TMP/www" "$TMP/www/fhir" "$TMP/www/fhir/Patient"
chmod 644 "$TMP/www/fhir/Patient/"*
NG_USER=""
[[ "$(id -u)" == 0 ]] && NG_USER="user root root;"
cat >"$TMP/nginx/nginx.conf" <<EOF
$NG_USER
worker_processes ${SERVER_THREADS:-auto};
error_log $TMP/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 120s;
  keepalive_requests 100000000;
  client_body_temp_path $TMP/nginx/tmp/body;
  proxy_temp_path $TMP/nginx/tmp/proxy;
  fastcgi_temp_path $TMP/nginx/tmp/fastcgi;
  uwsgi_temp_path $TMP/nginx/tmp/uwsgi;
  scgi_temp_path $TMP/nginx/tmp/scgi;
  types { }
  default_type "application/fhir+json; charset=utf-8";
  server {
    listen 127.0.0.1:$NG_PORT;
    root $TMP/www;
    location / { etag on; }
  }
}
EOF
"$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/logs/error.log" \
  -g "daemon off; pid $TMP/nginx/nginx.pid;" >"$TMP/nginx/stdout" 2>&1 &
NGINX_PID=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$NG_PORT/fhir/Patient/$SAMPLE_ID" -o /dev/null 2>/dev/null && break
  kill -0 "$NGINX_PID" 2>/dev/null || { echo "nginx exited:"; cat "$TMP/nginx/stdout" "$TMP/nginx/logs/error.log"; exit 1; }
  sleep 0.1
done
cmp -s <(curl -fsS "http://127.0.0.1:$NG_PORT/fhir/Patient/$SAMPLE_ID") <(curl -fsS -H "$AUTH_HEADER" "$CC_URL/fhir/Patient/$SAMPLE_ID") \
  || echo "note: nginx and carechart bodies differ for Patient/$SAMPLE_ID (changed since seeding?)"
echo "nginx: http://127.0.0.1:$NG_PORT (pid $NGINX_PID)"
echo

# ---------------------------------------------------------------- measure
echo "settings: duration ${DURATION}s, runs $RUNS, wrk threads $WRK_THREADS, patients $PATIENTS, read connections $READ_CONNS, create connections $CREATE_CONNS"
echo "(a) carechart read by id"
run_wrk cc_read "$READ_CONNS" "$HERE/wrk/read.lua" "$CC_URL" "$TMP/ids.txt" /fhir/Patient/
echo "(b) nginx static file, same JSON"
run_wrk ng_read "$READ_CONNS" "$HERE/wrk/read.lua" "http://127.0.0.1:$NG_PORT" "$TMP/ids.txt" /fhir/Patient/
echo "(c) carechart create"
run_wrk cc_create "$CREATE_CONNS" "$HERE/wrk/create.lua" "$CC_URL" /fhir/Patient

# ---------------------------------------------------------------- memory
HWM_KB="$(awk '/^VmHWM:/ {print $2}' "/proc/$CC_PID/status")"
RSS_KB="$(awk '/^VmRSS:/ {print $2}' "/proc/$CC_PID/status")"
DB_BYTES="$(du -cb "$TMP"/bench.db* 2>/dev/null | tail -1 | cut -f1)"

# ---------------------------------------------------------------- table
ms() { awk -v u="$1" 'BEGIN{printf "%.2f", u/1000}'; }
row() { printf '%-40s %12s %10s %10s %10s\n' "$@"; }
CC_RPS="$(med cc_read rps)"; NG_RPS="$(med ng_read rps)"; CR_RPS="$(med cc_create rps)"
echo
echo "== carechart benchmark: median of $RUNS runs, ${DURATION}s each =="
row "scenario" "req/s" "p50 ms" "p99 ms" "non-2xx"
row "----------------------------------------" "------------" "----------" "----------" "----------"
row "(a) GET /fhir/Patient/{id}  c=$READ_CONNS" "$CC_RPS" "$(ms "$(med cc_read p50_us)")" "$(ms "$(med cc_read p99_us)")" "$(med cc_read non2xx)"
row "(b) nginx static same JSON  c=$READ_CONNS" "$NG_RPS" "$(ms "$(med ng_read p50_us)")" "$(ms "$(med ng_read p99_us)")" "$(med ng_read non2xx)"
row "    ratio carechart/nginx (req/s)" "$(awk -v a="$CC_RPS" -v b="$NG_RPS" 'BEGIN{ if (b>0) printf "%.2f", a/b; else print "n/a" }')" "" "" ""
row "(c) POST /fhir/Patient      c=$CREATE_CONNS" "$CR_RPS" "$(ms "$(med cc_create p50_us)")" "$(ms "$(med cc_create p99_us)")" "$(med cc_create non2xx)"
printf '%-40s %12s\n' "(d) carechart VmHWM / VmRSS" "$((HWM_KB / 1024)) MB / $((RSS_KB / 1024)) MB"
printf '%-40s %12s\n' "    database size (db + wal)" "$((DB_BYTES / 1024 / 1024)) MB"
echo
echo "targets (BENCHMARKS.md, informational): read ≥ 0.5 × nginx with p99 < 2 ms; CRUD ≥ 10,000 req/s with p99 ≤ 10 ms"
for l in cc_read ng_read cc_create; do
  n="$(med $l non2xx)"; e="$(med $l sockerr)"
  [[ "$n" != 0 || "$e" != 0 ]] && echo "warning: $l had non-2xx responses ($n) or socket errors ($e) — figures are suspect"
done
if [[ "$QUICK" == 1 ]]; then
  echo
  "$HERE/export_bench.sh" --quick --bin "$BIN"  # Bulk Data export, tiny size
  echo
  "$HERE/ingest_bench.sh" --quick --post --bin "$BIN"  # import and HTTP transaction ingest, tiny size
  echo
  CARECHART_BIN="$BIN" "$HERE/hl7_bench.sh" 1  # HL7 v2 over MLLP, 1 s per case
  echo
  "$HERE/search_bench.sh" --quick --bin "$BIN"  # searches of issue #3, 10 patients, 1 s each
  echo
  "$HERE/reindex_bench.sh" --quick --bin "$BIN"  # carechart reindex vs demo-data --db, 3 patients
fi
exit 0
