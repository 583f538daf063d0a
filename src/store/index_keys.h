// Integer keys of the search-index tables, shared by every backend.
//
// Index rows do not repeat a parameter's name or a token's system URI: they store small stable
// hashes instead, which keeps sp_* rows short (the index must stay within ~1.5x the stored JSON)
// and makes the leading index columns cheap to compare. The hashes are FNV-1a 64, so they are
// stable across builds, platforms and releases: changing them is a schema migration.
#pragma once

#include <cstdint>
#include <string_view>

namespace carechart::store {

// Key of the search parameter `param` of `resource_type`, in [1, 2^31): four bytes in a SQLite
// record. Collisions between the ~30 parameters of one type are checked by a test; collisions
// across types are harmless because every search also filters on the resource type.
int64_t ParamKey(std::string_view resource_type, std::string_view param);

// Key of a token or quantity system URI: 0 for "no system", else a positive 63-bit hash.
int64_t SystemKey(std::string_view system);

}  // namespace carechart::store
