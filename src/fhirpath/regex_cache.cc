// A bounded, mutex-protected cache of compiled RE2 patterns: literal patterns are compiled at
// Compile() time; patterns computed at evaluation time are compiled once and reused.
#include "fhirpath/regex_cache.h"

#include <re2/re2.h>

#include <map>
#include <mutex>
#include <string>

namespace carechart::fhirpath {

std::shared_ptr<const re2::RE2> CompileRegex(std::string_view pattern, bool full,
                                             std::string_view flags) {
  static std::mutex mu;
  static std::map<std::pair<std::string, bool>, std::shared_ptr<const re2::RE2>> cache;
  constexpr size_t kMaxEntries = 512;
  std::string prefix;
  for (const char f : flags) {
    if (f != 'i' && f != 'm') {
      return nullptr;
    }
    prefix += f;
  }
  std::pair<std::string, bool> key(
      (prefix.empty() ? "" : "(?" + prefix + ")") + std::string(pattern), full);
  {
    std::lock_guard<std::mutex> lock(mu);
    if (auto it = cache.find(key); it != cache.end()) {
      return it->second;
    }
  }
  re2::RE2::Options options;
  options.set_dot_nl(true);
  options.set_log_errors(false);
  const std::string text = full ? "^(?:" + key.first + ")$" : key.first;  // flags lead in both
  auto re = std::make_shared<const re2::RE2>(text, options);
  if (!re->ok()) {
    return nullptr;
  }
  std::lock_guard<std::mutex> lock(mu);
  if (cache.size() >= kMaxEntries) {
    cache.clear();
  }
  cache.emplace(std::move(key), re);
  return re;
}

}  // namespace carechart::fhirpath
