// Break-the-glass grant resources (break_glass.h).
#include "access/break_glass.h"

#include "access/policy.h"
#include "fhir/datetime.h"

namespace carechart::access {
namespace {

json::Value Sub(const char* url, const char* value_key, std::string value) {
  auto e = json::Value::Object();
  e.set("url", json::Value::String(url));
  e.set(value_key, json::Value::String(std::move(value)));
  return e;
}

json::Value ReviewTag(const char* code) {
  auto tag = json::Value::Object();
  tag.set("system", json::Value::String(kReviewTagSystem));
  tag.set("code", json::Value::String(code));
  return tag;
}

int64_t InstantOf(std::string_view text) {
  fhir::DateRange r;
  return fhir::ParseDateRange(text, &r) ? r.low : 0;
}

json::Value* GrantExtension(json::Value& basic) {
  json::Value* exts = basic.find("extension");
  if (exts == nullptr || !exts->is_array()) {
    return nullptr;
  }
  for (json::Value& e : exts->items()) {
    if (e.string_at("url") == kEmergencyExtension) {
      return &e;
    }
  }
  return nullptr;
}

}  // namespace

std::string GrantHolder(const auth::Principal& p) {
  return p.user_id.empty() ? "client:" + p.client_id : p.user_id;
}

json::Value NewGrantResource(const auth::Principal& p, const std::string& patient_id,
                             const std::string& reason, int64_t start_us, int64_t end_us) {
  auto basic = json::Value::Object();
  basic.set("resourceType", json::Value::String("Basic"));
  auto meta = json::Value::Object();
  auto tags = json::Value::Array();
  tags.push_back(ReviewTag("pending"));
  meta.set("tag", std::move(tags));
  basic.set("meta", std::move(meta));
  auto ext = json::Value::Object();
  ext.set("url", json::Value::String(kEmergencyExtension));
  auto subs = json::Value::Array();
  subs.push_back(Sub("user", "valueString", GrantHolder(p)));
  subs.push_back(Sub("role", "valueCode", std::string(RoleName(p.role))));
  subs.push_back(Sub("reason", "valueString", reason));
  subs.push_back(Sub("start", "valueInstant", fhir::FormatInstant(start_us)));
  subs.push_back(Sub("end", "valueInstant", fhir::FormatInstant(end_us)));
  ext.set("extension", std::move(subs));
  auto exts = json::Value::Array();
  exts.push_back(std::move(ext));
  basic.set("extension", std::move(exts));
  auto coding = json::Value::Object();
  coding.set("system", json::Value::String(kAccessCodeSystem));
  coding.set("code", json::Value::String(kEmergencyAccessCode));
  coding.set("display", json::Value::String("Break-the-glass emergency access"));
  auto codings = json::Value::Array();
  codings.push_back(std::move(coding));
  auto code = json::Value::Object();
  code.set("coding", std::move(codings));
  basic.set("code", std::move(code));
  auto subject = json::Value::Object();
  subject.set("reference", json::Value::String("Patient/" + patient_id));
  basic.set("subject", std::move(subject));
  basic.set("created", json::Value::String(fhir::FormatInstant(start_us).substr(0, 10)));
  auto author = json::Value::Object();
  if (!p.practitioner_id.empty()) {
    author.set("reference", json::Value::String("Practitioner/" + p.practitioner_id));
  }
  author.set("display", json::Value::String(p.display.empty() ? GrantHolder(p) : p.display));
  basic.set("author", std::move(author));
  return basic;
}

std::optional<EmergencyGrant> ParseGrant(const json::Value& basic) {
  if (basic.string_at("resourceType") != "Basic") {
    return std::nullopt;
  }
  json::Value copy = basic;
  const json::Value* ext = GrantExtension(copy);
  if (ext == nullptr) {
    return std::nullopt;
  }
  EmergencyGrant g;
  g.id = std::string(basic.string_at("id"));
  if (const json::Value* subject = basic.find("subject"); subject != nullptr) {
    std::string_view ref = subject->string_at("reference");
    if (ref.starts_with("Patient/")) {
      g.patient_id = std::string(ref.substr(8));
    }
  }
  if (const json::Value* subs = ext->find("extension"); subs != nullptr && subs->is_array()) {
    for (const json::Value& s : subs->items()) {
      std::string_view url = s.string_at("url");
      if (url == "user") {
        g.user = std::string(s.string_at("valueString"));
      } else if (url == "reason") {
        g.reason = std::string(s.string_at("valueString"));
      } else if (url == "start") {
        g.start_us = InstantOf(s.string_at("valueInstant"));
      } else if (url == "end") {
        g.end_us = InstantOf(s.string_at("valueInstant"));
      } else if (url == "reviewedAt") {
        g.reviewed = true;
      }
    }
  }
  return g;
}

void MarkReviewed(json::Value& basic, const auth::Principal& reviewer, const std::string& note,
                  int64_t now_us) {
  json::Value* meta = basic.find("meta");
  if (meta == nullptr || !meta->is_object()) {
    meta = &basic.set("meta", json::Value::Object());
  }
  json::Value* tags = meta->find("tag");
  if (tags == nullptr || !tags->is_array()) {
    tags = &meta->set("tag", json::Value::Array());
  }
  std::erase_if(tags->items(),
                [](const json::Value& t) { return t.string_at("system") == kReviewTagSystem; });
  tags->push_back(ReviewTag("reviewed"));
  json::Value* ext = GrantExtension(basic);
  if (ext == nullptr) {
    return;
  }
  json::Value* subs = ext->find("extension");
  if (subs == nullptr || !subs->is_array()) {
    subs = &ext->set("extension", json::Value::Array());
  }
  subs->push_back(Sub("reviewedBy", "valueString", GrantHolder(reviewer)));
  subs->push_back(Sub("reviewedAt", "valueInstant", fhir::FormatInstant(now_us)));
  if (!note.empty()) {
    subs->push_back(Sub("reviewNote", "valueString", note));
  }
}

}  // namespace carechart::access
