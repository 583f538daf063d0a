#include "auth/roles.h"

#include <array>
#include <utility>

namespace carechart::auth {

namespace {

constexpr std::array<std::pair<Role, std::string_view>, 13> kNames{{
    {Role::kPhysician, "physician"},
    {Role::kNurse, "nurse"},
    {Role::kFrontDesk, "front-desk"},
    {Role::kBilling, "billing"},
    {Role::kLab, "lab"},
    {Role::kPharmacist, "pharmacist"},
    {Role::kPrivacyOfficer, "privacy-officer"},
    {Role::kResearcher, "researcher"},
    {Role::kAdministrator, "administrator"},
    {Role::kPatient, "patient"},
    {Role::kProxy, "proxy"},
    {Role::kBackendService, "backend-service"},
    {Role::kSystem, "system"},
}};

}  // namespace

std::string_view RoleName(Role role) {
  for (const auto& [r, name] : kNames) {
    if (r == role) {
      return name;
    }
  }
  return "system";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (const auto& [r, n] : kNames) {
    if (n == name) {
      return r;
    }
  }
  return std::nullopt;
}

std::vector<std::string> UserRoleNames() {
  std::vector<std::string> out;
  for (const auto& [r, n] : kNames) {
    if (r != Role::kBackendService && r != Role::kSystem) {
      out.emplace_back(n);
    }
  }
  return out;
}

std::vector<std::string> RoleScopeCeiling(Role role) {
  std::vector<std::string> out = {"openid",         "fhirUser",       "profile",
                                  "launch",         "launch/patient", "launch/encounter",
                                  "offline_access", "online_access"};
  switch (role) {
    case Role::kPatient:
    case Role::kProxy:
      // Reads of their record; their own Consent (sharing restrictions, docs/access-policy.md);
      // the portal's messages, appointment requests, correction requests (Task) and forms
      // (docs/portal-api.md: the access policy keeps each write to their own records).
      out.insert(out.end(),
                 {"patient/*.rs", "patient/Consent.cu", "patient/Communication.cu",
                  "patient/Appointment.cu", "patient/Task.cu", "patient/QuestionnaireResponse.cu"});
      break;
    case Role::kResearcher:
    case Role::kPrivacyOfficer:
      out.insert(out.end(), {"user/*.rs", "patient/*.rs"});
      break;
    case Role::kBackendService:
    case Role::kSystem:
      out = {"system/*.cruds"};
      break;
    default:
      out.insert(out.end(), {"user/*.cruds", "patient/*.cruds"});
  }
  return out;
}

bool IsClinicalRole(Role role) {
  switch (role) {
    case Role::kPhysician:
    case Role::kNurse:
    case Role::kLab:
    case Role::kPharmacist:
    case Role::kFrontDesk:
    case Role::kAdministrator:
      return true;
    default:
      return false;
  }
}

}  // namespace carechart::auth
