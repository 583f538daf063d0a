#!/usr/bin/env bash
# Installs every Debian 12 package Carechart needs to build, run, test and benchmark, then the
# pinned npm packages (FHIR definitions and test clients). Safe to run again: it installs only
# what is missing. Needs root (or sudo) for apt-get on a machine that lacks packages.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/install-deps.sh [--help]
Installs the Debian packages and npm packages Carechart needs. Idempotent.
USAGE
}
[[ "${1:-}" == "--help" || "${1:-}" == "-h" ]] && { usage; exit 0; }

cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config git
  libboost-dev libssl-dev libsimdjson-dev rapidjson-dev libsqlite3-dev sqlite3
  libicu-dev libcli11-dev libspdlog-dev libfmt-dev libtomlplusplus-dev libzstd-dev
  libgtest-dev libgmock-dev libbenchmark-dev libyaml-cpp-dev libre2-dev
  nodejs npm
  nginx-light wrk curl procps
  clang-14 libclang-rt-14-dev openssl
  zlib1g-dev time
  libargon2-dev liboath-dev openssl
  postgresql-15 postgresql-client-15 libpq-dev
  prometheus-cpp-dev  # GET /metrics (src/app/serve_metrics.cc)
  libjemalloc-dev  # the carechart binary's allocator (docs/decisions.md D57)
  python3  # tools/verify-audit-chain.py, the outside audit-chain verifier (tests/security)
  chromium  # the web apps' browser tests (playwright-core drives it; no browser is downloaded)
)

missing=()
for p in "${packages[@]}"; do
  if [[ "$p" == npm ]] && command -v npm >/dev/null 2>&1; then continue; fi
  if [[ "$p" == nodejs ]] && command -v node >/dev/null 2>&1; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages, exactly as pinned in package-lock.json.
if [[ ! -f node_modules/.package-lock.json ]] || ! cmp -s package-lock.json node_modules/.carechart-lock; then
  echo "install-deps: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.carechart-lock
fi
echo "install-deps: all dependencies present"
