#!/usr/bin/env bash
# The PostgreSQL backend's tests: the store unit tests on a throw-away server (CTest label
# "postgres", whose fixture runs scripts/pg-temp.sh), then the black-box Node suites with
# CARECHART_BACKEND=postgres against another throw-away server. Prints a pass count per part.
# Usage: scripts/test-postgres.sh [BUILD_DIR]    (default build; see docs/postgres.md)
set -uo pipefail
[[ "${1:-}" == "--help" || "${1:-}" == "-h" ]] && { sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 0; }
cd "$(dirname "$0")/.."
build="${1:-build}"
if [[ ! -x /usr/lib/postgresql/15/bin/initdb ]]; then
  echo "test-postgres: PostgreSQL 15 is not installed (scripts/install-deps.sh installs it)" >&2
  exit 1
fi
status=0
ctest --test-dir "$build" -L postgres --output-on-failure || status=1

# The Node suites, unchanged, on PostgreSQL. Left out, each for its reason: cli.test.mjs,
# security/https, fhirclient and the portal story suites (no store behaviour of their own beyond
# what the suites here run; left out to keep this under 8 minutes), and
# tools/verify-audit-chain.py's check (it reads a SQLite file; audit-chain.test.mjs skips it).
# Run apart below, with settings of their own: the search oracle and bulk/restart.
files=(
  tests/conformance/crud.test.mjs tests/conformance/history.test.mjs
  tests/conformance/search.test.mjs tests/conformance/search-advanced.test.mjs
  tests/conformance/search-composite.test.mjs tests/conformance/search-totals.test.mjs
  tests/conformance/transaction.test.mjs tests/conformance/bad-input.test.mjs
  tests/conformance/validation.test.mjs tests/conformance/metadata.test.mjs
  tests/conformance/terminology-ops.test.mjs tests/conformance/migrate.test.mjs
  tests/security/tokens.test.mjs tests/security/emergency-consent.test.mjs
  tests/conformance/lifecycle.test.mjs tests/conformance/import.test.mjs
  tests/bulk/roundtrip.test.mjs tests/bulk/export.test.mjs tests/bulk/export-cli.test.mjs
  tests/bulk/import-statistics.test.mjs
  tests/security/audit-chain.test.mjs tests/security/auth-cli.test.mjs
  tests/security/oauth-flow.test.mjs tests/security/granular-scopes.test.mjs
  tests/security/portal-accounts.test.mjs tests/security/matrix.test.mjs
  tests/hl7/listener.test.mjs tests/hl7/mllp.test.mjs
  tests/crash/transactions.test.mjs tests/crash/kill9.test.mjs tests/crash/import-kill.test.mjs
  # Several API nodes on one database, read replicas and failover (docs/deploy.md).
  tests/multinode/nodes.test.mjs tests/multinode/replica.test.mjs tests/multinode/metrics.test.mjs
  tests/multinode/lease-release.test.mjs
)
existing=()
for f in "${files[@]}"; do [[ -f "$f" ]] && existing+=("$f"); done
dir="$(mktemp -d "${TMPDIR:-/tmp}/carechart-pg-node-XXXXXX")"
rmdir "$dir"
trap 'scripts/pg-temp.sh stop "$dir" >/dev/null 2>&1' EXIT
uri="$(scripts/pg-temp.sh start "$dir")" || exit 1
export CARECHART_BIN="${CARECHART_BIN:-$PWD/$build/src/app/carechart}"
export CARECHART_BACKEND=postgres CARECHART_TEST_POSTGRES_URI="$uri"
started=$SECONDS
total_pass=0 total_fail=0
# node_suites LABEL [VAR=VALUE...] -- FILE...: one node --test run; prints and adds its counts.
node_suites() {
  local label="$1" log pass fail t0=$SECONDS
  shift
  local envs=()
  while [[ "$1" != -- ]]; do envs+=("$1"); shift; done
  shift
  log="$(mktemp)"
  env "${envs[@]}" timeout --signal=TERM --kill-after=10 900 node --test --test-reporter=spec "$@" 2>&1 | tee "$log" || status=1
  pass=$(grep -E '^ℹ pass ' "$log" | awk '{print $3}')
  fail=$(grep -E '^ℹ fail ' "$log" | awk '{print $3}')
  [[ -n "$pass" && -n "$fail" ]] || status=1
  total_pass=$((total_pass + ${pass:-0})) total_fail=$((total_fail + ${fail:-0}))
  summaries+=("test-postgres: $label: ${pass:-0} passed, ${fail:-?} failed ($((SECONDS - t0)) s)")
  grep -E '^ℹ search oracle: [0-9]+ parameters' "$log" | sed 's/^ℹ /test-postgres: /' >>"$notes" || true
  rm -f "$log"
}
summaries=()
notes="$(mktemp)"
node_suites "node suites on PostgreSQL" -- "${existing[@]}"
# A kill -9'd node's export is taken over once its lease runs out (D39): 2 s here, not 30.
node_suites "bulk/restart on PostgreSQL" CARECHART_BULK_LEASE_SECONDS=2 -- tests/bulk/restart.test.mjs
# The search oracle compares every parameter on a third of the Synthea corpus: the queries that
# match most of the corpus dominate its time, which grows with the corpus (docs/postgres.md).
node_suites "search oracle on PostgreSQL" CARECHART_ORACLE_EVERY=3 -- tests/oracle/search-oracle.test.mjs
printf '%s\n' "${summaries[@]}"
cat "$notes"
rm -f "$notes"
echo "test-postgres: all node suites on PostgreSQL: $total_pass passed, $total_fail failed ($((SECONDS - started)) s)"
exit $status
