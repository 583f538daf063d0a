// Where a read goes when streaming replicas are configured (--postgres-replica; decisions D40).
//
// Writes always go to the primary. A read goes to a replica (round robin) that has replayed this
// process's latest commit — read-your-writes for every client of this node — and otherwise to
// the primary. The router remembers each replica's last seen replay position, so that a read
// costs an extra round trip only while this node's writes are ahead of what it last saw. A
// replica that cannot be reached is left alone for a few seconds (reads go to the primary).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "store/postgres/pg_conn.h"

namespace carechart::store::pg {

class ReadRouter {
 public:
  // `primary` must outlive the router.
  ReadRouter(Pool* primary, std::vector<std::unique_ptr<Pool>> replicas);

  // A connection for a read: a replica that has replayed this node's latest commit, else the
  // primary.
  StatusOr<Pool::Lease> AcquireRead();
  // After a commit on `primary_conn`: remembers the primary's WAL position (only with replicas).
  void NoteCommit(Connection& primary_conn);

  bool has_replicas() const { return !replicas_.empty(); }
  int64_t replica_reads() const { return replica_reads_.load(); }
  int64_t primary_reads() const { return primary_reads_.load(); }

 private:
  struct Replica {
    std::unique_ptr<Pool> pool;
    std::atomic<int64_t> replayed{0};       // last seen pg_last_wal_replay_lsn(), as a number
    std::atomic<int64_t> down_until_us{0};  // unreachable: not tried again before this
  };
  StatusOr<Pool::Lease> TryReplica(Replica& r, int64_t needed);

  Pool* primary_;
  std::vector<std::unique_ptr<Replica>> replicas_;
  std::atomic<int64_t> last_commit_{0};  // WAL position after this node's latest commit
  std::atomic<uint64_t> next_{0};
  std::atomic<int64_t> replica_reads_{0}, primary_reads_{0};
};

}  // namespace carechart::store::pg
