// The default ResourceStore::ReadMany: one Read per key. Backends with a cheaper way to look up
// many keys (SQLite: one statement with up to 64 keys in a VALUES list, D106) override it.
#include "store/resource_store.h"

namespace carechart::store {

StatusOr<std::vector<std::optional<ResourceVersion>>> ResourceStore::ReadMany(
    const std::vector<std::pair<std::string, std::string>>& keys) {
  std::vector<std::optional<ResourceVersion>> out;
  out.reserve(keys.size());
  for (const auto& [type, id] : keys) {
    StatusOr<ResourceVersion> v = Read(type, id);
    if (v.ok()) {
      out.emplace_back(std::move(*v));
    } else if (v.status().code() == StatusCode::kNotFound) {
      out.emplace_back(std::nullopt);
    } else {
      return v.status();
    }
  }
  return out;
}

}  // namespace carechart::store
