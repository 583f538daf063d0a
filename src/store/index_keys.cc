#include "store/index_keys.h"

namespace carechart::store {
namespace {

constexpr uint64_t kFnvOffset = 1469598103934665603ULL;
constexpr uint64_t kFnvPrime = 1099511628211ULL;

uint64_t Fnv1a(uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= kFnvPrime;
  }
  return h;
}

}  // namespace

int64_t ParamKey(std::string_view resource_type, std::string_view param) {
  uint64_t h = Fnv1a(Fnv1a(kFnvOffset, resource_type), ".");
  h = Fnv1a(h, param);
  int64_t key = static_cast<int64_t>((h ^ (h >> 31) ^ (h >> 62)) & 0x7fffffffULL);
  return key == 0 ? 1 : key;
}

int64_t SystemKey(std::string_view system) {
  if (system.empty()) {
    return 0;
  }
  int64_t key = static_cast<int64_t>(Fnv1a(kFnvOffset, system) >> 1);
  return key == 0 ? 1 : key;
}

}  // namespace carechart::store
