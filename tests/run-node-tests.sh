#!/usr/bin/env bash
# Runs the black-box Node suites against the real carechart binary:
#   tests/conformance/*.test.mjs  (FHIR R4 REST conformance, bad input, lifecycle, R4 examples)
#   tests/crash/*.test.mjs        (kill -9 durability)
#   tests/hl7/*.test.mjs          (HL7 v2 over MLLP: samples, concurrent senders, kill -9)
#   tests/bulk/*.test.mjs         (Bulk Data $export/$import, restart during export, round trip)
#   tests/security/*.test.mjs     (authorisation matrix, break-the-glass, consent, audit chain)
#   tests/multinode/*.test.mjs    (several nodes, replicas: PostgreSQL only, else skipped)
#   tests/oracle/*.test.mjs       (search oracle: every parameter vs fhirpath.js; own 600 s cap)
# Exits non-zero on any failure. Whole run is capped at 900 s (a guard against hangs, not a speed target).
#
# usage: tests/run-node-tests.sh [test files...]      (default: all suites)
# env:   CARECHART_BIN          binary (default build/src/app/carechart)
#        CARECHART_SHARED_DATA  shared data folder (default ../shared/data)
#        CARECHART_TEST_KEEP=1  keep temp dirs
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi

BIN="${CARECHART_BIN:-$REPO/build/src/app/carechart}"
if [[ ! -x "$BIN" ]]; then
  echo "run-node-tests: carechart binary not found at $BIN (build it, or set CARECHART_BIN)" >&2
  exit 2
fi
export CARECHART_BIN="$BIN"
if [[ ! -d "$REPO/node_modules/fhir-kit-client" ]]; then
  echo "run-node-tests: node_modules missing; run 'npm ci' in $REPO" >&2
  exit 2
fi

if [[ $# -gt 0 ]]; then
  FILES=("$@")
else
  FILES=(tests/conformance/*.test.mjs tests/crash/*.test.mjs tests/hl7/*.test.mjs tests/bulk/*.test.mjs tests/security/*.test.mjs tests/multinode/*.test.mjs)
fi

echo "run-node-tests: node $(node --version), binary $BIN"
timeout --signal=TERM --kill-after=10 900 node --test --test-reporter=spec "${FILES[@]}"
if [[ $# -eq 0 ]]; then
  # The search oracle loads a corpus and runs ~7,000 queries: its own time budget.
  timeout --signal=TERM --kill-after=10 600 node --test --test-reporter=spec tests/oracle/*.test.mjs
fi
