#include "http/static_files.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <system_error>

namespace carechart::http {

namespace fs = std::filesystem;

namespace {

// Files larger than this are served but not kept in memory (a front-end bundle is far smaller).
constexpr uintmax_t kMaxCachedBytes = 16 * 1024 * 1024;

struct FileType {
  std::string_view extension;
  std::string_view content_type;
  bool compressible;
};

constexpr FileType kTypes[] = {
    {".html", "text/html; charset=utf-8", true},
    {".js", "text/javascript; charset=utf-8", true},
    {".mjs", "text/javascript; charset=utf-8", true},
    {".css", "text/css; charset=utf-8", true},
    {".json", "application/json", true},
    {".map", "application/json", true},
    {".webmanifest", "application/manifest+json", true},
    {".svg", "image/svg+xml", true},
    {".txt", "text/plain; charset=utf-8", true},
    {".wasm", "application/wasm", true},
    {".png", "image/png", false},
    {".jpg", "image/jpeg", false},
    {".jpeg", "image/jpeg", false},
    {".gif", "image/gif", false},
    {".webp", "image/webp", false},
    {".avif", "image/avif", false},
    {".ico", "image/x-icon", false},
    {".woff", "font/woff", false},
    {".woff2", "font/woff2", false},
    {".ttf", "font/ttf", false},
    {".pdf", "application/pdf", false},
};

FileType TypeOf(std::string_view path) {
  size_t slash = path.rfind('/');
  std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  size_t dot = name.rfind('.');
  if (dot != std::string_view::npos) {
    std::string ext(name.substr(dot));
    for (auto& c : ext) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    for (const auto& t : kTypes) {
      if (t.extension == ext) {
        return t;
      }
    }
  }
  return {"", "application/octet-stream", false};
}

bool PathIsUnder(std::string_view path, std::string_view prefix) {
  return path == prefix ||
         (path.starts_with(prefix) && path.size() > prefix.size() && path[prefix.size()] == '/');
}

// True when the client accepts gzip (and did not give it q=0).
bool AcceptsGzip(std::string_view accept_encoding) {
  size_t start = 0;
  while (start < accept_encoding.size()) {
    size_t comma = accept_encoding.find(',', start);
    std::string_view item = accept_encoding.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    start = comma == std::string_view::npos ? accept_encoding.size() : comma + 1;
    while (!item.empty() && item.front() == ' ') {
      item.remove_prefix(1);
    }
    std::string_view coding = item.substr(0, item.find(';'));
    while (!coding.empty() && coding.back() == ' ') {
      coding.remove_suffix(1);
    }
    if (coding == "gzip" || coding == "*") {
      std::string_view params = item.substr(coding.size());
      bool refused = params.find("q=0") != std::string_view::npos &&
                     params.find("q=0.") == std::string_view::npos;
      return !refused;
    }
  }
  return false;
}

std::string Gzip(const std::string& data) {
  z_stream z{};
  // windowBits 15 + 16: a gzip wrapper rather than zlib's.
  if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
    return {};
  }
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return rc == Z_STREAM_END ? out : std::string();
}

std::optional<std::string> ReadWhole(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  std::ostringstream s;
  s << in.rdbuf();
  return std::move(s).str();
}

Response PlainError(int status, std::string_view text) {
  Response r;
  r.status = status;
  r.set_header("Content-Type", "text/plain; charset=utf-8");
  r.set_header("Cache-Control", "no-cache");
  r.body = std::string(text) + "\n";
  return r;
}

// Shown instead of the app when web/dist has not been built, so "/" never looks broken.
Response NotBuiltPage(const std::string& root) {
  Response r;
  r.set_header("Content-Type", "text/html; charset=utf-8");
  r.set_header("Cache-Control", "no-cache");
  r.body =
      "<!doctype html><html lang=en><meta charset=utf-8>"
      "<meta name=viewport content='width=device-width,initial-scale=1'><title>Carechart</title>"
      "<body style='font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;"
      "padding:0 1rem;line-height:1.5'>"
      "<h1>Carechart</h1><p>The web apps (the clinician app at <code>/</code> and the patient "
      "portal at <code>/portal</code>) have not been built, so there is nothing to show here "
      "yet. Build them with <code>make build</code> from the source tree (or <code>npm ci "
      "&amp;&amp; "
      "npm run build</code> in <code>web/</code>), then reload this page. To serve a build kept "
      "elsewhere, start the server with <code>--web-root DIR</code> or set "
      "<code>CARECHART_WEB_ROOT</code>. Looked in: <code>" +
      root +
      "</code>.</p><p>The FHIR R4 API works without them: <a href='/fhir/metadata'>/fhir/metadata"
      "</a>; SMART discovery at <a href='/fhir/.well-known/smart-configuration'>"
      "/fhir/.well-known/smart-configuration</a>; health at <a href='/healthz'>/healthz</a>.</p>"
      "</body></html>";
  return r;
}

}  // namespace

bool IsApiPath(std::string_view path) {
  for (std::string_view prefix : {"/fhir", "/auth", "/healthz", "/metrics", "/.well-known"}) {
    if (PathIsUnder(path, prefix)) {
      return true;
    }
  }
  return false;
}

struct StaticSite::Cache {
  struct Entry {
    fs::file_time_type mtime;
    uintmax_t size = 0;
    std::string body;
    std::string gzip;  // empty: not compressible or compression did not help
    std::string etag;
  };
  std::mutex mu;
  std::map<std::string, std::shared_ptr<const Entry>> entries;
};

StaticSite::StaticSite(std::string root) : root_(std::move(root)), cache_(new Cache()) {}
StaticSite::~StaticSite() = default;

bool StaticSite::Built() const {
  std::error_code ec;
  return fs::is_regular_file(fs::path(root_) / "index.html", ec);
}

std::optional<Response> StaticSite::Serve(const Request& request) const {
  std::optional<Response> r = ServeFile(request);
  if (r) {
    r->set_header("Content-Security-Policy", std::string(kContentSecurityPolicy));
    r->set_header("X-Content-Type-Options", "nosniff");
    r->set_header("Referrer-Policy", "no-referrer");
    r->set_header("X-Frame-Options", "DENY");
  }
  return r;
}

std::optional<Response> StaticSite::ServeFile(const Request& request) const {
  if (request.method != "GET" && request.method != "HEAD") {
    return std::nullopt;
  }
  const std::string& path = request.path;
  if (path.empty() || path.front() != '/' || IsApiPath(path)) {
    return std::nullopt;
  }
  // Refuse anything that could climb out of the root or reach hidden files: "..", ".", empty
  // segments inside the path, backslashes and NULs (the path is already percent-decoded).
  if (path.find('\0') != std::string::npos || path.find('\\') != std::string::npos) {
    return PlainError(400, "bad path");
  }
  std::string_view rest = std::string_view(path).substr(1);
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    std::string_view segment = rest.substr(0, slash);
    if (segment == ".." || segment == ".") {
      return PlainError(400, "bad path: '.' and '..' segments are refused");
    }
    if (segment.starts_with(".")) {
      return PlainError(404, "not found");
    }
    if (slash == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(slash + 1);
  }
  if (path == "/portal") {
    Response r;
    r.status = 308;
    std::string target = "/portal/";
    size_t q = request.target.find('?');
    if (q != std::string::npos) {
      target += request.target.substr(q);
    }
    r.set_header("Location", target);
    r.set_header("Content-Type", "text/plain; charset=utf-8");
    r.body = "see /portal/\n";
    return r;
  }

  std::error_code ec;
  const fs::path root(root_);
  fs::path file = root / path.substr(1);
  if (path.back() == '/' || fs::is_directory(file, ec)) {
    file /= "index.html";
  }
  bool html_route = false;
  if (!fs::is_regular_file(file, ec)) {
    // A missing file under assets/, or any name with an extension that is not asked for as a
    // page, is a real 404: answering index.html would hand HTML to a <script> tag.
    size_t last_slash = path.rfind('/');
    bool looks_like_file = path.find('.', last_slash) != std::string::npos;
    bool wants_html = request.header("accept").find("text/html") != std::string_view::npos;
    if (PathIsUnder(path, "/assets") || PathIsUnder(path, "/portal/assets") ||
        (looks_like_file && !wants_html)) {
      return PlainError(404, "not found");
    }
    file = PathIsUnder(path, "/portal") ? root / "portal" / "index.html" : root / "index.html";
    html_route = true;
    if (!fs::is_regular_file(file, ec)) {
      return NotBuiltPage(root_);
    }
  }
  // A symbolic link inside the root must not lead outside it.
  fs::path real = fs::canonical(file, ec);
  fs::path real_root = fs::canonical(root, ec);
  if (ec) {
    return PlainError(404, "not found");
  }
  auto [root_end, real_it] = std::mismatch(real_root.begin(), real_root.end(), real.begin());
  if (root_end != real_root.end()) {
    return PlainError(404, "not found");
  }

  uintmax_t size = fs::file_size(real, ec);
  fs::file_time_type mtime = fs::last_write_time(real, ec);
  if (ec) {
    return PlainError(404, "not found");
  }
  FileType type = TypeOf(real.string());
  std::shared_ptr<const Cache::Entry> entry;
  {
    std::lock_guard lock(cache_->mu);
    auto it = cache_->entries.find(real.string());
    if (it != cache_->entries.end() && it->second->mtime == mtime && it->second->size == size) {
      entry = it->second;
    }
  }
  if (!entry) {
    auto body = ReadWhole(real);
    if (!body) {
      return PlainError(404, "not found");
    }
    auto e = std::make_shared<Cache::Entry>();
    e->mtime = mtime;
    e->size = size;
    e->body = std::move(*body);
    if (type.compressible && e->body.size() > 256) {
      // A precompressed sibling made at build time wins when it is at least as new.
      fs::path gz = real;
      gz += ".gz";
      if (fs::is_regular_file(gz, ec) && fs::last_write_time(gz, ec) >= mtime && !ec) {
        e->gzip = ReadWhole(gz).value_or("");
      } else {
        e->gzip = Gzip(e->body);
      }
      if (e->gzip.size() >= e->body.size()) {
        e->gzip.clear();
      }
    }
    char etag[64];
    snprintf(etag, sizeof etag, "\"%jx-%llx\"", size,
             static_cast<unsigned long long>(mtime.time_since_epoch().count()));
    e->etag = etag;
    entry = e;
    if (size <= kMaxCachedBytes) {
      std::lock_guard lock(cache_->mu);
      cache_->entries[real.string()] = entry;
    }
  }

  Response r;
  r.set_header("Content-Type", std::string(type.content_type));
  // Vite names every file under assets/ by its content hash: it never changes, so cache it for
  // good. Pages and everything else are revalidated (ETag) on each load so a new build shows.
  bool hashed =
      !html_route && (PathIsUnder(path, "/assets") || PathIsUnder(path, "/portal/assets"));
  r.set_header("Cache-Control", hashed ? "public, max-age=31536000, immutable" : "no-cache");
  r.set_header("ETag", entry->etag);
  if (type.compressible) {
    r.set_header("Vary", "Accept-Encoding");
  }
  if (request.header("if-none-match") == entry->etag) {
    r.status = 304;
    return r;
  }
  bool gzip = !entry->gzip.empty() && AcceptsGzip(request.header("accept-encoding"));
  if (gzip) {
    r.set_header("Content-Encoding", "gzip");
  }
  r.body = gzip ? entry->gzip : entry->body;  // for a HEAD the server sends only its length
  return r;
}

}  // namespace carechart::http
