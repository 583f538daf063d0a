// The SQLite AuthStore: tables auth_* in the facility database, on a connection of their own.
//
// Schema (created when absent; every statement here is plain SQL that PostgreSQL also accepts):
//   auth_user(id, username UNIQUE, display, role, facilities, practitioner_id, patient_id,
//             proxy_patients, password_hash, must_change, totp_secret, disabled, failed_logins,
//             locked_until, created_at)        lists are space-separated ids
//   auth_client(id, name, kind, secret_hash, jwks, redirect_uris, scopes, created_at)
//   auth_signing_key(seq, kid, private_pem, created_at)
//   auth_code(code_hash, client_id, user_id, redirect_uri, scope, code_challenge, patient_id,
//             encounter_id, nonce, expires_at, used)
//   auth_refresh(token_hash, family, client_id, user_id, scope, patient_id, expires_at, rotated,
//                revoked)
//   auth_revoked(seq, jti UNIQUE, expires_at)
//   auth_assertion(client_id, jti, expires_at)  one row per client assertion seen (replay check)
//   auth_launch(id, patient_id, encounter_id, expires_at)
//   auth_session(id_hash, user_id, stage, request_json, expires_at)
// The resource tables never reference these: authentication state can be wiped (all tokens
// revoked) without touching the record.
#include <sqlite3.h>

#include <mutex>

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
  expires_at INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS auth_refresh(
  token_hash TEXT PRIMARY KEY, family TEXT NOT NULL, client_id TEXT NOT NULL,
  user_id TEXT NOT NULL, scope TEXT NOT NULL, patient_id TEXT NOT NULL,
  expires_at INTEGER NOT NULL, rotated INTEGER NOT NULL DEFAULT 0,
  revoked INTEGER NOT NULL DEFAULT 0);
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
)sql";

std::string Join(const std::vector<std::string>& v, char sep = ' ') {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) {
      out += sep;
    }
    out += s;
  }
  return out;
}

std::vector<std::string> Split(const std::string& s, char sep = ' ') {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t e = s.find(sep, pos);
    if (e == std::string::npos) {
      e = s.size();
    }
    if (e > pos) {
      out.push_back(s.substr(pos, e - pos));
    }
    pos = e + 1;
  }
  return out;
}

std::string_view KindName(ClientKind k) {
  return k == ClientKind::kPublic         ? "public"
         : k == ClientKind::kConfidential ? "confidential"
                                          : "backend";
}
ClientKind ParseKind(std::string_view s) {
  return s == "confidential" ? ClientKind::kConfidential
         : s == "backend"    ? ClientKind::kBackend
                             : ClientKind::kPublic;
}

constexpr const char* kUserColumns =
    "id, username, display, role, facilities, practitioner_id, patient_id, proxy_patients, "
    "password_hash, must_change, totp_secret, disabled, failed_logins, locked_until, created_at";

User ReadUser(const Statement& st) {
  User u;
  u.id = st.Text(0);
  u.username = st.Text(1);
  u.display = st.Text(2);
  u.role = ParseRole(st.Text(3)).value_or(Role::kPhysician);
  u.facility_ids = Split(st.Text(4));
  u.practitioner_id = st.Text(5);
  u.patient_id = st.Text(6);
  u.proxy_patient_ids = Split(st.Text(7));
  u.password_hash = st.Text(8);
  u.must_change_password = st.Int(9) != 0;
  u.totp_secret = st.Text(10);
  u.disabled = st.Int(11) != 0;
  u.failed_logins = static_cast<int>(st.Int(12));
  u.locked_until = st.Int(13);
  u.created_at = st.Int(14);
  return u;
}

constexpr const char* kClientColumns =
    "id, name, kind, secret_hash, jwks, redirect_uris, scopes, created_at";

Client ReadClient(const Statement& st) {
  Client c;
  c.id = st.Text(0);
  c.name = st.Text(1);
  c.kind = ParseKind(st.Text(2));
  c.secret_hash = st.Text(3);
  c.jwks = st.Text(4);
  c.redirect_uris = Split(st.Text(5));
  c.scopes = Split(st.Text(6));
  c.created_at = st.Int(7);
  return c;
}

Status Unauth(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }

class SqliteAuthStore final : public AuthStore {
 public:
  explicit SqliteAuthStore(std::unique_ptr<Connection> conn) : conn_(std::move(conn)) {}

  StatusOr<std::optional<User>> FindUserByName(const std::string& username) override {
    return OneUser(std::string("SELECT ") + kUserColumns + " FROM auth_user WHERE username = ?",
                   username);
  }
  StatusOr<std::optional<User>> GetUser(const std::string& id) override {
    return OneUser(std::string("SELECT ") + kUserColumns + " FROM auth_user WHERE id = ?", id);
  }

  Status PutUser(const User& u) override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st,
                     conn_->Prepare(std::string("INSERT OR REPLACE INTO auth_user(") +
                                    kUserColumns + ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
    st.Bind(1, u.id).Bind(2, u.username).Bind(3, u.display).Bind(4, RoleName(u.role));
    st.Bind(5, Join(u.facility_ids)).Bind(6, u.practitioner_id).Bind(7, u.patient_id);
    st.Bind(8, Join(u.proxy_patient_ids)).Bind(9, u.password_hash);
    st.Bind(10, int64_t{u.must_change_password}).Bind(11, u.totp_secret);
    st.Bind(12, int64_t{u.disabled}).Bind(13, int64_t{u.failed_logins});
    st.Bind(14, u.locked_until).Bind(15, u.created_at);
    Status s = st.Run();
    if (!s.ok() && s.message().find("UNIQUE") != std::string::npos) {
      return ConflictError("username '" + u.username + "' is taken");
    }
    return s;
  }

  StatusOr<std::vector<User>> ListUsers() override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st, conn_->Prepare(std::string("SELECT ") + kUserColumns +
                                                  " FROM auth_user ORDER BY username"));
    std::vector<User> out;
    while (true) {
      ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) {
        return out;
      }
      out.push_back(ReadUser(st));
    }
  }

  StatusOr<int64_t> CountUsers() override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st, conn_->Prepare("SELECT count(*) FROM auth_user"));
    ASSIGN_OR_RETURN(bool row, st.Step());
    return row ? st.Int(0) : 0;
  }

  StatusOr<std::optional<Client>> GetClient(const std::string& id) override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st, conn_->Prepare(std::string("SELECT ") + kClientColumns +
                                                  " FROM auth_client WHERE id = ?"));
    st.Bind(1, id);
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) {
      return std::optional<Client>();
    }
    return std::optional<Client>(ReadClient(st));
  }

  Status PutClient(const Client& c) override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st,
                     conn_->Prepare(std::string("INSERT OR REPLACE INTO auth_client(") +
                                    kClientColumns + ") VALUES(?,?,?,?,?,?,?,?)"));
    st.Bind(1, c.id).Bind(2, c.name).Bind(3, KindName(c.kind)).Bind(4, c.secret_hash);
    st.Bind(5, c.jwks).Bind(6, Join(c.redirect_uris)).Bind(7, Join(c.scopes));
    st.Bind(8, c.created_at);
    return st.Run();
  }

  StatusOr<std::vector<Client>> ListClients() override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st, conn_->Prepare(std::string("SELECT ") + kClientColumns +
                                                  " FROM auth_client ORDER BY id"));
    std::vector<Client> out;
    while (true) {
      ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) {
        return out;
      }
      out.push_back(ReadClient(st));
    }
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
                     conn_->Prepare("SELECT private_pem FROM auth_signing_key ORDER BY seq"));
    std::vector<std::string> out;
    while (true) {
      ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) {
        return out;
      }
      out.push_back(st.Text(0));
    }
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
    ASSIGN_OR_RETURN(
        Statement st,
        conn_->Prepare("INSERT INTO auth_code(code_hash, client_id, user_id, "
                       "redirect_uri, scope, code_challenge, patient_id, "
                       "encounter_id, nonce, expires_at) VALUES(?,?,?,?,?,?,?,?,?,?)"));
    st.Bind(1, c.code_hash).Bind(2, c.client_id).Bind(3, c.user_id).Bind(4, c.redirect_uri);
    st.Bind(5, c.scope).Bind(6, c.code_challenge).Bind(7, c.patient_id).Bind(8, c.encounter_id);
    st.Bind(9, c.nonce).Bind(10, c.expires_at);
    return st.Run();
  }

  StatusOr<AuthCode> TakeCode(const std::string& code_hash, int64_t now) override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st,
                     conn_->Prepare("UPDATE auth_code SET used = used + 1 WHERE code_hash = ? "
                                    "RETURNING client_id, user_id, redirect_uri, scope, "
                                    "code_challenge, patient_id, encounter_id, nonce, expires_at, "
                                    "used"));
    st.Bind(1, code_hash);
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) {
      return Unauth("the authorization code is unknown");
    }
    AuthCode c;
    c.code_hash = code_hash;
    c.client_id = st.Text(0);
    c.user_id = st.Text(1);
    c.redirect_uri = st.Text(2);
    c.scope = st.Text(3);
    c.code_challenge = st.Text(4);
    c.patient_id = st.Text(5);
    c.encounter_id = st.Text(6);
    c.nonce = st.Text(7);
    c.expires_at = st.Int(8);
    int64_t used = st.Int(9);
    RETURN_IF_ERROR(st.Run());
    if (used > 1) {
      // RFC 6749 §4.1.2: a code used twice revokes what it granted.
      ASSIGN_OR_RETURN(Statement rv,
                       conn_->Prepare("UPDATE auth_refresh SET revoked = 1 WHERE family = ?"));
      rv.Bind(1, code_hash);
      RETURN_IF_ERROR(rv.Run());
      return Unauth("the authorization code was already used");
    }
    if (c.expires_at <= now) {
      return Unauth("the authorization code has expired");
    }
    return c;
  }

  Status PutRefresh(const RefreshToken& t) override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st,
                     conn_->Prepare("INSERT INTO auth_refresh(token_hash, family, client_id, "
                                    "user_id, scope, patient_id, expires_at) "
                                    "VALUES(?,?,?,?,?,?,?)"));
    st.Bind(1, t.token_hash).Bind(2, t.family).Bind(3, t.client_id).Bind(4, t.user_id);
    st.Bind(5, t.scope).Bind(6, t.patient_id).Bind(7, t.expires_at);
    return st.Run();
  }

  StatusOr<RefreshToken> RotateRefresh(const std::string& token_hash, int64_t now) override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st,
                     conn_->Prepare("UPDATE auth_refresh SET rotated = rotated + 1 "
                                    "WHERE token_hash = ? RETURNING family, client_id, user_id, "
                                    "scope, patient_id, expires_at, rotated, revoked"));
    st.Bind(1, token_hash);
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) {
      return Unauth("the refresh token is unknown");
    }
    RefreshToken t;
    t.token_hash = token_hash;
    t.family = st.Text(0);
    t.client_id = st.Text(1);
    t.user_id = st.Text(2);
    t.scope = st.Text(3);
    t.patient_id = st.Text(4);
    t.expires_at = st.Int(5);
    int64_t rotated = st.Int(6);
    bool revoked = st.Int(7) != 0;
    RETURN_IF_ERROR(st.Run());
    if (rotated > 1) {
      ASSIGN_OR_RETURN(Statement rv,
                       conn_->Prepare("UPDATE auth_refresh SET revoked = 1 WHERE family = ?"));
      rv.Bind(1, t.family);
      RETURN_IF_ERROR(rv.Run());
      return Unauth(
          "the refresh token was already used (rotated); every token of this grant is now "
          "revoked");
    }
    if (revoked) {
      return Unauth("the refresh token has been revoked");
    }
    if (t.expires_at <= now) {
      return Unauth("the refresh token has expired");
    }
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
    std::vector<std::string> out;
    *last_seq = after_seq;
    while (true) {
      ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) {
        return out;
      }
      *last_seq = st.Int(0);
      out.push_back(st.Text(1));
    }
  }

  StatusOr<std::vector<std::string>> DisabledUserIds() override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st, conn_->Prepare("SELECT id FROM auth_user WHERE disabled = 1"));
    std::vector<std::string> out;
    while (true) {
      ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) {
        return out;
      }
      out.push_back(st.Text(0));
    }
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
    ASSIGN_OR_RETURN(Statement st,
                     conn_->Prepare("SELECT patient_id, encounter_id, expires_at FROM auth_launch "
                                    "WHERE id = ? AND expires_at > ?"));
    st.Bind(1, id).Bind(2, now);
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) {
      return std::optional<LaunchContext>();
    }
    return std::optional<LaunchContext>(LaunchContext{id, st.Text(0), st.Text(1), st.Int(2)});
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
    ASSIGN_OR_RETURN(Statement st,
                     conn_->Prepare("SELECT user_id, stage, request_json, expires_at FROM "
                                    "auth_session WHERE id_hash = ? AND expires_at > ?"));
    st.Bind(1, id_hash).Bind(2, now);
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) {
      return std::optional<SignInSession>();
    }
    return std::optional<SignInSession>(
        SignInSession{id_hash, st.Text(0), st.Text(1), st.Text(2), st.Int(3)});
  }

  Status DeleteSession(const std::string& id_hash) override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st, conn_->Prepare("DELETE FROM auth_session WHERE id_hash = ?"));
    st.Bind(1, id_hash);
    return st.Run();
  }

  Status Purge(int64_t now) override {
    std::lock_guard lock(mu_);
    for (const char* table :
         {"auth_code", "auth_session", "auth_launch", "auth_assertion", "auth_refresh"}) {
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

  Status Init() { return conn_->Exec(kSchema); }

 private:
  int Changes() const { return sqlite3_changes(conn_->raw()); }

  StatusOr<std::optional<User>> OneUser(const std::string& sql, const std::string& arg) {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement st, conn_->Prepare(sql));
    st.Bind(1, arg);
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) {
      return std::optional<User>();
    }
    return std::optional<User>(ReadUser(st));
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
