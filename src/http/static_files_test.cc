#include "http/static_files.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace carechart::http {
namespace {

namespace fs = std::filesystem;

std::string Header(const Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) {
      return v;
    }
  }
  return {};
}

std::string Gunzip(const std::string& in) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  inflateEnd(&z);
  return out;
}

class StaticSiteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cc-static-" + std::to_string(std::random_device{}()));
    root_ = dir_ / "dist";
    fs::create_directories(root_ / "assets");
    fs::create_directories(root_ / "portal");
    Write(root_ / "index.html", "<!doctype html><title>clinician</title>");
    Write(root_ / "portal" / "index.html", "<!doctype html><title>portal</title>");
    big_js_ = "console.log('" + std::string(4000, 'x') + "');";
    Write(root_ / "assets" / "index-abc123.js", big_js_);
    Write(root_ / "assets" / "app-def456.css", "body{color:black}");
    Write(dir_ / "secret.txt", "outside the root");
  }
  void TearDown() override { fs::remove_all(dir_); }

  static void Write(const fs::path& p, const std::string& text) {
    std::ofstream(p, std::ios::binary) << text;
  }

  Response Get(const std::string& path,
               std::vector<std::pair<std::string, std::string>> headers = {}) {
    Request req;
    req.method = "GET";
    req.path = path;
    req.target = path;
    req.headers = std::move(headers);
    auto r = StaticSite(root_.string()).Serve(req);
    EXPECT_TRUE(r.has_value()) << path;
    return r.value_or(Response{});
  }

  fs::path dir_, root_;
  std::string big_js_;
};

TEST_F(StaticSiteTest, ServesTheClinicianAppAtRootAndThePortalUnderPortal) {
  Response home = Get("/");
  EXPECT_EQ(home.status, 200);
  EXPECT_NE(home.body.find("clinician"), std::string::npos);
  EXPECT_EQ(Header(home, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(Header(home, "Cache-Control"), "no-cache");

  Response portal = Get("/portal/");
  EXPECT_NE(portal.body.find("portal"), std::string::npos);
  Response bare = [&] {
    Request req;
    req.method = "GET";
    req.path = "/portal";
    req.target = "/portal?x=1";
    return *StaticSite(root_.string()).Serve(req);
  }();
  EXPECT_EQ(bare.status, 308);
  EXPECT_EQ(Header(bare, "Location"), "/portal/?x=1");
}

TEST_F(StaticSiteTest, UnknownRoutesFallBackToTheirAppsIndex) {
  EXPECT_NE(Get("/patients/demo-maria-lopez/chart").body.find("clinician"), std::string::npos);
  EXPECT_NE(Get("/portal/results/hba1c").body.find("portal"), std::string::npos);
  // A page asked for by a browser falls back even with a dot in its last segment.
  EXPECT_NE(Get("/patients/v1.2", {{"accept", "text/html"}}).body.find("clinician"),
            std::string::npos);
}

TEST_F(StaticSiteTest, MissingAssetsAreNotFoundRatherThanHtml) {
  EXPECT_EQ(Get("/assets/gone-999.js").status, 404);
  EXPECT_EQ(Get("/favicon.ico").status, 404);
}

TEST_F(StaticSiteTest, HashedAssetsAreImmutableWithTheirContentType) {
  Response js = Get("/assets/index-abc123.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_TRUE(js.body == big_js_);
  EXPECT_EQ(Header(js, "Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(Header(js, "Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(Header(Get("/assets/app-def456.css"), "Content-Type"), "text/css; charset=utf-8");
}

TEST_F(StaticSiteTest, GzipOnTheFlyAndPrecompressed) {
  Response js = Get("/assets/index-abc123.js", {{"accept-encoding", "gzip, deflate, br"}});
  EXPECT_EQ(Header(js, "Content-Encoding"), "gzip");
  EXPECT_LT(js.body.size(), big_js_.size());
  EXPECT_TRUE(Gunzip(js.body) == big_js_);
  EXPECT_EQ(Header(js, "Vary"), "Accept-Encoding");

  Response refused = Get("/assets/index-abc123.js", {{"accept-encoding", "gzip;q=0"}});
  EXPECT_EQ(Header(refused, "Content-Encoding"), "");
  EXPECT_TRUE(refused.body == big_js_);

  // A build-time .gz beside the file is sent as is.
  std::string other = "export const a = '" + std::string(3000, 'y') + "';";
  Write(root_ / "assets" / "pre-1.js", other);
  Write(root_ / "assets" / "pre-1.js.gz", "PRECOMPRESSED");
  Response pre = Get("/assets/pre-1.js", {{"accept-encoding", "gzip"}});
  EXPECT_EQ(pre.body, "PRECOMPRESSED");
}

TEST_F(StaticSiteTest, ETagRevalidates) {
  Response first = Get("/");
  std::string etag = Header(first, "ETag");
  ASSERT_FALSE(etag.empty());
  Response again = Get("/", {{"if-none-match", etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
}

TEST_F(StaticSiteTest, TraversalAndHiddenFilesAreRefused) {
  EXPECT_EQ(Get("/../secret.txt").status, 400);
  EXPECT_EQ(Get("/assets/../../secret.txt").status, 400);
  EXPECT_EQ(Get("/assets\\..\\secret.txt").status, 400);
  EXPECT_EQ(Get("/.env").status, 404);
  // A symbolic link pointing out of the root is not followed.
  fs::create_symlink(dir_ / "secret.txt", root_ / "assets" / "link.txt");
  Response link = Get("/assets/link.txt");
  EXPECT_EQ(link.status, 404);
  EXPECT_EQ(link.body.find("outside"), std::string::npos);
}

TEST_F(StaticSiteTest, SecurityHeadersOnEveryAnswer) {
  for (const char* path : {"/", "/assets/index-abc123.js", "/assets/none.js", "/../x"}) {
    Response r = Get(path);
    EXPECT_NE(Header(r, "Content-Security-Policy").find("frame-ancestors 'none'"),
              std::string::npos)
        << path;
    EXPECT_NE(Header(r, "Content-Security-Policy").find("script-src 'self'"), std::string::npos);
    EXPECT_EQ(Header(r, "X-Content-Type-Options"), "nosniff") << path;
    EXPECT_EQ(Header(r, "Referrer-Policy"), "no-referrer") << path;
  }
}

TEST_F(StaticSiteTest, ApiPathsAndWritesAreNeverAnswered) {
  StaticSite site(root_.string());
  for (const char* path : {"/fhir", "/fhir/Patient", "/auth/authorize", "/healthz", "/metrics",
                           "/.well-known/smart-configuration"}) {
    Request req;
    req.method = "GET";
    req.path = path;
    EXPECT_FALSE(site.Serve(req).has_value()) << path;
  }
  Request post;
  post.method = "POST";
  post.path = "/";
  EXPECT_FALSE(site.Serve(post).has_value());
  EXPECT_FALSE(IsApiPath("/fhirish"));
  EXPECT_FALSE(IsApiPath("/portal"));
}

TEST_F(StaticSiteTest, AnUnbuiltFrontEndShowsHowToBuildIt) {
  StaticSite site((dir_ / "nothing-here").string());
  EXPECT_FALSE(site.Built());
  Request req;
  req.method = "GET";
  req.path = "/";
  auto r = site.Serve(req);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("make build"), std::string::npos);
  req.path = "/portal/";
  EXPECT_NE(site.Serve(req)->body.find("make build"), std::string::npos);
}

}  // namespace
}  // namespace carechart::http
