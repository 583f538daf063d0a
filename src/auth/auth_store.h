// Where authentication keeps its state: users, SMART clients, the server's signing key,
// authorization codes, refresh tokens, revoked access tokens, used client-assertion ids, EHR
// launch contexts and sign-in sessions. A small interface so that the PostgreSQL backend can
// implement it beside the SQLite one; every node of a cluster sees the same state, so tokens
// issued by one node verify and revoke on every node.
//
// Secrets are never stored in the clear: passwords and client secrets as Argon2id hashes,
// authorization codes, refresh tokens and session ids as SHA-256 (they are 256-bit random, so a
// plain hash suffices). The server's private signing key is stored as PEM: whoever can read the
// database can read the records too, so the key adds no new exposure (see docs/security.md).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth/principal.h"
#include "core/status.h"

namespace carechart::auth {

struct User {
  std::string id;
  std::string username;
  std::string display;
  Role role = Role::kPhysician;
  std::vector<std::string> facility_ids;
  std::string practitioner_id;
  std::string patient_id;
  std::vector<std::string> proxy_patient_ids;
  std::string password_hash;          // Argon2id encoded
  bool must_change_password = false;  // one-time passwords and resets
  std::string totp_secret;            // base32; empty: no second factor
  bool disabled = false;
  int failed_logins = 0;
  int64_t locked_until = 0;  // unix seconds; sign-in refused before
  int64_t created_at = 0;
};

enum class ClientKind { kPublic, kConfidential, kBackend };

struct Client {
  std::string id;
  std::string name;
  ClientKind kind = ClientKind::kPublic;
  std::string secret_hash;  // confidential clients (Argon2id)
  std::string jwks;         // backend clients: the JWKS document (public keys)
  std::vector<std::string> redirect_uris;
  std::vector<std::string> scopes;  // the most this client may be granted
  int64_t created_at = 0;
};

struct AuthCode {
  std::string code_hash;
  std::string client_id;
  std::string user_id;
  std::string redirect_uri;
  std::string scope;
  std::string code_challenge;  // S256 challenge; empty when the client used none
  std::string patient_id;      // launch context
  std::string encounter_id;
  std::string nonce;
  std::string facility_id;  // the facility the user chose to work at (sign-in), or empty
  int64_t expires_at = 0;
};

struct RefreshToken {
  std::string token_hash;
  std::string family;  // every rotation of one grant shares it; reuse revokes the family
  std::string client_id;
  std::string user_id;
  std::string scope;
  std::string patient_id;
  std::string facility_id;  // as in the AuthCode it came from
  int64_t expires_at = 0;
};

struct LaunchContext {
  std::string id;
  std::string patient_id;
  std::string encounter_id;
  int64_t expires_at = 0;
};

// A one-time code a clinic gives a patient to activate an invited account or to reset a
// forgotten password (src/auth/accounts.h). Stored as SHA-256 of the normalised code.
struct ActivationCode {
  std::string code_hash;
  std::string user_id;
  std::string purpose;  // "activate" or "reset"
  int64_t expires_at = 0;
};

struct SignInSession {
  std::string id_hash;
  std::string user_id;       // empty until the password was accepted
  std::string stage;         // "totp", "change-password", "pick-patient"
  std::string request_json;  // the authorize request being served
  int64_t expires_at = 0;
};

class AuthStore {
 public:
  virtual ~AuthStore() = default;

  // Users. Usernames are unique; Put inserts or replaces by id.
  virtual StatusOr<std::optional<User>> FindUserByName(const std::string& username) = 0;
  virtual StatusOr<std::optional<User>> GetUser(const std::string& id) = 0;
  virtual Status PutUser(const User& user) = 0;
  virtual StatusOr<std::vector<User>> ListUsers() = 0;
  virtual StatusOr<int64_t> CountUsers() = 0;

  virtual StatusOr<std::optional<Client>> GetClient(const std::string& id) = 0;
  virtual Status PutClient(const Client& client) = 0;
  virtual StatusOr<std::vector<Client>> ListClients() = 0;
  // kNotFound when there is no such client.
  virtual Status RemoveClient(const std::string& id) = 0;

  // The signing keys (PEM), oldest first. AddSigningKeyIfNone stores `pem` only when no key
  // exists yet (two nodes starting at once agree on the first one stored).
  virtual StatusOr<std::vector<std::string>> SigningKeys() = 0;
  virtual Status AddSigningKeyIfNone(const std::string& kid, const std::string& pem) = 0;

  virtual Status PutCode(const AuthCode& code) = 0;
  // Marks the code used and returns it; kUnauthenticated when unknown, used before or expired
  // (a reused code also revokes the refresh tokens issued from it).
  virtual StatusOr<AuthCode> TakeCode(const std::string& code_hash, int64_t now) = 0;

  virtual Status PutRefresh(const RefreshToken& token) = 0;
  // Marks the token rotated and returns it. kUnauthenticated when unknown, expired, revoked or
  // already rotated; in the last case the whole family is revoked (a stolen token was replayed).
  virtual StatusOr<RefreshToken> RotateRefresh(const std::string& token_hash, int64_t now) = 0;
  // Revokes the family of the refresh token (revocation endpoint); false when unknown.
  virtual StatusOr<bool> RevokeRefresh(const std::string& token_hash) = 0;
  virtual Status RevokeUserRefresh(const std::string& user_id) = 0;

  // Access tokens revoked before they expire. Sequence numbers let every node fetch only what
  // was added since it last looked.
  virtual Status RevokeAccessToken(const std::string& jti, int64_t expires_at) = 0;
  virtual StatusOr<std::vector<std::string>> RevokedSince(int64_t after_seq, int64_t* last_seq) = 0;
  virtual StatusOr<std::vector<std::string>> DisabledUserIds() = 0;

  // Remembers a client assertion's jti until it expires; false when already seen (replay).
  virtual StatusOr<bool> RememberAssertion(const std::string& client_id, const std::string& jti,
                                           int64_t expires_at) = 0;

  virtual Status PutLaunch(const LaunchContext& launch) = 0;
  virtual StatusOr<std::optional<LaunchContext>> GetLaunch(const std::string& id, int64_t now) = 0;

  virtual Status PutSession(const SignInSession& session) = 0;
  virtual StatusOr<std::optional<SignInSession>> GetSession(const std::string& id_hash,
                                                            int64_t now) = 0;
  virtual Status DeleteSession(const std::string& id_hash) = 0;

  // Activation and reset codes (portal accounts). Put voids the user's earlier unused codes (only
  // the newest works). Find returns an unused, unexpired code (kUnauthenticated otherwise)
  // without using it; Use marks it used, false when it already was (a concurrent use).
  virtual Status PutActivation(const ActivationCode& code) = 0;
  virtual StatusOr<ActivationCode> FindActivation(const std::string& code_hash, int64_t now) = 0;
  virtual StatusOr<bool> UseActivation(const std::string& code_hash) = 0;
  // The user's live grants (refresh-token families not revoked, rotated away or expired: one
  // entry per family, its newest token) for "connected apps", and revoking one by family.
  virtual StatusOr<std::vector<RefreshToken>> ListGrants(const std::string& user_id,
                                                         int64_t now) = 0;
  // false when the user has no such family.
  virtual StatusOr<bool> RevokeGrant(const std::string& user_id, const std::string& family) = 0;

  // Deletes expired codes, sessions, launches, assertion ids and revocations.
  virtual Status Purge(int64_t now) = 0;
};

// The SQLite implementation, on its own connection to the facility database (tables auth_*,
// created when absent).
StatusOr<std::unique_ptr<AuthStore>> OpenSqliteAuthStore(const std::string& path);

// The PostgreSQL implementation (pg_auth_store.cc): tables auth_* of the database at `uri`
// (migrated when needed), shared by every API node on it.
StatusOr<std::unique_ptr<AuthStore>> OpenPostgresAuthStore(const std::string& uri);

}  // namespace carechart::auth
