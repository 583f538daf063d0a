#!/usr/bin/env bash
# Builds the web apps (web/: the clinician app and the patient portal) into web/dist, which
# `carechart serve` serves at / and /portal. Installs web/'s npm packages exactly as locked
# (npm ci) when they are missing or the lock file changed. Skips cleanly, saying so, when there
# is no web/package.json yet. Called by `make build`.
set -euo pipefail
[[ "${1:-}" == "--help" || "${1:-}" == "-h" ]] && {
  echo "usage: scripts/build-web.sh   (npm ci when needed, then npm run build, in web/)"
  exit 0
}
cd "$(dirname "$0")/../web" 2>/dev/null || { echo "build-web: no web/ folder; skipping the front end"; exit 0; }
if [[ ! -f package.json ]]; then
  echo "build-web: no web/package.json yet; skipping the front end"
  exit 0
fi
if [[ ! -f node_modules/.package-lock.json ]] || ! cmp -s package-lock.json node_modules/.carechart-lock; then
  echo "build-web: npm ci in web/"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.carechart-lock
fi
echo "build-web: npm run build in web/"
npm run build --silent
