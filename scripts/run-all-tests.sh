#!/usr/bin/env bash
# Runs every test suite against an already-built tree and ends with one summary line
# "tests: N passed, N failed". Usage: scripts/run-all-tests.sh [BUILD_DIR]
set -uo pipefail
[[ "${1:-}" == "--help" ]] && { echo "usage: scripts/run-all-tests.sh [BUILD_DIR]"; exit 0; }
cd "$(dirname "$0")/.."
build="${1:-build}"
export CARECHART_BIN="$PWD/$build/src/app/carechart"
export CARECHART_SHARED_DATA="${CARECHART_SHARED_DATA:-$(cd .. && pwd)/shared/data}"
# The suites write up to ~4 GB more (PostgreSQL clusters, test databases in $TMPDIR) on top of
# the build (~4.5 GB); a full disk fails them in confusing places ("could not extend file"), so
# say so up front.
free_mb=$(df -Pm "${TMPDIR:-/tmp}" | awk 'NR == 2 { print $4 }')
if [[ -n "$free_mb" && "$free_mb" -lt 6144 ]]; then
  echo "warning: only $free_mb MB free under ${TMPDIR:-/tmp}; the suites need about 4 GB there" \
    "(6 GB to be safe): free some space, or set TMPDIR to a larger disk" >&2
fi
passed=0
failed=0
suite() {  # suite NAME COMMAND...
  local name="$1"; shift
  echo "=== $name"
  local start=$SECONDS
  if "$@"; then
    passed=$((passed + 1)); echo "=== $name: passed in $((SECONDS - start)) s"
  else
    failed=$((failed + 1)); echo "=== $name: FAILED in $((SECONDS - start)) s"
  fi
}
suite "unit tests (ctest)" ctest --test-dir "$build" --output-on-failure -j 2 -LE postgres
# Conformance pass counts from the data-driven unit tests, for the log.
"$build/src/fhir/fhir_validator_test" --gtest_filter='ValidatorExamples.*' 2>/dev/null |
  grep -E '^(r4-spec-examples|validator-)' || true
"$build/src/fhir/fhir_search_index_test" 2>/dev/null | grep -E '^search parameters covered' || true
"$build/src/fhirpath/fhirpath_suite_test" 2>/dev/null | grep -E '^fhirpath: [0-9]+/' || true
"$build/src/hl7v2/hl7v2_message_test" 2>/dev/null | grep -iE '^hl7v2' || true
suite "HTTP conformance, bad input and crash tests (node)" bash tests/run-node-tests.sh
suite "web apps: vitest in web/, browser and demo tests in tests/web" bash scripts/test-web.sh "$build"
suite "PostgreSQL backend: store tests and node suites on temporary servers" bash scripts/test-postgres.sh "$build"
suite "benchmarks run on tiny sizes (no speed assertions)" bash bench/run.sh --quick
# libFuzzer targets (fuzz/, clang build in build-fuzz), a short bounded run of each.
suite "fuzzing, 20 s per parser (fuzz/run.sh)" bash fuzz/run.sh --seconds 20
echo "tests: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
