// Role names as stored and typed on the command line, and the most each role's users may be
// granted as SMART scopes (the scope ceiling; the access policy in src/access decides per
// resource within it).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/principal.h"

namespace carechart::auth {

// "physician", "nurse", "front-desk", "billing", "lab", "pharmacist", "privacy-officer",
// "researcher", "administrator", "patient", "proxy", "backend-service", "system".
std::string_view RoleName(Role role);
std::optional<Role> ParseRole(std::string_view name);
// The names of the roles a user account may have (all but backend-service and system).
std::vector<std::string> UserRoleNames();

// The widest scopes a user of `role` may hold: staff get user/ and patient/ scopes, patients and
// proxies patient/ scopes only (confined to their own or their authorised patients' records),
// researchers and privacy officers read-only; plus the launch/identity scopes.
std::vector<std::string> RoleScopeCeiling(Role role);

// True for roles that look after patients (may pick a patient at a standalone launch).
bool IsClinicalRole(Role role);

}  // namespace carechart::auth
