// Reads of the SQLite backend: a bounded pool of read-only connections (WAL readers never block
// the writer, nor it them) and the queries run on them.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/plan_counts.h"
#include "store/resource_store.h"
#include "store/sqlite_db.h"

namespace carechart::store::sqlite {

class ReaderPool {
 public:
  // Every lease's statements are stopped after `max_query_ms` (0: no limit). The connections
  // decode bodies with `codec` (the store's; null: each its own).
  static StatusOr<std::unique_ptr<ReaderPool>> Open(const std::string& path, int size,
                                                    int max_query_ms = 0,
                                                    std::shared_ptr<BodyCodec> codec = nullptr);

  // A connection for the current thread until the lease is destroyed; waits while all are busy.
  class Lease {
   public:
    Lease(ReaderPool* pool, std::unique_ptr<Connection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&&) = default;
    ~Lease();
    Connection& operator*() { return *conn_; }

   private:
    ReaderPool* pool_;
    std::unique_ptr<Connection> conn_;
  };
  Lease Acquire();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
  int max_query_ms_ = 0;
};

// The queries behind ResourceStore's read methods; `conn` may be a reader or the writer.
StatusOr<ResourceVersion> ReadCurrent(Connection& conn, const std::string& type,
                                      const std::string& id);
// ReadCurrent of each key in one read transaction (one snapshot); nullopt where it is kNotFound.
StatusOr<std::vector<std::optional<ResourceVersion>>> ReadCurrentMany(
    Connection& conn, const std::vector<std::pair<std::string, std::string>>& keys);
StatusOr<ResourceVersion> ReadVersionOf(Connection& conn, const std::string& type,
                                        const std::string& id, int64_t version);
StatusOr<HistoryPage> ReadHistory(Connection& conn, const HistoryQuery& query);
// `count_query`, when given, is the same search in another plan that counts more cheaply (the
// code-value-quantity tuples, decisions D76): a first page in the default order then lists only
// its own keys with `query`, and a total beyond that page comes from `count_query`'s count.
StatusOr<SearchResult> RunSearch(Connection& conn, const SearchQuery& query, int64_t now_us,
                                 const SearchQuery* count_query = nullptr);
// Runs a plan estimate's COUNT statement (plan_counts.h) on `conn`, in a read transaction.
CountStatement CountOn(Connection& conn);

}  // namespace carechart::store::sqlite
