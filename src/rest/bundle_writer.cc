#include "rest/bundle_writer.h"

#include "fhir/datetime.h"
#include "fhir/json.h"
#include "rest/scope_check.h"

namespace carechart::rest {

std::string JsonString(std::string_view text) {
  return json::Write(json::Value::String(std::string(text)));
}

BundleWriter::BundleWriter(std::string_view bundle_type, const RequestContext& ctx)
    : ctx_(ctx), type_(bundle_type) {
  // fullUrl is base/type/id: the base is escaped once; types and ids are FHIR ids
  // ([A-Za-z0-9.-], checked on every write), which JSON needs no escapes for.
  base_prefix_ = JsonString(ctx_.base_url);
  base_prefix_.pop_back();  // the closing quote
  base_prefix_ += '/';
  rewrite_bodies_ = !ctx_.elements.empty() || !ctx_.summary.empty();
}

void BundleWriter::AddLink(std::string_view relation, const std::string& url) {
  if (!links_.empty()) {
    links_ += ',';
  }
  links_ += "{\"relation\":" + JsonString(relation) + ",\"url\":" + JsonString(url) + "}";
}

std::string BundleWriter::Opening() const {
  std::string out = "{\"resourceType\":\"Bundle\",\"id\":" + JsonString(NewId());
  out += ",\"meta\":{\"lastUpdated\":" + JsonString(fhir::FormatInstant(NowMicros())) + "}";
  out += ",\"type\":" + JsonString(type_);
  if (total_ >= 0) {
    out += ",\"total\":" + std::to_string(total_);
  }
  if (!links_.empty()) {
    out += ",\"link\":[" + links_ + "]";
  }
  return out;
}

void BundleWriter::BeginEntry() {
  if (started_) {
    out_ += ',';
    return;
  }
  std::string opening = Opening();
  out_.reserve(opening.size() + reserve_ + 64);
  out_ = std::move(opening);
  out_ += ",\"entry\":[";
  started_ = true;
  opening_size_ = out_.size();
  opening_links_ = links_.size();
  opening_total_ = total_;
}

namespace {

// True when `text` can sit inside a JSON string as it is (no quote, backslash or control).
bool PlainJson(std::string_view text) {
  for (char c : text) {
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      return false;
    }
  }
  return true;
}

}  // namespace

void BundleWriter::AppendFullUrl(const store::ResourceVersion& v) {
  out_ += "{\"fullUrl\":";
  if (!PlainJson(v.type) || !PlainJson(v.id)) {  // not a FHIR id: escape it all
    out_ += JsonString(ctx_.base_url + "/" + v.type + "/" + v.id);
    return;
  }
  out_ += base_prefix_;
  out_ += v.type;
  out_ += '/';
  out_ += v.id;
  out_ += '"';
}

void BundleWriter::AppendResource(const store::ResourceVersion& v) {
  out_ += ",\"resource\":";
  if (rewrite_bodies_) {
    out_ += RenderBody(v.body, ctx_, /*pretty=*/false);
  } else {
    out_ += v.body;  // stored compact JSON, served as stored
  }
}

void BundleWriter::AddSearchEntry(const store::ResourceVersion& v, std::string_view mode) {
  if (!ResourceInScope(ctx_, v)) {
    return;  // the token's SMART scopes do not cover this resource (type or category)
  }
  BeginEntry();
  AppendFullUrl(v);
  AppendResource(v);
  out_ += ",\"search\":{\"mode\":\"";
  out_ += mode;  // "match", "include" or "outcome"
  out_ += "\"}}";
}

void BundleWriter::AddOutcomeEntry(const std::string& outcome_json) {
  BeginEntry();
  out_ += "{\"resource\":" + outcome_json + ",\"search\":{\"mode\":\"outcome\"}}";
}

void BundleWriter::AddHistoryEntry(const store::ResourceVersion& v) {
  if (!ResourceInScope(ctx_, v)) {
    return;  // the token's SMART scopes do not cover this resource (type or category)
  }
  BeginEntry();
  AppendFullUrl(v);
  if (!v.deleted && !v.body.empty()) {
    AppendResource(v);
  }
  std::string method = v.deleted ? "DELETE" : (v.method.empty() ? "PUT" : v.method);
  std::string url = method == "POST" ? v.type : v.type + "/" + v.id;
  std::string status = v.deleted ? "204 No Content" : (v.version == 1 ? "201 Created" : "200 OK");
  out_ += ",\"request\":{\"method\":" + JsonString(method) + ",\"url\":" + JsonString(url) + "}";
  out_ += ",\"response\":{\"status\":" + JsonString(status) +
          ",\"etag\":" + JsonString("W/\"" + std::to_string(v.version) + "\"") +
          ",\"lastModified\":" + JsonString(fhir::FormatInstant(v.last_updated_us)) + "}}";
}

std::string BundleWriter::Finish() {
  if (!started_) {
    out_ = Opening();
  } else {
    if (links_.size() != opening_links_ || total_ != opening_total_) {
      out_.replace(0, opening_size_, Opening() + ",\"entry\":[");  // added after an entry
    }
    out_ += ']';
  }
  out_ += '}';
  if (ctx_.pretty) {
    auto parsed = json::Parse(out_, {.max_depth = 1000});
    if (parsed.ok()) {
      return json::Write(*parsed, {.pretty = true});
    }
  }
  return std::move(out_);
}

}  // namespace carechart::rest
