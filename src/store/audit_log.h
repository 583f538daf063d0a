// The tamper-evident audit log: an append-only table of audit entries, each carrying a SHA-256
// hash chained to the previous entry's hash.
//
// audit_log(seq, recorded, event_id, body, prev_hash, hash)
//   seq        1, 2, 3 ... without gaps: the entry's position in the chain
//   recorded   microseconds since the Unix epoch (UTC) when the entry was appended
//   event_id   the id of the AuditEvent resource stored with it (same transaction), whose JSON
//              text is `body`
//   prev_hash  the previous entry's `hash` (64 '0' for the first entry)
//   hash       hex SHA-256 of  prev_hash '\n' seq '\n' recorded '\n' event_id '\n' body
//
// Entries are appended by the store's one writer inside the transaction of the write they record
// (WriteTxn::AppendAudit), so an acknowledged write always has its entry and a failed one none.
// SQLite triggers refuse UPDATE and DELETE on the table; anyone able to drop them (file access)
// can still edit rows, which is what the chain makes visible: editing an entry breaks its own
// hash, removing one breaks the next entry's prev_hash and leaves a gap in seq, and an inserted
// entry neither hashes right nor links. Re-hashing everything after an edit would defeat the
// chain, so operators record the head hash `carechart audit verify` prints somewhere else
// (docs/access-policy.md, "Audit").
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace carechart::store {

// What the caller supplies for one entry; the store assigns seq and computes the hashes.
struct AuditLogEntry {
  int64_t recorded_us = 0;
  std::string event_id;
  std::string body;
};

// The hash of an entry (lower-case hex SHA-256), as defined above.
std::string AuditEntryHash(std::string_view prev_hash, int64_t seq, int64_t recorded_us,
                           std::string_view event_id, std::string_view body);

// meta.source of the AuditEvents the server records (and chains). AuditEvents that clients
// submit themselves (IHE BALP style) are ordinary resources outside the chain.
inline constexpr std::string_view kAuditEventSource = "urn:carechart:audit";

// The prev_hash of the first entry.
inline constexpr std::string_view kAuditGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

struct AuditChainProblem {
  int64_t position = 0;  // seq of the entry the problem was found at
  std::string kind;      // "edited", "inserted", "removed", "mismatch"
  std::string detail;
};

struct AuditChainReport {
  int64_t entries = 0;
  std::string head_hash;  // hash of the last entry (kAuditGenesisHash when empty)
  std::vector<AuditChainProblem> problems;
};

// One stored entry, as read back by a backend.
struct AuditLogRow {
  int64_t seq = 0;
  int64_t recorded = 0;
  std::string event_id;
  std::string body;
  std::string prev_hash;
  std::string hash;
};

// The backend-neutral check: `next` fills the next row in seq order and returns false after the
// last; `events` are the server's AuditEvent resources (id -> body, meta.source
// kAuditEventSource). Both backends' verifiers read their rows and call this.
StatusOr<AuditChainReport> WalkAuditChain(const std::map<std::string, std::string>& events,
                                          const std::function<StatusOr<bool>(AuditLogRow&)>& next);

// Walks the audit log of the SQLite database at `path` (opened read-only) and reports every
// edited, inserted or removed entry, and AuditEvent resources that differ from their entry.
StatusOr<AuditChainReport> VerifySqliteAuditLog(const std::string& path);

}  // namespace carechart::store
