#include "rest/reference_rewrite.h"

#include "fhir/definitions.h"

namespace carechart::rest {

namespace {

void Collect(const json::Value& v, std::set<std::string>* out) {
  if (v.is_object()) {
    for (const auto& [k, m] : v.members()) {
      if (k == "reference" && m.is_string()) {
        if (IsConditionalReference(m.text())) {
          out->insert(m.text());
        }
      } else {
        Collect(m, out);
      }
    }
  } else if (v.is_array()) {
    for (const auto& item : v.items()) {
      Collect(item, out);
    }
  }
}

Status Rewrite(json::Value& v, std::string& path, const ReferenceMap& map) {
  if (v.is_object()) {
    for (auto& [k, m] : v.members()) {
      size_t mark = path.size();
      path += '.';
      path += k;
      if (k == "reference" && m.is_string()) {
        const std::string& ref = m.text();
        if (auto it = map.full_urls.find(ref); it != map.full_urls.end()) {
          m.mutable_text() = it->second;
        } else if (ref.starts_with("urn:uuid:") || ref.starts_with("urn:oid:")) {
          return InvalidError("the reference '" + ref + "' at " + path +
                                  " names no entry of this Bundle (no entry has it as fullUrl)" +
                                  map.unresolved_hint,
                              path);
        } else if (IsConditionalReference(ref)) {
          auto c = map.conditional.find(ref);
          if (c == map.conditional.end()) {
            return InvalidError(
                "the conditional reference '" + ref + "' at " + path + " was not resolved", path);
          }
          m.mutable_text() = c->second;
        }
      } else {
        RETURN_IF_ERROR(Rewrite(m, path, map));
      }
      path.resize(mark);
    }
  } else if (v.is_array()) {
    size_t mark = path.size();
    for (size_t i = 0; i < v.items().size(); ++i) {
      path += '[' + std::to_string(i) + ']';
      RETURN_IF_ERROR(Rewrite(v.items()[i], path, map));
      path.resize(mark);
    }
  }
  return Status::Ok();
}

}  // namespace

bool IsConditionalReference(std::string_view ref) {
  size_t q = ref.find('?');
  if (q == std::string_view::npos || q == 0) {
    return false;
  }
  return fhir::IsResourceType(ref.substr(0, q));
}

void CollectConditionalReferences(const json::Value& resource, std::set<std::string>* out) {
  Collect(resource, out);
}

Status RewriteReferences(json::Value& resource, const std::string& root, const ReferenceMap& map) {
  std::string path = root;
  return Rewrite(resource, path, map);
}

}  // namespace carechart::rest
