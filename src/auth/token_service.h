// Access tokens: signed JWTs (ES256, the server's key from the AuthStore, so every node verifies
// every node's tokens), short-lived, each with a jti checked against the revocation table.
// Verification gives the Principal the rest of the server works with.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "auth/auth_store.h"
#include "auth/jwt.h"
#include "auth/principal.h"

namespace carechart::auth {

struct TokenSettings {
  int64_t access_token_seconds = 3600;
  int64_t leeway_seconds = 30;  // clock skew tolerated on exp/nbf
  // How often a node re-reads revocations and disabled users written by other nodes.
  std::chrono::milliseconds revocation_poll{1000};
  std::function<int64_t()> now;  // unix seconds; default: the system clock
};

struct IssuedToken {
  std::string token;
  std::string jti;
  int64_t expires_at = 0;
};

class TokenService {
 public:
  // Loads the signing key, creating and storing one on the first start.
  static StatusOr<std::unique_ptr<TokenService>> Create(AuthStore& store, TokenSettings settings);

  // A signed access token for `p` (its scopes, role, user, client and launch context).
  // `lifetime` 0 means the configured one; `not_before` (seconds from now) sets nbf when nonzero.
  StatusOr<IssuedToken> IssueAccessToken(const Principal& p, const std::string& issuer,
                                         const std::string& audience, int64_t lifetime = 0,
                                         int64_t not_before = 0);
  // An OpenID Connect id_token (aud = the client, fhirUser = the user's FHIR resource URL).
  StatusOr<std::string> IssueIdToken(const Principal& p, const std::string& issuer,
                                     const std::string& fhir_user, const std::string& nonce);

  // Checks a Bearer token completely: structure, alg, key, signature, iss, aud, exp, nbf,
  // revocation, disabled user. kUnauthenticated with the precise reason on any failure.
  StatusOr<std::shared_ptr<const Principal>> Verify(std::string_view token,
                                                    const std::string& issuer,
                                                    const std::string& audience);
  // Decodes and checks only the signature (for revocation and introspection of any of our tokens).
  StatusOr<json::Value> VerifiedClaims(std::string_view token);

  Status Revoke(const std::string& jti, int64_t expires_at);
  json::Value Jwks() const;
  int64_t Now() const;
  AuthStore& store() { return store_; }
  const TokenSettings& settings() const { return settings_; }

 private:
  TokenService(AuthStore& store, TokenSettings settings, std::unique_ptr<Key> key);
  // Why the token may no longer be used, or empty.
  std::string RevocationReason(const std::string& jti, const std::string& user_id);
  void RefreshRevocations();

  AuthStore& store_;
  TokenSettings settings_;
  std::unique_ptr<Key> key_;

  std::shared_mutex revoked_mu_;
  std::unordered_set<std::string> revoked_;         // GUARDED_BY(revoked_mu_)
  std::unordered_set<std::string> disabled_users_;  // GUARDED_BY(revoked_mu_)
  int64_t revoked_seq_ = 0;                         // GUARDED_BY(refresh_mu_)
  std::mutex refresh_mu_;
  std::atomic<int64_t> next_refresh_ns_{0};

  // Tokens whose signature and claims already verified (ECDSA verification costs ~50 µs, more
  // than serving a read): keyed by the whole token text, so a cached entry is exactly the token
  // that verified. Expiry and revocation are still checked on every request.
  struct Verified {
    std::shared_ptr<const Principal> principal;
    std::string issuer, audience;
    int64_t exp = 0;
  };
  std::shared_mutex cache_mu_;
  std::unordered_map<std::string, Verified> cache_;  // GUARDED_BY(cache_mu_)
};

// The Principal a verified token's claims describe.
Principal PrincipalFromClaims(const json::Value& claims);

}  // namespace carechart::auth
