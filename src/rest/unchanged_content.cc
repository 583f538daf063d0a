#include "rest/unchanged_content.h"

#include "fhir/json.h"

namespace carechart::rest {

namespace {

void DropVersionStamps(json::Value& resource) {
  if (json::Value* meta = resource.find("meta"); meta && meta->is_object()) {
    meta->erase("versionId");
    meta->erase("lastUpdated");
  }
}

}  // namespace

bool SameContentIgnoringVersion(std::string_view stored_body, std::string_view prepared_body) {
  if (stored_body.size() + 64 < prepared_body.size() ||
      prepared_body.size() + 64 < stored_body.size()) {
    return false;  // the stamps differ by a few bytes at most: clearly different content
  }
  auto a = json::Parse(stored_body);
  auto b = json::Parse(prepared_body);
  if (!a.ok() || !b.ok()) {
    return false;
  }
  DropVersionStamps(*a);
  DropVersionStamps(*b);
  return *a == *b;
}

}  // namespace carechart::rest
