// Patient-portal accounts (docs/portal-api.md):
//   GET  /auth/activate                 the activation / password-reset page (no script)
//   POST /auth/activate                 code + (username) + new password: activates the account
//   GET  /auth/account/me               Bearer: who I am and whose records I may open
//   POST /auth/account/invite           Bearer (administrator, front desk): a patient or proxy
//                                       account and its one-time activation code
//   POST /auth/account/reset-code       Bearer (administrator, front desk): a reset code for a
//                                       patient or proxy account
//   GET  /auth/account/apps             Bearer: my connected SMART apps (live grants)
//   DELETE /auth/account/apps/{id}      Bearer: disconnect one (revokes its refresh tokens)
// Codes are single use, short lived and stored hashed (accounts.h); wrong codes count against
// the address like failed sign-ins; every activation, reset and invitation is reported to
// options_.on_sign_in, which the server records as an AuditEvent.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <ctime>

#include "auth/accounts.h"
#include "auth/jwt.h"
#include "auth/oauth_internal.h"
#include "auth/oauth_server.h"
#include "auth/password.h"
#include "auth/roles.h"

namespace carechart::auth {

namespace {

http::Response ActivationPage(int status, std::string_view title, const std::string& body) {
  http::Response r;
  r.status = status;
  r.set_header("Content-Type", "text/html; charset=utf-8");
  r.set_header("Cache-Control", "no-store");
  r.body =
      "<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport "
      "content='width=device-width'><title>" +
      HtmlEscape(title) +
      " · Carechart</title><body style='font-family:system-ui;max-width:26rem;margin:3rem "
      "auto;padding:0 1rem;line-height:1.5'><main><h1 style='font-size:1.4rem'>" +
      HtmlEscape(title) + "</h1>" + body + "</main></body></html>";
  return r;
}

std::string ActivationForm(const std::string& code, const std::string& error) {
  std::string err =
      error.empty() ? "" : "<p role=alert style='color:#a00'>" + HtmlEscape(error) + "</p>";
  auto field = [](std::string_view label, std::string_view name, std::string_view type,
                  std::string_view extra, const std::string& value) {
    return "<p><label for=" + std::string(name) + ">" + std::string(label) +
           "</label><br><input id=" + std::string(name) + " name=" + std::string(name) +
           " type=" + std::string(type) + " " + std::string(extra) + " value='" +
           HtmlEscape(value) + "' style='width:100%;font-size:1rem;padding:.4rem'></p>";
  };
  return err +
         "<p>Enter the code your clinic gave you and choose a password (at least 12 characters). "
         "The code works once.</p><form method=post action='/auth/activate'>" +
         field("Code (for example ABCD-EFGH-JKMN)", "code", "text",
               "required autocomplete=one-time-code autocapitalize=characters", code) +
         field("Username (only if your clinic did not give you one)", "username", "text",
               "autocomplete=username autocapitalize=none", "") +
         field("New password", "password", "password", "required autocomplete=new-password", "") +
         field("Repeat the new password", "password2", "password",
               "required autocomplete=new-password", "") +
         "<p><button style='font-size:1rem;padding:.5rem 1rem'>Save my password</button></p>"
         "</form>";
}

std::string Lower(std::string s) {
  for (char& c : s) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

std::string Trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r\n");
  size_t b = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

std::string IsoTime(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// "Patient/abc" or "abc" → "abc"; empty when not a FHIR id.
std::string PatientId(std::string_view ref) {
  if (ref.starts_with("Patient/")) {
    ref.remove_prefix(8);
  }
  if (ref.empty() || ref.size() > 64) {
    return {};
  }
  for (char c : ref) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.')) {
      return {};
    }
  }
  return std::string(ref);
}

bool IssuesCodes(const Principal& p) {
  return p.role == Role::kAdministrator || p.role == Role::kFrontDesk;
}

json::Value Str(std::string s) { return json::Value::String(std::move(s)); }

}  // namespace

http::Response OAuthServer::Account(const http::Request& request) {
  const std::string& path = request.path;
  const std::string& m = request.method;
  int64_t now = tokens_.Now();
  auto method_error = [&](const char* allow) {
    http::Response r = OAuthError(405, "invalid_request", m + " is not allowed on " + path);
    r.set_header("Allow", allow);
    return r;
  };

  if (path == "/auth/activate") {
    if (m == "GET" || m == "HEAD") {
      std::string code;
      for (const auto& [k, v] : request.query) {
        if (k == "code") {
          code = v.substr(0, 32);
        }
      }
      return ActivationPage(200, "Activate your account", ActivationForm(code, ""));
    }
    if (m != "POST") {
      return method_error("GET, POST");
    }
    std::string address_key = "addr:" + request.remote_address;
    if (int64_t wait = address_limiter_.RetryAfter(address_key, now); wait > 0) {
      http::Response r =
          ActivationPage(429, "Too many attempts",
                         "<p role=alert>Too many wrong codes from your address. Try again in " +
                             std::to_string((wait + 59) / 60) + " minute(s).</p>");
      r.set_header("Retry-After", std::to_string(wait));
      return r;
    }
    auto form = ParseForm(request);
    if (!form) {
      return ActivationPage(400, "Activate your account",
                            ActivationForm("", "The form is malformed."));
    }
    std::string typed_code = FormValue(*form, "code").substr(0, 64);
    std::string code = NormaliseActivationCode(typed_code);
    std::string username = Lower(Trim(FormValue(*form, "username")));
    std::string password = FormValue(*form, "password");
    auto again = [&](int status, const std::string& error) {
      return ActivationPage(status, "Activate your account", ActivationForm(typed_code, error));
    };
    if (std::string why = PasswordProblem(password); !why.empty()) {
      return again(400, why);
    }
    if (password != FormValue(*form, "password2")) {
      return again(400, "The two passwords differ.");
    }
    std::string hash = Sha256Base64Url(code);
    auto found = store_.FindActivation(hash, now);
    if (!found.ok()) {
      if (found.status().code() != StatusCode::kUnauthenticated) {
        return again(503, "The server cannot check codes right now; try again.");
      }
      address_limiter_.RecordFailure(address_key, now);
      spdlog::info("refused activation code from {}", request.remote_address);
      if (options_.on_sign_in) {
        options_.on_sign_in("(unknown account)", request.remote_address, false,
                            "activation code refused: " + found.status().message());
      }
      return again(400,
                   "This code is not valid: it may be mistyped, used already or expired. Ask "
                   "your clinic for a new one.");
    }
    auto user = store_.GetUser(found->user_id);
    if (!user.ok() || !*user || (*user)->disabled) {
      return again(403, "This account is not active. Ask your clinic.");
    }
    User u = **user;
    bool choose_name = IsPlaceholderUsername(u.username);
    if (choose_name) {
      if (username.empty()) {
        return again(400, "Choose a username.");
      }
      if (std::string why = UsernameProblem(username); !why.empty()) {
        return again(400, why);
      }
      auto taken = store_.FindUserByName(username);
      if (!taken.ok()) {
        return again(503, "The server cannot check usernames right now; try again.");
      }
      if (*taken) {
        return again(409, "The username '" + username + "' is taken; choose another.");
      }
    }
    auto password_hash = HashPassword(password);
    if (!password_hash.ok()) {
      return again(500, "The password could not be stored.");
    }
    auto used = store_.UseActivation(hash);
    if (!used.ok() || !*used) {
      return again(400, "This code was used already. Ask your clinic for a new one.");
    }
    if (choose_name) {
      u.username = username;
    }
    u.password_hash = *password_hash;
    u.must_change_password = false;
    u.failed_logins = 0;
    u.locked_until = 0;
    if (Status s = store_.PutUser(u); !s.ok()) {
      return again(503, "The server cannot update the account right now; try again.");
    }
    bool reset = found->purpose == "reset";
    if (reset) {
      (void)store_.RevokeUserRefresh(u.id);  // signed out of every app: the old password leaked?
    }
    address_limiter_.RecordSuccess(address_key);
    spdlog::info("account {} {}", u.username, reset ? "password reset by code" : "activated");
    if (options_.on_sign_in) {
      options_.on_sign_in(u.id, request.remote_address, true,
                          reset ? "password reset with a clinic code" : "account activated");
    }
    return ActivationPage(
        200, reset ? "Your new password is saved" : "Your account is ready",
        "<p>Your username is <strong>" + HtmlEscape(u.username) +
            "</strong>. Use it and your new password to sign in.</p><p><a href='/portal/'>Open "
            "the patient portal</a></p>");
  }

  // The JSON endpoints: all need a Bearer token.
  auto gate = Authenticate(request);
  if (std::holds_alternative<http::Response>(gate)) {
    return std::get<http::Response>(gate);
  }
  const Principal& who = *std::get<std::shared_ptr<const Principal>>(gate);
  if (who.user_id.empty()) {
    return OAuthError(403, "access_denied", "these endpoints are for signed-in users");
  }

  if (path == "/auth/account/me") {
    if (m != "GET" && m != "HEAD") {
      return method_error("GET");
    }
    auto user = store_.GetUser(who.user_id);
    if (!user.ok() || !*user) {
      return OAuthError(404, "invalid_request", "the account no longer exists");
    }
    const User& u = **user;
    json::Value out = json::Value::Object();
    out.set("username", Str(u.username));
    out.set("display", Str(u.display));
    out.set("role", Str(std::string(RoleName(u.role))));
    if (std::string fu = FhirUserReference(u); !fu.empty()) {
      out.set("fhirUser", Str(fu));
    }
    json::Value patients = json::Value::Array();
    for (const std::string& id : PatientsOf(u)) {
      json::Value e = json::Value::Object();
      e.set("patient", Str("Patient/" + id));
      e.set("relationship", Str(id == u.patient_id ? "self" : "proxy"));
      patients.push_back(std::move(e));
    }
    out.set("patients", std::move(patients));
    return NoStoreJson(out);
  }

  if (path == "/auth/account/apps") {
    if (m != "GET" && m != "HEAD") {
      return method_error("GET");
    }
    auto grants = store_.ListGrants(who.user_id, now);
    if (!grants.ok()) {
      return OAuthError(503, "temporarily_unavailable", grants.status().message());
    }
    json::Value apps = json::Value::Array();
    for (const RefreshToken& g : *grants) {
      json::Value e = json::Value::Object();
      e.set("id", Str(g.family));
      e.set("clientId", Str(g.client_id));
      auto client = store_.GetClient(g.client_id);
      std::string name =
          client.ok() && *client && !(*client)->name.empty() ? (*client)->name : g.client_id;
      e.set("name", Str(name));
      e.set("scope", Str(g.scope));
      if (!g.patient_id.empty()) {
        e.set("patient", Str("Patient/" + g.patient_id));
      }
      e.set("expiresAt", Str(IsoTime(g.expires_at)));
      apps.push_back(std::move(e));
    }
    json::Value out = json::Value::Object();
    out.set("apps", std::move(apps));
    return NoStoreJson(out);
  }

  if (path.starts_with("/auth/account/apps/")) {
    if (m != "DELETE") {
      return method_error("DELETE");
    }
    std::string id = path.substr(std::string_view("/auth/account/apps/").size());
    auto revoked = store_.RevokeGrant(who.user_id, id);
    if (!revoked.ok()) {
      return OAuthError(503, "temporarily_unavailable", revoked.status().message());
    }
    if (!*revoked) {
      return OAuthError(404, "invalid_request", "you have no connected app with this id");
    }
    spdlog::info("user {} disconnected an app", who.user_id);
    if (options_.on_sign_in) {
      options_.on_sign_in(who.user_id, request.remote_address, true,
                          "disconnected a SMART app (revoked its refresh tokens)");
    }
    http::Response r;
    r.status = 204;
    r.set_header("Cache-Control", "no-store");
    return r;
  }

  if (path == "/auth/account/invite" || path == "/auth/account/reset-code") {
    if (m != "POST") {
      return method_error("POST");
    }
    if (!IssuesCodes(who)) {
      return OAuthError(403, "access_denied",
                        "only administrators and front-desk staff issue portal codes");
    }
    auto body = json::Parse(request.body);
    if (!body.ok() || !body->is_object()) {
      return OAuthError(400, "invalid_request",
                        "send a JSON object (Content-Type application/json)");
    }
    std::string username = Lower(Trim(std::string(body->string_at("username"))));
    if (path == "/auth/account/reset-code") {
      if (username.empty()) {
        return OAuthError(400, "invalid_request", "name the account: \"username\"");
      }
      auto user = store_.FindUserByName(username);
      if (!user.ok()) {
        return OAuthError(503, "temporarily_unavailable", user.status().message());
      }
      if (!*user) {
        return OAuthError(404, "invalid_request", "no account is named '" + username + "'");
      }
      if ((*user)->role != Role::kPatient && (*user)->role != Role::kProxy) {
        return OAuthError(403, "access_denied",
                          "staff passwords are reset with `carechart user reset-password`");
      }
      auto code = IssueActivationCode(store_, (*user)->id, "reset", now);
      if (!code.ok()) {
        return OAuthError(503, "temporarily_unavailable", code.status().message());
      }
      if (options_.on_sign_in) {
        options_.on_sign_in((*user)->id, request.remote_address, true,
                            "password reset code issued by user " + who.user_id);
      }
      json::Value out = json::Value::Object();
      out.set("username", Str((*user)->username));
      out.set("code", Str(*code));
      out.set("expiresAt", Str(IsoTime(now + kResetSeconds)));
      out.set("activateUrl", Str(UrlsFor(request, options_).auth + "/activate"));
      return NoStoreJson(out);
    }
    // Invitation.
    User u;
    u.patient_id = PatientId(body->string_at("patient"));
    if (!std::string(body->string_at("patient")).empty() && u.patient_id.empty()) {
      return OAuthError(400, "invalid_request", "\"patient\" must be Patient/<id>");
    }
    if (const json::Value* proxy = body->find("proxyFor"); proxy != nullptr) {
      if (!proxy->is_array()) {
        return OAuthError(400, "invalid_request", "\"proxyFor\" must be an array of Patient/<id>");
      }
      for (const json::Value& p : proxy->items()) {
        std::string id = p.is_string() ? PatientId(p.text()) : "";
        if (id.empty()) {
          return OAuthError(400, "invalid_request", "\"proxyFor\" must hold Patient/<id> strings");
        }
        u.proxy_patient_ids.push_back(id);
      }
    }
    if (u.patient_id.empty() && u.proxy_patient_ids.empty()) {
      return OAuthError(400, "invalid_request",
                        "an invitation names \"patient\" and/or \"proxyFor\" (Patient/<id>)");
    }
    u.role = u.proxy_patient_ids.empty() ? Role::kPatient : Role::kProxy;
    if (username.empty()) {
      u.username = NewPlaceholderUsername();  // chosen by the patient at activation
    } else {
      if (std::string why = UsernameProblem(username); !why.empty()) {
        return OAuthError(400, "invalid_request", "\"username\": " + why);
      }
      auto taken = store_.FindUserByName(username);
      if (!taken.ok()) {
        return OAuthError(503, "temporarily_unavailable", taken.status().message());
      }
      if (*taken) {
        return OAuthError(409, "invalid_request", "the username '" + username + "' is taken");
      }
      u.username = username;
    }
    u.id = RandomToken(16);
    u.display = std::string(body->string_at("display"));
    if (u.display.empty()) {
      u.display = username.empty() ? "Patient" : username;
    }
    // Unusable until activated: a random password nobody knows.
    auto hash = HashPassword(NewOneTimePassword() + NewOneTimePassword());
    if (!hash.ok()) {
      return OAuthError(500, "server_error", "the account could not be created");
    }
    u.password_hash = *hash;
    u.must_change_password = true;
    u.created_at = now;
    if (Status s = store_.PutUser(u); !s.ok()) {
      return OAuthError(503, "temporarily_unavailable", s.message());
    }
    auto code = IssueActivationCode(store_, u.id, "activate", now);
    if (!code.ok()) {
      return OAuthError(503, "temporarily_unavailable", code.status().message());
    }
    spdlog::info("portal account {} invited by user {}", u.id, who.user_id);
    if (options_.on_sign_in) {
      options_.on_sign_in(u.id, request.remote_address, true,
                          "portal account invited by user " + who.user_id);
    }
    json::Value out = json::Value::Object();
    out.set("userId", Str(u.id));
    if (!username.empty()) {
      out.set("username", Str(u.username));
    }
    out.set("role", Str(std::string(RoleName(u.role))));
    out.set("code", Str(*code));
    out.set("expiresAt", Str(IsoTime(now + kInviteSeconds)));
    out.set("activateUrl", Str(UrlsFor(request, options_).auth + "/activate"));
    http::Response r = NoStoreJson(out);
    r.status = 201;
    return r;
  }
  return OAuthError(404, "invalid_request", "nothing is served at " + path);
}

}  // namespace carechart::auth
