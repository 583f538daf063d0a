#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/*.cc) with clang-14, ASan and UBSan in their own build folder
# and runs each for a bounded time, seeded from ../shared/data (copied at run time) and
# fuzz/seeds. Exits non-zero when a target crashes, leaks, times out or runs out of memory; the
# input that did it is kept in the output folder (crash-*, timeout-*, oom-*, leak-*).
set -euo pipefail
usage() {
  cat <<'USAGE'
Usage: fuzz/run.sh [--seconds N] [--build DIR] [--out DIR] [--jobs N] [TARGET...]
  --seconds N  run each target for N seconds (default 25)
  --build DIR  clang build folder (default build-fuzz)
  --out DIR    corpora and crash inputs (default $TMPDIR/carechart-fuzz)
  --jobs N     build jobs (default 2)
  --no-build   run the targets already built in the build folder
  TARGET       hl7v2_parser_fuzz fhir_json_fuzz search_query_fuzz fhirpath_fuzz jwt_fuzz
               (default: all)
Needs clang-14 and libclang-rt-14-dev (scripts/install-deps.sh).
USAGE
}
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds=25 build="$REPO/build-fuzz" out="${TMPDIR:-/tmp}/carechart-fuzz" jobs=2 targets=() nobuild=0
while (($#)); do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --no-build) nobuild=1; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "fuzz/run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
((${#targets[@]})) || targets=(hl7v2_parser_fuzz fhir_json_fuzz search_query_fuzz fhirpath_fuzz jwt_fuzz)
CXX="$(command -v clang++-14 || command -v clang++ || true)"
[[ -n "$CXX" ]] || { echo "fuzz/run.sh: clang++-14 not found (scripts/install-deps.sh)" >&2; exit 2; }
DATA="${CARECHART_SHARED_DATA:-$REPO/../shared/data}"

if ((nobuild)); then
  :
elif [[ ! -f "$build/build.ninja" ]]; then
  cmake -S "$REPO" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER="$CXX" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
    -DCARECHART_FUZZ=ON -DCARECHART_BUILD_TESTS=OFF -DCARECHART_BUILD_BENCH=OFF >/dev/null
fi
((nobuild)) || cmake --build "$build" -j"$jobs" --target "${targets[@]}"

# Seed corpora: copied from the shared data at run time (never committed in bulk).
seed() {  # seed TARGET: fills $out/corpus/TARGET
  local dir="$out/corpus/$1"
  mkdir -p "$dir"
  case "$1" in
    hl7v2_parser_fuzz)
      cp "$DATA"/hl7v2/*.hl7 "$DATA"/hl7v2/malformed/*.hl7 "$dir"/ 2>/dev/null || true ;;
    fhir_json_fuzz)
      find "$DATA/fhir-examples/r4-spec-examples" "$DATA/fhir-examples/validator-invalid" \
        -name '*.json' -size -16k 2>/dev/null | sort | head -300 | xargs -r cp -t "$dir"/ || true ;;
    fhirpath_fuzz)
      if [[ -f "$DATA/fhirpath/official-xml/tests-fhir-r4.xml" ]]; then
        sed -n 's:.*<expression[^>]*>\(.*\)</expression>.*:\1:p' \
          "$DATA/fhirpath/official-xml/tests-fhir-r4.xml" |
          sed 's/&lt;/</g; s/&gt;/>/g; s/&quot;/"/g; s/&apos;/'"'"'/g; s/&amp;/\&/g' |
          awk -v d="$dir" '{ f = sprintf("%s/official-%04d", d, NR); printf "%s", $0 > f; close(f) }' || true
      fi ;;
  esac
  [[ -d "$REPO/fuzz/seeds/${1%_fuzz}" ]] && cp "$REPO/fuzz/seeds/${1%_fuzz}"/* "$dir"/ 2>/dev/null
  true
}

mkdir -p "$out"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$REPO/fuzz/ubsan.supp"
failed=()
for t in "${targets[@]}"; do
  seed "$t"
  echo "=== $t: ${seconds} s, corpus $(ls "$out/corpus/$t" | wc -l) inputs"
  log="$out/$t.log"
  if "$build/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 -artifact_prefix="$out/$t-" "$out/corpus/$t" >"$log" 2>&1; then
    echo "=== $t: ok, $(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$') inputs tried"
  else
    failed+=("$t")
    grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -5
    echo "=== $t: FAILED (log $log)"
  fi
done
((${#failed[@]} == 0)) || { echo "fuzz/run.sh: failures in ${failed[*]}" >&2; exit 1; }
echo "fuzz/run.sh: ${#targets[@]} targets ran ${seconds} s each without a crash"
