// serve's access policy options: --access-policy FILE (a role table replacing the shipped one,
// docs/access-policy.md) and --access-mode ehr|emr.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <fstream>
#include <sstream>

#include "access/policy.h"
#include "app/commands.h"
#include "rest/fhir_api.h"

namespace carechart::app {

void AddAccessServeOptions(CLI::App* serve_cmd, ServeOptions& serve) {
  serve_cmd
      ->add_option("--access-policy", serve.access_policy,
                   "role table (JSON) replacing the shipped access policy (docs/access-policy.md)")
      ->envname("CARECHART_ACCESS_POLICY")
      ->check(CLI::ExistingFile);
  serve_cmd
      ->add_option("--access-mode", serve.access_mode,
                   "ehr: clinicians see the whole record of patients they care for; emr: each "
                   "facility sees its own data (default: the role table's mode, ehr)")
      ->envname("CARECHART_ACCESS_MODE")
      ->check(CLI::IsMember({"ehr", "emr"}));
}

bool ConfigureAccessPolicy(const ServeOptions& serve, rest::ApiOptions& api) {
  access::PolicyConfig config = access::DefaultPolicyConfig();
  if (!serve.access_policy.empty()) {
    std::ifstream in(serve.access_policy);
    std::stringstream text;
    text << in.rdbuf();
    auto parsed = access::ParsePolicyConfig(text.str());
    if (!parsed.ok()) {
      spdlog::critical("--access-policy {}: {}", serve.access_policy, parsed.status().message());
      return false;
    }
    config = std::move(parsed).value();
  }
  if (!serve.access_mode.empty()) {
    config.mode = serve.access_mode == "emr" ? access::Mode::kEmr : access::Mode::kEhr;
  }
  spdlog::info("access policy: {} mode, {}", config.mode == access::Mode::kEmr ? "EMR" : "EHR",
               serve.access_policy.empty() ? "shipped role table" : serve.access_policy);
  api.access_policy = std::make_shared<const access::PolicyConfig>(std::move(config));
  return true;
}

}  // namespace carechart::app
