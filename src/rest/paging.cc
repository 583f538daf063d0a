#include "rest/paging.h"

#include <charconv>

#include "http/url.h"

namespace carechart::rest {

Status ReadIntParam(const QueryParams& params, const std::string& name, int64_t max, int64_t* out) {
  for (const auto& [k, v] : params) {
    if (k != name) {
      continue;
    }
    int64_t n = 0;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || ptr != v.data() + v.size() || n < 0) {
      return InvalidError("parameter " + name + " must be a non-negative integer, not '" + v + "'",
                          name);
    }
    *out = std::min(n, max);
  }
  return Status::Ok();
}

std::string TakeParam(QueryParams& params, const std::string& name) {
  std::string value;
  std::erase_if(params, [&](const auto& p) {
    if (p.first != name) {
      return false;
    }
    value = p.second;
    return true;
  });
  return value;
}

std::string LinkUrl(const std::string& base_and_path, const QueryParams& params) {
  std::string url = base_and_path;
  char sep = '?';
  for (const auto& [k, v] : params) {
    url += sep;
    url += http::PercentEncode(k);
    url += '=';
    url += http::PercentEncode(v);
    sep = '&';
  }
  return url;
}

void AddPagingLinks(BundleWriter& bundle, const std::string& base_and_path, QueryParams params,
                    int64_t offset, int64_t count, bool has_more) {
  std::erase_if(params, [](const auto& p) { return p.first == "_offset" || p.first == "_count"; });
  auto with_page = [&](int64_t off) {
    QueryParams p = params;
    p.emplace_back("_count", std::to_string(count));
    if (off > 0) {
      p.emplace_back("_offset", std::to_string(off));
    }
    return LinkUrl(base_and_path, p);
  };
  bundle.AddLink("self", with_page(offset));
  if (count <= 0) {
    return;
  }
  bundle.AddLink("first", with_page(0));
  if (offset > 0) {
    bundle.AddLink("previous", with_page(std::max<int64_t>(0, offset - count)));
  }
  if (has_more) {
    bundle.AddLink("next", with_page(offset + count));
  }
}

}  // namespace carechart::rest
