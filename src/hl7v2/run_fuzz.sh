#!/usr/bin/env bash
# Builds the HL7 v2 parser libFuzzer target with clang and runs it for a bounded time, seeded
# with the shared samples. usage: src/hl7v2/run_fuzz.sh [seconds]   (default 60)
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SECONDS_TO_RUN="${1:-60}"
OUT="${TMPDIR:-/tmp}/carechart-hl7-fuzz"
command -v clang++ >/dev/null || { echo "run_fuzz: clang++ not found (apt-get install clang)" >&2; exit 2; }
mkdir -p "$OUT/corpus"
cp "${CARECHART_SHARED_DATA:-$REPO/../shared/data}"/hl7v2/*.hl7 \
   "${CARECHART_SHARED_DATA:-$REPO/../shared/data}"/hl7v2/malformed/*.hl7 "$OUT/corpus/" 2>/dev/null || true
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -I "$REPO/src" \
  "$REPO/src/hl7v2/fuzz_parser.cc" "$REPO/src/hl7v2/message.cc" -o "$OUT/hl7v2_parser_fuzz"
"$OUT/hl7v2_parser_fuzz" -max_total_time="$SECONDS_TO_RUN" -timeout=5 -rss_limit_mb=1024 \
  -max_len=65536 -artifact_prefix="$OUT/" "$OUT/corpus"
