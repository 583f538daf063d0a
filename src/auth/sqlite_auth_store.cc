// The SQLite AuthStore: tables auth_* in the facility database, on a connection of their own.
//
// Schema (created when absent; every statement here is plain SQL that PostgreSQL also accepts):
//   auth_user(id, username UNIQUE, display, role, facilities, practitioner_id, patient_id,
//             proxy_patients, password_hash, must_change, totp_secret, disabled, failed_logins,
//             locked_until, created_at)        lists are space-separated ids
//   auth_client(id, name, kind, secret_hash, jwks, redirect_uris, scopes, created_at)
//   auth_signing_key(seq, kid, private_pem, created_at)
//   auth_code(code_hash, client_id, user_id, redirect_uri, scope, code_challenge, patient_id,
//             encounter_id, nonce, expires_at, used, facility_id)
//   auth_refresh(token_hash, family, client_id, user_id, scope, patient_id, expires_at, rotated,
//                revoked, facility_id)   facility_id: the one chosen at sign-in (added later:
//                                        older databases get the column on open)
//   auth_revoked(seq, jti UNIQUE, expires_at)
//   auth_assertion(client_id, jti, expires_at)  one row per client assertion seen (replay check)
//   auth_launch(id, patient_id, encounter_id, expires_at)
//   auth_session(id_hash, user_id, stage, request_json, expires_at)
//   auth_activation(code_hash, user_id, purpose, expires_at, used)  portal activation/reset codes
// The resource tables never reference these: authentication state can be wiped (all tokens
// revoked) without touching the record.
#include <sqlite3.h>

#include <mutex>

#include "auth/auth_rows.h"
#include "auth/auth_store.h"
#include "auth/roles.h"
#include "store/sqlite_db.h"

namespace carechart::auth {

namespace {

using store::sqlite::Connection;
using store::sqlite::Statement;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS auth_user(
  id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, display TEXT NOT NULL, role TEXT NOT NULL,
  facilities TEXT NOT NULL, practitioner_id TEXT NOT NULL, patient_id TEXT NOT NULL,
  proxy_patients TEXT NOT NULL, password_hash TEXT NOT NULL, must_change INTEGER NOT NULL,
  totp_secret TEXT NOT NULL, disabled INTEGER NOT NULL, failed_logins INTEGER NOT NULL,
  locked_until INTEGER NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS auth_client(
  id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, secret_hash TEXT NOT NULL,
  jwks TEXT NOT NULL, redirect_uris TEXT NOT NULL, scopes TEXT NOT NULL,
  created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS auth_signing_key(
  seq INTEGER PRIMARY KEY, kid TEXT NOT NULL UNIQUE, private_pem TEXT NOT NULL,
  created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS auth_code(
  code_hash TEXT PRIMARY KEY, client_id TEXT NOT NULL, user_id TEXT NOT NULL,
  redirect_uri TEXT NOT NULL, scope TEXT NOT NULL, code_challenge TEXT NOT NULL,
  patient_id TEXT NOT NULL, encounter_id TEXT NOT NULL, nonce TEXT NOT NULL,
  expires_at INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0,
  facility_id TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS auth_refresh(
  token_hash TEXT PRIMARY KEY, family TEXT NOT NULL, client_id TEXT NOT NULL,
  user_id TEXT NOT NULL, scope TEXT NOT NULL, patient_id TEXT NOT NULL,
  expires_at INTEGER NOT NULL, rotated INTEGER NOT NULL DEFAULT 0,
  revoked INTEGER NOT NULL DEFAULT 0, facility_id TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS auth_refresh_family ON auth_refresh(family);
CREATE INDEX IF NOT EXISTS auth_refresh_user ON auth_refresh(user_id);
CREATE TABLE IF NOT EXISTS auth_revoked(
  seq INTEGER PRIMARY KEY, jti TEXT NOT NULL UNIQUE, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS auth_assertion(
  client_id TEXT NOT NULL, jti TEXT NOT NULL, expires_at INTEGER NOT NULL,
  PRIMARY KEY(client_id, jti));
CREATE TABLE IF NOT EXISTS auth_launch(
  id TEXT PRIMARY KEY, patient_id TEXT NOT NULL, encounter_id TEXT NOT NULL,
  expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS auth_session(
  id_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, stage TEXT NOT NULL,
  request_json TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS auth_activation(
  code_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, purpose TEXT NOT NULL,
  expires_at INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS auth_activation_user ON auth_activation(user_id);
)sql";

// One result row, column by column (auth_rows.h reads it in column order).
RowReader Reader(const Statement& st) {
  std::vector<std::optional<store::SqlArg>> columns;
  for (int i = 0; i < st.ColumnCount(); ++i) {
    columns.push_back(st.Value(i));
  }
  return RowReader(std::move(columns));
}

// Every remaining row of `st`, each turned into a T by read(RowReader&).
template <class T, class Read>
StatusOr<std::vector<T>> AllRows(Statement& st, Read read) {
  std::vector<T> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) {
      return out;
    }
    RowReader r = Reader(st);
    out.push_back(read(r));
  }
}

// The first row of `st` as a T, or nullopt when there is none.
template <class T, class Read>
StatusOr<std::optional<T>> FirstRow(Statement& st, Read read) {
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) {
    return std::optional<T>();
  }
  RowReader r = Reader(st);
  return std::optional<T>(read(r));
}

std::string Select(const char* columns, const std::string& rest) {
  return std::string("SELECT ") + columns + " " + rest;
}

std::string Insert(const char* verb, const char* table, const char* columns, size_t n) {
  return std::string(verb) + " INTO " + table + "(" + columns + ") VALUES(" + Placeholders(n) + ")";
}

Status Unauth(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }

class SqliteAuthStore final : public AuthStore {
 public:
  explicit SqliteAuthStore(std::unique_ptr<Connection> conn) : conn_(std::move(conn)) {}

  StatusOr<std::optional<User>> FindUserByName(const std::string& username) override {
    return OneUser(Select(kUserColumns, "FROM auth_user WHERE username = ?"), username);
  }
  StatusOr<std::optional<User>> GetUser(const std::string& id) override {
    return OneUser(Select(kUserColumns, "FROM auth_user WHERE id = ?"), id);
  }

  Status PutUser(const User& u) override {
    std::lock_guard lock(mu_);
    SqlRow row = UserRow(u);
    ASSIGN_OR_RETURN(
        Statement st,
        Prepare(Insert("INSERT OR REPLACE", "auth_user", kUserColumns, row.size()), row));
    Status s = st.Run();
    if (!s.ok() && s.message().find("UNIQUE") != std::string::npos) {
      return ConflictError("username '" + u.username + "' is taken");
    }
    return s;
  }

  StatusOr<std::vector<User>> ListUsers() override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st,
                     Prepare(Select(kUserColumns, "FROM auth_user ORDER BY username")));
    return AllRows<User>(st, ReadUser);
  }

  StatusOr<int64_t> CountUsers() override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st, conn_->Prepare("SELECT count(*) FROM auth_user"));
    ASSIGN_OR_RETURN(bool row, st.Step());
    return row ? st.Int(0) : 0;
  }

  StatusOr<std::optional<Client>> GetClient(const std::string& id) override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st,
                     Prepare(Select(kClientColumns, "FROM auth_client WHERE id = ?"), {id}));
    return FirstRow<Client>(st, ReadClient);
  }

  Status PutClient(const Client& c) override {
    std::lock_guard lock(mu_);
    SqlRow row = ClientRow(c);
    ASSIGN_OR_RETURN(
        Statement st,
        Prepare(Insert("INSERT OR REPLACE", "auth_client", kClientColumns, row.size()), row));
    return st.Run();
  }

  StatusOr<std::vector<Client>> ListClients() override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st, Prepare(Select(kClientColumns, "FROM auth_client ORDER BY id")));
    return AllRows<Client>(st, ReadClient);
  }

  Status RemoveClient(const std::string& id) override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st, conn_->Prepare("DELETE FROM auth_client WHERE id = ?"));
    st.Bind(1, id);
    RETURN_IF_ERROR(st.Run());
    if (Changes() == 0) {
      return NotFoundError("no client '" + id + "'");
    }
    ASSIGN_OR_RETURN(Statement rt,
                     conn_->Prepare("UPDATE auth_refresh SET revoked = 1 WHERE client_id = ?"));
    rt.Bind(1, id);
    return rt.Run();
  }

  StatusOr<std::vector<std::string>> SigningKeys() override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st,
                     Prepare("SELECT private_pem FROM auth_signing_key ORDER BY seq"));
    return AllRows<std::string>(st, [](RowReader& r) { return r.Text(); });
  }

  Status AddSigningKeyIfNone(const std::string& kid, const std::string& pem) override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st,
                     conn_->Prepare("INSERT INTO auth_signing_key(kid, private_pem, created_at) "
                                    "SELECT ?, ?, strftime('%s','now') WHERE NOT EXISTS "
                                    "(SELECT 1 FROM auth_signing_key)"));
    st.Bind(1, kid).Bind(2, pem);
    return st.Run();
  }

  Status PutCode(const AuthCode& c) override {
    std::lock_guard lock(mu_);
    SqlRow row = CodeRow(c);
    ASSIGN_OR_RETURN(Statement st,
                     Prepare(Insert("INSERT", "auth_code", kCodeColumns, row.size()), row));
    return st.Run();
  }

  StatusOr<AuthCode> TakeCode(const std::string& code_hash, int64_t now) override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st,
                     conn_->Prepare(std::string("UPDATE auth_code SET used = used + 1 WHERE "
                                                "code_hash = ? RETURNING ") +
                                    kTakenCodeColumns));
    st.Bind(1, code_hash);
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) {
      return Unauth("the authorization code is unknown");
    }
    RowReader r = Reader(st);
    int64_t used = 0;
    AuthCode c = ReadTakenCode(r, code_hash, &used);
    RETURN_IF_ERROR(st.Run());
    if (used > 1) {
      // RFC 6749 §4.1.2: a code used twice revokes what it granted.
      ASSIGN_OR_RETURN(Statement rv,
                       conn_->Prepare("UPDATE auth_refresh SET revoked = 1 WHERE family = ?"));
      rv.Bind(1, code_hash);
      RETURN_IF_ERROR(rv.Run());
    }
    RETURN_IF_ERROR(CheckTakenCode(c, used, now));
    return c;
  }

  Status PutRefresh(const RefreshToken& t) override {
    std::lock_guard lock(mu_);
    SqlRow row = RefreshRow(t);
    ASSIGN_OR_RETURN(Statement st,
                     Prepare(Insert("INSERT", "auth_refresh", kRefreshColumns, row.size()), row));
    return st.Run();
  }

  StatusOr<RefreshToken> RotateRefresh(const std::string& token_hash, int64_t now) override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st,
                     conn_->Prepare(std::string("UPDATE auth_refresh SET rotated = rotated + 1 "
                                                "WHERE token_hash = ? RETURNING ") +
                                    kRotatedRefreshColumns));
    st.Bind(1, token_hash);
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) {
      return Unauth("the refresh token is unknown");
    }
    RowReader r = Reader(st);
    int64_t rotated = 0;
    bool revoked = false;
    RefreshToken t = ReadRotatedRefresh(r, token_hash, &rotated, &revoked);
    RETURN_IF_ERROR(st.Run());
    if (rotated > 1) {
      ASSIGN_OR_RETURN(Statement rv,
                       conn_->Prepare("UPDATE auth_refresh SET revoked = 1 WHERE family = ?"));
      rv.Bind(1, t.family);
      RETURN_IF_ERROR(rv.Run());
    }
    RETURN_IF_ERROR(CheckRotatedRefresh(t, rotated, revoked, now));
    return t;
  }

  StatusOr<bool> RevokeRefresh(const std::string& token_hash) override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st,
                     conn_->Prepare("UPDATE auth_refresh SET revoked = 1 WHERE family = "
                                    "(SELECT family FROM auth_refresh WHERE token_hash = ?)"));
    st.Bind(1, token_hash);
    RETURN_IF_ERROR(st.Run());
    return Changes() > 0;
  }

  Status RevokeUserRefresh(const std::string& user_id) override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st,
                     conn_->Prepare("UPDATE auth_refresh SET revoked = 1 WHERE user_id = ?"));
    st.Bind(1, user_id);
    return st.Run();
  }

  Status RevokeAccessToken(const std::string& jti, int64_t expires_at) override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st,
                     conn_->Prepare("INSERT OR IGNORE INTO auth_revoked(jti, expires_at) "
                                    "VALUES(?, ?)"));
    st.Bind(1, jti).Bind(2, expires_at);
    return st.Run();
  }

  StatusOr<std::vector<std::string>> RevokedSince(int64_t after_seq, int64_t* last_seq) override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st, conn_->Prepare("SELECT seq, jti FROM auth_revoked WHERE seq > ? "
                                                  "ORDER BY seq"));
    st.Bind(1, after_seq);
    *last_seq = after_seq;
    return AllRows<std::string>(st, [last_seq](RowReader& r) {
      *last_seq = r.Int();
      return r.Text();
    });
  }

  StatusOr<std::vector<std::string>> DisabledUserIds() override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st, Prepare("SELECT id FROM auth_user WHERE disabled = 1"));
    return AllRows<std::string>(st, [](RowReader& r) { return r.Text(); });
  }

  StatusOr<bool> RememberAssertion(const std::string& client_id, const std::string& jti,
                                   int64_t expires_at) override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st,
                     conn_->Prepare("INSERT OR IGNORE INTO auth_assertion(client_id, jti, "
                                    "expires_at) VALUES(?,?,?)"));
    st.Bind(1, client_id).Bind(2, jti).Bind(3, expires_at);
    RETURN_IF_ERROR(st.Run());
    return Changes() > 0;
  }

  Status PutLaunch(const LaunchContext& l) override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st,
                     conn_->Prepare("INSERT INTO auth_launch(id, patient_id, encounter_id, "
                                    "expires_at) VALUES(?,?,?,?)"));
    st.Bind(1, l.id).Bind(2, l.patient_id).Bind(3, l.encounter_id).Bind(4, l.expires_at);
    return st.Run();
  }

  StatusOr<std::optional<LaunchContext>> GetLaunch(const std::string& id, int64_t now) override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st, conn_->Prepare(std::string("SELECT ") + kLaunchColumns +
                                                  " FROM auth_launch WHERE id = ? AND "
                                                  "expires_at > ?"));
    st.Bind(1, id).Bind(2, now);
    return FirstRow<LaunchContext>(st, [&id](RowReader& r) { return ReadLaunch(r, id); });
  }

  Status PutSession(const SignInSession& s) override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st,
                     conn_->Prepare("INSERT OR REPLACE INTO auth_session(id_hash, user_id, stage, "
                                    "request_json, expires_at) VALUES(?,?,?,?,?)"));
    st.Bind(1, s.id_hash).Bind(2, s.user_id).Bind(3, s.stage).Bind(4, s.request_json);
    st.Bind(5, s.expires_at);
    return st.Run();
  }

  StatusOr<std::optional<SignInSession>> GetSession(const std::string& id_hash,
                                                    int64_t now) override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st, conn_->Prepare(std::string("SELECT ") + kSessionColumns +
                                                  " FROM auth_session WHERE id_hash = ? AND "
                                                  "expires_at > ?"));
    st.Bind(1, id_hash).Bind(2, now);
    return FirstRow<SignInSession>(st,
                                   [&id_hash](RowReader& r) { return ReadSession(r, id_hash); });
  }

  Status DeleteSession(const std::string& id_hash) override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st, conn_->Prepare("DELETE FROM auth_session WHERE id_hash = ?"));
    st.Bind(1, id_hash);
    return st.Run();
  }

  Status Purge(int64_t now) override {
    std::lock_guard lock(mu_);
    for (const char* table : {"auth_code", "auth_session", "auth_launch", "auth_assertion",
                              "auth_refresh", "auth_activation"}) {
      ASSIGN_OR_RETURN(Statement st, conn_->Prepare(std::string("DELETE FROM ") + table +
                                                    " WHERE expires_at < ?"));
      st.Bind(1, now - 3600);
      RETURN_IF_ERROR(st.Run());
    }
    // Revocations stay a day past expiry so that a node that was down still learns of them.
    ASSIGN_OR_RETURN(Statement st, conn_->Prepare("DELETE FROM auth_revoked WHERE expires_at < ?"));
    st.Bind(1, now - 86400);
    return st.Run();
  }

  Status PutActivation(const ActivationCode& code) override {
    std::lock_guard lock(mu_);
    // Only the newest code of a user works: a re-issued invitation voids the one before.
    ASSIGN_OR_RETURN(Statement old, conn_->Prepare("UPDATE auth_activation SET used = 1 "
                                                   "WHERE user_id = ? AND used = 0"));
    old.Bind(1, code.user_id);
    RETURN_IF_ERROR(old.Run());
    ASSIGN_OR_RETURN(Statement st,
                     conn_->Prepare("INSERT INTO auth_activation(code_hash, user_id, purpose, "
                                    "expires_at) VALUES(?, ?, ?, ?)"));
    st.Bind(1, code.code_hash).Bind(2, code.user_id).Bind(3, code.purpose);
    st.Bind(4, code.expires_at);
    return st.Run();
  }

  StatusOr<ActivationCode> FindActivation(const std::string& code_hash, int64_t now) override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st, conn_->Prepare(std::string("SELECT ") + kActivationColumns +
                                                  " FROM auth_activation WHERE code_hash = ?"));
    st.Bind(1, code_hash);
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) {
      return Unauth("the code is not known");
    }
    RowReader r = Reader(st);
    return ReadActivation(r, code_hash, now);
  }

  StatusOr<bool> UseActivation(const std::string& code_hash) override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st, conn_->Prepare("UPDATE auth_activation SET used = 1 WHERE "
                                                  "code_hash = ? AND used = 0"));
    st.Bind(1, code_hash);
    RETURN_IF_ERROR(st.Run());
    return Changes() > 0;
  }

  StatusOr<std::vector<RefreshToken>> ListGrants(const std::string& user_id, int64_t now) override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st, conn_->Prepare(std::string("SELECT ") + kGrantColumns +
                                                  " FROM auth_refresh WHERE user_id = ? AND "
                                                  "rotated = 0 AND revoked = 0 AND expires_at >= "
                                                  "? ORDER BY expires_at DESC"));
    st.Bind(1, user_id).Bind(2, now);
    return AllRows<RefreshToken>(st, [&user_id](RowReader& r) { return ReadGrant(r, user_id); });
  }

  StatusOr<bool> RevokeGrant(const std::string& user_id, const std::string& family) override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st, conn_->Prepare("UPDATE auth_refresh SET revoked = 1 WHERE "
                                                  "user_id = ? AND family = ? AND revoked = 0"));
    st.Bind(1, user_id).Bind(2, family);
    RETURN_IF_ERROR(st.Run());
    return Changes() > 0;
  }

  Status Init() {
    RETURN_IF_ERROR(conn_->Exec(kSchema));
    // Databases made before facility_id existed get the column (empty: no facility chosen).
    for (const char* table : {"auth_code", "auth_refresh"}) {
      ASSIGN_OR_RETURN(Statement st,
                       conn_->Prepare(std::string("SELECT 1 FROM pragma_table_info('") + table +
                                      "') WHERE name = 'facility_id'"));
      ASSIGN_OR_RETURN(bool has, st.Step());
      if (!has) {
        RETURN_IF_ERROR(conn_->Exec(std::string("ALTER TABLE ") + table +
                                    " ADD COLUMN facility_id TEXT NOT NULL DEFAULT ''"));
      }
    }
    return Status::Ok();
  }

 private:
  int Changes() const { return sqlite3_changes(conn_->raw()); }

  StatusOr<std::optional<User>> OneUser(const std::string& sql, const std::string& arg) {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st, Prepare(sql, {arg}));
    return FirstRow<User>(st, ReadUser);
  }

  // `sql` prepared with `args` bound to ?1, ?2 ... in order.
  StatusOr<Statement> Prepare(const std::string& sql, const SqlRow& args = {}) {
    ASSIGN_OR_RETURN(Statement st, conn_->Prepare(sql));
    st.BindAll(args);
    return st;
  }

  std::mutex mu_;  // one connection, one statement at a time
  std::unique_ptr<Connection> conn_;
};

}  // namespace

StatusOr<std::unique_ptr<AuthStore>> OpenSqliteAuthStore(const std::string& path) {
  ASSIGN_OR_RETURN(auto conn, store::sqlite::Connection::Open(path, /*read_only=*/false));
  auto store = std::make_unique<SqliteAuthStore>(std::move(conn));
  RETURN_IF_ERROR(store->Init());
  return std::unique_ptr<AuthStore>(std::move(store));
}

}  // namespace carechart::auth
