// The PostgreSQL AuthStore: the auth_* tables (schema migration 4 of the PostgreSQL backend,
// store/postgres/pg_schema.cc) on a small connection pool shared by nothing else. Rows are
// encoded by auth_rows.h exactly as the SQLite store encodes them; only placeholders ($n),
// upserts (ON CONFLICT) and the counting of changed rows differ. Every statement is a single
// atomic SQL statement where the SQLite store relies on its one connection's mutex, so several
// API nodes can share one database.
#include <chrono>

#include "auth/auth_rows.h"
#include "auth/auth_store.h"
#include "store/postgres/pg_conn.h"
#include "store/postgres/postgres_store.h"

namespace carechart::auth {
namespace {

using store::pg::Args;
using store::pg::Pool;
using store::pg::Rows;

std::string Dollars(size_t n) {
  std::string out;
  for (size_t i = 1; i <= n; ++i) {
    out += (i > 1 ? ", $" : "$") + std::to_string(i);
  }
  return out;
}

// INSERT ... ON CONFLICT (key) DO UPDATE: the "INSERT OR REPLACE" of the SQLite store.
std::string Upsert(const char* table, const char* columns, size_t n, const char* key) {
  std::string sets;
  std::string cols = columns;
  size_t start = 0;
  while (start < cols.size()) {
    size_t comma = cols.find(',', start);
    std::string col =
        cols.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    col.erase(0, col.find_first_not_of(' '));
    if (col != key) {
      sets += (sets.empty() ? "" : ", ") + col + " = EXCLUDED." + col;
    }
    if (comma == std::string::npos) {
      break;
    }
    start = comma + 1;
  }
  return std::string("INSERT INTO ") + table + "(" + columns + ") VALUES(" + Dollars(n) +
         ") ON CONFLICT (" + key + ") DO UPDATE SET " + sets;
}

RowReader Reader(const Rows& rows, int i) {
  std::vector<std::optional<store::SqlArg>> columns;
  for (int c = 0; c < rows.columns(); ++c) {
    columns.push_back(rows.Value(i, c));
  }
  return RowReader(std::move(columns));
}

template <class T, class Read>
std::vector<T> All(const Rows& rows, Read read) {
  std::vector<T> out;
  for (int i = 0; i < rows.size(); ++i) {
    RowReader r = Reader(rows, i);
    out.push_back(read(r));
  }
  return out;
}

template <class T, class Read>
std::optional<T> First(const Rows& rows, Read read) {
  if (!rows.size()) {
    return std::nullopt;
  }
  RowReader r = Reader(rows, 0);
  return read(r);
}

Status Unauth(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }

class PostgresAuthStore final : public AuthStore {
 public:
  explicit PostgresAuthStore(std::unique_ptr<Pool> pool) : pool_(std::move(pool)) {}

  StatusOr<std::optional<User>> FindUserByName(const std::string& username) override {
    ASSIGN_OR_RETURN(Rows rows, Run(std::string("SELECT ") + kUserColumns +
                                        " FROM auth_user WHERE username = $1",
                                    Args().Text(username)));
    return First<User>(rows, ReadUser);
  }
  StatusOr<std::optional<User>> GetUser(const std::string& id) override {
    ASSIGN_OR_RETURN(Rows rows,
                     Run(std::string("SELECT ") + kUserColumns + " FROM auth_user WHERE id = $1",
                         Args().Text(id)));
    return First<User>(rows, ReadUser);
  }
  Status PutUser(const User& u) override {
    SqlRow row = UserRow(u);
    StatusOr<Rows> r = Run(Upsert("auth_user", kUserColumns, row.size(), "id"), Args().SqlAll(row));
    if (!r.ok() && r.status().message().find("23505") != std::string::npos) {
      return ConflictError("username '" + u.username + "' is taken");
    }
    return r.status();
  }
  StatusOr<std::vector<User>> ListUsers() override {
    ASSIGN_OR_RETURN(Rows rows, Run(std::string("SELECT ") + kUserColumns +
                                    " FROM auth_user ORDER BY username"));
    return All<User>(rows, ReadUser);
  }
  StatusOr<int64_t> CountUsers() override {
    ASSIGN_OR_RETURN(Rows rows, Run("SELECT count(*) FROM auth_user"));
    return rows.Int(0, 0);
  }

  StatusOr<std::optional<Client>> GetClient(const std::string& id) override {
    ASSIGN_OR_RETURN(
        Rows rows, Run(std::string("SELECT ") + kClientColumns + " FROM auth_client WHERE id = $1",
                       Args().Text(id)));
    return First<Client>(rows, ReadClient);
  }
  Status PutClient(const Client& c) override {
    SqlRow row = ClientRow(c);
    return Run(Upsert("auth_client", kClientColumns, row.size(), "id"), Args().SqlAll(row))
        .status();
  }
  StatusOr<std::vector<Client>> ListClients() override {
    ASSIGN_OR_RETURN(
        Rows rows, Run(std::string("SELECT ") + kClientColumns + " FROM auth_client ORDER BY id"));
    return All<Client>(rows, ReadClient);
  }
  Status RemoveClient(const std::string& id) override {
    ASSIGN_OR_RETURN(Rows rows,
                     Run("WITH d AS (DELETE FROM auth_client WHERE id = $1 RETURNING id), "
                         "r AS (UPDATE auth_refresh SET revoked = 1 WHERE client_id = $1 "
                         "AND EXISTS (SELECT 1 FROM d)) SELECT count(*) FROM d",
                         Args().Text(id)));
    if (rows.Int(0, 0) == 0) {
      return NotFoundError("no client '" + id + "'");
    }
    return Status::Ok();
  }

  StatusOr<std::vector<std::string>> SigningKeys() override {
    ASSIGN_OR_RETURN(Rows rows, Run("SELECT private_pem FROM auth_signing_key ORDER BY seq"));
    return All<std::string>(rows, [](RowReader& r) { return r.Text(); });
  }
  Status AddSigningKeyIfNone(const std::string& kid, const std::string& pem) override {
    // Two nodes starting at once: the lock makes the second see the first's key and add none.
    ASSIGN_OR_RETURN(Pool::Lease conn, pool_->Acquire());
    RETURN_IF_ERROR(conn->Exec("BEGIN"));
    Status s = conn->Run("SELECT pg_advisory_xact_lock(7308324466020435301)").status();
    if (s.ok()) {
      s = conn->Run(
                  "INSERT INTO auth_signing_key(kid, private_pem, created_at) "
                  "SELECT $1, $2, extract(epoch FROM now())::bigint WHERE NOT EXISTS "
                  "(SELECT 1 FROM auth_signing_key)",
                  Args().Text(kid).Text(pem))
              .status();
    }
    if (s.ok()) {
      s = conn->Exec("COMMIT");
    }
    if (!s.ok()) {
      (void)conn->Exec("ROLLBACK");
    }
    return s;
  }

  Status PutCode(const AuthCode& c) override {
    SqlRow row = CodeRow(c);
    return Run(std::string("INSERT INTO auth_code(") + kCodeColumns + ") VALUES(" +
                   Dollars(row.size()) + ")",
               Args().SqlAll(row))
        .status();
  }

  StatusOr<AuthCode> TakeCode(const std::string& code_hash, int64_t now) override {
    ASSIGN_OR_RETURN(Rows rows, Run(std::string("UPDATE auth_code SET used = used + 1 WHERE "
                                                "code_hash = $1 RETURNING ") +
                                        kTakenCodeColumns,
                                    Args().Text(code_hash)));
    if (!rows.size()) {
      return Unauth("the authorization code is unknown");
    }
    RowReader r = Reader(rows, 0);
    int64_t used = 0;
    AuthCode c = ReadTakenCode(r, code_hash, &used);
    if (used > 1) {
      // RFC 6749 §4.1.2: a code used twice revokes what it granted.
      RETURN_IF_ERROR(
          Run("UPDATE auth_refresh SET revoked = 1 WHERE family = $1", Args().Text(code_hash))
              .status());
    }
    RETURN_IF_ERROR(CheckTakenCode(c, used, now));
    return c;
  }

  Status PutRefresh(const RefreshToken& t) override {
    SqlRow row = RefreshRow(t);
    return Run(std::string("INSERT INTO auth_refresh(") + kRefreshColumns + ") VALUES(" +
                   Dollars(row.size()) + ")",
               Args().SqlAll(row))
        .status();
  }

  StatusOr<RefreshToken> RotateRefresh(const std::string& token_hash, int64_t now) override {
    ASSIGN_OR_RETURN(Rows rows, Run(std::string("UPDATE auth_refresh SET rotated = rotated + 1 "
                                                "WHERE token_hash = $1 RETURNING ") +
                                        kRotatedRefreshColumns,
                                    Args().Text(token_hash)));
    if (!rows.size()) {
      return Unauth("the refresh token is unknown");
    }
    RowReader r = Reader(rows, 0);
    int64_t rotated = 0;
    bool revoked = false;
    RefreshToken t = ReadRotatedRefresh(r, token_hash, &rotated, &revoked);
    if (rotated > 1) {
      RETURN_IF_ERROR(
          Run("UPDATE auth_refresh SET revoked = 1 WHERE family = $1", Args().Text(t.family))
              .status());
    }
    RETURN_IF_ERROR(CheckRotatedRefresh(t, rotated, revoked, now));
    return t;
  }

  StatusOr<bool> RevokeRefresh(const std::string& token_hash) override {
    ASSIGN_OR_RETURN(Rows rows, Run("UPDATE auth_refresh SET revoked = 1 WHERE family = "
                                    "(SELECT family FROM auth_refresh WHERE token_hash = $1)",
                                    Args().Text(token_hash)));
    return rows.affected() > 0;
  }
  Status RevokeUserRefresh(const std::string& user_id) override {
    return Run("UPDATE auth_refresh SET revoked = 1 WHERE user_id = $1", Args().Text(user_id))
        .status();
  }

  Status RevokeAccessToken(const std::string& jti, int64_t expires_at) override {
    return Run("INSERT INTO auth_revoked(jti, expires_at) VALUES($1, $2) ON CONFLICT DO NOTHING",
               Args().Text(jti).Int(expires_at))
        .status();
  }
  StatusOr<std::vector<std::string>> RevokedSince(int64_t after_seq, int64_t* last_seq) override {
    ASSIGN_OR_RETURN(Rows rows, Run("SELECT seq, jti FROM auth_revoked WHERE seq > $1 ORDER BY seq",
                                    Args().Int(after_seq)));
    *last_seq = after_seq;
    return All<std::string>(rows, [last_seq](RowReader& r) {
      *last_seq = r.Int();
      return r.Text();
    });
  }
  StatusOr<std::vector<std::string>> DisabledUserIds() override {
    ASSIGN_OR_RETURN(Rows rows, Run("SELECT id FROM auth_user WHERE disabled = 1"));
    return All<std::string>(rows, [](RowReader& r) { return r.Text(); });
  }

  StatusOr<bool> RememberAssertion(const std::string& client_id, const std::string& jti,
                                   int64_t expires_at) override {
    ASSIGN_OR_RETURN(Rows rows, Run("INSERT INTO auth_assertion(client_id, jti, expires_at) "
                                    "VALUES($1, $2, $3) ON CONFLICT DO NOTHING",
                                    Args().Text(client_id).Text(jti).Int(expires_at)));
    return rows.affected() > 0;
  }

  Status PutLaunch(const LaunchContext& l) override {
    return Run("INSERT INTO auth_launch(id, patient_id, encounter_id, expires_at) "
               "VALUES($1, $2, $3, $4)",
               Args().Text(l.id).Text(l.patient_id).Text(l.encounter_id).Int(l.expires_at))
        .status();
  }
  StatusOr<std::optional<LaunchContext>> GetLaunch(const std::string& id, int64_t now) override {
    ASSIGN_OR_RETURN(Rows rows, Run(std::string("SELECT ") + kLaunchColumns +
                                        " FROM auth_launch WHERE id = $1 AND expires_at > $2",
                                    Args().Text(id).Int(now)));
    return First<LaunchContext>(rows, [&id](RowReader& r) { return ReadLaunch(r, id); });
  }

  Status PutSession(const SignInSession& s) override {
    return Run(Upsert("auth_session", "id_hash, user_id, stage, request_json, expires_at", 5,
                      "id_hash"),
               Args()
                   .Text(s.id_hash)
                   .Text(s.user_id)
                   .Text(s.stage)
                   .Text(s.request_json)
                   .Int(s.expires_at))
        .status();
  }
  StatusOr<std::optional<SignInSession>> GetSession(const std::string& id_hash,
                                                    int64_t now) override {
    ASSIGN_OR_RETURN(Rows rows, Run(std::string("SELECT ") + kSessionColumns +
                                        " FROM auth_session WHERE id_hash = $1 AND expires_at > $2",
                                    Args().Text(id_hash).Int(now)));
    return First<SignInSession>(rows, [&id_hash](RowReader& r) { return ReadSession(r, id_hash); });
  }
  Status DeleteSession(const std::string& id_hash) override {
    return Run("DELETE FROM auth_session WHERE id_hash = $1", Args().Text(id_hash)).status();
  }

  Status PutActivation(const ActivationCode& code) override {
    // Only the newest code of a user works: a re-issued invitation voids the one before.
    return Run("WITH old AS (UPDATE auth_activation SET used = 1 WHERE user_id = $2 AND "
               "used = 0) INSERT INTO auth_activation(code_hash, user_id, purpose, expires_at) "
               "VALUES($1, $2, $3, $4)",
               Args()
                   .Text(code.code_hash)
                   .Text(code.user_id)
                   .Text(code.purpose)
                   .Int(code.expires_at))
        .status();
  }
  StatusOr<ActivationCode> FindActivation(const std::string& code_hash, int64_t now) override {
    ASSIGN_OR_RETURN(Rows rows, Run(std::string("SELECT ") + kActivationColumns +
                                        " FROM auth_activation WHERE code_hash = $1",
                                    Args().Text(code_hash)));
    if (!rows.size()) {
      return Unauth("the code is not known");
    }
    RowReader r = Reader(rows, 0);
    return ReadActivation(r, code_hash, now);
  }
  StatusOr<bool> UseActivation(const std::string& code_hash) override {
    ASSIGN_OR_RETURN(Rows rows, Run("UPDATE auth_activation SET used = 1 WHERE code_hash = $1 "
                                    "AND used = 0",
                                    Args().Text(code_hash)));
    return rows.affected() > 0;
  }

  StatusOr<std::vector<RefreshToken>> ListGrants(const std::string& user_id, int64_t now) override {
    ASSIGN_OR_RETURN(Rows rows, Run(std::string("SELECT ") + kGrantColumns +
                                        " FROM auth_refresh WHERE user_id = $1 AND rotated = 0 "
                                        "AND revoked = 0 AND expires_at >= $2 "
                                        "ORDER BY expires_at DESC",
                                    Args().Text(user_id).Int(now)));
    return All<RefreshToken>(rows, [&user_id](RowReader& r) { return ReadGrant(r, user_id); });
  }
  StatusOr<bool> RevokeGrant(const std::string& user_id, const std::string& family) override {
    ASSIGN_OR_RETURN(Rows rows, Run("UPDATE auth_refresh SET revoked = 1 WHERE user_id = $1 AND "
                                    "family = $2 AND revoked = 0",
                                    Args().Text(user_id).Text(family)));
    return rows.affected() > 0;
  }

  Status Purge(int64_t now) override {
    for (const char* table : {"auth_code", "auth_session", "auth_launch", "auth_assertion",
                              "auth_refresh", "auth_activation"}) {
      RETURN_IF_ERROR(Run(std::string("DELETE FROM ") + table + " WHERE expires_at < $1",
                          Args().Int(now - 3600))
                          .status());
    }
    // Revocations stay a day past expiry so that a node that was down still learns of them.
    return Run("DELETE FROM auth_revoked WHERE expires_at < $1", Args().Int(now - 86400)).status();
  }

 private:
  StatusOr<Rows> Run(const std::string& sql, const Args& args = {}) {
    ASSIGN_OR_RETURN(Pool::Lease conn, pool_->Acquire());
    return conn->Run(sql, args);
  }

  std::unique_ptr<Pool> pool_;
};

}  // namespace

StatusOr<std::unique_ptr<AuthStore>> OpenPostgresAuthStore(const std::string& uri) {
  // The tables are a schema migration of the database (applied here too, so that `carechart
  // user add --postgres` works on a new database).
  RETURN_IF_ERROR(store::MigratePostgres(uri).status());
  ASSIGN_OR_RETURN(std::unique_ptr<Pool> pool, Pool::Open(uri, 4, 10000));
  return std::unique_ptr<AuthStore>(std::make_unique<PostgresAuthStore>(std::move(pool)));
}

}  // namespace carechart::auth
