#include "rest/importer.h"

#include <fstream>
#include <map>
#include <sstream>

#include "fhir/definitions.h"
#include "fhir/validator.h"
#include "rest/bundle_processing.h"
#include "rest/outcome.h"
#include "rest/resource_prep.h"
#include "rest/write_support.h"

namespace carechart::rest {

struct Importer::Pending {
  store::PreparedWrite write;
  int64_t expected_current = 0;
};

namespace {

struct Entry {
  json::Value resource;
  std::string where;  // for error messages
};

StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return NotFoundError("cannot open '" + path + "': check the path and permissions");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Replaces "urn:uuid:..." and conditional ("Type?search") references using `resolve`.
void RewriteReferences(json::Value& v,
                       const std::function<std::string(const std::string&)>& resolve) {
  if (v.is_object()) {
    for (auto& [k, m] : v.members()) {
      if (k == "reference" && m.is_string()) {
        std::string target = resolve(m.text());
        if (!target.empty()) {
          m.mutable_text() = target;
        }
      } else {
        RewriteReferences(m, resolve);
      }
    }
  } else if (v.is_array()) {
    for (auto& item : v.items()) {
      RewriteReferences(item, resolve);
    }
  }
}

}  // namespace

Importer::Importer(store::ResourceStore& store, ApiOptions options, size_t batch_size)
    : store_(store), options_(std::move(options)), batch_size_(batch_size) {}

void Importer::Fail(const std::string& where, const std::string& message) {
  ++stats_.entries_failed;
  if (stats_.errors.size() < 100) {
    stats_.errors.push_back(where + ": " + message);
  }
}

Status Importer::ImportFile(const std::string& path,
                            const std::function<void(const ImportProgress&)>& progress) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ImportText(path, text, progress);
}

Status Importer::ImportText(const std::string& path, const std::string& text,
                            const std::function<void(const ImportProgress&)>& progress) {
  ++stats_.files;
  std::vector<Entry> entries;
  std::map<std::string, std::string> full_urls;  // urn:uuid:... → Type/id
  auto first = text.find_first_not_of(" \t\r\n");
  auto parsed = json::Parse(text);
  if (parsed.ok() && parsed->string_at("resourceType") == "Bundle" &&
      parsed->string_at("type") == "transaction") {
    return ImportTransaction(path, *parsed, progress);
  }
  if (parsed.ok() && parsed->string_at("resourceType") == "Bundle") {
    json::Value* list = parsed->find("entry");
    std::vector<json::Value> none;
    size_t index = 0;
    for (auto& e : list && list->is_array() ? list->items() : none) {
      std::string where = path + ": entry " + std::to_string(index++);
      json::Value* r = e.find("resource");
      if (!r || !r->is_object()) {
        Fail(where, "the entry has no resource");
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
      if (id.empty() && full_url.starts_with("urn:uuid:")) {
        id = full_url.substr(9);
      }
      if (id.empty()) {
        id = NewId();
      }
      r->set_at("id", json::Value::String(id), 1);
      if (!full_url.empty()) {
        full_urls[full_url] = type + "/" + id;
      }
      entries.push_back({std::move(*r), where + " (" + type + ")"});
    }
  } else if (parsed.ok() && !parsed->string_at("resourceType").empty()) {
    entries.push_back({std::move(*parsed), path});
  } else if (first != std::string::npos && text[first] == '{') {
    // NDJSON: one resource per line.
    std::istringstream lines(text);
    std::string line;
    size_t number = 0;
    while (std::getline(lines, line)) {
      ++number;
      if (line.find_first_not_of(" \t\r") == std::string::npos) {
        continue;
      }
      std::string where = path + ":" + std::to_string(number);
      auto one = json::Parse(line);
      if (!one.ok()) {
        Fail(where, one.status().ToString());
        continue;
      }
      std::string type(one->string_at("resourceType"));
      if (one->string_at("id").empty()) {
        one->set_at("id", json::Value::String(NewId()), 1);
      }
      entries.push_back({std::move(*one), where + " (" + type + ")"});
    }
  } else {
    return InvalidError("'" + path +
                        "' is neither a FHIR Bundle nor NDJSON: " + parsed.status().ToString());
  }

  std::map<std::string, std::string> conditional_cache;
  auto resolve = [&](const std::string& ref) -> std::string {
    if (ref.starts_with("urn:uuid:")) {
      auto it = full_urls.find(ref);
      return it == full_urls.end() ? "" : it->second;
    }
    size_t q = ref.find('?');
    if (q == std::string::npos) {
      return "";
    }
    if (auto it = conditional_cache.find(ref); it != conditional_cache.end()) {
      return it->second;
    }
    std::string type = ref.substr(0, q);
    std::string resolved;
    if (fhir::IsResourceType(type)) {
      auto query = ParseConditional(type, ref);
      if (query.ok()) {
        auto ids = MatchConditional(store_, type, *query);
        if (ids.ok() && ids->size() == 1) {
          resolved = type + "/" + (*ids)[0];
        }
      }
    }
    conditional_cache[ref] = resolved;
    return resolved;
  };

  http::Request fake;
  RequestContext ctx{fake, store_, options_};
  ctx.facility_id = options_.facility_id;
  ctx.facility_name = options_.facility_name;
  ctx.actor = "import";
  std::vector<Pending> batch;
  std::map<std::string, int64_t> versions_in_batch;
  int64_t done = 0;
  for (auto& e : entries) {
    ++done;
    RewriteReferences(e.resource, resolve);
    auto issues = fhir::Validate(e.resource);
    if (fhir::HasErrors(issues)) {
      Status first_error = FirstError(issues, StatusCode::kUnprocessable);
      Fail(e.where, first_error.location() + ": " + first_error.message());
      continue;
    }
    std::string type(e.resource.string_at("resourceType"));
    std::string id(e.resource.string_at("id"));
    std::string key = type + "/" + id;
    int64_t current = 0;
    if (auto it = versions_in_batch.find(key); it != versions_in_batch.end()) {
      current = it->second;
    } else if (auto stored = store_.Read(type, id); stored.ok()) {
      current = stored->version;
    }
    versions_in_batch[key] = current + 1;
    Pending p;
    p.expected_current = current;
    p.write = PrepareVersion(std::move(e.resource), ctx, id, current + 1, "PUT");
    batch.push_back(std::move(p));
    if (batch.size() >= batch_size_) {
      RETURN_IF_ERROR(Flush(batch));
      versions_in_batch.clear();
    }
    if (progress && (done % 100 == 0 || done == static_cast<int64_t>(entries.size()))) {
      progress({path, done, static_cast<int64_t>(entries.size())});
    }
  }
  RETURN_IF_ERROR(Flush(batch));
  if (progress) {
    progress({path, done, static_cast<int64_t>(entries.size())});
  }
  return Status::Ok();
}

Status Importer::ImportTransaction(const std::string& path, json::Value& bundle,
                                   const std::function<void(const ImportProgress&)>& progress) {
  const json::Value* list = bundle.find("entry");
  const int64_t total =
      list && list->is_array() ? static_cast<int64_t>(list->items().size()) : int64_t{0};
  const std::string where = path + " (transaction: nothing of this file was imported)";
  auto reject = [&](const std::string& message) {
    Fail(where, message);
    stats_.entries_failed += std::max<int64_t>(total - 1, 0);
    if (progress) {
      progress({path, total, total});
    }
    return Status::Ok();
  };
  http::Request request;
  request.method = "POST";
  RequestContext ctx{request, store_, options_};
  ctx.base_url = options_.public_base_url;
  ctx.facility_id = options_.facility_id;
  ctx.facility_name = options_.facility_name;
  ctx.actor = "import";
  auto parsed = ParseBundle(bundle, ctx.base_url);
  if (!parsed.ok()) {
    return reject(parsed.status().location() + ": " + parsed.status().message());
  }
  // GET entries (rare in files) go through a router of their own.
  std::optional<FhirApi> api;
  Dispatch dispatch = [&](const http::Request& r) {
    if (!api) {
      api.emplace(store_, options_);
    }
    return api->Handle(r);
  };
  TransactionError error;
  auto result = RunTransaction(ctx, *parsed, dispatch, &error);
  if (!result.ok()) {
    StatusCode code = result.status().code();
    if (code == StatusCode::kInternal || code == StatusCode::kUnavailable) {
      return result.status();
    }
    Status first = fhir::HasErrors(error.issues)
                       ? FirstError(error.issues, StatusCode::kUnprocessable)
                       : result.status();
    return reject((first.location().empty() ? "" : first.location() + ": ") + first.message());
  }
  stats_.resources_written += result->written;
  if (progress) {
    progress({path, total, total});
  }
  return Status::Ok();
}

Status Importer::Flush(std::vector<Pending>& batch) {
  if (batch.empty()) {
    return Status::Ok();
  }
  std::map<std::string, int64_t> seen;
  Status s = store_.Write([&](store::WriteTxn& txn) -> Status {
    for (const auto& p : batch) {
      std::string key = p.write.type + "/" + p.write.id;
      auto it = seen.find(key);
      int64_t current = 0;
      if (it != seen.end()) {
        current = it->second;
      } else {
        ASSIGN_OR_RETURN(store::CurrentVersion cur, txn.Current(p.write.type, p.write.id));
        current = cur.version;
      }
      if (current != p.expected_current) {
        return ConflictError(key + " changed during the import; run the import again");
      }
      RETURN_IF_ERROR(txn.Put(p.write));
      seen[key] = p.write.version;
    }
    return Status::Ok();
  });
  if (s.ok()) {
    stats_.resources_written += static_cast<int64_t>(batch.size());
  }
  batch.clear();
  return s;
}

}  // namespace carechart::rest
