#include "store/include_follow.h"

#include <unordered_set>

namespace carechart::store {

Status FollowIncludes(const SearchQuery& q, const std::vector<int64_t>& match_pks,
                      const SqlDialect& dialect, const IncludeLevelRunner& run_level,
                      std::vector<ResourceVersion>* included) {
  std::unordered_set<int64_t> seen(match_pks.begin(), match_pks.end());
  std::vector<int64_t> sources = match_pks;
  for (int level = 0; level < kMaxIncludeDepth && !sources.empty(); ++level) {
    std::vector<IncludeSpec> specs;
    for (const IncludeSpec& spec : q.include_specs) {
      if (level == 0 || spec.iterate) {
        specs.push_back(spec);
      }
    }
    int remaining = kMaxIncluded - static_cast<int>(included->size());
    if (specs.empty() || remaining <= 0) {
      break;
    }
    StatusOr<CompiledSql> sql =
        CompileIncludes(specs, sources, dialect, remaining + static_cast<int>(seen.size()));
    if (!sql.ok()) {
      break;  // nothing applies (e.g. _revinclude=Type:* of a type without references)
    }
    ASSIGN_OR_RETURN(auto rows, run_level(*sql));
    std::vector<int64_t> next;
    for (auto& [pk, version] : rows) {
      if (!seen.insert(pk).second || static_cast<int>(included->size()) >= kMaxIncluded) {
        continue;
      }
      included->push_back(std::move(version));
      next.push_back(pk);
    }
    sources = std::move(next);
  }
  return Status::Ok();
}

}  // namespace carechart::store
