#include "rest/reference_rewrite.h"

#include <vector>

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
      } else if (m.is_object() || m.is_array()) {
        Collect(m, out);
      }
    }
  } else if (v.is_array()) {
    for (const auto& item : v.items()) {
      if (item.is_object() || item.is_array()) {
        Collect(item, out);
      }
    }
  }
}

Status Rewrite(json::Value& v, const std::string& root, std::vector<json::PathStep>& steps,
               const ReferenceMap& map) {
  if (v.is_object()) {
    for (auto& [k, m] : v.members()) {
      if (k == "reference" && m.is_string()) {
        const std::string& ref = m.text();
        if (auto it = map.full_urls.find(ref); it != map.full_urls.end()) {
          m.mutable_text() = it->second;
        } else if (ref.starts_with("urn:uuid:") || ref.starts_with("urn:oid:")) {
          steps.push_back({&k, 0});
          std::string path = json::FormatPath(root, steps);
          return InvalidError("the reference '" + ref + "' at " + path +
                                  " names no entry of this Bundle (no entry has it as fullUrl)" +
                                  map.unresolved_hint,
                              path);
        } else if (IsConditionalReference(ref)) {
          auto c = map.conditional.find(ref);
          if (c == map.conditional.end()) {
            steps.push_back({&k, 0});
            std::string path = json::FormatPath(root, steps);
            return InvalidError(
                "the conditional reference '" + ref + "' at " + path + " was not resolved", path);
          }
          m.mutable_text() = c->second;
        }
      } else if (m.is_object() || m.is_array()) {
        steps.push_back({&k, 0});
        RETURN_IF_ERROR(Rewrite(m, root, steps, map));
        steps.pop_back();
      }
    }
  } else if (v.is_array()) {
    for (size_t i = 0; i < v.items().size(); ++i) {
      json::Value& item = v.items()[i];
      if (item.is_object() || item.is_array()) {
        steps.push_back({nullptr, i});
        RETURN_IF_ERROR(Rewrite(item, root, steps, map));
        steps.pop_back();
      }
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
  std::vector<json::PathStep> steps;
  return Rewrite(resource, root, steps, map);
}

}  // namespace carechart::rest
