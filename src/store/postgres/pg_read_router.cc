#include "store/postgres/pg_read_router.h"

#include <chrono>

namespace carechart::store::pg {
namespace {

constexpr int64_t kReplicaRetryUs = 5'000'000;

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ReadRouter::ReadRouter(Pool* primary, std::vector<std::unique_ptr<Pool>> replicas)
    : primary_(primary) {
  for (auto& pool : replicas) {
    auto r = std::make_unique<Replica>();
    r->pool = std::move(pool);
    replicas_.push_back(std::move(r));
  }
}

void ReadRouter::NoteCommit(Connection& primary_conn) {
  if (replicas_.empty()) {
    return;
  }
  // The insert position after COMMIT returned is past the commit record, whatever
  // synchronous_commit says; a replica that replayed up to it sees the write.
  StatusOr<Rows> rows = primary_conn.Run("SELECT (pg_current_wal_insert_lsn() - '0/0')::bigint");
  if (!rows.ok() || !rows->size()) {
    // Unknown: send every read to the primary until a later commit tells the position.
    last_commit_.store(INT64_MAX);
    return;
  }
  int64_t lsn = rows->Int(0, 0);
  int64_t seen = last_commit_.load();
  while ((seen < lsn || seen == INT64_MAX) && !last_commit_.compare_exchange_weak(seen, lsn)) {
  }
}

StatusOr<Pool::Lease> ReadRouter::TryReplica(Replica& r, int64_t needed) {
  if (r.down_until_us.load() > NowUs()) {
    return Status(StatusCode::kUnavailable, "replica recently unreachable");
  }
  StatusOr<Pool::Lease> lease = r.pool->Acquire();
  if (!lease.ok()) {  // reads go to the primary meanwhile
    r.down_until_us.store(NowUs() + kReplicaRetryUs);
    return lease.status();
  }
  if (r.replayed.load() >= needed) {
    return lease;
  }
  // COALESCE: a server that is not in recovery (a promoted replica) is always current.
  StatusOr<Rows> rows = (*lease)->Run(
      "SELECT (COALESCE(pg_last_wal_replay_lsn(), pg_current_wal_lsn()) - '0/0')::bigint");
  if (!rows.ok() || !rows->size()) {
    return Status(StatusCode::kUnavailable, "replica position unknown");
  }
  int64_t replayed = rows->Int(0, 0);
  int64_t seen = r.replayed.load();
  while (seen < replayed && !r.replayed.compare_exchange_weak(seen, replayed)) {
  }
  if (replayed < needed) {
    return Status(StatusCode::kUnavailable, "replica behind this node's last commit");
  }
  return lease;
}

StatusOr<Pool::Lease> ReadRouter::AcquireRead() {
  if (!replicas_.empty()) {
    int64_t needed = last_commit_.load();
    size_t n = replicas_.size();
    size_t start = next_.fetch_add(1) % n;
    for (size_t i = 0; i < n && needed != INT64_MAX; ++i) {
      StatusOr<Pool::Lease> lease = TryReplica(*replicas_[(start + i) % n], needed);
      if (lease.ok()) {
        replica_reads_.fetch_add(1);
        return lease;
      }
    }
  }
  primary_reads_.fetch_add(1);
  return primary_->Acquire();
}

}  // namespace carechart::store::pg
