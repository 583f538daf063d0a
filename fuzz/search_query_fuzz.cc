// libFuzzer target for search query strings: "Type?query" (as after the path of a GET), split
// and percent-decoded by http::ParseQuery, then parsed strictly and leniently by
// store::ParseSearch (chains, _has, modifiers, prefixes, _sort, _include, _page tokens).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/url.h"
#include "store/search_query.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace carechart;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t q = in.find('?');
  std::string_view type = q == std::string_view::npos ? std::string_view() : in.substr(0, q);
  std::string_view query = q == std::string_view::npos ? in : in.substr(q + 1);
  (void)http::PercentDecode(query, true);
  (void)http::PercentEncode(query);
  (void)http::SplitPath(type);
  auto params = http::ParseQuery(query);
  if (!params) {
    return 0;
  }
  (void)store::ParseSearch(type, *params);
  std::vector<std::string> ignored;
  (void)store::ParseSearch(type, *params, true, &ignored);
  return 0;
}
