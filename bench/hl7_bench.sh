#!/usr/bin/env bash
# HL7 v2 end-to-end throughput (MLLP -> commit -> ACK): ORU^R01 with 10 OBX and ADT^A08, with 1
# and 8 senders. usage: bench/hl7_bench.sh [seconds per case]; CARECHART_BIN picks the binary.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,3p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
if [[ -n "${1:-}" && ! "$1" =~ ^[0-9]+$ ]]; then
  echo "hl7_bench: the only argument is the seconds per case (a whole number); try --help" >&2
  exit 2
fi
exec node bench/hl7_bench.mjs "${1:-5}"
