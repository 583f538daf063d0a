#!/usr/bin/env bash
# Ingest benchmark (BENCHMARKS.md, issue 4): generated patients loaded
#
#  (r) raw SQLite   the same JSON bodies inserted by the sqlite3 shell into Carechart's resource
#                   table in 10,000-row WAL transactions, no validation, no index rows: the ceiling
#  (i) import       `carechart import` of the transaction Bundles (one per patient)
#  (n) import       `carechart import` of the same resources as NDJSON files
#  (h) HTTP         the same Bundles POSTed as transactions by 2, 8 and 20 clients
#  (p) HTTP, POST   with --post: the same Bundles with POST entries and urn:uuid fullUrls, as
#                   Synthea sends them, so that the server assigns every id
#
#  (k) import       the last fifth of the Bundles into a file holding the other four fifths
#
# For each: resources/s, rate at the start vs the end (first vs last fifth of the input), peak
# RSS and database size. Prints a table; never fails on speed.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
BIN="${CARECHART_BIN:-$REPO/build/src/app/carechart}"
PATIENTS=1000
CLIENTS="2 8 20"
KEEP=0
POST=0
HTTP_ONLY=0

usage() {
  cat <<EOF
usage: bench/ingest_bench.sh [options]

Generates patients with 'carechart demo-data' (Bundles and NDJSON of the same resources), then
measures the raw SQLite insert ceiling, 'carechart import' and HTTP transactions.

options:
  --bin PATH        carechart binary (default: \$CARECHART_BIN or $REPO/build/src/app/carechart)
  --patients N      generated patients (default $PATIENTS; about 1,000 resources each)
  --clients "A B"   HTTP client counts (default "$CLIENTS")
  --quick           CI-tiny: --patients 6 --clients 2
  --post            also load the Bundles rewritten with POST entries (server-assigned ids)
  --http-only       only the HTTP runs (skips the raw ceiling and 'carechart import')
  --keep            keep the temporary directory
  -h, --help        this help

requires: node, sqlite3, GNU time (/usr/bin/time) or falls back to no RSS figure for import
EOF
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --bin) BIN="$2"; shift 2 ;;
    --patients) PATIENTS="$2"; shift 2 ;;
    --clients) CLIENTS="$2"; shift 2 ;;
    --quick) PATIENTS=6; CLIENTS="2"; shift ;;
    --keep) KEEP=1; shift ;;
    --post) POST=1; shift ;;
    --http-only) HTTP_ONLY=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench/ingest_bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ -x "$BIN" ]] || { echo "ingest_bench: carechart binary not found at $BIN (use --bin)" >&2; exit 2; }
for tool in node sqlite3; do
  command -v "$tool" >/dev/null || { echo "ingest_bench: $tool not found" >&2; exit 2; }
done

TMP="$(mktemp -d "${TMPDIR:-/tmp}/carechart-ingest-XXXXXX")"
cleanup() { [[ $KEEP == 1 ]] && echo "kept $TMP" || rm -rf "$TMP"; }
trap cleanup EXIT

now() { date +%s.%N; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print "n/a" }'; }
mb() { du -cb "$@" 2>/dev/null | tail -1 | awk '{ printf "%.0f", $1 / 1e6 }'; }
TIME=()
[[ -x /usr/bin/time ]] && TIME=(/usr/bin/time -f "peak_kb=%M")

echo "ingest_bench: generating $PATIENTS patients in $TMP"
"$BIN" demo-data --patients "$PATIENTS" --format bundle --out "$TMP/bundles" | tail -1
if [[ $HTTP_ONLY == 0 ]]; then
  GEN_LINE="$("$BIN" demo-data --patients "$PATIENTS" --format ndjson --out "$TMP/ndjson" | tail -1)"
  echo "$GEN_LINE"
  TOTAL="$(cat "$TMP"/ndjson/*.ndjson | wc -l)"
else
  TOTAL="$(cat "$TMP"/bundles/*.json | grep -o '"request":{"method"' | wc -l)"
fi
if [[ $POST == 1 ]]; then
  node "$HERE/bundles_as_post.mjs" "$TMP/bundles" "$TMP/bundles-post"
fi

if [[ $HTTP_ONLY == 0 ]]; then
# ---------------------------------------------------------------- (i) import of Bundles
# One import of every file, as at a go-live: its progress lines (--progress-interval) give the
# rate over the first and over the last fifth of the resources stored, and when the last one was
# stored, after which a load into a new file builds its search indexes (reported apart, and
# counted in the overall rate). Then (k): the last fifth of the files imported into a file that
# holds the other four fifths, which keeps its indexes (a feed into a populated database).
import_run() {  # db, files... → "resources seconds peak_kb start_rate end_rate build_seconds"
  local db="$1"; shift
  local out
  out="$("${TIME[@]}" "$BIN" import --db "$db" --log-level warn --progress-interval 0.25 "$@" 2>&1)"
  local n s kb
  n="$(sed -n 's/^imported \([0-9]*\) resources.*/\1/p' <<<"$out")"
  s="$(sed -n 's/^imported .* in \([0-9.]*\) s.*/\1/p' <<<"$out")"
  kb="$(sed -n 's/^peak_kb=\([0-9]*\)/\1/p' <<<"$out")"
  [[ -n "$n" ]] || { echo "ingest_bench: import failed: $out" >&2; exit 1; }
  # Times at which a fifth and four fifths of the resources were stored (interpolated between
  # progress lines), and when all were (the index build's first line, else the end).
  awk -v total="$n" -v end="$s" -v kb="${kb:-0}" '
    function at(target,   i) {
      for (i = 1; i <= k; i++) if (c[i] >= target)
        return tp[i - 1] + (tp[i] - tp[i - 1]) * (target - c[i - 1]) / (c[i] - c[i - 1])
      return stored
    }
    BEGIN { k = 0; tp[0] = 0; c[0] = 0; stored = end }
    /^progress: [0-9.]+ s, [0-9.]+%, [0-9]+ resources,/ { k++; tp[k] = $2 + 0; c[k] = $5 + 0 }
    /^progress: .* search indexes 0\// && stored == end { stored = $2 + 0 }
    END {
      k++; tp[k] = stored; c[k] = total
      t1 = at(total * 0.2); t4 = at(total * 0.8)
      r1 = t1 > 0 ? total * 0.2 / t1 : 0
      r4 = stored > t4 ? total * 0.2 / (stored - t4) : 0
      printf "%d %s %d %.0f %.0f %.2f\n", total, end, kb, r1, r4, end - stored
    }' <<<"$out"
}
mapfile -t FILES < <(ls "$TMP/bundles"/*.json | sort)
N=${#FILES[@]}
FIFTH=$(( N / 5 > 0 ? N / 5 : 1 ))
echo "(i) carechart import, transaction Bundles"
# (Assigned first: a failed import then stops the script, which a process substitution would not.)
RUN="$(import_run "$TMP/import.db" "${FILES[@]}")"
read -r IN IS IK IST IEN IBU <<<"$RUN"
I_DB="$(mb "$TMP"/import.db*)"
echo "(k) carechart import, the last fifth of the Bundles into a file of the other four fifths"
RUN="$(import_run "$TMP/kept.db" "${FILES[@]:0:N-FIFTH}")"
RUN="$(import_run "$TMP/kept.db" "${FILES[@]:N-FIFTH}")"
read -r KN KS KK _ _ _ <<<"$RUN"
rm -rf "$TMP"/kept.db*

# ---------------------------------------------------------------- (n) import of NDJSON
echo "(n) carechart import, NDJSON"
RUN="$(import_run "$TMP/ndjson.db" "$TMP/ndjson")"
read -r NN NS NK NST NEN NBU <<<"$RUN"
N_DB="$(mb "$TMP"/ndjson.db*)"
rm -rf "$TMP"/ndjson.db*  # each database goes once measured: at 1,000 patients they are ~3.5 GB each

# ---------------------------------------------------------------- (r) raw SQLite ceiling
echo "(r) raw SQLite inserts of the same JSON"
sqlite3 "$TMP/import.db" .schema | grep -v '^CREATE TABLE sqlite_' > "$TMP/schema.sql"
sqlite3 "$TMP/raw.db" < "$TMP/schema.sql"
rm -rf "$TMP"/import.db*
node "$HERE/raw_sqlite_sql.mjs" "$TMP/ndjson" > "$TMP/raw.sql" 2>/dev/null
T0="$(now)"
sqlite3 "$TMP/raw.db" < "$TMP/raw.sql" > /dev/null
RS="$(awk -v a="$T0" -v b="$(now)" 'BEGIN { print b - a }')"
RN="$(sqlite3 "$TMP/raw.db" 'SELECT COUNT(*) FROM resource')"
R_DB="$(mb "$TMP"/raw.db*)"
rm -rf "$TMP"/raw.db* "$TMP/raw.sql"

fi

# ---------------------------------------------------------------- (h) HTTP transactions
declare -A HTTP
for c in $CLIENTS; do
  echo "(h) HTTP transactions, $c clients"
  HTTP[$c]="$(cd "$REPO" && CARECHART_BIN="$BIN" node "$HERE/ingest_http.mjs" "$TMP/bundles" "$c" "$TMP")"
  if [[ $POST == 1 ]]; then
    echo "(p) HTTP transactions with POST entries, $c clients"
    HTTP[p$c]="$(cd "$REPO" && CARECHART_BIN="$BIN" node "$HERE/ingest_http.mjs" "$TMP/bundles-post" "$c" "$TMP")"
  fi
done
field() { sed -n "s/.*\b$2=\([^ ]*\).*/\1/p" <<<"$1"; }

# ---------------------------------------------------------------- table
if [[ $HTTP_ONLY == 0 ]]; then
  RAW_RATE="$(rate "$RN" "$RS")"
else
  RAW_RATE="n/a"
fi
ratio() { awk -v a="$1" -v b="$RAW_RATE" 'BEGIN { if (b != "n/a" && b > 0 && a != "n/a") printf "%.2f", a / b; else print "n/a" }'; }
row() { printf '%-34s %10s %10s %10s %8s %8s %8s\n' "$@"; }
echo
echo "== carechart ingest: $PATIENTS generated patients, $TOTAL resources =="
row "path" "res/s" "start/s" "end/s" "÷raw" "RSS MB" "DB MB"
row "----------------------------------" "----------" "----------" "----------" "--------" "--------" "--------"
if [[ $HTTP_ONLY == 0 ]]; then
  row "(r) raw SQLite inserts (ceiling)" "$RAW_RATE" "" "" "1.00" "" "$R_DB"
  IR="$(rate "$IN" "$IS")"
  row "(i) import, Bundles" "$IR" "$IST" "$IEN" "$(ratio "$IR")" "$((IK / 1024))" "$I_DB"
  KR="$(rate "$KN" "$KS")"
  row "(k) last fifth into the rest" "$KR" "" "" "$(ratio "$KR")" "$((KK / 1024))" ""
  NR="$(rate "$NN" "$NS")"
  row "(n) import, NDJSON" "$NR" "$NST" "$NEN" "$(ratio "$NR")" "$((NK / 1024))" "$N_DB"
fi
KEYS=()
for c in $CLIENTS; do
  KEYS+=("$c")
  [[ $POST == 1 ]] && KEYS+=("p$c")
done
label() { [[ "$1" == p* ]] && echo "(p) HTTP POST entries, ${1#p} clients" || echo "(h) HTTP transactions, $1 clients"; }
for k in "${KEYS[@]}"; do
  h="${HTTP[$k]}"
  row "$(label "$k")" "$(field "$h" rate)" "$(field "$h" start_rate)" "$(field "$h" end_rate)" "$(ratio "$(field "$h" rate)")" "$(field "$h" hwm_mb)" "$(field "$h" db_mb)"
  [[ "$(field "$h" errors)" == 0 ]] || echo "warning: $(label "$k"): $(field "$h" errors) Bundles failed"
done
# CPU and storage I/O per resource stay comparable when other work shares the machine.
for k in "${KEYS[@]}"; do
  h="${HTTP[$k]}"
  echo "$(label "$k"): server CPU $(field "$h" cpu_s) s, $(field "$h" cpu_us_per_res) µs, $(field "$h" write_kb_per_res) KB written, $(field "$h" read_kb_per_res) KB read per resource"
done
if [[ $HTTP_ONLY == 0 ]]; then
  echo "(i), (n): start/s and end/s are the rates over the first and the last fifth of the resources stored;"
  echo "  then the deferred search indexes were built in $IBU s (Bundles) and $NBU s (NDJSON), counted in res/s"
fi
echo
echo "targets (BENCHMARKS.md, informational): import ≥ 20,000 res/s, HTTP transactions ≥ 10,000 res/s, end ≥ 0.8 × start"
