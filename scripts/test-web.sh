#!/usr/bin/env bash
# The web suite: the front end's unit tests (vitest in web/) and the browser and demo-data tests
# in tests/web/ (playwright-core driving Debian's chromium against a real carechart --demo).
# usage: scripts/test-web.sh [BUILD_DIR]     (env CARECHART_BIN overrides the binary)
set -uo pipefail
[[ "${1:-}" == "--help" ]] && { sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; exit 0; }
cd "$(dirname "$0")/.."
build="${1:-build}"
export CARECHART_BIN="${CARECHART_BIN:-$PWD/$build/src/app/carechart}"
status=0
if [[ -f web/package.json ]]; then
  echo "test-web: vitest in web/"
  (cd web && npm test --silent) || status=1
else
  echo "test-web: no web/package.json yet; no front-end unit tests to run"
fi
echo "test-web: node --test tests/web/"
timeout --signal=TERM --kill-after=10 900 node --test --test-reporter=spec tests/web/*.test.mjs || status=1
exit $status
