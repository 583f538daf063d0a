#!/usr/bin/env bash
# HL7 v2 end-to-end throughput (MLLP -> commit -> ACK): ORU^R01 with 10 OBX and ADT^A08, with 1
# and 8 senders. usage: bench/hl7_bench.sh [seconds per case]; CARECHART_BIN picks the binary.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec node bench/hl7_bench.mjs "${1:-5}"
