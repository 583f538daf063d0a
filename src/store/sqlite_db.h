// A thin RAII layer over one sqlite3 connection: pragmas, a prepared-statement cache, binding
// and stepping with errors turned into Status. One Connection is used by one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/status.h"
#include "store/sql_dialect.h"

struct sqlite3;
struct sqlite3_stmt;

namespace carechart::store::sqlite {

class Connection;
class BodyCodec;

// WAL frames (4 KiB pages) after which a commit checkpoints (`PRAGMA wal_autocheckpoint`);
// SQLite's default is 1,000 (D65). The current scan and the checkpoint thread key off it too.
inline constexpr int kWalAutocheckpointFrames = 16384;
// Every connection's page cache, KiB (`PRAGMA cache_size = -N` sets it in KiB).
inline constexpr int64_t kDefaultCacheKiB = 32768;

// A prepared statement borrowed from a Connection's cache; reset and unbound on destruction.
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, double value);
  Statement& Bind(int index, std::string_view text);
  Statement& BindBlob(int index, std::string_view bytes);
  Statement& BindNull(int index);
  Statement& BindOptionalText(int index, std::string_view text);  // NULL when empty
  // Without SQLite's own copy: the caller keeps the bytes unchanged until this Statement is
  // destroyed (or Reset and rebound). For hot write paths whose values outlive the statement.
  Statement& BindStaticText(int index, std::string_view text);
  Statement& BindStaticBlob(int index, std::string_view bytes);
  Statement& BindAll(const std::vector<SqlArg>& args);
  // Makes a run statement runnable again, keeping its bindings (to rebind only what changes).
  void Reset();
  int ColumnCount() const;

  // Advances: true when a row is available, false when done.
  StatusOr<bool> Step();
  // Runs to completion (for statements without result rows).
  Status Run();

  int64_t Int(int col) const;
  double Double(int col) const;
  std::string Text(int col) const;
  // The column's bytes without a copy: valid until the next Step, Reset or destruction (for
  // scans that hand each row on and keep nothing).
  std::string_view TextView(int col) const;
  bool IsNull(int col) const;
  // The column's storage class (blobs count as text, as Value gives them).
  enum class ColumnType { kNull, kInteger, kFloat, kText };
  ColumnType Type(int col) const;
  // The column's value as an argument (integer, real or text); nullopt for NULL.
  std::optional<SqlArg> Value(int col) const;

 private:
  friend class Connection;
  Statement(Connection* conn, sqlite3_stmt* stmt, bool owned);

  Connection* conn_;
  sqlite3_stmt* stmt_;
  bool owned_;  // not from the cache (the cached one was busy): finalized on destruction
};

class Connection {
 public:
  // Opens `path` read-write (creating it) or read-only, and applies the pragmas of the store.
  static StatusOr<std::unique_ptr<Connection>> Open(const std::string& path, bool read_only);
  ~Connection();

  Status Exec(std::string_view sql);
  // A cached prepared statement for `sql` (prepared on first use).
  StatusOr<Statement> Prepare(const std::string& sql);
  int64_t LastInsertRowid() const;
  bool InTransaction() const;
  // The Status for the connection's last error, prefixed with `what`.
  Status Error(std::string_view what) const;
  sqlite3* raw() const { return db_; }

  // Statements stepped until `limit_ms` from now are stopped (kTimeout) once it has passed;
  // 0 clears the limit. One limit at a time, for the current lease of the connection.
  void SetTimeLimit(int limit_ms);
  // Ends a read transaction, COMMIT else ROLLBACK, with the time limit paused: ending it must
  // not be interrupted, and the limit still holds for the lease's later statements.
  void EndRead();

  // The codec of the resource bodies read and written here (sqlite_body_codec.h): the store's,
  // shared by all its connections; a connection used on its own (a tool, a test) makes one of
  // its own on first use, which loads the database's dictionaries when it meets their bodies.
  BodyCodec& body_codec();
  void set_body_codec(std::shared_ptr<BodyCodec> codec) { body_codec_ = std::move(codec); }

 private:
  friend class Statement;
  explicit Connection(sqlite3* db) : db_(db) {}
  void Release(sqlite3_stmt* stmt);
  static int OnProgress(void* self);

  struct CachedStatement {
    sqlite3_stmt* stmt = nullptr;
    bool busy = false;
  };
  sqlite3* db_;
  int limit_ms_ = 0;
  std::chrono::steady_clock::time_point deadline_;
  bool timed_out_ = false;
  std::unordered_map<std::string, CachedStatement> cache_;
  std::unordered_map<sqlite3_stmt*, CachedStatement*> by_handle_;
  std::shared_ptr<BodyCodec> body_codec_;
};

// Runs `fn` inside one read transaction so that its queries see one snapshot.
template <typename Fn>
auto InReadTxn(Connection& conn, Fn fn) -> decltype(fn()) {
  RETURN_IF_ERROR(conn.Exec("BEGIN"));
  auto result = fn();
  conn.EndRead();
  return result;
}

// Maps a SQLite result code to a Status code (busy/locked -> kUnavailable, else kInternal).
StatusCode CodeFor(int sqlite_rc);

}  // namespace carechart::store::sqlite
