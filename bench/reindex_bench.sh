#!/usr/bin/env bash
# Reindex benchmark (issue 3): `carechart reindex` over a generated database.
#
#  (g) generate  `carechart demo-data --db` of N patients: validation, indexing and writing every
#                resource through the importer — the reference measured in the same run
#  (r) reindex   `carechart reindex --db` of the same database: every resource read, its index
#                re-extracted on every core and rewritten in batches (target >= 20,000/s)
#  (p) one param `carechart reindex --type Observation --param code-value-quantity`
#
# Prints resources/s for each and the ratio reindex / generate; never fails on speed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init reindex_bench
PATIENTS=100
THREADS=0

usage() {
  cat <<USAGE
usage: bench/reindex_bench.sh [options]

options:
  --bin PATH      carechart binary (default: \$CARECHART_BIN or $REPO/build/src/app/carechart)
  --patients N    generated patients (default $PATIENTS; about 1,000 resources each)
  --threads N     reindex extraction threads (default 0: one per core)
  --quick         CI-tiny: --patients 3
  --keep          keep the temporary directory
  -h, --help      this help
USAGE
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --patients) PATIENTS="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --quick) PATIENTS=3; shift ;;
    *) bench_option "$@"; shift "$BENCH_SHIFT" ;;
  esac
done
bench_check_bin
bench_tmp
DB="$TMP/bench.db"

now() { now_s; }
t0=$(now)
"$BIN" demo-data --patients "$PATIENTS" --db "$DB" --log-level warn >"$TMP/gen.out" 2>&1
t1=$(now)
# Each run's CPU time too (user + system, all threads): on a machine shared with other work the
# wall-clock rate mostly measures the contention, while resources / (CPU seconds / cores) is
# the most the cores could sustain if the run had them to itself (perfect overlap).
TIMEFORMAT='%U %S'
{ time "$BIN" reindex --db "$DB" --threads "$THREADS" >"$TMP/r.out" 2>/dev/null; } 2>"$TMP/r.cpu"
{ time "$BIN" reindex --db "$DB" --threads "$THREADS" --type Observation \
  --param code-value-quantity >"$TMP/p.out" 2>/dev/null; } 2>"$TMP/p.cpu"
out=$(cat "$TMP/r.out")
one=$(cat "$TMP/p.out")
cores=$(nproc)
cpu_rate() { # resources cpu-file
  awk -v n="$1" -v c="$cores" '{ s = $1 + $2; if (s > 0) printf "%.0f", n / (s / c); else print "n/a" }' "$2"
}
cpu_secs() { awk '{ printf "%.2f", $1 + $2 }' "$1"; }

# "reindexed N of M resources ... in S s (R resources/s)"
total=$(sed -E 's/^reindexed [0-9]+ of ([0-9]+) resources.*/\1/' <<<"$out")
rate=$(sed -E 's/.*\(([0-9]+) resources\/s\).*/\1/' <<<"$out")
one_total=$(sed -E 's/^reindexed [0-9]+ of ([0-9]+) resources.*/\1/' <<<"$one")
one_rate=$(sed -E 's/.*\(([0-9]+) resources\/s\).*/\1/' <<<"$one")
gen_rate=$(awk -v n="$total" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
ratio=$(awk -v r="$rate" -v g="$gen_rate" 'BEGIN { printf "%.1f", (g > 0 ? r / g : 0) }')

echo "reindex benchmark: $PATIENTS patients, $total resources, $(nproc) cores"
printf '  %-44s %10s resources/s\n' "(g) demo-data --db (generate+validate+index)" "$gen_rate"
printf '  %-44s %10s resources/s   (%sx the reference; CPU %s s: at most %s resources/s on %s idle cores)\n' \
  "(r) reindex, every resource" "$rate" "$ratio" "$(cpu_secs "$TMP/r.cpu")" "$(cpu_rate "$total" "$TMP/r.cpu")" "$cores"
printf '  %-44s %10s resources/s   (%s Observations; CPU %s s: at most %s resources/s on %s idle cores)\n' \
  "(p) reindex Observation code-value-quantity" "$one_rate" "$one_total" "$(cpu_secs "$TMP/p.cpu")" \
  "$(cpu_rate "$one_total" "$TMP/p.cpu")" "$cores"
echo "  load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (wall-clock rates are only meaningful when it is below the core count)"
