// Parsing and ordering of batch/transaction Bundles, batch processing and the response Bundle.
// The transaction itself is in transaction.cc.
#include "rest/bundle_processing.h"
#include "rest/scope_check.h"

#include <algorithm>
#include <semaphore>
#include <set>
#include <thread>

#include "core/base64.h"
#include "fhir/datetime.h"
#include "fhir/definitions.h"
#include "http/url.h"
#include "rest/bundle_writer.h"
#include "rest/outcome.h"
#include "rest/reference_rewrite.h"
#include "rest/resource_prep.h"
#include "rest/write_support.h"

namespace carechart::rest {

namespace {

bool IsKnownMethod(std::string_view m) {
  return m == "GET" || m == "HEAD" || m == "POST" || m == "PUT" || m == "PATCH" || m == "DELETE";
}

// Reads request.url of an entry into method-specific fields.
Status ParseEntryUrl(BundleEntry& e, const std::string& base_url) {
  const std::string where = e.Where() + ".request.url";
  std::string_view url = e.url;
  if (url.find("://") != std::string_view::npos) {
    if (!base_url.empty() && url.starts_with(base_url + "/")) {
      url.remove_prefix(base_url.size() + 1);
    } else {
      return InvalidError(where + " '" + e.url +
                              "' is an absolute URL of another server; use a URL "
                              "relative to this server's base (e.g. 'Patient/123')",
                          where);
    }
  }
  while (url.starts_with("/")) {
    url.remove_prefix(1);
  }
  size_t q = url.find('?');
  auto path = http::PercentDecode(url.substr(0, q), false);
  if (!path) {
    return InvalidError(where + " has a malformed percent-escape", where);
  }
  e.path = *path;
  if (q != std::string_view::npos) {
    auto params = http::ParseQuery(url.substr(q + 1));
    if (!params) {
      return InvalidError(where + " has a malformed percent-escape", where);
    }
    e.query = std::move(*params);
  }
  std::vector<std::string> parts = http::SplitPath(e.path);
  if (!parts.empty() && fhir::IsResourceType(parts[0])) {
    e.type = parts[0];
  }
  if (e.method == "GET" || e.method == "HEAD") {
    return Status::Ok();  // the router checks the rest
  }
  if (parts.empty() && e.method == "POST") {
    return InvalidError(where + " '" + e.url +
                            "' is the base URL: an entry cannot be a batch or transaction of its "
                            "own; send the inner Bundle as a request of its own",
                        where);
  }
  if (parts.empty() || e.type.empty()) {
    return InvalidError(where + " '" + e.url + "' must start with a FHIR R4 resource type", where);
  }
  if (e.method == "POST") {
    if (parts.size() != 1 || !e.query.empty()) {
      return InvalidError(where + " '" + e.url +
                              "': a POST entry's url is the resource type (e.g. '" + e.type +
                              "'); use ifNoneExist for a conditional create",
                          where);
    }
    return Status::Ok();
  }
  if (parts.size() == 2 && IsValidId(parts[1]) && e.query.empty()) {
    e.id = parts[1];
    return Status::Ok();
  }
  if (parts.size() == 1 && !e.query.empty()) {
    return Status::Ok();  // conditional
  }
  return InvalidError(where + " '" + e.url + "': a " + e.method +
                          " entry's url is [type]/[id] or " + "[type]?[search] (conditional " +
                          e.method + ")",
                      where);
}

Status ParseEntry(json::Value& v, size_t index, const std::string& base_url, BundleEntry& e) {
  e.index = index;
  const std::string where = e.Where();
  if (!v.is_object()) {
    return InvalidError(where + " is not an object", where);
  }
  json::Value* request = v.find("request");
  if (!request || !request->is_object()) {
    return InvalidError(where + " has no request (method and url are needed in a " +
                            std::string("batch or transaction)"),
                        where + ".request");
  }
  const json::Value* method = request->find("method");
  e.method = method && method->is_string() ? method->text() : "";
  if (!IsKnownMethod(e.method)) {
    return InvalidError(where + ".request.method '" + e.method +
                            "' is not one of GET, HEAD, POST, PUT, PATCH, DELETE",
                        where + ".request.method");
  }
  const json::Value* url = request->find("url");
  if (!url || !url->is_string() || url->text().empty()) {
    return InvalidError(where + ".request.url is missing", where + ".request.url");
  }
  e.url = url->text();
  RETURN_IF_ERROR(ParseEntryUrl(e, base_url));
  e.full_url = std::string(v.string_at("fullUrl"));
  e.if_match = std::string(request->string_at("ifMatch"));
  e.if_none_exist = std::string(request->string_at("ifNoneExist"));
  e.if_none_match = std::string(request->string_at("ifNoneMatch"));
  e.if_modified_since = std::string(request->string_at("ifModifiedSince"));
  if (e.method != "POST" && e.method != "PUT" && e.method != "PATCH") {
    return Status::Ok();
  }
  json::Value* resource = v.find("resource");
  if (!resource || !resource->is_object()) {
    return InvalidError(where + " (" + e.method + " " + e.url + ") has no resource",
                        where + ".resource");
  }
  std::string_view rt = resource->string_at("resourceType");
  if (e.method == "PATCH") {
    // R4 carries a JSON Patch in a Binary (http.html#patch).
    if (rt != "Binary" || resource->string_at("contentType") != "application/json-patch+json") {
      return InvalidError(where + ".resource of a PATCH entry must be a Binary with contentType " +
                              "application/json-patch+json holding the JSON Patch in data",
                          where + ".resource");
    }
    auto text = Base64Decode(resource->string_at("data"));
    if (!text) {
      return InvalidError(where + ".resource.data is not base64", where + ".resource.data");
    }
    auto patch = json::Parse(*text);
    if (!patch.ok() || !patch->is_array()) {
      return InvalidError(where + ".resource.data is not a JSON Patch document (a JSON array)",
                          where + ".resource.data");
    }
    e.resource = std::move(*patch);
    e.has_resource = true;
    return Status::Ok();
  }
  if (rt != e.type) {
    return InvalidError(where + ".resource.resourceType '" + std::string(rt) +
                            "' does not match the type of request.url '" + e.url + "'",
                        where + ".resource.resourceType");
  }
  e.resource = std::move(*resource);
  e.has_resource = true;
  return Status::Ok();
}

std::string StatusText(int status) {
  switch (status) {
    case 200:
      return "200 OK";
    case 201:
      return "201 Created";
    case 204:
      return "204 No Content";
    case 304:
      return "304 Not Modified";
    case 400:
      return "400 Bad Request";
    case 401:
      return "401 Unauthorized";
    case 403:
      return "403 Forbidden";
    case 404:
      return "404 Not Found";
    case 405:
      return "405 Method Not Allowed";
    case 409:
      return "409 Conflict";
    case 410:
      return "410 Gone";
    case 412:
      return "412 Precondition Failed";
    case 413:
      return "413 Payload Too Large";
    case 415:
      return "415 Unsupported Media Type";
    case 422:
      return "422 Unprocessable Entity";
    case 500:
      return "500 Internal Server Error";
    case 501:
      return "501 Not Implemented";
    case 503:
      return "503 Service Unavailable";
  }
  return std::to_string(status);
}

std::string Header(const http::Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == b;
        })) {
      return v;
    }
  }
  return "";
}

bool IsOutcome(const std::string& body) {
  return body.starts_with("{\"resourceType\":\"OperationOutcome\"");
}

// One response entry. `last_updated_us` comes from the version when the caller has it.
std::string ResponseEntry(const RequestContext& ctx, const http::Response& r,
                          std::optional<int64_t> last_updated_us) {
  std::string location = Header(r, "location");
  if (location.starts_with(ctx.base_url + "/")) {
    location.erase(0, ctx.base_url.size() + 1);
  }
  std::string out = "{";
  if (!location.empty()) {
    std::string resource_url = location.substr(0, location.find("/_history/"));
    out += "\"fullUrl\":" + JsonString(ctx.base_url + "/" + resource_url) + ",";
  }
  bool outcome = r.status >= 400 || IsOutcome(r.body);
  if (!r.body.empty() && !outcome) {
    out += "\"resource\":" + r.body + ",";
  }
  out += "\"response\":{\"status\":" + JsonString(StatusText(r.status));
  if (!location.empty()) {
    out += ",\"location\":" + JsonString(location);
  }
  if (std::string etag = Header(r, "etag"); !etag.empty()) {
    out += ",\"etag\":" + JsonString(etag);
  }
  if (!last_updated_us && r.status < 300 && !r.body.empty() && !outcome) {
    auto parsed = json::Parse(r.body);
    if (parsed.ok()) {
      if (const json::Value* meta = parsed->find("meta"); meta && meta->is_object()) {
        std::string_view lu = meta->string_at("lastUpdated");
        if (!lu.empty()) {
          out += ",\"lastModified\":" + JsonString(lu);
        }
      }
    }
  } else if (last_updated_us) {
    out += ",\"lastModified\":" + JsonString(fhir::FormatInstant(*last_updated_us));
  }
  if (outcome && !r.body.empty()) {
    out += ",\"outcome\":" + r.body;
  }
  out += "}}";
  return out;
}

std::string ResponseBundle(const RequestContext& ctx, const std::string& type,
                           const std::vector<std::string>& entries) {
  std::string out = "{\"resourceType\":\"Bundle\",\"id\":" + JsonString(NewId());
  out += ",\"meta\":{\"lastUpdated\":" + JsonString(fhir::FormatInstant(NowMicros())) + "}";
  out += ",\"type\":" + JsonString(type) +
         ",\"link\":[{\"relation\":\"self\",\"url\":" + JsonString(ctx.base_url) + "}]";
  if (!entries.empty()) {
    out += ",\"entry\":[";
    for (size_t i = 0; i < entries.size(); ++i) {
      if (i > 0) {
        out += ',';
      }
      out += entries[i];
    }
    out += "]";
  }
  out += "}";
  if (ctx.pretty) {
    auto parsed = json::Parse(out, {.max_depth = 1000});
    if (parsed.ok()) {
      return json::Write(*parsed, {.pretty = true});
    }
  }
  return out;
}

// Large Bundles being prepared or committed at once (D51). Each holds its parse tree, prepared
// versions and index entries (tens of MB for a thousand resources) until its commit; beyond two
// per core more at once only adds memory, since they compete for the same cores and the one
// writer. Smaller Bundles never wait.
class LargeBundleSlot {
 public:
  explicit LargeBundleSlot(size_t body_bytes) : held_(body_bytes >= kLargeBundleBytes) {
    if (held_) {
      Slots().acquire();
    }
  }
  ~LargeBundleSlot() {
    if (held_) {
      Slots().release();
    }
  }
  LargeBundleSlot(const LargeBundleSlot&) = delete;
  LargeBundleSlot& operator=(const LargeBundleSlot&) = delete;

 private:
  static std::counting_semaphore<1024>& Slots() {
    static std::counting_semaphore<1024> slots(static_cast<std::ptrdiff_t>(LargeBundleSlotCount()));
    return slots;
  }
  bool held_;
};

// How many HandleBundle calls are running on this thread. A batch entry, or a transaction's GET
// entry, comes back through the router on the thread of its Bundle; were an entry a Bundle of its
// own, it would wait for a LargeBundleSlot while its outer Bundle holds one, and 2 x cores such
// outer Bundles at once would hold every slot and wait forever (D56).
thread_local int bundle_depth = 0;

class BundleDepth {
 public:
  BundleDepth() { ++bundle_depth; }
  ~BundleDepth() { --bundle_depth; }
  BundleDepth(const BundleDepth&) = delete;
  BundleDepth& operator=(const BundleDepth&) = delete;
};

// A batch entry as the request the router would get for it on its own.
http::Request EntryRequest(const RequestContext& ctx, const BundleEntry& e) {
  http::Request r;
  r.method = e.method;
  r.path = "/fhir/" + e.path;
  r.target = "/fhir/" + e.url;
  r.query = e.query;
  r.remote_address = ctx.http.remote_address;
  auto copy = [&](const char* name) {
    if (auto v = ctx.http.header(name); !v.empty()) {
      r.headers.emplace_back(name, std::string(v));
    }
  };
  copy("host");
  copy("prefer");
  copy("x-carechart-facility");
  auto add = [&](const char* name, const std::string& v) {
    if (!v.empty()) {
      r.headers.emplace_back(name, v);
    }
  };
  add("if-match", e.if_match);
  add("if-none-exist", e.if_none_exist);
  add("if-none-match", e.if_none_match);
  add("if-modified-since", e.if_modified_since);
  if (e.has_resource) {
    add("content-type",
        e.method == "PATCH" ? "application/json-patch+json" : "application/fhir+json");
    r.body = json::Write(e.resource);
  }
  return r;
}

// A batch entry: conditional references resolved, then the router does the rest.
http::Response RunBatchEntry(RequestContext& ctx, BundleEntry& e, const Dispatch& dispatch) {
  if (e.has_resource && e.method != "PATCH") {
    std::set<std::string> conditional;
    CollectConditionalReferences(e.resource, &conditional);
    ReferenceMap map;
    map.unresolved_hint =
        "; entries of a batch stand alone: send entries that reference each other as a "
        "transaction";
    for (const std::string& ref : conditional) {
      auto target = ResolveConditionalReference(ctx.store, ref);
      if (!target.ok()) {
        return ErrorResponse(Status(target.status().code(),
                                    e.Where() + ": " + target.status().message(),
                                    e.Where() + ".resource"));
      }
      map.conditional[ref] = *target;
    }
    if (Status s = RewriteReferences(e.resource, e.Where() + ".resource", map); !s.ok()) {
      return ErrorResponse(s);
    }
  }
  return dispatch(EntryRequest(ctx, e));
}

}  // namespace

StatusOr<std::string> ResolveConditionalReference(store::ResourceStore& store,
                                                  const std::string& ref,
                                                  store::SearchQuery* query_out) {
  std::string type = ref.substr(0, ref.find('?'));
  auto query = ParseConditional(type, ref);
  if (!query.ok()) {
    return InvalidError("the conditional reference '" + ref +
                        "' is not a valid search: " + query.status().message());
  }
  ASSIGN_OR_RETURN(std::vector<std::string> ids, MatchConditional(store, type, *query));
  if (query_out) {
    *query_out = *query;
  }
  if (ids.empty()) {
    return InvalidError("the conditional reference '" + ref + "' matches no " + type +
                        "; it must match exactly one");
  }
  if (ids.size() > 1) {
    return Status(StatusCode::kPreconditionFailed, "the conditional reference '" + ref +
                                                       "' matches more than one " + type +
                                                       "; it must match exactly one");
  }
  return type + "/" + ids[0];
}

StatusOr<ParsedBundle> ParseBundle(json::Value& bundle, const std::string& base_url) {
  if (!bundle.is_object() || bundle.string_at("resourceType") != "Bundle") {
    return InvalidError("POST to the base URL takes a Bundle of type batch or transaction",
                        "resourceType");
  }
  ParsedBundle out;
  out.base_url = base_url;
  out.type = std::string(bundle.string_at("type"));
  if (out.type != "batch" && out.type != "transaction") {
    return InvalidError("Bundle.type is '" + out.type +
                            "'; POST to the base URL processes Bundles of type batch or "
                            "transaction",
                        "Bundle.type");
  }
  json::Value* list = bundle.find("entry");
  if (!list) {
    return out;
  }
  if (!list->is_array()) {
    return InvalidError("Bundle.entry must be an array", "Bundle.entry");
  }
  if (list->items().size() > kMaxBundleEntries) {
    return Status(StatusCode::kTooLarge, "the Bundle has " + std::to_string(list->items().size()) +
                                             " entries; at most " +
                                             std::to_string(kMaxBundleEntries) +
                                             " are accepted in one batch or transaction: split it");
  }
  out.entries.resize(list->items().size());
  for (size_t i = 0; i < list->items().size(); ++i) {
    RETURN_IF_ERROR(ParseEntry(list->items()[i], i, base_url, out.entries[i]));
  }
  return out;
}

Status ReparseEntries(ParsedBundle& bundle) {
  if (bundle.source == nullptr) {
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(json::Value doc, json::Parse(*bundle.source));
  ASSIGN_OR_RETURN(ParsedBundle again, ParseBundle(doc, bundle.base_url));
  if (again.entries.size() != bundle.entries.size()) {
    return InternalError("the transaction's Bundle parsed differently the second time");
  }
  if (bundle.reshape) {
    bundle.reshape(again.entries);
  }
  bundle.entries = std::move(again.entries);
  return Status::Ok();
}

std::vector<size_t> ProcessingOrder(const std::vector<BundleEntry>& entries) {
  auto rank = [](const std::string& m) {
    if (m == "DELETE") {
      return 0;
    }
    if (m == "POST") {
      return 1;
    }
    if (m == "PUT" || m == "PATCH") {
      return 2;
    }
    return 3;  // GET, HEAD
  };
  std::vector<size_t> order(entries.size());
  for (size_t i = 0; i < order.size(); ++i) {
    order[i] = i;
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return rank(entries[a].method) < rank(entries[b].method);
  });
  return order;
}

size_t LargeBundleSlotCount() {
  return std::clamp<size_t>(2 * std::thread::hardware_concurrency(), 2, 1024);
}

http::Response HandleBundle(RequestContext& ctx, const Dispatch& dispatch) {
  if (bundle_depth > 0) {
    // Refused before taking a slot: the outer Bundle already holds one (see BundleDepth).
    return ErrorResponse(InvalidError(
        "a batch or transaction entry cannot itself be a batch or transaction (a POST of a "
        "Bundle to the base URL); send the inner Bundle as a request of its own",
        "Bundle.entry.request.url"));
  }
  BundleDepth depth;
  LargeBundleSlot slot(ctx.http.body.size());
  ParsedBody body = ParseJsonBody(ctx);
  if (body.error) {
    return *body.error;
  }
  auto bundle = ParseBundle(body.resource, ctx.base_url);
  if (!bundle.ok()) {
    return ErrorResponse(bundle.status());
  }
  bundle->source = &ctx.http.body;  // alive until this function returns
  if (auto refused = CheckTransactionScopes(ctx, *bundle)) {
    return *refused;  // a write entry the token's SMART scopes do not allow
  }
  std::vector<std::string> entries(bundle->entries.size());
  if (bundle->type == "batch") {
    for (size_t i : ProcessingOrder(bundle->entries)) {
      http::Response r = RunBatchEntry(ctx, bundle->entries[i], dispatch);
      entries[i] = ResponseEntry(ctx, r, std::nullopt);
    }
  } else {
    TransactionError error;
    auto result = RunTransaction(ctx, *bundle, dispatch, &error);
    if (!result.ok()) {
      if (fhir::HasErrors(error.issues)) {
        return IssuesResponse(error.issues, 422);
      }
      return ErrorResponse(result.status());
    }
    for (size_t i = 0; i < entries.size(); ++i) {
      EntryResult& er = result->entries[i];
      if (er.response) {
        entries[i] = ResponseEntry(ctx, *er.response, std::nullopt);
      } else if (er.version) {
        if (PreferredReturn(ctx.http) == ReturnPreference::kMinimal) {
          er.version->body.clear();  // not sent: WriteResponse need not copy it first
        }
        http::Response r = WriteResponse(er.status, *er.version, ctx, true);
        if (er.version->deleted) {
          r.body.clear();
          r.headers.erase(std::remove_if(r.headers.begin(), r.headers.end(),
                                         [](const auto& h) { return h.first == "Location"; }),
                          r.headers.end());
        }
        entries[i] = ResponseEntry(ctx, r, er.version->last_updated_us);
      } else {
        http::Response r;
        r.status = er.status;
        entries[i] = ResponseEntry(ctx, r, std::nullopt);
      }
    }
  }
  http::Response r;
  r.status = 200;
  r.set_header("Content-Type", kFhirJson);
  r.body = ResponseBundle(ctx, bundle->type + "-response", entries);
  return r;
}

}  // namespace carechart::rest
