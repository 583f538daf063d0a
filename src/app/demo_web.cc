// serve --demo, for the web apps: the web stories' resources (today's clinic, Slots, a message
// awaiting a reply, a result awaiting review, the terminology set; synth/web_story.h) and the demo
// users demo-doctor and maria, whose random passwords are printed once and kept in
// demo-logins.txt beside the database (mode 0600; the data folder is git-ignored).
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <iostream>

#include "app/commands.h"
#include "auth/auth_store.h"
#include "auth/password.h"
#include "fhir/json.h"
#include "rest/context.h"
#include "rest/fhir_api.h"
#include "rest/importer.h"
#include "store/resource_store.h"
#include "synth/web_story.h"

namespace carechart::app {

namespace {

bool Exists(store::ResourceStore& store, const std::string& type, const std::string& id) {
  auto v = store.Read(type, id);
  return v.ok() && !v->deleted;
}

struct DemoUser {
  std::string username, display;
  auth::Role role;
  std::vector<std::string> facilities;
  std::string practitioner, patient;
};

}  // namespace

int64_t LoadWebDemoData(store::ResourceStore& store, const rest::ApiOptions& api) {
  if (!Exists(store, "Patient", "demo-maria-lopez")) {
    return 0;  // a database with other data: the stories have no one to be about
  }
  // Today on this machine's clock and time zone: the browser beside it sees the same day.
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  const int offset_minutes = static_cast<int>(local.tm_gmtoff / 60);
  const synth::Day today = synth::DayOf(static_cast<synth::Instant>(now) + local.tm_gmtoff);
  std::string lines;
  int64_t count = 0;
  auto take = [&](const std::string& type, const std::string& id, std::string_view json) {
    if (!Exists(store, type, id)) {  // never overwrite what the demo's users changed
      lines.append(json);
      lines += '\n';
      ++count;
    }
  };
  std::string_view terms = synth::TerminologyNdjson();
  while (!terms.empty()) {
    std::string_view line = terms.substr(0, terms.find('\n'));
    terms.remove_prefix(std::min(terms.size(), line.size() + 1));
    if (line.empty()) {
      continue;
    }
    auto v = json::Parse(line);
    if (!v.ok()) {
      spdlog::critical("terminology.ndjson: {}", v.status().ToString());
      return -1;
    }
    take(std::string(v->string_at("resourceType")), std::string(v->string_at("id")), line);
  }
  for (const synth::WebResource& r : synth::WebStoryResources(today, offset_minutes)) {
    take(r.type, r.id, r.json);
  }
  if (count == 0) {
    return 0;
  }
  rest::ImportOptions io;
  io.validate = true;  // hand-written: checked like any client's writes
  rest::Importer importer(store, api, io);
  Status s = importer.ImportGenerated([&](const rest::Importer::NdjsonFeed& feed) {
    feed("web-demo", std::move(lines));
    return Status::Ok();
  });
  const rest::ImportStats& stats = importer.stats();
  if (!s.ok() || stats.entries_failed > 0) {
    spdlog::critical("web demo data failed to load: {} {}", s.ToString(),
                     stats.errors.empty() ? "" : stats.errors[0]);
    return -1;
  }
  return stats.resources_written;
}

bool CreateDemoUsers(const CommonOptions& common) {
  auto opened = auth::OpenSqliteAuthStore(common.db_path);
  if (!opened.ok()) {
    spdlog::critical("demo users: {}", opened.status().ToString());
    return false;
  }
  auth::AuthStore& store = **opened;
  std::vector<std::string> facilities;
  for (std::string_view f : synth::kDemoDoctorFacilities) {
    facilities.emplace_back(f);
  }
  const DemoUser users[] = {
      {"demo-doctor", "", auth::Role::kPhysician, facilities,
       std::string(synth::kDemoDoctorPractitioner), ""},
      {"maria", "María López", auth::Role::kPatient, {}, "", "demo-maria-lopez"},
  };
  std::string created;
  for (const DemoUser& d : users) {
    auto existing = store.FindUserByName(d.username);
    if (!existing.ok()) {
      spdlog::critical("demo users: {}", existing.status().ToString());
      return false;
    }
    if (*existing) {
      continue;
    }
    auth::User u;
    u.id = rest::NewId();
    u.username = d.username;
    u.display = d.display.empty() ? synth::DemoDoctorName() : d.display;
    u.role = d.role;
    u.facility_ids = d.facilities;
    u.practitioner_id = d.practitioner;
    u.patient_id = d.patient;
    // Random, made at first start and never in the source; not one-time, so a demo can sign in
    // again and again with what demo-logins.txt says.
    std::string password = auth::NewOneTimePassword();
    auto hash = auth::HashPassword(password);
    if (!hash.ok()) {
      spdlog::critical("demo users: {}", hash.status().ToString());
      return false;
    }
    u.password_hash = *hash;
    u.created_at = static_cast<int64_t>(std::time(nullptr));
    if (Status s = store.PutUser(u); !s.ok()) {
      spdlog::critical("demo users: {}", s.ToString());
      return false;
    }
    created += d.username + " " + password + "\n";
  }
  if (created.empty()) {
    return true;
  }
  std::filesystem::path file =
      std::filesystem::absolute(common.db_path).parent_path() / "demo-logins.txt";
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0 || ::fchmod(fd, 0600) != 0 ||
      ::write(fd, created.data(), created.size()) != static_cast<ssize_t>(created.size())) {
    spdlog::warn("could not write {}; the demo passwords are only on this terminal", file.string());
  }
  if (fd >= 0) {
    ::close(fd);
  }
  // Printed once, to the terminal only (never to the log).
  std::cout << "carechart: demo users (username password), also in " << file.string() << ":\n"
            << created << "carechart: sign in at / (clinician: demo-doctor) and /portal (patient: "
            << "maria)" << std::endl;
  return true;
}

}  // namespace carechart::app
