#!/usr/bin/env python3
"""Recomputes Carechart's audit hash chain with nothing of Carechart's code (docs/audit-chain.md).
Usage: verify-audit-chain.py DATABASE. Exit 0 and the head hash when intact, 1 at the first break."""
import hashlib, sqlite3, sys

db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
rows = db.execute("SELECT seq, recorded, event_id, body, prev_hash, hash FROM audit_log ORDER BY seq")
head, position = "0" * 64, 0
for seq, recorded, event_id, body, prev_hash, stored in rows:
    position += 1
    text = f"{prev_hash}\n{seq}\n{recorded}\n{event_id}\n{body}".encode("utf-8")
    if seq != position or prev_hash != head or hashlib.sha256(text).hexdigest() != stored:
        sys.exit(f"position {seq}: broken chain: an entry edited, inserted or removed")
    head = stored
recorded_events = db.execute("SELECT count(*) FROM resource WHERE type = 'AuditEvent' AND "
                             "instr(body, '\"source\":\"urn:carechart:audit\"') > 0").fetchone()[0]
if recorded_events != position:
    sys.exit(f"position {position + 1}: {recorded_events - position} AuditEvent(s) without entry")
print(f"audit log: {position} entries, head {head}: intact")
