// The auth tables' rows as SQL values, for every AuthStore backend: the column list of each
// record, the values to bind for it (store::SqlArg, in column order) and the reading back of a
// row through RowReader, which hands out the columns in order. The SQLite store
// (sqlite_auth_store.cc) uses these; a PostgreSQL store binds the same vectors with its own
// placeholders and builds a RowReader from its result columns, so the two cannot disagree on a
// column's order or encoding (lists are space-separated ids, booleans 0/1, times unix seconds).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "auth/auth_store.h"
#include "store/sql_dialect.h"

namespace carechart::auth {

using SqlRow = std::vector<store::SqlArg>;

// Reads one result row column by column, in order (NULL reads as empty text or 0).
class RowReader {
 public:
  explicit RowReader(std::vector<std::optional<store::SqlArg>> columns)
      : columns_(std::move(columns)) {}
  std::string Text();
  int64_t Int();
  bool Bool() { return Int() != 0; }
  std::vector<std::string> List();  // a space-separated list

 private:
  const store::SqlArg* Next();
  std::vector<std::optional<store::SqlArg>> columns_;
  size_t next_ = 0;
};

std::string JoinIds(const std::vector<std::string>& ids);
std::vector<std::string> SplitIds(const std::string& text);

std::string_view ClientKindName(ClientKind kind);
ClientKind ParseClientKind(std::string_view name);  // unknown names read as public

// auth_user
inline constexpr const char* kUserColumns =
    "id, username, display, role, facilities, practitioner_id, patient_id, proxy_patients, "
    "password_hash, must_change, totp_secret, disabled, failed_logins, locked_until, created_at";
SqlRow UserRow(const User& user);
User ReadUser(RowReader& row);

// auth_client
inline constexpr const char* kClientColumns =
    "id, name, kind, secret_hash, jwks, redirect_uris, scopes, created_at";
SqlRow ClientRow(const Client& client);
Client ReadClient(RowReader& row);

// auth_code (as inserted; `used` is the store's)
inline constexpr const char* kCodeColumns =
    "code_hash, client_id, user_id, redirect_uri, scope, code_challenge, patient_id, "
    "encounter_id, nonce, expires_at, facility_id";
SqlRow CodeRow(const AuthCode& code);

// auth_refresh (as inserted; `rotated` and `revoked` are the store's)
inline constexpr const char* kRefreshColumns =
    "token_hash, family, client_id, user_id, scope, patient_id, expires_at, facility_id";
SqlRow RefreshRow(const RefreshToken& token);

// What TakeCode's UPDATE ... RETURNING hands back, and its reading (`used` after the update).
inline constexpr const char* kTakenCodeColumns =
    "client_id, user_id, redirect_uri, scope, code_challenge, patient_id, encounter_id, nonce, "
    "expires_at, used, facility_id";
AuthCode ReadTakenCode(RowReader& row, const std::string& code_hash, int64_t* used);
// The verdict on a code just taken: kUnauthenticated when used before (the caller then revokes
// what it granted) or expired.
Status CheckTakenCode(const AuthCode& code, int64_t used, int64_t now);

// What RotateRefresh's UPDATE ... RETURNING hands back, and its reading.
inline constexpr const char* kRotatedRefreshColumns =
    "family, client_id, user_id, scope, patient_id, expires_at, rotated, revoked, facility_id";
RefreshToken ReadRotatedRefresh(RowReader& row, const std::string& token_hash, int64_t* rotated,
                                bool* revoked);
// kUnauthenticated when rotated before (the caller then revokes the family), revoked or expired.
Status CheckRotatedRefresh(const RefreshToken& token, int64_t rotated, bool revoked, int64_t now);

// auth_launch, auth_session, activation codes and a user's grants, as the stores read them.
inline constexpr const char* kLaunchColumns = "patient_id, encounter_id, expires_at";
LaunchContext ReadLaunch(RowReader& row, const std::string& id);
inline constexpr const char* kSessionColumns = "user_id, stage, request_json, expires_at";
SignInSession ReadSession(RowReader& row, const std::string& id_hash);
inline constexpr const char* kActivationColumns = "user_id, purpose, expires_at, used";
// The code when unused and unexpired; kUnauthenticated otherwise.
StatusOr<ActivationCode> ReadActivation(RowReader& row, const std::string& code_hash, int64_t now);
inline constexpr const char* kGrantColumns =
    "token_hash, family, client_id, scope, patient_id, expires_at";
RefreshToken ReadGrant(RowReader& row, const std::string& user_id);

// "?, ?, ?" for n columns (SQLite); PostgreSQL writes "$1, $2, $3".
std::string Placeholders(size_t n);

}  // namespace carechart::auth
