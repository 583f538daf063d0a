#include "app/serve_auth.h"

#include <spdlog/spdlog.h>

#include <iostream>

#include "access/access_control.h"
#include "app/open_store.h"
#include "auth/password.h"
#include "auth/roles.h"
#include "rest/context.h"

namespace carechart::app {

namespace {

// Patients for the sign-in picker: an exact id, else a name search (first 20).
auth::PatientFinder MakePatientFinder(store::ResourceStore& store) {
  return [&store](const std::string& query) {
    std::vector<std::pair<std::string, std::string>> out;
    auto display = [](const std::string& body) {
      auto v = json::Parse(body);
      if (!v.ok()) {
        return std::string();
      }
      const json::Value* names = v->find("name");
      if (!names || !names->is_array() || names->items().empty()) {
        return std::string();
      }
      const json::Value& n = names->items().front();
      std::string text;
      if (const json::Value* given = n.find("given"); given && given->is_array()) {
        for (const auto& g : given->items()) {
          text += g.text() + " ";
        }
      }
      return text + std::string(n.string_at("family"));
    };
    if (!query.empty() && rest::IsValidId(query)) {
      auto v = store.Read("Patient", query);
      if (v.ok() && !v->deleted) {
        out.emplace_back(query, display(v->body));
        return out;
      }
    }
    store::SearchQuery q;
    q.type = "Patient";
    q.count = 20;
    q.want_total = false;
    auto r = store.Search(q);
    if (r.ok()) {
      for (const auto& m : r->matches) {
        out.emplace_back(m.id, display(m.body));
      }
    }
    return out;
  };
}

Status CreateFirstAdministrator(auth::AuthStore& store, const CommonOptions& common) {
  ASSIGN_OR_RETURN(int64_t users, store.CountUsers());
  if (users > 0) {
    return Status::Ok();
  }
  auth::User admin;
  admin.id = rest::NewId();
  admin.username = "admin";
  admin.display = "Administrator";
  admin.role = auth::Role::kAdministrator;
  admin.facility_ids = {common.facility_id};
  std::string password = auth::NewOneTimePassword();
  ASSIGN_OR_RETURN(admin.password_hash, auth::HashPassword(password));
  admin.must_change_password = true;
  admin.created_at = static_cast<int64_t>(std::time(nullptr));
  if (Status put = store.PutUser(admin); !put.ok()) {
    // Several nodes started at once on an empty database (PostgreSQL): another made it first.
    StatusOr<int64_t> now = store.CountUsers();
    if (put.code() == StatusCode::kConflict && now.ok() && *now > 0) {
      return Status::Ok();
    }
    return put;
  }
  // Printed once, to the terminal only (never to the log); it must be changed at first sign-in.
  std::cout << "carechart: first start: created the administrator 'admin' with the one-time "
               "password "
            << password << " (it must be changed at the first sign-in; it is not shown again)"
            << std::endl;
  return Status::Ok();
}

}  // namespace

ServeAuth::~ServeAuth() = default;

std::unique_ptr<ServeAuth> ServeAuth::Start(const CommonOptions& common, const ServeOptions& serve,
                                            store::ResourceStore& store, rest::FhirApi& api) {
  std::unique_ptr<ServeAuth> a(new ServeAuth());
  auto opened = OpenAuthStore(common);
  if (!opened.ok()) {
    spdlog::critical("cannot open the auth tables: {}", opened.status().ToString());
    return nullptr;
  }
  a->store_ = std::move(*opened);
  if (Status s = CreateFirstAdministrator(*a->store_, common); !s.ok()) {
    spdlog::critical("cannot create the first administrator: {}", s.ToString());
    return nullptr;
  }
  auth::TokenSettings ts;
  ts.access_token_seconds = serve.access_token_seconds;
  auto tokens = auth::TokenService::Create(*a->store_, ts);
  if (!tokens.ok()) {
    spdlog::critical("cannot load the token signing key: {}", tokens.status().ToString());
    return nullptr;
  }
  a->tokens_ = std::move(*tokens);
  (void)a->store_->Purge(a->tokens_->Now());
  auth::AuthOptions ao;
  ao.public_base_url = serve.public_base_url;
  ao.tls = !serve.tls_cert.empty();
  ao.cors_origins = serve.cors_origins;
  if (Status s = EnsureFirstPartyClients(*a->store_, serve.public_base_url); !s.ok()) {
    spdlog::critical("cannot create the web apps' clients: {}", s.ToString());
    return nullptr;
  }
  ao.facility_name = [&store](const std::string& id) {
    auto org = rest::IsValidId(id)
                   ? store.Read("Organization", id)
                   : StatusOr<store::ResourceVersion>(Status{StatusCode::kNotFound, ""});
    if (!org.ok() || org->deleted) {
      return std::string();
    }
    auto v = json::Parse(org->body);
    return v.ok() ? std::string(v->string_at("name")) : std::string();
  };
  ao.on_sign_in = [&api](const std::string& user_id, const std::string& address, bool success,
                         const std::string& detail) {
    api.Access().RecordLogin(user_id, address, success, detail);
  };
  a->oauth_ =
      std::make_unique<auth::OAuthServer>(*a->store_, *a->tokens_, ao, MakePatientFinder(store));
  return a;
}

http::Response ServeAuth::Handle(http::Request& request, rest::FhirApi& api,
                                 const std::function<http::Response(http::Request&)>& other) {
  http::Response r;
  const std::string& p = request.path;
  if (auto preflight = oauth_->Preflight(request)) {
    r = std::move(*preflight);
  } else if (auth::OAuthServer::Serves(p)) {
    r = oauth_->Handle(request);
  } else if (p == "/fhir" || p.starts_with("/fhir/")) {
    if (p == "/fhir/metadata" && (request.method == "GET" || request.method == "HEAD")) {
      r = api.Handle(request);  // the CapabilityStatement is public (FHIR http.html#capabilities)
      oauth_->AddSmartSecurity(request, r);
    } else {
      auto gate = oauth_->Authenticate(request);
      if (auto* refused = std::get_if<http::Response>(&gate)) {
        r = std::move(*refused);
      } else {
        r = api.Handle(request, std::get<std::shared_ptr<const auth::Principal>>(gate));
      }
    }
  } else {
    r = other(request);
  }
  oauth_->AddSecurityHeaders(request, r);
  return r;
}

}  // namespace carechart::app
