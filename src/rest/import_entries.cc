#include "rest/import_entries.h"

#include <string_view>

#include "fhir/definitions.h"
#include "rest/outcome.h"
#include "rest/resource_prep.h"
#include "rest/unchanged_content.h"
#include "rest/write_support.h"

namespace carechart::rest::import {

namespace {

// FHIR search escaping of a token part (search.html#escaping).
std::string EscapeToken(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == ',' || c == '|' || c == '$') {
      out += '\\';
    }
    out += c;
  }
  return out;
}

// Replaces the `reference` strings of every object at any depth that `resolve` knows.
template <typename Resolve>
void RewriteKnownReferences(json::Value& v, const Resolve& resolve) {
  if (v.is_object()) {
    for (auto& [k, m] : v.members()) {
      if (k == "reference" && m.is_string()) {
        std::string target = resolve(m.text());
        if (!target.empty()) {
          m.mutable_text() = std::move(target);
        }
      } else if (m.is_object() || m.is_array()) {
        RewriteKnownReferences(m, resolve);
      }
    }
  } else if (v.is_array()) {
    for (auto& item : v.items()) {
      RewriteKnownReferences(item, resolve);
    }
  }
}

std::string UuidOf(const std::string& full_url) {
  if (!full_url.starts_with("urn:uuid:")) {
    return "";
  }
  std::string id = full_url.substr(9);
  return IsValidId(id) ? id : "";
}

// Keeps the source's ids: POST urn:uuid:<uuid> becomes an upsert of Type/<uuid>.
void UuidPostsAsUpserts(std::vector<BundleEntry>& entries) {
  for (BundleEntry& e : entries) {
    std::string uuid = UuidOf(e.full_url);
    if (e.method == "POST" && e.if_none_exist.empty() && !uuid.empty() && e.has_resource) {
      e.method = "PUT";
      e.id = uuid;
      e.path = e.type + "/" + uuid;
      e.url = e.path;
      e.resource.set_at("id", json::Value::String(uuid), 1);
    }
  }
}

bool IsStoreFailure(const Status& s) {
  return s.code() == StatusCode::kInternal || s.code() == StatusCode::kUnavailable;
}

}  // namespace

UnitPreparer::UnitPreparer(store::ResourceStore& store, const ApiOptions& api,
                           const ImportOptions& options)
    : store_(store), api_(api), options_(options), ctx_(request_, store, api) {
  request_.method = "POST";
  ctx_.base_url = api.public_base_url;
  ctx_.facility_id = api.facility_id;
  ctx_.facility_name = api.facility_name;
  ctx_.actor = "import";
  ctx_.skip_unchanged_updates = true;
  ctx_.keep_source_facility = options.keep_facility_tags;
}

UnitPreparer::~UnitPreparer() = default;

void UnitPreparer::Reject(const std::string& where, const std::string& message, PreparedUnit* out) {
  ++out->failed;
  ++out->entries;
  out->errors.push_back(where + ": " + message);
}

std::string UnitPreparer::ResolveConditional(const std::string& ref) {
  if (auto it = conditional_cache_.find(ref); it != conditional_cache_.end()) {
    return it->second;
  }
  std::string resolved;
  size_t q = ref.find('?');
  std::string type = ref.substr(0, q);
  if (fhir::IsResourceType(type)) {
    auto query = ParseConditional(type, ref);
    if (query.ok()) {
      auto ids = MatchConditional(store_, type, *query);
      if (ids.ok() && ids->size() == 1) {
        resolved = type + "/" + (*ids)[0];
      }
    }
  }
  // Only hits are cached: a miss may be created by input still in flight.
  if (!resolved.empty()) {
    conditional_cache_[ref] = resolved;
  }
  return resolved;
}

StatusOr<std::string> UnitPreparer::IdFromIdentifier(const json::Value& resource) {
  const json::Value* identifiers = resource.find("identifier");
  const json::Value* first = nullptr;
  if (identifiers && identifiers->is_array() && !identifiers->items().empty()) {
    first = &identifiers->items()[0];
  } else if (identifiers && identifiers->is_object()) {
    first = identifiers;
  }
  if (!first || first->string_at("system").empty() || first->string_at("value").empty()) {
    return std::string();
  }
  std::string type(resource.string_at("resourceType"));
  auto query =
      ParseConditional(type, {{"identifier", EscapeToken(first->string_at("system")) + "|" +
                                                 EscapeToken(first->string_at("value"))}});
  if (!query.ok()) {
    return std::string();  // a type without an identifier parameter
  }
  ASSIGN_OR_RETURN(std::vector<std::string> ids, MatchConditional(store_, type, *query));
  if (ids.size() > 1) {
    return Status(StatusCode::kPreconditionFailed,
                  "its identifier " + std::string(first->string_at("system")) + "|" +
                      std::string(first->string_at("value")) + " matches several " + type +
                      " resources: give the resource an id");
  }
  return ids.empty() ? std::string() : ids[0];
}

void UnitPreparer::Resource(json::Value resource, const std::string& where_base,
                            const std::string& id_hint, const ReferenceMap& full_urls,
                            PreparedUnit* out) {
  std::string type(resource.string_at("resourceType"));
  std::string where = type.empty() ? where_base : where_base + " (" + type + ")";
  if (options_.validate || type.empty()) {
    std::vector<fhir::ValidationIssue> issues;
    if (Status s = CheckResource(resource, "", &issues); !s.ok()) {
      Status first = fhir::HasErrors(issues) ? FirstError(issues, StatusCode::kUnprocessable) : s;
      Reject(where, (first.location().empty() ? "" : first.location() + ": ") + first.message(),
             out);
      return;
    }
  }
  RewriteKnownReferences(resource, [&](const std::string& ref) -> std::string {
    if (ref.starts_with("urn:")) {
      auto it = full_urls.full_urls.find(ref);
      return it == full_urls.full_urls.end() ? std::string() : it->second;
    }
    return ref.find('?') == std::string::npos ? std::string() : ResolveConditional(ref);
  });
  std::string id(resource.string_at("id"));
  bool assigned = false;
  if (id.empty()) {
    id = id_hint;
  }
  if (id.empty()) {
    auto matched = IdFromIdentifier(resource);
    if (!matched.ok()) {
      if (IsStoreFailure(matched.status())) {
        out->store_error = matched.status();
      }
      Reject(where, matched.status().message(), out);
      return;
    }
    id = *matched;
  }
  if (id.empty()) {
    id = NewId();
    assigned = true;
  }
  int64_t current = 0;
  std::optional<store::ResourceVersion> stored;
  if (!assigned) {
    auto read = store_.Read(type, id);
    if (read.ok()) {
      current = read->version;
      stored = std::move(*read);
    } else if (read.status().code() != StatusCode::kNotFound) {
      out->store_error = read.status();
      Reject(where, read.status().message(), out);
      return;
    }
  }
  Pending p;
  p.write = PrepareVersion(std::move(resource), ctx_, id, current + 1, assigned ? "POST" : "PUT");
  ++out->entries;
  if (stored && !stored->deleted && SameContentIgnoringVersion(stored->body, p.write.body)) {
    ++out->unchanged;
    return;
  }
  p.expected = current;
  p.where = std::move(where);
  out->writes.push_back(std::move(p));
}

void UnitPreparer::Ndjson(const std::string& name, const std::string& lines, int64_t first_line,
                          PreparedUnit* out) {
  static const ReferenceMap kNoFullUrls;
  int64_t number = first_line;
  size_t start = 0;
  while (start < lines.size()) {
    size_t end = lines.find('\n', start);
    if (end == std::string::npos) {
      end = lines.size();
    }
    std::string_view line(lines.data() + start, end - start);
    start = end + 1;
    std::string where = name + ":" + std::to_string(number++);
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) {
      continue;
    }
    auto parsed = json::Parse(line);
    if (!parsed.ok()) {
      Reject(where, parsed.status().ToString(), out);
      continue;
    }
    Resource(std::move(*parsed), where, "", kNoFullUrls, out);
  }
}

void UnitPreparer::Document(const std::string& name, const std::string& text,
                            bool earlier_committed, PreparedUnit* out) {
  auto parsed = json::Parse(text);
  if (!parsed.ok() || !parsed->is_object() || parsed->string_at("resourceType").empty()) {
    out->file_error = InvalidError(
        "'" + name + "' is neither a FHIR Bundle nor NDJSON: " +
        (parsed.ok() ? std::string("the JSON has no resourceType") : parsed.status().ToString()));
    return;
  }
  json::Value& doc = *parsed;
  if (doc.string_at("resourceType") != "Bundle") {
    Resource(std::move(doc), name, "", ReferenceMap{}, out);
    return;
  }
  if (doc.string_at("type") == "transaction") {
    std::string where = name + " (transaction: nothing of this file was imported)";
    auto bundle = ParseBundle(doc, ctx_.base_url);
    if (!bundle.ok()) {
      const json::Value* list = doc.find("entry");
      Reject(where, bundle.status().location() + ": " + bundle.status().message(), out);
      out->failed = list && list->is_array() ? std::max<int64_t>(list->items().size(), 1) : 1;
      out->entries = out->failed;
      return;
    }
    bundle->reshape = UuidPostsAsUpserts;
    bundle->reshape(bundle->entries);
    // The text outlives the transaction, so its resources are moved, not copied (D57, D99).
    bundle->source = &text;
    Transaction(where, *bundle, earlier_committed, out);
    return;
  }
  // Other Bundles: each entry's resource on its own, urn:uuid references resolved in the file.
  json::Value* list = doc.find("entry");
  if (!list || !list->is_array()) {
    return;
  }
  ReferenceMap full_urls;
  std::vector<std::string> hints(list->items().size());
  for (size_t i = 0; i < list->items().size(); ++i) {
    json::Value& e = list->items()[i];
    json::Value* r = e.find("resource");
    if (!r || !r->is_object()) {
      continue;
    }
    std::string type(r->string_at("resourceType"));
    std::string id(r->string_at("id"));
    const json::Value* req = e.find("request");
    std::string url = req ? std::string(req->string_at("url")) : "";
    if (id.empty() && url.starts_with(type + "/")) {
      id = url.substr(type.size() + 1);
    }
    std::string full_url(e.string_at("fullUrl"));
    if (id.empty()) {
      id = UuidOf(full_url);
    }
    if (id.empty()) {
      id = NewId();
    }
    hints[i] = id;
    if (!full_url.empty()) {
      full_urls.full_urls[full_url] = type + "/" + id;
    }
  }
  for (size_t i = 0; i < list->items().size(); ++i) {
    json::Value& e = list->items()[i];
    std::string where = name + ": entry " + std::to_string(i);
    json::Value* r = e.find("resource");
    if (!r || !r->is_object()) {
      Reject(where, "the entry has no resource (only resources are imported)", out);
      continue;
    }
    Resource(std::move(*r), where, hints[i], full_urls, out);
  }
}

void UnitPreparer::Transaction(const std::string& where, ParsedBundle& bundle,
                               bool earlier_committed, PreparedUnit* out) {
  Dispatch dispatch = [this](const http::Request& r) {
    if (!router_) {
      router_ = std::make_unique<FhirApi>(store_, api_);
    }
    return router_->Handle(r);
  };
  TransactionError error;
  auto result = RunTransaction(ctx_, bundle, dispatch, &error);
  const int64_t total = static_cast<int64_t>(bundle.entries.size());
  if (result.ok()) {
    out->entries += total;
    out->written_by_transaction += result->written;
    out->unchanged += result->unchanged;
    return;
  }
  if (IsStoreFailure(result.status())) {
    out->store_error = result.status();
    return;
  }
  // Kept for after the commit of the units before it, without its text (the unit's text is
  // freed once prepared): its entries get their resources back, and are copied then.
  if (!earlier_committed && ReparseEntries(bundle).ok()) {
    bundle.source = nullptr;
    out->retry_transaction = std::move(bundle);
    out->retry_where = where;
    return;
  }
  Status first = fhir::HasErrors(error.issues)
                     ? FirstError(error.issues, StatusCode::kUnprocessable)
                     : result.status();
  Reject(where, (first.location().empty() ? "" : first.location() + ": ") + first.message(), out);
  out->failed += std::max<int64_t>(total - 1, 0);
  out->entries += std::max<int64_t>(total - 1, 0);
}

StatusOr<bool> UnitPreparer::Reprepare(Pending& p) {
  ASSIGN_OR_RETURN(json::Value resource, json::Parse(p.write.body));
  int64_t current = 0;
  auto read = store_.Read(p.write.type, p.write.id);
  if (read.ok()) {
    current = read->version;
  } else if (read.status().code() != StatusCode::kNotFound) {
    return read.status();
  }
  store::PreparedWrite w =
      PrepareVersion(std::move(resource), ctx_, p.write.id, current + 1, p.write.method);
  if (read.ok() && !read->deleted && SameContentIgnoringVersion(read->body, w.body)) {
    return false;
  }
  p.write = std::move(w);
  p.expected = current;
  return true;
}

}  // namespace carechart::rest::import
