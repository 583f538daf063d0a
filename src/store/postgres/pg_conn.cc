#include "store/postgres/pg_conn.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <bit>
#include <cstring>

namespace carechart::store::pg {
namespace {

// Type OIDs (pg_type.oid, fixed since PostgreSQL 7).
constexpr unsigned kBool = 16, kBytea = 17, kInt8 = 20, kInt2 = 21, kInt4 = 23, kText = 25,
                   kFloat4 = 700, kFloat8 = 701, kInt8Array = 1016, kTextArray = 1009,
                   kFloat8Array = 1022;

void PutBe32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out += static_cast<char>((v >> shift) & 0xff);
  }
}
void PutBe64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out += static_cast<char>((v >> shift) & 0xff);
  }
}
uint64_t GetBe(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    v = (v << 8) | static_cast<unsigned char>(p[i]);
  }
  return v;
}

// The binary wire format of a one-dimensional array without NULLs.
template <typename T, typename Encode>
std::string ArrayBytes(unsigned element_oid, const std::vector<T>& items, Encode encode) {
  std::string out;
  PutBe32(out, items.empty() ? 0 : 1);  // dimensions
  PutBe32(out, 0);                      // no NULLs
  PutBe32(out, element_oid);
  if (!items.empty()) {
    PutBe32(out, static_cast<uint32_t>(items.size()));
    PutBe32(out, 1);  // lower bound
  }
  for (const T& item : items) {
    std::string element = encode(item);
    PutBe32(out, static_cast<uint32_t>(element.size()));
    out += element;
  }
  return out;
}

std::string Be64(uint64_t v) {
  std::string out;
  PutBe64(out, v);
  return out;
}

StatusCode CodeFor(std::string_view sqlstate) {
  if (sqlstate.starts_with("22")) {
    return StatusCode::kInvalid;  // data exception: invalid UTF-8, a NUL byte, out of range
  }
  if (sqlstate == "57014") {
    return StatusCode::kTimeout;  // statement_timeout
  }
  if (sqlstate.starts_with("08") || sqlstate.starts_with("57P") || sqlstate == "53300") {
    return StatusCode::kUnavailable;  // connection lost, server shutting down, too many clients
  }
  if (sqlstate == PgError::kSerializationFailure || sqlstate == PgError::kDeadlock ||
      sqlstate == PgError::kUniqueViolation) {
    return StatusCode::kConflict;
  }
  return StatusCode::kInternal;
}

}  // namespace

Args& Args::Add(unsigned oid, std::string bytes) {
  types_.push_back(oid);
  values_.push_back(std::move(bytes));
  return *this;
}
Args& Args::Int(int64_t v) { return Add(kInt8, Be64(static_cast<uint64_t>(v))); }
Args& Args::Int16(int16_t v) {
  std::string out;
  out += static_cast<char>((static_cast<uint16_t>(v) >> 8) & 0xff);
  out += static_cast<char>(static_cast<uint16_t>(v) & 0xff);
  return Add(kInt2, std::move(out));
}
Args& Args::Double(double v) { return Add(kFloat8, Be64(std::bit_cast<uint64_t>(v))); }
Args& Args::Text(std::string_view v) { return Add(kText, std::string(v)); }
Args& Args::Bytes(std::string_view v) { return Add(kBytea, std::string(v)); }
Args& Args::IntArray(const std::vector<int64_t>& v) {
  return Add(kInt8Array,
             ArrayBytes(kInt8, v, [](int64_t x) { return Be64(static_cast<uint64_t>(x)); }));
}
Args& Args::DoubleArray(const std::vector<double>& v) {
  return Add(kFloat8Array,
             ArrayBytes(kFloat8, v, [](double x) { return Be64(std::bit_cast<uint64_t>(x)); }));
}
Args& Args::TextArray(const std::vector<std::string>& v) {
  return Add(kTextArray, ArrayBytes(kText, v, [](const std::string& x) { return x; }));
}
Args& Args::Sql(const SqlArg& v) {
  if (const int64_t* i = std::get_if<int64_t>(&v)) {
    return Int(*i);
  }
  if (const double* d = std::get_if<double>(&v)) {
    return Double(*d);
  }
  return Text(std::get<std::string>(v));
}
Args& Args::SqlAll(const std::vector<SqlArg>& v) {
  for (const SqlArg& a : v) {
    Sql(a);
  }
  return *this;
}
std::string Args::Signature() const {
  std::string out;
  for (unsigned t : types_) {
    out += std::to_string(t) + ",";
  }
  return out;
}

Rows::Rows(pg_result* res) : res_(res) {}
Rows::Rows(Rows&& other) noexcept : res_(other.res_) { other.res_ = nullptr; }
Rows& Rows::operator=(Rows&& other) noexcept {
  if (this != &other) {
    PQclear(res_);
    res_ = other.res_;
    other.res_ = nullptr;
  }
  return *this;
}
Rows::~Rows() { PQclear(res_); }
int Rows::size() const { return res_ ? PQntuples(res_) : 0; }
int Rows::columns() const { return res_ ? PQnfields(res_) : 0; }
bool Rows::IsNull(int row, int col) const { return PQgetisnull(res_, row, col) != 0; }
int64_t Rows::Int(int row, int col) const {
  if (IsNull(row, col)) {
    return 0;
  }
  const char* p = PQgetvalue(res_, row, col);
  switch (PQftype(res_, col)) {
    case kInt2:
      return static_cast<int16_t>(GetBe(p, 2));
    case kInt4:
      return static_cast<int32_t>(GetBe(p, 4));
    case kBool:
      return p[0] != 0;
    default:
      return static_cast<int64_t>(GetBe(p, 8));
  }
}
double Rows::Double(int row, int col) const {
  if (IsNull(row, col)) {
    return 0;
  }
  const char* p = PQgetvalue(res_, row, col);
  if (PQftype(res_, col) == kFloat4) {
    return std::bit_cast<float>(static_cast<uint32_t>(GetBe(p, 4)));
  }
  return std::bit_cast<double>(GetBe(p, 8));
}
std::string Rows::Text(int row, int col) const {
  return std::string(PQgetvalue(res_, row, col), PQgetlength(res_, row, col));
}
std::optional<SqlArg> Rows::Value(int row, int col) const {
  if (IsNull(row, col)) {
    return std::nullopt;
  }
  switch (PQftype(res_, col)) {
    case kInt2:
    case kInt4:
    case kInt8:
    case kBool:
      return SqlArg(std::in_place_type<int64_t>, Int(row, col));
    case kFloat4:
    case kFloat8:
      return SqlArg(std::in_place_type<double>, Double(row, col));
    default:
      return SqlArg(std::in_place_type<std::string>, Text(row, col));
  }
}
int64_t Rows::affected() const {
  const char* n = res_ ? PQcmdTuples(res_) : "";
  return *n ? std::strtoll(n, nullptr, 10) : 0;
}

StatusOr<std::unique_ptr<Connection>> Connection::Open(const std::string& uri,
                                                       int statement_timeout_ms) {
  // Defaults first: settings in the URI (given as dbname, expanded) override them.
  // A server that vanished (network partition, host down) must turn into an error, not a hang:
  // connect_timeout bounds the connect, keepalives and tcp_user_timeout a silent peer
  // (decisions D40).
  const char* keys[] = {"connect_timeout",  "keepalives",
                        "keepalives_idle",  "keepalives_interval",
                        "keepalives_count", "tcp_user_timeout",
                        "application_name", "client_encoding",
                        "dbname",           nullptr};
  const char* values[] = {"5",     "1",         "10",   "5",         "3",
                          "15000", "carechart", "UTF8", uri.c_str(), nullptr};
  pg_conn* raw = PQconnectdbParams(keys, values, 1);
  if (raw == nullptr) {
    return Status(StatusCode::kUnavailable, "PostgreSQL: out of memory connecting");
  }
  std::unique_ptr<Connection> conn(new Connection(raw));
  if (PQstatus(raw) != CONNECTION_OK) {
    std::string why = PQerrorMessage(raw);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) {
      why.pop_back();
    }
    return Status(StatusCode::kUnavailable,
                  "cannot connect to PostgreSQL at " + RedactUri(uri) + ": " + why);
  }
  // NOTICEs ("relation already exists, skipping") are not errors: keep them off stderr.
  PQsetNoticeProcessor(
      raw, [](void*, const char*) {}, nullptr);
  RETURN_IF_ERROR(conn->Exec("SET statement_timeout = " + std::to_string(statement_timeout_ms)));
  return conn;
}

Connection::~Connection() { PQfinish(conn_); }

CancelHandle::~CancelHandle() {
  if (cancel_ != nullptr) {
    PQfreeCancel(cancel_);
  }
}

void CancelHandle::Cancel() {
  char why[256];
  if (cancel_ != nullptr) {
    (void)PQcancel(cancel_, why, sizeof why);  // best effort: the statement may have ended
  }
}

std::unique_ptr<CancelHandle> Connection::MakeCancelHandle() {
  return std::make_unique<CancelHandle>(PQgetCancel(conn_));
}

bool Connection::healthy() const { return PQstatus(conn_) == CONNECTION_OK; }

bool Connection::Probe() {
  // An idle connection has nothing to read unless the server closed it (restart, failover,
  // terminated backend): then reading finds EOF or the server's goodbye and the status turns bad.
  int fd = PQsocket(conn_);
  if (fd < 0) {
    return false;
  }
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, 0) > 0) {
    PQconsumeInput(conn_);
  }
  return healthy();
}

Status Connection::ErrorOf(pg_result* res, std::string_view what) {
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  last_sqlstate_ = state ? state : "";
  std::string message = res ? PQresultErrorMessage(res) : "";
  if (message.empty()) {
    message = PQerrorMessage(conn_);
  }
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.pop_back();
  }
  StatusCode code = last_sqlstate_.empty() ? StatusCode::kUnavailable : CodeFor(last_sqlstate_);
  if (!healthy()) {
    code = StatusCode::kUnavailable;
  }
  PQclear(res);
  return Status(code, std::string("PostgreSQL ") + std::string(what) + " failed" +
                          (last_sqlstate_.empty() ? "" : " (SQLSTATE " + last_sqlstate_ + ")") +
                          ": " + message);
}

Status Connection::Exec(const std::string& sql) {
  last_sqlstate_.clear();
  pg_result* res = PQexec(conn_, sql.c_str());
  ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    return ErrorOf(res, "statement");
  }
  PQclear(res);
  return Status::Ok();
}

Status Connection::CopyIn(const std::string& copy_sql, std::string_view data) {
  last_sqlstate_.clear();
  pg_result* res = PQexec(conn_, copy_sql.c_str());
  if (res == nullptr || PQresultStatus(res) != PGRES_COPY_IN) {
    return ErrorOf(res, "copy");
  }
  PQclear(res);
  // libpq buffers what it cannot send at once (blocking connection): chunks bound that buffer.
  constexpr size_t kChunk = 1 << 20;
  bool sent = true;
  for (size_t at = 0; at < data.size() && sent; at += kChunk) {
    size_t n = std::min(kChunk, data.size() - at);
    sent = PQputCopyData(conn_, data.data() + at, static_cast<int>(n)) == 1;
  }
  if (PQputCopyEnd(conn_, sent ? nullptr : "client failed to send the data") != 1) {
    return ErrorOf(nullptr, "copy");
  }
  Status status = Status::Ok();
  while ((res = PQgetResult(conn_)) != nullptr) {
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
      if (status.ok()) {
        status = ErrorOf(res, "copy");
      } else {
        PQclear(res);
      }
    } else {
      PQclear(res);
    }
  }
  return status;
}

StatusOr<Rows> Connection::Run(const std::string& sql, const Args& args, Plan plan) {
  last_sqlstate_.clear();
  std::vector<const char*> values;
  std::vector<int> lengths, formats;
  for (const std::string& v : args.values_) {
    values.push_back(v.data());
    lengths.push_back(static_cast<int>(v.size()));
    formats.push_back(1);
  }
  if (plan == Plan::kPerRun) {
    pg_result* res =
        PQexecParams(conn_, sql.c_str(), static_cast<int>(args.size()), args.types_.data(),
                     values.data(), lengths.data(), formats.data(), /*resultFormat=*/1);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      return ErrorOf(res, "query");
    }
    return Rows(res);
  }
  std::string key = args.Signature() + "|" + sql;
  auto it = prepared_.find(key);
  if (it == prepared_.end()) {
    std::string name = "s" + std::to_string(prepared_.size() + 1);
    pg_result* res = PQprepare(conn_, name.c_str(), sql.c_str(), static_cast<int>(args.size()),
                               args.types_.data());
    if (res == nullptr || PQresultStatus(res) != PGRES_COMMAND_OK) {
      return ErrorOf(res, "prepare");
    }
    PQclear(res);
    it = prepared_.emplace(std::move(key), std::move(name)).first;
  }
  pg_result* res =
      PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(args.size()), values.data(),
                     lengths.data(), formats.data(), /*resultFormat=*/1);
  ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    return ErrorOf(res, "query");
  }
  return Rows(res);
}

StatusOr<std::unique_ptr<Pool>> Pool::Open(const std::string& uri, int size,
                                           int statement_timeout_ms) {
  auto pool = std::make_unique<Pool>();
  pool->uri_ = uri;
  pool->statement_timeout_ms_ = statement_timeout_ms;
  // One connection now, so a wrong URI or password fails at start; the rest on demand.
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> first, Connection::Open(uri, statement_timeout_ms));
  pool->idle_.push_back(std::move(first));
  pool->free_slots_ = std::max(1, size) - 1;
  return pool;
}

StatusOr<Pool::Lease> Pool::Acquire() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !idle_.empty() || free_slots_ > 0; });
  if (!idle_.empty()) {
    std::unique_ptr<Connection> conn = std::move(idle_.back());
    idle_.pop_back();
    if (conn->Probe()) {
      return Lease(this, std::move(conn));
    }
    ++free_slots_;  // dropped: open a new one below
  }
  --free_slots_;
  lock.unlock();
  StatusOr<std::unique_ptr<Connection>> conn = Connection::Open(uri_, statement_timeout_ms_);
  if (!conn.ok()) {
    std::lock_guard relock(mu_);
    ++free_slots_;
    cv_.notify_one();
    return conn.status();
  }
  return Lease(this, std::move(conn).value());
}

Pool::Lease::~Lease() {
  if (conn_ == nullptr) {
    return;
  }
  std::lock_guard lock(pool_->mu_);
  if (conn_->healthy()) {
    pool_->idle_.push_back(std::move(conn_));
  } else {
    conn_.reset();
    ++pool_->free_slots_;
  }
  pool_->cv_.notify_one();
}

std::string RedactUri(const std::string& uri) {
  // postgresql://user:password@host/... -> postgresql://user:***@host/...
  size_t scheme = uri.find("://");
  if (scheme == std::string::npos) {
    return uri.find("password") == std::string::npos ? uri : "(connection string)";
  }
  size_t at = uri.find('@', scheme + 3);
  size_t colon = uri.find(':', scheme + 3);
  std::string out = uri;
  if (at != std::string::npos && colon != std::string::npos && colon < at) {
    out = uri.substr(0, colon + 1) + "***" + uri.substr(at);
  }
  size_t pw = out.find("password=");
  if (pw != std::string::npos) {
    size_t end = out.find('&', pw);
    out = out.substr(0, pw + 9) + "***" + (end == std::string::npos ? "" : out.substr(end));
  }
  return out;
}

}  // namespace carechart::store::pg
