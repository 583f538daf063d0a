// SMART App Launch v2 scopes (https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html)
// and the one check every place that serves or changes a resource calls: ScopesAllow().
//
// Grammar: (patient|user|system) "/" (ResourceType|"*") "." permissions ["?" param "=" value],
// where permissions are v2 letters in the order c r u d s (create, read, update, delete, search)
// or the v1 words read (= rs), write (= cud) and * (= cruds). The only granular parameter
// Carechart evaluates is `category` (a token: `code` or `system|code`), on any type that has a
// `category` element; a scope with another parameter is not granted. Non-resource scopes
// (openid, fhirUser, profile, launch, launch/patient, launch/encounter, offline_access,
// online_access) are kept as they are.
//
// Interactions map to letters as in SMART v2: read, vread and instance history → r; search, type
// and system history → s; create → c; update and patch → u; delete → d. Operations need the
// letter of what they do ($everything: r on Patient plus every returned resource's own check;
// $validate: nothing is stored, so r on the type).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/principal.h"
#include "fhir/json.h"

namespace carechart::auth {

enum class ScopeContext { kPatient, kUser, kSystem };

struct ResourceScope {
  ScopeContext context = ScopeContext::kUser;
  std::string type;         // resource type, or "*"
  std::string permissions;  // subset of "cruds", in that order
  // Granular restriction: only resources with a category coding matching these (empty: none).
  std::string category_system;  // empty: any system
  std::string category_code;
  bool has_category = false;
};

// Parses one clinical scope; nullopt (with `error` set) for a malformed one or one that is not a
// resource scope (use IsResourceScope first to tell them apart).
std::optional<ResourceScope> ParseResourceScope(std::string_view scope, std::string* error);
bool IsResourceScope(std::string_view scope);
// The v2 text of a parsed scope ("patient/Observation.rs?category=laboratory").
std::string ScopeText(const ResourceScope& scope);

// Splits a space-separated scope string (runs of spaces allowed).
std::vector<std::string> SplitScopes(std::string_view scopes);
std::string JoinScopes(const std::vector<std::string>& scopes);

// The scopes of `requested` that `allowed` covers, narrowed where a requested scope is wider than
// what is allowed (user/*.cruds requested, user/*.rs allowed → user/*.rs). Non-resource scopes
// pass when `allowed` lists them. Unknown or malformed scopes are dropped. Order follows
// `requested`; duplicates are removed.
std::vector<std::string> IntersectScopes(const std::vector<std::string>& requested,
                                         const std::vector<std::string>& allowed);

// Does `principal` hold a scope allowing `interaction` (one of "cruds") on `type`? With
// `resource`, granular (category) scopes are checked against it; without, a granular scope
// counts as allowing the interaction at type level (the results are filtered one by one).
// Scopes only: facility, care relationship, compartment and consent are the access policy's
// (src/access). A principal of role kSystem (in-process work) is always allowed.
bool ScopesAllow(const Principal& principal, std::string_view type, char interaction,
                 const json::Value* resource = nullptr);

// True when, for `type`, the principal's only scopes allowing `interaction` are patient/ scopes:
// the access policy must then confine the request to the token's patient compartment.
bool OnlyPatientScopes(const Principal& principal, std::string_view type, char interaction);

// True when some scope for `type` (or *) allowing `interaction` is granular, so that every
// resource must be parsed and checked with ScopesAllow(..., resource).
bool NeedsResourceCheck(const Principal& principal, std::string_view type, char interaction);

// The granular scopes bounding what `principal` gets of `type` through any of `letters` ("rs"):
// nullopt when a scope without a category covers it (or the principal is kSystem); otherwise the
// category-restricted scopes that do (empty: none does). Used to push the restriction into a
// search so that pages and totals count only what the token may see.
std::optional<std::vector<ResourceScope>> GranularScopesOnly(const Principal& principal,
                                                             std::string_view type,
                                                             std::string_view letters);

// The scope to name in a 403 ("user/Observation.r" or, for patient tokens, "patient/...").
std::string MissingScopeText(const Principal& principal, std::string_view type, char interaction);

}  // namespace carechart::auth
