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
# Three runs into one database: the first fifth of the files, the middle, the last fifth, so the
# rate at the start and at the end of the same load can be compared.
mapfile -t FILES < <(ls "$TMP/bundles"/*.json | sort)
N=${#FILES[@]}
FIFTH=$(( N / 5 > 0 ? N / 5 : 1 ))
import_part() {  # db, files... → "resources seconds peak_kb"
  local db="$1"; shift
  local out
  out="$("${TIME[@]}" "$BIN" import --db "$db" --log-level warn "$@" 2>&1)"
  local n s kb
  n="$(sed -n 's/^imported \([0-9]*\) resources.*/\1/p' <<<"$out")"
  s="$(sed -n 's/^imported .* in \([0-9.]*\) s.*/\1/p' <<<"$out")"
  kb="$(sed -n 's/^peak_kb=\([0-9]*\)/\1/p' <<<"$out")"
  [[ -n "$n" ]] || { echo "ingest_bench: import failed: $out" >&2; exit 1; }
  echo "$n $s ${kb:-0}"
}
echo "(i) carechart import, transaction Bundles"
read -r I1N I1S I1K < <(import_part "$TMP/import.db" "${FILES[@]:0:FIFTH}")
read -r I2N I2S I2K < <(import_part "$TMP/import.db" "${FILES[@]:FIFTH:N-2*FIFTH}")
read -r I3N I3S I3K < <(import_part "$TMP/import.db" "${FILES[@]:N-FIFTH}")
IN=$((I1N + I2N + I3N)); IS="$(awk -v a="$I1S" -v b="$I2S" -v c="$I3S" 'BEGIN { print a + b + c }')"
IK=$(( I1K > I2K ? (I1K > I3K ? I1K : I3K) : (I2K > I3K ? I2K : I3K) ))
I_DB="$(mb "$TMP"/import.db*)"

# ---------------------------------------------------------------- (n) import of NDJSON
echo "(n) carechart import, NDJSON"
read -r NN NS NK < <(import_part "$TMP/ndjson.db" "$TMP/ndjson")
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
  row "(i) import, Bundles" "$IR" "$(rate "$I1N" "$I1S")" "$(rate "$I3N" "$I3S")" "$(ratio "$IR")" "$((IK / 1024))" "$I_DB"
  NR="$(rate "$NN" "$NS")"
  row "(n) import, NDJSON" "$NR" "" "" "$(ratio "$NR")" "$((NK / 1024))" "$N_DB"
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
echo
echo "targets (BENCHMARKS.md, informational): import ≥ 20,000 res/s, HTTP transactions ≥ 10,000 res/s, end ≥ 0.8 × start"
