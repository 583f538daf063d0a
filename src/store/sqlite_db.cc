#include "store/sqlite_db.h"

#include <sqlite3.h>

#include "store/sqlite_body_codec.h"

namespace carechart::store::sqlite {
namespace {

// Searches compile to many statement shapes: bound the cache and start over when it is full.
constexpr size_t kMaxCachedStatements = 256;

}  // namespace

StatusCode CodeFor(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return StatusCode::kUnavailable;
    case SQLITE_CONSTRAINT:
      return StatusCode::kConflict;
    case SQLITE_FULL:
      return StatusCode::kTooLarge;
    case SQLITE_INTERRUPT:
      return StatusCode::kTimeout;
    default:
      return StatusCode::kInternal;
  }
}

Statement::Statement(Connection* conn, sqlite3_stmt* stmt, bool owned)
    : conn_(conn), stmt_(stmt), owned_(owned) {}

Statement::Statement(Statement&& other) noexcept
    : conn_(other.conn_), stmt_(other.stmt_), owned_(other.owned_) {
  other.stmt_ = nullptr;
}

Statement::~Statement() {
  if (stmt_ == nullptr) {
    return;
  }
  if (owned_) {
    sqlite3_finalize(stmt_);
    return;
  }
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  conn_->Release(stmt_);
}

Statement& Statement::Bind(int i, int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}
Statement& Statement::Bind(int i, double v) {
  sqlite3_bind_double(stmt_, i, v);
  return *this;
}
Statement& Statement::Bind(int i, std::string_view t) {
  // A null data pointer would bind SQL NULL; an empty view is the empty string.
  sqlite3_bind_text(stmt_, i, t.data() ? t.data() : "", static_cast<int>(t.size()),
                    SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::BindBlob(int i, std::string_view b) {
  sqlite3_bind_blob(stmt_, i, b.data() ? b.data() : "", static_cast<int>(b.size()),
                    SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::BindStaticText(int i, std::string_view t) {
  sqlite3_bind_text(stmt_, i, t.data() ? t.data() : "", static_cast<int>(t.size()), SQLITE_STATIC);
  return *this;
}
Statement& Statement::BindStaticBlob(int i, std::string_view b) {
  sqlite3_bind_blob(stmt_, i, b.data() ? b.data() : "", static_cast<int>(b.size()), SQLITE_STATIC);
  return *this;
}
Statement& Statement::BindNull(int i) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}
Statement& Statement::BindOptionalText(int i, std::string_view t) {
  return t.empty() ? BindNull(i) : Bind(i, t);
}
Statement& Statement::BindAll(const std::vector<SqlArg>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::visit([&](const auto& v) { Bind(static_cast<int>(i + 1), v); }, args[i]);
  }
  return *this;
}

void Statement::Reset() { sqlite3_reset(stmt_); }
int Statement::ColumnCount() const { return sqlite3_column_count(stmt_); }

StatusOr<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  if ((rc & 0xff) == SQLITE_INTERRUPT && conn_->timed_out_) {
    return Status(StatusCode::kTimeout,
                  "the query ran longer than the server's limit of " +
                      std::to_string(conn_->limit_ms_) +
                      " ms and was stopped: narrow the search (more selective parameters, a "
                      "smaller _count, fewer _include/_revinclude) and try again");
  }
  return conn_->Error("sqlite step");
}

Status Statement::Run() {
  while (true) {
    ASSIGN_OR_RETURN(bool row, Step());
    if (!row) {
      return Status::Ok();
    }
  }
}

int64_t Statement::Int(int c) const { return sqlite3_column_int64(stmt_, c); }
double Statement::Double(int c) const { return sqlite3_column_double(stmt_, c); }
bool Statement::IsNull(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }

Statement::ColumnType Statement::Type(int c) const {
  switch (sqlite3_column_type(stmt_, c)) {
    case SQLITE_NULL:
      return ColumnType::kNull;
    case SQLITE_INTEGER:
      return ColumnType::kInteger;
    case SQLITE_FLOAT:
      return ColumnType::kFloat;
    default:
      return ColumnType::kText;
  }
}

std::optional<SqlArg> Statement::Value(int c) const {
  switch (Type(c)) {
    case ColumnType::kNull:
      return std::nullopt;
    case ColumnType::kInteger:
      return SqlArg(std::in_place_type<int64_t>, Int(c));
    case ColumnType::kFloat:
      return SqlArg(std::in_place_type<double>, Double(c));
    case ColumnType::kText:
      break;
  }
  return SqlArg(std::in_place_type<std::string>, Text(c));
}
std::string Statement::Text(int c) const {
  const void* p = sqlite3_column_blob(stmt_, c);
  int n = sqlite3_column_bytes(stmt_, c);
  return p ? std::string(static_cast<const char*>(p), n) : std::string();
}

std::string_view Statement::TextView(int c) const {
  const void* p = sqlite3_column_blob(stmt_, c);
  int n = sqlite3_column_bytes(stmt_, c);
  return p ? std::string_view(static_cast<const char*>(p), n) : std::string_view();
}

StatusOr<std::unique_ptr<Connection>> Connection::Open(const std::string& path, bool read_only) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_NOMUTEX |
              (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  std::unique_ptr<Connection> conn(new Connection(db));
  if (rc != SQLITE_OK) {
    return Status(CodeFor(rc), "cannot open database " + path + ": " +
                                   (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)) +
                                   " (check the path and its permissions)");
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, 5000);
  RETURN_IF_ERROR(conn->Exec("PRAGMA foreign_keys = ON"));
  if (!read_only) {
    // WAL: readers never block the writer. FULL: the WAL is fsynced at every commit, so an
    // acknowledged write survives power loss.
    RETURN_IF_ERROR(conn->Exec("PRAGMA journal_mode = WAL"));
    RETURN_IF_ERROR(conn->Exec("PRAGMA synchronous = FULL"));
    RETURN_IF_ERROR(
        conn->Exec("PRAGMA wal_autocheckpoint = " + std::to_string(kWalAutocheckpointFrames)));
    // Savepoint sub-journals and temporary tables in memory: on disk they cost a pwrite per
    // changed page inside every write function.
    RETURN_IF_ERROR(conn->Exec("PRAGMA temp_store = MEMORY"));
  }
  RETURN_IF_ERROR(conn->Exec("PRAGMA cache_size = -" + std::to_string(kDefaultCacheKiB)));
  return conn;
}

BodyCodec& Connection::body_codec() {
  if (!body_codec_) {
    body_codec_ = std::make_shared<BodyCodec>();
  }
  return *body_codec_;
}

Connection::~Connection() {
  for (auto& [sql, cached] : cache_) {
    sqlite3_finalize(cached.stmt);
  }
  sqlite3_close_v2(db_);
}

Status Connection::Exec(std::string_view sql) {
  std::string text(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    Status s(CodeFor(rc), "sqlite: " + std::string(err ? err : sqlite3_errstr(rc)) +
                              " in: " + text.substr(0, 200));
    sqlite3_free(err);
    return s;
  }
  return Status::Ok();
}

StatusOr<Statement> Connection::Prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end() && !it->second.busy) {
    it->second.busy = true;
    return Statement(this, it->second.stmt, false);
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    return Error("prepare " + sql.substr(0, 200));
  }
  if (it != cache_.end()) {  // the cached copy is in use (nested use): a one-off statement
    return Statement(this, stmt, true);
  }
  if (cache_.size() >= kMaxCachedStatements) {
    for (auto cit = cache_.begin(); cit != cache_.end();) {
      if (cit->second.busy) {
        ++cit;
      } else {
        by_handle_.erase(cit->second.stmt);
        sqlite3_finalize(cit->second.stmt);
        cit = cache_.erase(cit);
      }
    }
  }
  CachedStatement& cached = cache_[sql];
  cached.stmt = stmt;
  cached.busy = true;
  by_handle_[stmt] = &cached;
  return Statement(this, stmt, false);
}

void Connection::Release(sqlite3_stmt* stmt) {
  auto it = by_handle_.find(stmt);
  if (it != by_handle_.end()) {
    it->second->busy = false;
  }
}

int Connection::OnProgress(void* self) {
  auto* conn = static_cast<Connection*>(self);
  if (std::chrono::steady_clock::now() < conn->deadline_) {
    return 0;
  }
  conn->timed_out_ = true;
  return 1;  // interrupts the statement with SQLITE_INTERRUPT
}

void Connection::SetTimeLimit(int limit_ms) {
  limit_ms_ = limit_ms;
  timed_out_ = false;
  if (limit_ms <= 0) {
    sqlite3_progress_handler(db_, 0, nullptr, nullptr);
    return;
  }
  deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(limit_ms);
  // Called every 1000 virtual-machine instructions (a few microseconds): cheap, and prompt.
  sqlite3_progress_handler(db_, 1000, &Connection::OnProgress, this);
}

void Connection::EndRead() {
  if (limit_ms_ > 0) {
    sqlite3_progress_handler(db_, 0, nullptr, nullptr);
  }
  if (!Exec("COMMIT").ok()) {
    (void)Exec("ROLLBACK");
  }
  if (limit_ms_ > 0) {
    sqlite3_progress_handler(db_, 1000, &Connection::OnProgress, this);
  }
}

int64_t Connection::LastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }
bool Connection::InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

Status Connection::Error(std::string_view what) const {
  int rc = sqlite3_extended_errcode(db_);
  return Status(CodeFor(rc), std::string(what) + ": " + sqlite3_errmsg(db_));
}

}  // namespace carechart::store::sqlite
