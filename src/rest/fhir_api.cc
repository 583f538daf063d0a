// The router: from method and path to one interaction, after content negotiation.
#include "rest/fhir_api.h"
#include "http/url.h"

#include <mutex>

#include "access/access_control.h"
#include "fhir/custom_params_generation.h"
#include "fhir/definitions.h"
#include "rest/access_hooks.h"
#include "rest/bundle_processing.h"
#include "rest/capability.h"
#include "rest/interactions.h"
#include "rest/outcome.h"
#include "rest/portal_ops.h"
#include "rest/reindex_op.h"
#include "rest/resource_prep.h"
#include "rest/scope_check.h"
#include "rest/search_handlers.h"

namespace carechart::rest {

struct FhirApi::State {
  store::ResourceStore& store;
  ApiOptions options;
  std::string capability;
  std::vector<FhirApi::ExtraRoute> extra_routes;
  std::unique_ptr<ReindexJob> reindex{};  // POST/GET [base]/$reindex (reindex_op.h)
  // The access policy and audit trail (src/access): requests use `audited`, which records an
  // AuditEvent in the transaction of every write a signed-in principal makes.
  std::unique_ptr<access::AuditedStore> audited{};
  std::unique_ptr<access::AccessControl> access{};
  // The CapabilityStatement, rebuilt when a SearchParameter resource adds or removes a
  // run-time search parameter (it lists them at once).
  struct CapabilityCache {
    std::mutex mu;
    uint64_t generation = 0;
    std::shared_ptr<const std::string> text;
  };
  std::unique_ptr<CapabilityCache> capability_cache = std::make_unique<CapabilityCache>();

  std::shared_ptr<const std::string> Capability() {
    uint64_t now = fhir::CustomSearchParamsGeneration();
    std::lock_guard lock(capability_cache->mu);
    if (!capability_cache->text || capability_cache->generation != now) {
      capability_cache->text = std::make_shared<const std::string>(
          capability_cache->text ? BuildCapabilityStatement(options) : capability);
      capability_cache->generation = now;
    }
    return capability_cache->text;
  }
};

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// Checks _format, Accept, _pretty, _summary and _elements; fills the context.
Status Negotiate(RequestContext& ctx) {
  // Patient/[id]/$summary also answers HTML (the printable summary; portal_ops.h).
  bool html_ok = ctx.http.path.ends_with("/$summary") && WantsHtml(ctx.http);
  for (const auto& [k, v] : ctx.http.query) {
    if (k == "_format" && !http::IsFhirJsonMediaType(v) && !html_ok) {
      return {StatusCode::kUnsupportedMediaType,
              "_format '" + v + "' is not supported; Carechart speaks FHIR JSON (_format=json)"};
    }
    if (k == "_pretty") {
      if (v != "true" && v != "false") {
        return InvalidError("_pretty must be true or false", "_pretty");
      }
      ctx.pretty = v == "true";
    }
    if (k == "_summary") {
      if (v != "true" && v != "false" && v != "text" && v != "data" && v != "count") {
        return InvalidError("_summary must be true, false, text, data or count", "_summary");
      }
      ctx.summary = v == "false" ? "" : v;
    }
    if (k == "_elements") {
      size_t pos = 0;
      while (pos <= v.size()) {
        size_t comma = v.find(',', pos);
        if (comma == std::string::npos) {
          comma = v.size();
        }
        std::string e = v.substr(pos, comma - pos);
        if (auto dot = e.find('.'); dot != std::string::npos) {
          e = e.substr(dot + 1);
        }
        if (!e.empty()) {
          ctx.elements.push_back(e);
        }
        pos = comma + 1;
      }
    }
  }
  std::string_view accept = ctx.http.header("accept");
  bool has_format = std::any_of(ctx.http.query.begin(), ctx.http.query.end(),
                                [](const auto& p) { return p.first == "_format"; });
  if (!accept.empty() && !has_format && !html_ok) {
    std::string a = Lower(accept);
    if (a.find("json") == std::string::npos && a.find("*/*") == std::string::npos &&
        a.find("application/*") == std::string::npos) {
      return {StatusCode::kUnsupportedMediaType,
              "Accept '" + std::string(accept) +
                  "' asks for a format Carechart does not produce; accept application/fhir+json"};
    }
  }
  return Status::Ok();
}

http::Response MethodNotAllowed(const RequestContext& ctx, const char* allow) {
  http::Response r =
      ErrorResponse({StatusCode::kMethodNotAllowed, ctx.http.method + " is not allowed on " +
                                                        ctx.http.path + "; allowed: " + allow});
  r.set_header("Allow", allow);
  return r;
}

http::Response RouteType(RequestContext& ctx, bool has_params) {
  const std::string& m = ctx.http.method;
  if (auto refused = RefuseAuditEventChange(ctx)) {
    return *refused;
  }
  if (m == "GET") {
    return HandleSearch(ctx);
  }
  if (m == "POST") {
    return HandleCreate(ctx);
  }
  if (m == "PUT" && has_params) {
    return HandleConditionalUpdate(ctx);
  }
  if (m == "DELETE" && has_params) {
    return HandleConditionalDelete(ctx);
  }
  if (m == "PATCH" && has_params) {
    return HandlePatch(ctx);
  }
  if (m == "PUT" || m == "DELETE" || m == "PATCH") {
    return ErrorResponse(InvalidError(m +
                                      " on a type needs an id in the URL or search "
                                      "parameters (a conditional " +
                                      m + ")"));
  }
  return MethodNotAllowed(ctx, "GET, POST, PUT, PATCH, DELETE");
}

http::Response RouteInstance(RequestContext& ctx) {
  const std::string& m = ctx.http.method;
  if (auto refused = RefuseAuditEventChange(ctx)) {
    return *refused;
  }
  if (m == "GET" || m == "HEAD") {
    return HandleRead(ctx);
  }
  if (m == "PUT") {
    return HandleUpdate(ctx);
  }
  if (m == "PATCH") {
    return HandlePatch(ctx);
  }
  if (m == "DELETE") {
    return HandleDelete(ctx);
  }
  return MethodNotAllowed(ctx, "GET, PUT, PATCH, DELETE");
}

http::Response Route(RequestContext& ctx, const std::vector<std::string>& parts,
                     const std::string& capability) {
  const std::string& m = ctx.http.method;
  bool has_params = !ctx.SearchParams().empty();
  if (parts.empty()) {
    if (m == "GET") {
      return HandleSearch(ctx);
    }
    if (m == "POST") {
      // A batch or transaction Bundle. Its batch entries and GET entries come back through this
      // router as requests of their own, with the facility and actor of the Bundle's request.
      return HandleBundle(ctx, [&](const http::Request& sub) {
        RequestContext sub_ctx{sub, ctx.store, ctx.options};
        sub_ctx.base_url = ctx.base_url;
        sub_ctx.facility_id = ctx.facility_id;
        sub_ctx.facility_name = ctx.facility_name;
        sub_ctx.actor = ctx.actor;
        sub_ctx.principal = ctx.principal;
        sub_ctx.access_control = ctx.access_control;
        if (Status s = Negotiate(sub_ctx); !s.ok()) {
          return ErrorResponse(s);
        }
        std::string_view sub_path = sub.path;
        sub_path.remove_prefix(std::min<size_t>(sub_path.size(), 5));  // "/fhir"
        std::vector<std::string> sub_parts = http::SplitPath(sub_path);
        if (auto refused = CheckRequestScopes(sub_ctx, sub_parts)) {
          return *refused;  // SMART scopes, entry by entry (src/auth/scopes.h)
        }
        http::Response r = Route(sub_ctx, sub_parts, capability);
        FinishAccess(sub_ctx, r);  // the entry's AuditEvent (reads) and emergency flag
        if (sub.method == "HEAD") {
          r.body.clear();
        }
        return r;
      });
    }
    return MethodNotAllowed(ctx, "GET, POST");
  }
  const std::string& first = parts[0];
  if (first == "metadata" && parts.size() == 1) {
    if (m != "GET" && m != "HEAD") {
      return MethodNotAllowed(ctx, "GET, HEAD");
    }
    http::Response r;
    r.set_header("Content-Type", kFhirJson);
    r.body = ctx.pretty ? RenderBody(capability, ctx, true) : capability;
    return r;
  }
  if (first == "_history" && parts.size() == 1) {
    if (m != "GET") {
      return MethodNotAllowed(ctx, "GET");
    }
    return HandleHistory(ctx);
  }
  if (first == "_search" && parts.size() == 1) {
    if (m != "POST" && m != "GET") {
      return MethodNotAllowed(ctx, "GET, POST");
    }
    return HandleSearch(ctx);
  }
  if (first == "$emergency-access-review" && parts.size() == 1) {
    return HandleEmergencyReviewQueue(ctx);
  }
  if (!fhir::IsResourceType(first)) {
    return ErrorResponse(NotFoundError("'" + first + "' is not a FHIR R4 resource type"));
  }
  ctx.type = first;
  if (parts.size() == 1) {
    return RouteType(ctx, has_params);
  }
  const std::string& second = parts[1];
  if (parts.size() == 2 && second == "_search") {
    if (m != "POST" && m != "GET") {
      return MethodNotAllowed(ctx, "GET, POST");
    }
    return HandleSearch(ctx);
  }
  if (parts.size() == 2 && second == "_history") {
    if (m != "GET") {
      return MethodNotAllowed(ctx, "GET");
    }
    return HandleHistory(ctx);
  }
  if (parts.size() == 2 && second == "$validate") {
    return HandleValidate(ctx);
  }
  if (parts.size() == 2 && second == "$book" && ctx.type == "Appointment") {
    return HandleAppointmentBook(ctx);
  }
  if (!second.empty() && second[0] == '$') {
    return ErrorResponse({StatusCode::kNotImplemented,
                          "operation " + second + " is not supported on " + ctx.type + " yet"});
  }
  if (!IsValidId(second)) {
    return ErrorResponse(InvalidError("'" + second +
                                      "' is not a valid FHIR id (1-64 of "
                                      "A-Z a-z 0-9 - .)"));
  }
  ctx.id = second;
  if (parts.size() == 2) {
    return RouteInstance(ctx);
  }
  const std::string& third = parts[2];
  if (third == "$validate" && parts.size() == 3) {
    return HandleValidate(ctx);
  }
  if (third == "_history") {
    if (m != "GET") {
      return MethodNotAllowed(ctx, "GET");
    }
    if (parts.size() == 3) {
      return HandleHistory(ctx);
    }
    if (parts.size() == 4) {
      ctx.version = parts[3];
      return HandleVread(ctx);
    }
  }
  if (third == "$everything" && parts.size() == 3 && ctx.type == "Patient") {
    return HandleEverything(ctx);
  }
  if (third == "$emergency-access" && parts.size() == 3 && ctx.type == "Patient") {
    return HandleEmergencyAccess(ctx);
  }
  if (third == "$emergency-access-review" && parts.size() == 3 && ctx.type == "Basic") {
    return HandleEmergencyReview(ctx);
  }
  if (third == "$summary" && parts.size() == 3 && ctx.type == "Patient") {
    return HandlePatientSummary(ctx);
  }
  if (!third.empty() && third[0] == '$') {
    return ErrorResponse({StatusCode::kNotImplemented,
                          "operation " + third + " is not supported on " + ctx.type + " yet"});
  }
  bool compartment_search = parts.size() == 4 && parts[3] == "_search";
  if ((parts.size() == 3 || compartment_search) && (third == "*" || fhir::IsResourceType(third))) {
    if (compartment_search) {
      ctx.operation = "_search";
    }
    if (ctx.type != "Patient") {
      return ErrorResponse(
          NotFoundError("compartment search is supported for Patient only, "
                        "not " +
                        ctx.type));
    }
    return HandleCompartmentSearch(ctx, third);
  }
  return ErrorResponse(NotFoundError("no FHIR interaction matches " + ctx.http.path));
}

}  // namespace

FhirApi::FhirApi(store::ResourceStore& store, ApiOptions options)
    : state_(std::make_unique<State>(State{store, std::move(options), {}, {}})) {
  LoadStoredSearchParameters(store);  // before the CapabilityStatement, which lists them
  state_->capability = BuildCapabilityStatement(state_->options);
  state_->reindex = std::make_unique<ReindexJob>(store);
  state_->audited = std::make_unique<access::AuditedStore>(store);
  state_->access = std::make_unique<access::AccessControl>(
      store, state_->options.access_policy ? *state_->options.access_policy
                                           : access::DefaultPolicyConfig());
}

FhirApi::~FhirApi() = default;

void FhirApi::AddRoute(ExtraRoute route) { state_->extra_routes.push_back(std::move(route)); }

Status FhirApi::EnsureFacility() {
  const ApiOptions& o = state_->options;
  if (!IsValidId(o.facility_id)) {
    return InvalidError("facility id '" + o.facility_id +
                        "' is not a valid FHIR id (setting "
                        "facility.id / --facility)");
  }
  auto existing = state_->store.Read("Organization", o.facility_id);
  if (existing.ok() && !existing->deleted) {
    return Status::Ok();
  }
  http::Request fake;
  fake.method = "PUT";
  RequestContext ctx{fake, state_->store, o};
  ctx.type = "Organization";
  ctx.facility_id = o.facility_id;
  ctx.facility_name = o.facility_name;
  auto org = json::Value::Object();
  org.set("resourceType", json::Value::String("Organization"));
  org.set("active", json::Value::Bool(true));
  org.set("name", json::Value::String(o.facility_name.empty() ? o.facility_id : o.facility_name));
  int64_t version = existing.ok() ? existing->version + 1 : 1;
  store::PreparedWrite w = PrepareVersion(std::move(org), ctx, o.facility_id, version, "PUT");
  return state_->store.Write([&](store::WriteTxn& txn) -> Status {
    ASSIGN_OR_RETURN(store::CurrentVersion cur, txn.Current(w.type, w.id));
    if (version == 1 && cur.version > 0 && !cur.deleted) {
      return Status::Ok();  // another node starting at the same time made it first
    }
    if (cur.version != version - 1) {
      return ConflictError("facility changed during start-up");
    }
    return txn.Put(w);
  });
}

http::Response FhirApi::Handle(const http::Request& request) { return Handle(request, nullptr); }

access::AccessControl& FhirApi::Access() { return *state_->access; }

http::Response FhirApi::Handle(const http::Request& request,
                               std::shared_ptr<const auth::Principal> principal) {
  RequestContext ctx{request, *state_->audited, state_->options};
  ctx.principal = std::move(principal);
  if (ctx.principal) {
    // recorded-by: the signed-in user, or the SMART client acting as itself.
    ctx.actor = !ctx.principal->user_id.empty() ? ctx.principal->user_id : ctx.principal->client_id;
  }
  ctx.access_control = state_->access.get();
  const ApiOptions& o = state_->options;
  if (!o.public_base_url.empty()) {
    ctx.base_url = o.public_base_url;
  } else {
    std::string_view host = request.header("host");
    ctx.base_url = "http://" + std::string(host.empty() ? "localhost" : host) + "/fhir";
  }
  ctx.facility_id = o.facility_id;
  ctx.facility_name = o.facility_name;
  if (auto f = request.header("x-carechart-facility"); !f.empty()) {
    auto org = IsValidId(f) ? state_->store.Read("Organization", std::string(f))
                            : StatusOr<store::ResourceVersion>(NotFoundError(""));
    if (!org.ok() || org->deleted) {
      return ErrorResponse(InvalidError("X-Carechart-Facility names Organization/" +
                                        std::string(f) + ", which does not exist"));
    }
    ctx.facility_id = std::string(f);
    ctx.facility_name.clear();
    if (auto refused = CheckFacilityClaim(ctx)) {  // only the user's own facilities (D2)
      return *refused;
    }
  }
  if (Status s = Negotiate(ctx); !s.ok()) {
    return ErrorResponse(s);
  }
  Guard(ctx);  // from here on, writes of this principal are audited in their transaction
  std::string_view path = request.path;
  path.remove_prefix(std::min<size_t>(path.size(), 5));  // "/fhir"
  std::vector<std::string> parts = http::SplitPath(path);
  // SMART scopes at type level before anything runs (src/auth/scopes.h, rest/scope_check.h).
  if (auto refused = CheckRequestScopes(ctx, parts)) {
    FinishAccess(ctx, *refused);
    return *refused;
  }
  if (parts.size() == 1 && parts[0] == "$reindex") {
    return state_->reindex->Handle(ctx);
  }
  std::optional<http::Response> extra;
  for (const ExtraRoute& route : state_->extra_routes) {
    if ((extra = route(request, ctx.base_url, parts, ctx.principal.get()))) {
      break;
    }
  }
  http::Response r = extra ? std::move(*extra) : Route(ctx, parts, *state_->Capability());
  FinishAccess(ctx, r);
  return r;  // for a HEAD the HTTP server sends the headers and Content-Length, not the body
}

}  // namespace carechart::rest
