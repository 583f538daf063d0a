// Hashing and verification of the audit log (format described in audit_log.h).
#include "store/audit_log.h"

#include <openssl/evp.h>

#include <cstdio>
#include <map>
#include <set>

#include "store/sqlite_body_dictionaries.h"
#include "store/sqlite_db.h"

namespace carechart::store {

std::string AuditEntryHash(std::string_view prev_hash, int64_t seq, int64_t recorded_us,
                           std::string_view event_id, std::string_view body) {
  std::string input;
  input.reserve(prev_hash.size() + event_id.size() + body.size() + 48);
  input.append(prev_hash).append("\n").append(std::to_string(seq)).append("\n");
  input.append(std::to_string(recorded_us)).append("\n").append(event_id).append("\n");
  input.append(body);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(input.data(), input.size(), digest, &length, EVP_sha256(), nullptr);
  std::string hex;
  hex.reserve(length * 2);
  char buf[3];
  for (unsigned int i = 0; i < length; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", digest[i]);
    hex += buf;
  }
  return hex;
}

namespace {

using Row = AuditLogRow;

// The AuditEvent resources the server recorded (meta.source kAuditEventSource): id -> body.
// Bodies are looked into after decoding (they may be compressed, D101), not by SQL.
StatusOr<std::map<std::string, std::string>> ServerAuditEvents(sqlite::Connection& conn) {
  ASSIGN_OR_RETURN(sqlite::Statement stmt,
                   conn.Prepare("SELECT id, body FROM resource WHERE type = 'AuditEvent'"));
  const std::string source = "\"source\":\"" + std::string(kAuditEventSource) + "\"";
  std::map<std::string, std::string> out;
  std::string body;
  while (true) {
    ASSIGN_OR_RETURN(bool has, stmt.Step());
    if (!has) {
      return out;
    }
    RETURN_IF_ERROR(
        sqlite::DecodeStoredBody(conn, stmt.TextView(1), &body, "AuditEvent", stmt.TextView(0)));
    if (body.find(source) != std::string::npos) {
      out.emplace(stmt.Text(0), body);
    }
  }
}

class ChainWalk {
 public:
  ChainWalk(const std::map<std::string, std::string>& events, AuditChainReport& out)
      : events_(events), out_(out) {}

  void Check(const Row& row) {
    bool content_ok =
        AuditEntryHash(row.prev_hash, row.seq, row.recorded, row.event_id, row.body) == row.hash;
    bool links = row.prev_hash == last_hash_;
    bool gap = row.seq != last_seq_ + 1;
    auto event = events_.find(row.event_id);
    bool has_event = event != events_.end();
    if (!content_ok && has_event) {
      Report(row, "edited", "the entry's content no longer matches its hash");
      last_hash_ = row.hash;  // the next entry still refers to the stored hash
    } else if (!content_ok) {
      Report(row, "inserted", "the entry matches neither its hash nor a recorded AuditEvent");
      if (links) {
        last_hash_ = row.hash;
      }  // otherwise the next genuine entry links past the forged one
    } else if (!links && gap) {
      Report(row, "removed",
             "entries " + std::to_string(last_seq_ + 1) + ".." + std::to_string(row.seq - 1) +
                 " are missing before this entry");
      last_hash_ = row.hash;
    } else if (!links) {
      Report(row, "inserted",
             "the entry does not link to the entry before it (an entry was removed and the "
             "chain renumbered, or this one was forged)");
      last_hash_ = row.hash;
    } else {
      if (gap) {
        Report(row, "removed", "seq jumps from " + std::to_string(last_seq_));
      }
      last_hash_ = row.hash;
    }
    if (content_ok && has_event && event->second != row.body) {
      Report(row, "mismatch", "AuditEvent/" + row.event_id + " differs from its log entry");
    }
    seen_.insert(row.event_id);
    last_seq_ = row.seq;
    ++out_.entries;
  }

  void Finish() {
    out_.head_hash = last_hash_;
    for (const auto& [id, body] : events_) {
      if (!seen_.contains(id)) {
        out_.problems.push_back({last_seq_ + 1, "removed",
                                 "AuditEvent/" + id +
                                     " is recorded but has no log entry (an entry was removed, "
                                     "possibly the last one)"});
      }
    }
  }

 private:
  void Report(const Row& row, const char* kind, std::string detail) {
    out_.problems.push_back({row.seq, kind, std::move(detail)});
  }

  const std::map<std::string, std::string>& events_;
  AuditChainReport& out_;
  int64_t last_seq_ = 0;
  std::string last_hash_{kAuditGenesisHash};
  std::set<std::string> seen_;
};

}  // namespace

StatusOr<AuditChainReport> WalkAuditChain(const std::map<std::string, std::string>& events,
                                          const std::function<StatusOr<bool>(AuditLogRow&)>& next) {
  AuditChainReport out;
  ChainWalk walk(events, out);
  AuditLogRow row;
  while (true) {
    ASSIGN_OR_RETURN(bool has, next(row));
    if (!has) {
      break;
    }
    walk.Check(row);
  }
  walk.Finish();
  return out;
}

StatusOr<AuditChainReport> VerifySqliteAuditLog(const std::string& path) {
  ASSIGN_OR_RETURN(auto conn, sqlite::Connection::Open(path, /*read_only=*/true));
  ASSIGN_OR_RETURN(sqlite::Statement exists,
                   conn->Prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                                 "name = 'audit_log'"));
  ASSIGN_OR_RETURN(bool has_table, exists.Step());
  if (!has_table) {
    return Status(StatusCode::kNotFound,
                  path +
                      " has no audit_log table (not a Carechart database, or one made by an "
                      "older version: start `carechart serve` on it once to migrate)");
  }
  ASSIGN_OR_RETURN(sqlite::Statement stmt,
                   conn->Prepare("SELECT seq, recorded, event_id, body, prev_hash, hash "
                                 "FROM audit_log ORDER BY seq"));
  ASSIGN_OR_RETURN(auto events, ServerAuditEvents(*conn));
  return WalkAuditChain(events, [&stmt](AuditLogRow& row) -> StatusOr<bool> {
    ASSIGN_OR_RETURN(bool has, stmt.Step());
    if (has) {
      row = {stmt.Int(0), stmt.Int(1), stmt.Text(2), stmt.Text(3), stmt.Text(4), stmt.Text(5)};
    }
    return has;
  });
}

}  // namespace carechart::store
