#!/usr/bin/env bash
# A system export while HTTP writes go on (SQLite, decisions D54, D81): how far the write-ahead
# log grows because the export's one read snapshot keeps checkpoints from passing it.
#
#  (w) writes only   C clients create Observations for as long as (e) will take: the WAL's size
#                    with checkpoints free to run (its file is reused, so it stays near the
#                    autocheckpoint size, 64 MiB)
#  (e) export        the same writes, with a system $export of the generated patients running;
#                    polled until its manifest
#
# Prints, for each: seconds, writes, the WAL file's largest size, and for (e) resources exported.
# Figures only; never fails on speed (not a timed test).
#
# usage: bench/export_wal_bench.sh [--bin PATH] [--patients N] [--clients C] [--quick] [--keep]
#   --patients N   generated patients (default 300; ~1,000 resources each)
#   --clients C    concurrent writers (default 4)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init export_wal_bench 2,16
PATIENTS=300
CLIENTS=4
while [[ $# -gt 0 ]]; do
  case "$1" in
    --patients) PATIENTS="$2"; shift 2 ;;
    --clients) CLIENTS="$2"; shift 2 ;;
    --quick) PATIENTS=3; CLIENTS=2; shift ;;
    *) bench_option "$@"; shift "$BENCH_SHIFT" ;;
  esac
done
bench_require node curl
bench_check_bin
bench_tmp
DB="$TMP/bench.db"

echo "export_wal_bench: generating $PATIENTS patients into $DB"
"$BIN" demo-data --patients "$PATIENTS" --db "$DB" --log-level warn | tail -1
bench_start_node node --db "$DB" --bulk-dir "$TMP/bulk" --no-access-log
BASE="$NODE_URL/fhir"
TOKEN="$(bench_token "$BASE" --db "$DB")"

# writers SECONDS [STOP_FILE]: C clients creating Observations for SECONDS or until STOP_FILE
# exists; prints how many were created.
writers() {
  node --input-type=module -e '
    import { existsSync } from "node:fs";
    const [base, token, clients, seconds, stop] = process.argv.slice(1);
    const end = Date.now() + Number(seconds) * 1000;
    let created = 0;
    async function client(c) {
      for (let i = 0; Date.now() < end && !(stop && existsSync(stop)); i++) {
        const res = await fetch(`${base}/Observation`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/fhir+json" },
          body: JSON.stringify({ resourceType: "Observation", status: "final",
            code: { coding: [{ system: "http://loinc.org", code: "8867-4" }] },
            valueQuantity: { value: 60 + (i % 40), unit: "/min", system: "http://unitsofmeasure.org", code: "/min" },
            note: [{ text: `writer ${c} write ${i} `.repeat(20) }] }),
        });
        await res.arrayBuffer();
        if (res.status === 201) created++;
      }
    }
    await Promise.all(Array.from({ length: Number(clients) }, (_, c) => client(c)));
    console.log(created);
  ' "$BASE" "$TOKEN" "$CLIENTS" "$1" "${2:-}"
}

# wal_watch FILE: samples the WAL file's size every 0.1 s into FILE until killed.
wal_watch() {
  while :; do stat -c %s "$DB-wal" 2>/dev/null || echo 0; sleep 0.1; done >"$1"
}
largest() { sort -n "$1" | tail -1 | awk '{printf "%.1f", $1 / 1048576}'; }

# (e) first, to learn how long the export takes; then (w) for as long.
wal_watch "$TMP/e.wal" &
WATCH=$!
BENCH_PIDS+=("$WATCH")
writers 100000 "$TMP/stop" >"$TMP/e.count" &
WRITERS=$!
sleep 2
E_WAL_BEFORE="$(stat -c %s "$DB-wal" | awk '{printf "%.1f", $1 / 1048576}')"
te="$(now_s)"
STATUS_URL="$(curl -sS -D - -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'Prefer: respond-async' \
  -H 'Accept: application/fhir+json' "$BASE/\$export" | tr -d '\r' | sed -n 's/^[Cc]ontent-[Ll]ocation: //p')"
[[ -n "$STATUS_URL" ]] || { echo "export_wal_bench: no Content-Location from \$export" >&2; exit 1; }
while [[ "$(curl -sS -H "Authorization: Bearer $TOKEN" -o "$TMP/manifest.json" -w '%{http_code}' "$STATUS_URL")" == 202 ]]; do
  sleep 0.1
done
t1="$(now_s)"
EXPORTED="$(grep -oE '"count":[0-9]+' "$TMP/manifest.json" | cut -d: -f2 | awk '{n += $1} END {print n + 0}')"
touch "$TMP/stop"
wait "$WRITERS"
kill "$WATCH" 2>/dev/null || true
E_SECONDS="$(minus "$t1" "$te")"
E_WAL="$(largest "$TMP/e.wal")"

# (w) the same writers for as long, without an export, on a WAL made small again.
bench_stop_node "$NODE_PID"
rm -f "$DB-wal" "$DB-shm"
bench_start_node node2 --db "$DB" --bulk-dir "$TMP/bulk" --no-access-log
BASE="$NODE_URL/fhir"
TOKEN="$(bench_token "$BASE" --db "$DB")"  # a token names the server's address
wal_watch "$TMP/w.wal" &
WATCH=$!
BENCH_PIDS+=("$WATCH")
W_COUNT="$(writers "$E_SECONDS")"
kill "$WATCH" 2>/dev/null || true
W_WAL="$(largest "$TMP/w.wal")"

echo
echo "== $CLIENTS clients creating Observations; load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores =="
printf '%-34s %9s %9s %16s %10s\n' "run" "seconds" "creates" "largest WAL MiB" "exported"
printf '%-34s %9s %9s %16s %10s\n' "(w) writes only" "$E_SECONDS" "$W_COUNT" "$W_WAL" ""
printf '%-34s %9s %9s %16s %10s\n' "(e) writes + system \$export" "$E_SECONDS" "$(cat "$TMP/e.count")" "$E_WAL" "$EXPORTED"
echo "WAL when the export started: $E_WAL_BEFORE MiB; creates in (e) counted from 2 s before it"
