// Patient-portal accounts: one-time activation and reset codes, and which patients' records an
// account may open. Used by `carechart user invite|reset-password` (src/app/auth_cmd.cc) and by
// the /auth/activate page and /auth/account/* endpoints (account_endpoints.cc); see
// docs/portal-api.md.
//
// A code is 12 characters from an alphabet without look-alikes (about 59 bits), shown as
// XXXX-XXXX-XXXX so that it can be read out on the phone. It is stored only as SHA-256 of its
// normalised form (the per-address rate limit makes guessing hopeless), works once, and expires
// (invitations after kInviteSeconds, resets after kResetSeconds).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "auth/auth_store.h"
#include "core/status.h"

namespace carechart::auth {

inline constexpr int64_t kInviteSeconds = 7 * 86400;
inline constexpr int64_t kResetSeconds = 86400;

// A fresh random code, formatted XXXX-XXXX-XXXX.
std::string NewActivationCode();
// Upper case, spaces and hyphens removed: what is hashed. Typing "abcd efgh jkmn" works.
std::string NormaliseActivationCode(std::string_view typed);

// Creates a code for `user_id` ("activate" or "reset"), stores its hash (voiding the user's
// earlier codes) and returns the code to hand over. `now` in unix seconds.
StatusOr<std::string> IssueActivationCode(AuthStore& store, const std::string& user_id,
                                          const std::string& purpose, int64_t now);

// The Patient ids whose records the account may open: a patient's own; a proxy's own (when
// linked to a Patient) and those they act for, own first.
std::vector<std::string> PatientsOf(const User& user);

// Usernames chosen at activation: 3-64 of a-z 0-9 . _ - @, starting with a letter or digit.
// A message saying why not, or empty when fine.
std::string UsernameProblem(std::string_view username);

// The placeholder name of an invited account whose owner chooses a username at activation.
bool IsPlaceholderUsername(std::string_view username);
std::string NewPlaceholderUsername();

}  // namespace carechart::auth
