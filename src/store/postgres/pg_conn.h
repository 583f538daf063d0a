// A libpq connection with a prepared-statement cache, and a bounded pool of them.
//
// Every statement is prepared once per connection (keyed by its text and argument types) and
// run with binary arguments and binary results, so values cross the wire without text
// conversions: int8 as 8 bytes, bodies (bytea) as their bytes. Errors keep PostgreSQL's SQLSTATE
// so callers can tell a serialisation failure or a unique violation (retried by the writer) from
// a real error. libpq is only included by the .cc files of this folder.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "store/sql_dialect.h"

struct pg_conn;
struct pg_result;
struct pg_cancel;

namespace carechart::store::pg {

// Arguments of one statement: values in PostgreSQL's binary format with their type OIDs.
class Args {
 public:
  Args& Int(int64_t v);
  Args& Double(double v);
  Args& Text(std::string_view v);
  Args& Bytes(std::string_view v);
  Args& Int16(int16_t v);
  // One-dimensional arrays (bigint[], double precision[], text[]) for set-based inserts.
  Args& IntArray(const std::vector<int64_t>& v);
  Args& DoubleArray(const std::vector<double>& v);
  Args& TextArray(const std::vector<std::string>& v);
  Args& Sql(const SqlArg& v);  // a compiled search's argument
  Args& SqlAll(const std::vector<SqlArg>& v);

  size_t size() const { return types_.size(); }
  std::string Signature() const;  // the OIDs, part of the statement cache key

 private:
  friend class Connection;
  Args& Add(unsigned oid, std::string bytes);
  std::vector<unsigned> types_;
  std::vector<std::string> values_;
};

// The rows of one statement's result (binary format); owns the PGresult.
class Rows {
 public:
  Rows() = default;
  explicit Rows(pg_result* res);
  Rows(Rows&& other) noexcept;
  Rows& operator=(Rows&& other) noexcept;
  Rows(const Rows&) = delete;
  Rows& operator=(const Rows&) = delete;
  ~Rows();

  int size() const;
  int columns() const;
  bool IsNull(int row, int col) const;
  int64_t Int(int row, int col) const;  // int2, int4 or int8 columns
  double Double(int row, int col) const;
  std::string Text(int row, int col) const;  // text, bytea or any other column's bytes
  // The value as a SqlArg (int, double or text by the column's type); nullopt for NULL.
  std::optional<SqlArg> Value(int row, int col) const;
  int64_t affected() const;  // rows changed by INSERT/UPDATE/DELETE

 private:
  pg_result* res_ = nullptr;
};

// A status whose message names the SQLSTATE; `sqlstate` says which (empty when not from SQL).
struct PgError {
  static constexpr std::string_view kSerializationFailure = "40001";
  static constexpr std::string_view kDeadlock = "40P01";
  static constexpr std::string_view kUniqueViolation = "23505";
};

// Asks the server to stop the statement a connection is running; usable from any thread while
// that connection's owner waits for the statement (PQcancel). Valid as long as the server
// process of that connection lives, even after the Connection is gone.
class CancelHandle {
 public:
  explicit CancelHandle(pg_cancel* cancel) : cancel_(cancel) {}
  ~CancelHandle();
  CancelHandle(const CancelHandle&) = delete;
  CancelHandle& operator=(const CancelHandle&) = delete;
  void Cancel();

 private:
  pg_cancel* cancel_;
};

class Connection {
 public:
  // Connects; `statement_timeout_ms` (0: none) bounds every statement of this connection.
  static StatusOr<std::unique_ptr<Connection>> Open(const std::string& uri,
                                                    int statement_timeout_ms = 0);
  ~Connection();

  // How a statement is planned. kCached: prepared once per connection and cached, so after
  // five runs PostgreSQL may switch to a generic plan made without the arguments' values.
  // kPerRun: planned for each run's values (an unnamed statement): for searches, whose best
  // plan depends on the values — a generic plan of a date-driven search ran 1.1 s where the
  // planned one runs 35 ms (decisions D114).
  enum class Plan { kCached, kPerRun };
  // Runs `sql` with `args`.
  StatusOr<Rows> Run(const std::string& sql, const Args& args = {}, Plan plan = Plan::kCached);
  // Runs one or more statements without arguments (simple query protocol): BEGIN, DDL ...
  Status Exec(const std::string& sql);
  // Runs `copy_sql` ("COPY t(cols) FROM STDIN", text format) sending `data`, lines in COPY's
  // text format (copy_text.h): bulk inserts at a fraction of INSERT's cost per row.
  Status CopyIn(const std::string& copy_sql, std::string_view data);
  // SQLSTATE of the last failed Run/Exec ("" when none or not from the server).
  const std::string& last_sqlstate() const { return last_sqlstate_; }
  // False once the server is gone; the pool then drops the connection.
  bool healthy() const;
  // healthy(), after noticing a close by the server of an idle connection (no round trip).
  bool Probe();
  // A handle that cancels this connection's running statement from another thread.
  std::unique_ptr<CancelHandle> MakeCancelHandle();

 private:
  explicit Connection(pg_conn* conn) : conn_(conn) {}
  Status ErrorOf(pg_result* res, std::string_view what);

  pg_conn* conn_;
  std::unordered_map<std::string, std::string> prepared_;  // text + signature -> name
  std::string last_sqlstate_;
};

// A fixed-size pool; Acquire() blocks while every connection is leased. A broken connection is
// replaced on its next lease.
class Pool {
 public:
  static StatusOr<std::unique_ptr<Pool>> Open(const std::string& uri, int size,
                                              int statement_timeout_ms);

  class Lease {
   public:
    Lease(Pool* pool, std::unique_ptr<Connection> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&&) = default;
    ~Lease();
    Connection& operator*() { return *conn_; }
    Connection* operator->() { return conn_.get(); }

   private:
    Pool* pool_;
    std::unique_ptr<Connection> conn_;
  };
  StatusOr<Lease> Acquire();

 private:
  std::string uri_;
  int statement_timeout_ms_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
  int free_slots_ = 0;  // connections not yet opened or dropped, guarded by mu_
};

// The URI with its password replaced by "***", for messages and logs.
std::string RedactUri(const std::string& uri);

}  // namespace carechart::store::pg
