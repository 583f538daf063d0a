#!/usr/bin/env bash
# Carechart search benchmarks (issue #3 item 7; shared design BENCHMARKS.md). Builds nothing.
#
# For each corpus size (patients made by `carechart demo-data --db`): index size vs stored JSON,
# then p50/p99 and throughput with 1 and 16 clients (wrk, keep-alive) of the issue's searches,
# each drawn from ~200 values of the corpus, against the reference of the same run: the read of
# one Patient by id. With two sizes, the slowdown from the smaller to the larger. Prints figures
# only; never fails on speed.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"

BIN="${CARECHART_BIN:-$REPO/build/src/app/carechart}"
SIZES="1000,10000"
DURATION=5
WARMUP=1
CLIENTS="1,16"
VARIANTS=200
DB_DIR=""
REUSE=0
KEEP=0
PATHS_DIR=""
SIZE_STATS=1
SCENARIOS="read,name,identifier,birthdate_gender,obs_patient_code_date,obs_code_value,obs_code_recent_date,encounter_revinclude,chain_subject_name,has_observation_code,sort_date,everything"

usage() {
  cat <<EOF
usage: bench/search_bench.sh [options]

Generates corpora with 'carechart demo-data --db', serves each, and measures the issue's
searches with wrk at 1 and 16 clients; prints a table per size, the index/JSON size ratio and
the slowdown between sizes. Each scenario cycles through ~$VARIANTS values taken from the corpus.

options:
  --bin PATH           carechart binary (default: \$CARECHART_BIN or $REPO/build/src/app/carechart)
  --sizes N[,N]        patients per corpus (default $SIZES; ~940 resources per patient)
  --duration SECONDS   length of each wrk run (default $DURATION)
  --warmup SECONDS     unmeasured run before each scenario (default $WARMUP; 0 = none)
  --clients N[,N]      client counts (default $CLIENTS)
  --scenarios LIST     subset of: $SCENARIOS
  --db-dir DIR         where the corpora are made (default: a temporary directory)
  --reuse              reuse DIR/search-N.db when it exists (with --db-dir)
  --paths DIR          keep each size's request paths in DIR/paths-N and reuse them when there
                       (drawing them reads much of a large corpus: minutes when it is not cached),
                       so that two binaries are measured on the same requests
  --no-size            skip the index/JSON size figures (they read the whole file)
  --quick              CI-tiny settings: --sizes 10 --duration 1 --warmup 0 --clients 1
  --keep               keep the temporary directory
  -h, --help           this help

requires: wrk, sqlite3, node, curl. Disk: about 3 MB per patient (10,000 patients ≈ 30 GB).
EOF
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --bin) BIN="$2"; shift 2 ;;
    --sizes) SIZES="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --clients) CLIENTS="$2"; shift 2 ;;
    --scenarios) SCENARIOS="$2"; shift 2 ;;
    --db-dir) DB_DIR="$2"; shift 2 ;;
    --reuse) REUSE=1; shift ;;
    --paths) PATHS_DIR="$2"; shift 2 ;;
    --no-size) SIZE_STATS=0; shift ;;
    --quick) SIZES=10; DURATION=1; WARMUP=0; CLIENTS=1; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "search_bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

for tool in wrk sqlite3 node curl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "search_bench.sh: $tool not found" >&2; exit 2; }
done
[[ -x "$BIN" ]] || { echo "search_bench.sh: carechart binary not found at $BIN (use --bin or CARECHART_BIN)" >&2; exit 2; }

TMP="$(mktemp -d "${TMPDIR:-/tmp}/carechart-search-bench.XXXXXX")"
[[ -n "$DB_DIR" ]] || DB_DIR="$TMP"
mkdir -p "$DB_DIR"
CC_PID=""

stop_server() {
  if [[ -n "$CC_PID" ]] && kill -0 "$CC_PID" 2>/dev/null; then
    kill -TERM "$CC_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$CC_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$CC_PID" 2>/dev/null || true
  fi
  CC_PID=""
}
cleanup() {
  local rc=$?
  stop_server
  if [[ $KEEP == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

field() { sed -n "s/.*[ ]$1=\([^ ]*\).*/\1/p" <<<"$2"; }
# utime + stime of the server process in clock ticks (empty where /proc is not there).
server_cpu_ticks() { [[ -r "/proc/$CC_PID/stat" ]] && awk '{print $14 + $15}' "/proc/$CC_PID/stat" || true; }
ms() { awk -v u="$1" 'BEGIN{printf "%.2f", u/1000}'; }

IFS=, read -r -a SIZE_LIST <<<"$SIZES"
IFS=, read -r -a CLIENT_LIST <<<"$CLIENTS"
IFS=, read -r -a SCEN_LIST <<<"$SCENARIOS"

echo "carechart search benchmark — $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores"
echo "binary: $BIN"
echo "settings: sizes $SIZES patients, clients $CLIENTS, ${DURATION}s per run (warm-up ${WARMUP}s), corpora in $DB_DIR"
df -h "$DB_DIR" | tail -1 | awk '{print "disk: " $4 " free on " $6}'

for size in "${SIZE_LIST[@]}"; do
  DB="$DB_DIR/search-$size.db"
  echo
  echo "== corpus: $size patients =="
  if [[ $REUSE == 1 && -f "$DB" ]]; then
    echo "reusing $DB"
  else
    need_kb=$((size * 3200))
    free_kb="$(df -Pk "$DB_DIR" | tail -1 | awk '{print $4}')"
    if (( need_kb > free_kb * 8 / 10 )); then
      echo "skipped: $size patients need about $((need_kb / 1024 / 1024)) GB, $((free_kb / 1024 / 1024)) GB free in $DB_DIR"
      continue
    fi
    rm -f "$DB" "$DB-wal" "$DB-shm"
    t0=$(date +%s.%N)
    "$BIN" demo-data --patients "$size" --db "$DB" --log-level warn 2>/dev/null | tail -1
    t1=$(date +%s.%N)
    echo "demo-data: $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s"
  fi
  # Sizes (`carechart storage`): the bodies as JSON and as stored (zstd, D101) vs everything that
  # only serves search (the sp_* tables and their indexes, and the resource table's indexes other
  # than its key). The issue's target compares the index with the JSON.
  if [[ $SIZE_STATS == 0 ]]; then
    echo "sizes: not measured (--no-size)" | tee "$TMP/size-$size.txt"
  else
    "$BIN" storage --db "$DB" --json | node -e '
      const s = JSON.parse(require("fs").readFileSync(0, "utf8"));
      const mb = (b) => (b / 1048576).toFixed(1);
      console.log(`resources: ${s.resources}, JSON ${mb(s.bodyBytesJson)} MB (stored ${mb(s.bodyBytesStored)} MB), ` +
        `search index ${s.searchIndexBytes === null ? "n/a" : mb(s.searchIndexBytes) + " MB"}, ratio ` +
        `${s.searchIndexBytes === null ? "n/a" : (s.searchIndexBytes / s.bodyBytesJson).toFixed(2)} (target <= 1.5); ` +
        `database file ${mb(s.fileBytes)} MB`);' | tee "$TMP/size-$size.txt"
  fi

  # Kept paths are reused when they hold every scenario asked (an older set may lack a newer one).
  have_paths=0
  if [[ -n "$PATHS_DIR" && -d "$PATHS_DIR/paths-$size" ]]; then
    have_paths=1
    for s in ${SCENARIOS//,/ }; do [[ -f "$PATHS_DIR/paths-$size/$s.paths" ]] || have_paths=0; done
  fi
  if ((have_paths)); then
    echo "reusing the request paths in $PATHS_DIR/paths-$size"
    cp -r "$PATHS_DIR/paths-$size" "$TMP/paths-$size"
  else
    node "$HERE/search_paths.mjs" --bin "$BIN" --db "$DB" --out "$TMP/paths-$size" --variants "$VARIANTS"
    if [[ -n "$PATHS_DIR" ]]; then mkdir -p "$PATHS_DIR" && cp -r "$TMP/paths-$size" "$PATHS_DIR/"; fi
  fi

  "$BIN" serve --db "$DB" --host 127.0.0.1 --port 0 >"$TMP/carechart-$size.out" 2>"$TMP/carechart-$size.err" &
  CC_PID=$!
  URL=""
  for _ in $(seq 1 600); do
    URL="$(sed -n 's/^carechart: listening on \(http:\/\/127\.0\.0\.1:[0-9]*\)$/\1/p' "$TMP/carechart-$size.out" | head -1)"
    [[ -n "$URL" ]] && break
    kill -0 "$CC_PID" 2>/dev/null || { echo "carechart exited during start-up:"; cat "$TMP/carechart-$size.err"; exit 1; }
    sleep 0.1
  done
  [[ -n "$URL" ]] || { echo "carechart did not print its listening line within 60 s"; exit 1; }
  # Every FHIR request needs an access token (wrk's paths.lua reads CARECHART_BEARER).
  CARECHART_BEARER="$("$BIN" client add bench --kind backend --scope "system/*.cruds" --db "$DB" >/dev/null 2>>"$TMP/carechart-$size.err" && "$BIN" token --db "$DB" --client bench --base-url "$URL/fhir" --expires-in 86400 2>>"$TMP/carechart-$size.err")"
  export CARECHART_BEARER

  for s in "${SCEN_LIST[@]}"; do
    file="$TMP/paths-$size/$s.paths"
    [[ -f "$file" ]] || { echo "unknown scenario $s"; exit 2; }
    # One request by hand first: the scenario must answer 200 (else its figures mean nothing).
    first="$(head -1 "$file")"
    code="$(curl -s -H "Authorization: Bearer $CARECHART_BEARER" -o "$TMP/first.json" -w '%{http_code}' "$URL$first")"
    [[ "$code" == 200 ]] || { echo "scenario $s: GET $first answered $code: $(head -c 300 "$TMP/first.json")"; exit 1; }
    matches="$(node -e 'const b=JSON.parse(require("fs").readFileSync(process.argv[1]));console.log(b.resourceType==="Bundle"?`${(b.entry||[]).length} entries, total ${b.total ?? "-"}`:"1 resource")' "$TMP/first.json")"
    echo "$s: e.g. $first → $matches" >>"$TMP/examples-$size.txt"
    for c in "${CLIENT_LIST[@]}"; do
      threads=$(( c < 2 ? 1 : 2 ))
      if (( WARMUP > 0 )); then
        wrk -t"$threads" -c"$c" -d"${WARMUP}s" -s "$HERE/wrk/paths.lua" "$URL" -- "$file" >/dev/null 2>&1 || true
      fi
      cpu0="$(server_cpu_ticks)"
      out="$(wrk -t"$threads" -c"$c" -d"${DURATION}s" --timeout 10s --latency -s "$HERE/wrk/paths.lua" "$URL" -- "$file" 2>&1)" || {
        echo "wrk failed for $s c=$c:"; echo "$out"; exit 1; }
      cpu1="$(server_cpu_ticks)"
      line="$(grep '^RESULT' <<<"$out" | tail -1 || true)"  # no match must reach the message below, not set -e
      [[ -n "$line" ]] || { echo "no RESULT line from wrk for $s:"; echo "$out"; exit 1; }
      # The server's CPU time per request (user + system, audit writes included): on a shared
      # machine far steadier than wall-clock latency, which also measures the other work.
      cpu_ms="$(awk -v a="$cpu0" -v b="$cpu1" -v n="$(field requests "$line")" -v t="$(getconf CLK_TCK)" \
        'BEGIN{ if (a != "" && b != "" && n > 0) printf "%.2f", (b - a) * 1000 / t / n; else print "n/a" }')"
      echo "$s $c $line cpu_ms=$cpu_ms" >>"$TMP/results-$size.txt"
      printf '  %-22s c=%-3s %9s req/s  p50 %7s ms  p99 %8s ms  cpu %7s ms/req  non-2xx %s  timeouts %s\n' "$s" "$c" "$(field rps "$line")" \
        "$(ms "$(field p50_us "$line")")" "$(ms "$(field p99_us "$line")")" "$cpu_ms" "$(field non2xx "$line")" "$(field timeouts "$line")"
    done
  done
  stop_server
done

# ---------------------------------------------------------------- tables
result() { # size scenario clients field
  local line
  line="$(awk -v s="$2" -v c="$3" '$1==s && $2==c' "$TMP/results-$1.txt" 2>/dev/null | head -1)"
  [[ -n "$line" ]] && field "$4" "$line" || echo ""
}
done_sizes=()
for size in "${SIZE_LIST[@]}"; do [[ -f "$TMP/results-$size.txt" ]] && done_sizes+=("$size"); done
for size in "${done_sizes[@]}"; do
  echo
  echo "== search benchmark, $size patients: $(cat "$TMP/size-$size.txt") =="
  header="$(printf '%-22s' scenario)"
  for c in "${CLIENT_LIST[@]}"; do header+="$(printf ' | c=%-3s %9s %8s %8s %8s' "$c" 'req/s' 'p50 ms' 'p99 ms' 'cpu ms')"; done
  echo "$header | p50/read (c=${CLIENT_LIST[0]})"
  ref="$(result "$size" read "${CLIENT_LIST[0]}" p50_us)"
  for s in "${SCEN_LIST[@]}"; do
    row="$(printf '%-22s' "$s")"
    for c in "${CLIENT_LIST[@]}"; do
      row+="$(printf ' | %-5s %9s %8s %8s %8s' '' "$(result "$size" "$s" "$c" rps)" "$(ms "$(result "$size" "$s" "$c" p50_us)")" "$(ms "$(result "$size" "$s" "$c" p99_us)")" "$(result "$size" "$s" "$c" cpu_ms)")"
    done
    p50="$(result "$size" "$s" "${CLIENT_LIST[0]}" p50_us)"
    row+=" | $(awk -v a="$p50" -v b="$ref" 'BEGIN{ if (b>0) printf "%.1f×", a/b; else print "n/a" }')"
    echo "$row"
  done
  sed 's/^/  /' "$TMP/examples-$size.txt"
done
if (( ${#done_sizes[@]} >= 2 )); then
  small="${done_sizes[0]}"; large="${done_sizes[-1]}"
  echo
  echo "== slowdown from $small to $large patients (p50 at c=${CLIENT_LIST[0]}; target <= 1.5×) =="
  for s in "${SCEN_LIST[@]}"; do
    a="$(result "$small" "$s" "${CLIENT_LIST[0]}" p50_us)"; b="$(result "$large" "$s" "${CLIENT_LIST[0]}" p50_us)"
    printf '%-22s %8s ms → %8s ms  %s\n' "$s" "$(ms "$a")" "$(ms "$b")" "$(awk -v a="$a" -v b="$b" 'BEGIN{ if (a>0) printf "%.2f×", b/a; else print "n/a" }')"
  done
fi
echo
echo "targets (issue #3, informational): selective searches p50 <= 2 ms, p99 <= 10 ms; \$everything p50 <= 10 ms; slowdown <= 1.5×; index <= 1.5 × JSON"
for size in "${done_sizes[@]}"; do
  awk '{ for (i = 1; i <= NF; i++) if (($i ~ /^non2xx=/ && $i != "non2xx=0") || ($i ~ /^timeouts=/ && $i != "timeouts=0")) print "warning: " $1 " c=" $2 " (" $i "): requests failed or took over 10 s — figures are suspect" }' "$TMP/results-$size.txt"
done
exit 0
