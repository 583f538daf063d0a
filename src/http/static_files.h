// The built web front end (Vite's output, web/dist) served as static files: the clinician app at
// "/" (index.html, assets/) and the patient portal at "/portal/" (portal/index.html), with
// single-page-app fallback, cache headers, gzip and a strict Content-Security-Policy.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "http/message.h"

namespace carechart::http {

// Paths the API owns; the static site never answers them, whatever files exist.
bool IsApiPath(std::string_view path);

class StaticSite {
 public:
  // `root` is the folder holding index.html; it need not exist (then a page says how to build).
  explicit StaticSite(std::string root);
  ~StaticSite();
  StaticSite(const StaticSite&) = delete;
  StaticSite& operator=(const StaticSite&) = delete;

  // The answer for a GET or HEAD of a non-API path; nullopt for other methods and API paths.
  std::optional<Response> Serve(const Request& request) const;

  // True when root/index.html exists (the front end has been built).
  bool Built() const;
  const std::string& root() const { return root_; }

  // The policy sent with every page: scripts, styles, images, fonts and connections only from
  // this origin; never framed.
  static constexpr std::string_view kContentSecurityPolicy =
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
      "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
      "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

 private:
  std::optional<Response> ServeFile(const Request& request) const;

  struct Cache;
  std::string root_;
  std::unique_ptr<Cache> cache_;
};

}  // namespace carechart::http
