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
#include <map>

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

// "Given Family" of a Patient, or the `name` of an Organization; empty when unknown.
std::string DisplayName(store::ResourceStore& store, const std::string& type,
                        const std::string& id) {
  auto v = store.Read(type, id);
  if (!v.ok() || v->deleted) {
    return {};
  }
  auto body = json::Parse(v->body);
  if (!body.ok()) {
    return {};
  }
  if (type != "Patient") {
    return std::string(body->string_at("name"));
  }
  const json::Value* names = body->find("name");
  if (!names || !names->is_array() || names->items().empty()) {
    return {};
  }
  const json::Value& n = names->items().front();
  std::string text;
  if (const json::Value* given = n.find("given");
      given && given->is_array() && !given->items().empty()) {
    text = given->items().front().text() + " ";
  }
  return text + std::string(n.string_at("family"));
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
  // NDJSON per facility the resources are recorded at ("": the server's own, for the code lists).
  std::map<std::string, std::string> lines;
  auto take = [&](const std::string& type, const std::string& id, std::string_view json,
                  const std::string& facility) {
    if (!Exists(store, type, id)) {  // never overwrite what the demo's users changed
      std::string& l = lines[facility];
      l.append(json);
      l += '\n';
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
    take(std::string(v->string_at("resourceType")), std::string(v->string_at("id")), line, "");
  }
  auto name_of = [&store](const std::string& id) { return DisplayName(store, "Patient", id); };
  for (const synth::WebResource& r : synth::WebStoryResources(today, offset_minutes, name_of)) {
    take(r.type, r.id, r.json, r.facility);
  }
  int64_t written = 0;
  for (auto& [facility, ndjson] : lines) {
    rest::ApiOptions at = api;  // stamped with the facility each resource is recorded at
    if (!facility.empty()) {
      at.facility_id = facility;
      at.facility_name = DisplayName(store, "Organization", facility);
    }
    rest::ImportOptions io;
    io.validate = true;  // hand-written: checked like any client's writes
    rest::Importer importer(store, at, io);
    Status s = importer.ImportGenerated([&](const rest::Importer::NdjsonFeed& feed) {
      feed("web-demo", std::move(ndjson));
      return Status::Ok();
    });
    const rest::ImportStats& stats = importer.stats();
    if (!s.ok() || stats.entries_failed > 0) {
      spdlog::critical("web demo data failed to load: {} {}", s.ToString(),
                       stats.errors.empty() ? "" : stats.errors[0]);
      return -1;
    }
    written += stats.resources_written;
  }
  return written;
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
