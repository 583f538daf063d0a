#include "rest/scope_check.h"

#include "auth/scopes.h"
#include "fhir/definitions.h"
#include "rest/outcome.h"

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

}  // namespace carechart::rest
