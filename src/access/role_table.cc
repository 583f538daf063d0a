// Reading the role table (default_policy.json's format; docs/access-policy.md describes it).
#include <array>
#include <utility>

#include "access/policy.h"
#include "auth/roles.h"
#include "fhir/json.h"

namespace carechart::access {

extern const std::string_view kDefaultPolicyJson;

namespace {

StatusOr<std::vector<std::string>> Strings(const json::Value* v, const std::string& path) {
  std::vector<std::string> out;
  if (v == nullptr) {
    return out;
  }
  if (!v->is_array()) {
    return InvalidError("access policy: " + path + " must be an array of strings", path);
  }
  for (const json::Value& item : v->items()) {
    if (!item.is_string()) {
      return InvalidError("access policy: " + path + " must hold strings only", path);
    }
    out.push_back(item.text());
  }
  return out;
}

StatusOr<Reach> ParseReach(std::string_view s, const std::string& path) {
  static constexpr std::array<std::pair<std::string_view, Reach>, 6> kReaches{{
      {"all", Reach::kAll},
      {"care", Reach::kCare},
      {"facility", Reach::kFacility},
      {"related", Reach::kRelated},
      {"own", Reach::kOwn},
      {"proxy", Reach::kProxy},
  }};
  for (const auto& [name, reach] : kReaches) {
    if (name == s) {
      return reach;
    }
  }
  return InvalidError("access policy: " + path + " '" + std::string(s) +
                          "' is not one of all, care, facility, related, own, proxy",
                      path);
}

StatusOr<RolePolicy> ParseRole(const json::Value& v, const std::string& path) {
  if (!v.is_object()) {
    return InvalidError("access policy: " + path + " must be an object", path);
  }
  RolePolicy r;
  ASSIGN_OR_RETURN(auto read, Strings(v.find("read"), path + ".read"));
  ASSIGN_OR_RETURN(auto write, Strings(v.find("write"), path + ".write"));
  ASSIGN_OR_RETURN(r.read, TypeSet::Parse(read, path + ".read"));
  ASSIGN_OR_RETURN(r.write, TypeSet::Parse(write, path + ".write"));
  std::string_view reach = v.string_at("reach");
  if (reach.empty()) {
    return InvalidError("access policy: " + path + ".reach is required", path + ".reach");
  }
  ASSIGN_OR_RETURN(r.reach, ParseReach(reach, path + ".reach"));
  auto flag = [&](const char* name) {
    const json::Value* f = v.find(name);
    return f != nullptr && f->is_bool() && f->as_bool();
  };
  r.deidentify = flag("deidentify");
  r.break_glass = flag("break_glass");
  r.review_break_glass = flag("review_break_glass");
  return r;
}

StatusOr<std::vector<SensitivityRule>> ParseSensitivity(const json::Value* v) {
  std::vector<SensitivityRule> out;
  if (v == nullptr) {
    return out;
  }
  if (!v->is_array()) {
    return InvalidError("access policy: sensitivity must be an array", "sensitivity");
  }
  for (size_t i = 0; i < v->items().size(); ++i) {
    const json::Value& item = v->items()[i];
    std::string path = "sensitivity[" + std::to_string(i) + "]";
    SensitivityRule rule;
    rule.category = std::string(item.string_at("category"));
    rule.system = std::string(item.string_at("system"));
    if (rule.category.empty()) {
      return InvalidError("access policy: " + path + ".category is required", path);
    }
    ASSIGN_OR_RETURN(rule.code_prefixes,
                     Strings(item.find("code_prefixes"), path + ".code_prefixes"));
    out.push_back(std::move(rule));
  }
  return out;
}

}  // namespace

StatusOr<PolicyConfig> ParsePolicyConfig(std::string_view json_text) {
  ASSIGN_OR_RETURN(json::Value root, json::Parse(json_text));
  if (!root.is_object()) {
    return InvalidError("access policy: the file must hold a JSON object");
  }
  PolicyConfig c;
  std::string_view mode = root.string_at("mode");
  if (mode == "emr") {
    c.mode = Mode::kEmr;
  } else if (mode.empty() || mode == "ehr") {
    c.mode = Mode::kEhr;
  } else {
    return InvalidError(
        "access policy: mode must be \"ehr\" or \"emr\", not '" + std::string(mode) + "'", "mode");
  }
  if (const json::Value* h = root.find("emergency_access_hours"); h != nullptr) {
    double hours = h->is_number() ? std::strtod(h->text().c_str(), nullptr) : -1;
    if (!(hours > 0 && hours <= 24 * 7)) {
      return InvalidError("access policy: emergency_access_hours must be a number in (0, 168]",
                          "emergency_access_hours");
    }
    c.emergency_access_seconds = static_cast<int64_t>(hours * 3600);
  }
  ASSIGN_OR_RETURN(auto overrides,
                   Strings(root.find("emergency_overrides"), "emergency_overrides"));
  c.emergency_overrides.insert(overrides.begin(), overrides.end());
  ASSIGN_OR_RETURN(auto refs, Strings(root.find("reference_types"), "reference_types"));
  c.reference_types.insert(refs.begin(), refs.end());
  ASSIGN_OR_RETURN(auto named, Strings(root.find("named_only_types"), "named_only_types"));
  c.named_only_types.insert(named.begin(), named.end());
  const json::Value* roles = root.find("roles");
  if (roles == nullptr || !roles->is_object()) {
    return InvalidError("access policy: roles must be an object with one member per role", "roles");
  }
  for (const auto& [name, value] : roles->members()) {
    auto role = auth::ParseRole(name);
    if (!role) {
      return InvalidError("access policy: roles." + name + " is not a Carechart role",
                          "roles." + name);
    }
    ASSIGN_OR_RETURN(RolePolicy r, ParseRole(value, "roles." + name));
    c.roles[*role] = std::move(r);
  }
  for (int i = 0; i <= static_cast<int>(auth::Role::kSystem); ++i) {
    auto role = static_cast<auth::Role>(i);
    if (!c.roles.contains(role)) {
      return InvalidError("access policy: roles." + std::string(auth::RoleName(role)) +
                              " is missing (every role needs a row, even an empty one)",
                          "roles");
    }
  }
  ASSIGN_OR_RETURN(c.sensitivity, ParseSensitivity(root.find("sensitivity")));
  return c;
}

std::string_view DefaultPolicyJson() { return kDefaultPolicyJson; }

const PolicyConfig& DefaultPolicyConfig() {
  static const PolicyConfig config = [] {
    auto parsed = ParsePolicyConfig(kDefaultPolicyJson);
    if (!parsed.ok()) {
      // The shipped table is tested; failing here is a build defect, not bad input.
      std::abort();
    }
    return std::move(parsed).value();
  }();
  return config;
}

}  // namespace carechart::access
