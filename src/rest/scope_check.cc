#include "rest/scope_check.h"

#include "auth/scopes.h"
#include "fhir/definitions.h"
#include "rest/outcome.h"
#include "store/search_query.h"

namespace carechart::rest {

namespace {

http::Response Forbidden(const RequestContext& ctx, std::string_view type, char interaction,
                         const std::string& what) {
  std::string scope = auth::MissingScopeText(*ctx.principal, type, interaction);
  http::Response r = ErrorResponse(
      {StatusCode::kForbidden, "the access token's scopes do not allow " + what +
                                   "; it needs a scope such as " + scope +
                                   " (granted: " + auth::JoinScopes(ctx.principal->scopes) + ")"});
  r.set_header("WWW-Authenticate",
               "Bearer realm=\"carechart\", error=\"insufficient_scope\", scope=\"" + scope + "\"");
  return r;
}

// The interaction letter of a request on a type (search, create, conditional writes) or an
// instance (read, update, patch, delete).
char Letter(const std::string& method, bool instance) {
  if (method == "GET" || method == "HEAD") {
    return instance ? 'r' : 's';
  }
  if (method == "POST") {
    return 'c';
  }
  if (method == "PUT" || method == "PATCH") {
    return 'u';
  }
  return method == "DELETE" ? 'd' : 'r';
}

std::optional<http::Response> Need(const RequestContext& ctx, std::string_view type,
                                   char interaction, const std::string& what) {
  if (auth::ScopesAllow(*ctx.principal, type, interaction)) {
    return std::nullopt;
  }
  return Forbidden(ctx, type, interaction, what);
}

// True when some resource scope of any type allows `interaction`.
bool AnyScopeWith(const auth::Principal& p, char interaction) {
  for (const std::string& s : p.scopes) {
    auto parsed = auth::IsResourceScope(s) ? auth::ParseResourceScope(s, nullptr) : std::nullopt;
    if (parsed && parsed->permissions.find(interaction) != std::string::npos) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::optional<http::Response> CheckRequestScopes(const RequestContext& ctx,
                                                 const std::vector<std::string>& parts) {
  if (!ctx.principal) {
    return std::nullopt;
  }
  const std::string& m = ctx.http.method;
  if (parts.empty() || parts[0] == "_history" || parts[0] == "_search") {
    if (m == "POST" && parts.empty()) {
      return std::nullopt;  // batch/transaction: entries are checked one by one
    }
    // System-level search/history: any search scope lets it run; results are filtered by type.
    if (AnyScopeWith(*ctx.principal, 's')) {
      return std::nullopt;
    }
    return Forbidden(ctx, "*", 's', "a system-level search or history");
  }
  if (parts[0] == "$export") {
    // Bulk export: the exporter filters each resource by type (auth::ScopesAllow); the kick-off
    // needs a read scope on something.
    if (AnyScopeWith(*ctx.principal, 'r')) {
      return std::nullopt;
    }
    return Forbidden(ctx, "*", 'r', "$export");
  }
  if (parts[0] == "$import") {
    return Need(ctx, "*", 'c', "$import");
  }
  if (parts[0] == "$reindex") {
    return Need(ctx, "*", 'u', "$reindex");
  }
  if (parts[0] == "metadata" || !fhir::IsResourceType(parts[0])) {
    return std::nullopt;  // public, or answered 404 by the router
  }
  const std::string& type = parts[0];
  if (parts.size() == 1) {
    return Need(ctx, type, Letter(m, false), m + " on " + type);
  }
  const std::string& second = parts[1];
  if (second == "_search" || second == "_history") {
    return Need(ctx, type, 's', "searching or the history of " + type);
  }
  if (second == "$validate") {
    return Need(ctx, type, 'r', "$validate on " + type);
  }
  if (parts.size() == 2) {
    return Need(ctx, type, Letter(m, true), m + " on " + type + "/" + second);
  }
  const std::string& third = parts[2];
  if (third == "_history" || third == "$validate") {
    return Need(ctx, type, 'r', "reading " + type + "/" + second);
  }
  if (third == "$everything") {
    return Need(ctx, type, 'r', "$everything on " + type + "/" + second);
  }
  if (third == "*") {
    return Need(ctx, "Patient", 'r', "a compartment search");
  }
  if (fhir::IsResourceType(third)) {
    return Need(ctx, third, 's', "searching " + third + " in " + type + "/" + second);
  }
  return Need(ctx, type, Letter(m, true), m + " on " + ctx.http.path);
}

std::optional<http::Response> CheckTransactionScopes(const RequestContext& ctx,
                                                     const ParsedBundle& bundle) {
  if (!ctx.principal || bundle.type != "transaction") {
    return std::nullopt;
  }
  for (const BundleEntry& e : bundle.entries) {
    if (e.method == "GET" || e.method == "HEAD") {
      continue;
    }
    char letter = Letter(e.method, !e.id.empty());
    if (!auth::ScopesAllow(*ctx.principal, e.type, letter)) {
      return Forbidden(ctx, e.type, letter, e.Where() + " (" + e.method + " " + e.url + ")");
    }
  }
  return std::nullopt;
}

bool ResourceInScope(const RequestContext& ctx, const store::ResourceVersion& v) {
  if (!ctx.principal) {
    return true;
  }
  const auth::Principal& p = *ctx.principal;
  for (char letter : {'r', 's'}) {
    if (!auth::ScopesAllow(p, v.type, letter)) {
      continue;
    }
    if (v.deleted || v.body.empty() || !auth::NeedsResourceCheck(p, v.type, letter)) {
      return true;
    }
    auto parsed = json::Parse(v.body);
    if (parsed.ok() && auth::ScopesAllow(p, v.type, letter, &*parsed)) {
      return true;
    }
  }
  return false;
}

namespace {

const char* Verb(char letter) {
  return letter == 'c' ? "create" : letter == 'u' ? "update" : "delete";
}

}  // namespace

Status CheckWriteScopes(const RequestContext& ctx, char letter, const json::Value* resource,
                        const store::ResourceVersion* existing) {
  if (!ctx.principal) {
    return Status::Ok();
  }
  const auth::Principal& p = *ctx.principal;
  auto refuse = [&](const std::string& type, const std::string& what, const std::string& where) {
    return Status(StatusCode::kForbidden,
                  "the access token's scopes do not allow " + std::string(Verb(letter)) + " " +
                      what + ": its category is outside every " + std::string(1, letter) +
                      " scope granted for " + type + " (granted: " + auth::JoinScopes(p.scopes) +
                      ")",
                  where);
  };
  if (existing != nullptr && !existing->deleted && !existing->body.empty() &&
      auth::NeedsResourceCheck(p, existing->type, letter)) {
    auto stored = json::Parse(existing->body);
    if (!stored.ok() || !auth::ScopesAllow(p, existing->type, letter, &*stored)) {
      return refuse(existing->type, existing->type + "/" + existing->id, "");
    }
  }
  if (resource != nullptr) {
    std::string type(resource->string_at("resourceType"));
    if (!auth::ScopesAllow(p, type, letter, resource)) {
      return refuse(type, "this " + type, type + ".category");
    }
  }
  return Status::Ok();
}

void NarrowSearchToScopes(const RequestContext& ctx, store::SearchQuery& query) {
  if (!ctx.principal) {
    return;
  }
  if (query.type.empty()) {  // several types: only a plain scope on * keeps the count honest
    if (ScopesHideSome(ctx, "")) {
      query.want_total = false;
    }
    return;
  }
  auto granular = auth::GranularScopesOnly(*ctx.principal, query.type, "rs");
  if (!granular || granular->empty()) {
    return;  // every row is in scope (or none: the type-level check has refused already)
  }
  // The scopes' categories as one token clause (values ORed), when `category` is the type's own
  // token parameter on the element CategoryMatches() reads, and no code needs escaping.
  const fhir::SearchParamDef* def = fhir::FindSearchParam(query.type, "category");
  std::string values;
  bool expressible = def != nullptr && def->type == fhir::SearchParamType::kToken &&
                     def->expression == query.type + ".category";
  for (const auth::ResourceScope& s : *granular) {
    std::string value =
        s.category_system.empty() ? s.category_code : s.category_system + "|" + s.category_code;
    if (s.category_system.find_first_of(",|$\\") != std::string::npos ||
        s.category_code.find_first_of(",|$\\") != std::string::npos) {
      expressible = false;
    }
    values += (values.empty() ? "" : ",") + value;
  }
  if (expressible) {
    auto parsed = store::ParseSearch(query.type, {{"category", values}});
    if (parsed.ok() && parsed->clauses.size() == 1) {
      query.clauses.push_back(std::move(parsed->clauses.front()));
      return;
    }
  }
  query.want_total = false;
}

bool ScopesHideSome(const RequestContext& ctx, const std::string& type) {
  if (!ctx.principal) {
    return false;
  }
  // For "any type", only a plain scope on * (TypeCovers("*", "*")) covers everything.
  return auth::GranularScopesOnly(*ctx.principal, type.empty() ? "*" : type, "rs").has_value();
}

}  // namespace carechart::rest
