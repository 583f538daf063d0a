// The web front end in `carechart serve`: where its built files are (--web-root), found without
// configuration when the binary runs from a source tree's build folder.
#include <CLI/CLI.hpp>

#include <spdlog/spdlog.h>

#include <ctime>
#include <filesystem>
#include <system_error>

#include "app/commands.h"
#include "app/serve_auth.h"

namespace carechart::app {

namespace fs = std::filesystem;

void AddWebServeOptions(CLI::App* serve_cmd, ServeOptions& serve) {
  serve_cmd
      ->add_option("--web-root", serve.web_root,
                   "folder of the built web apps (web/dist: index.html, assets/, portal/); "
                   "default: web/dist of the source tree the binary was built in")
      ->envname("CARECHART_WEB_ROOT");
}

Status EnsureFirstPartyClients(auth::AuthStore& store, const std::string& public_base_url) {
  // The origin the apps are served from, when configured; otherwise the sign-in accepts this
  // server's own origin as the request's Host gives it, for these two clients only (decision D28).
  std::string origin = public_base_url;
  if (size_t scheme = origin.find("://"); scheme != std::string::npos) {
    origin = origin.substr(0, origin.find('/', scheme + 3));
  } else {
    origin.clear();
  }
  struct App {
    std::string_view id, name;
    std::vector<std::string> scopes;
  };
  const App apps[] = {
      {auth::kClinicianClientId,
       "Carechart clinician app",
       {"openid", "fhirUser", "profile", "offline_access", "online_access", "launch",
        "launch/patient", "user/*.cruds", "patient/*.cruds"}},
      {auth::kPortalClientId,
       "Carechart patient portal",
       {"openid", "fhirUser", "profile", "offline_access", "online_access", "launch/patient",
        "patient/*.cruds"}},
  };
  for (const App& a : apps) {
    ASSIGN_OR_RETURN(auto existing, store.GetClient(std::string(a.id)));
    if (existing) {
      continue;  // an administrator may have changed it; leave it as it is
    }
    auth::Client c;
    c.id = a.id;
    c.name = a.name;
    c.kind = auth::ClientKind::kPublic;  // PKCE, no secret: the app runs in the browser
    if (!origin.empty()) {
      c.redirect_uris = {origin + std::string(auth::FirstPartyRedirectPath(a.id))};
    }
    c.scopes = a.scopes;
    c.created_at = static_cast<int64_t>(std::time(nullptr));
    RETURN_IF_ERROR(store.PutClient(c));
    spdlog::info("created the web app's SMART client {}", c.id);
  }
  return Status::Ok();
}

std::string FindWebRoot(const std::string& configured) {
  if (!configured.empty()) {
    return configured;
  }
  std::error_code ec;
  auto built = [&ec](const fs::path& dir) { return fs::is_regular_file(dir / "index.html", ec); };
  if (built("web/dist")) {
    return "web/dist";
  }
  // build/src/app/carechart → the source tree's web/dist; an installed binary → share/carechart.
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    if (built(exe.parent_path().parent_path() / "share" / "carechart" / "web")) {
      return (exe.parent_path().parent_path() / "share" / "carechart" / "web").string();
    }
    fs::path dir = exe.parent_path();
    for (int up = 0; up < 5 && !dir.empty() && dir != dir.root_path(); ++up) {
      if (built(dir / "web" / "dist")) {
        return (dir / "web" / "dist").string();
      }
      dir = dir.parent_path();
    }
  }
  return fs::absolute("web/dist", ec).string();
}

}  // namespace carechart::app
