// /auth/authorize: the authorization-code flow's sign-in, server-rendered. GET checks the
// request (client, redirect URI, PKCE, aud, launch) and opens a sign-in session: a random id in
// an HttpOnly SameSite cookie, its SHA-256 in auth_session with the request and a CSRF token
// that every form posts back. POST walks the steps: password → TOTP (when enrolled) → new
// password (after a one-time password) → patient picker (standalone launch/patient for staff) →
// redirect to the app with the code. Errors before the redirect URI is trusted are shown as a
// page, never redirected (RFC 6749 §4.1.2.1).
#include <spdlog/spdlog.h>

#include "auth/jwt.h"
#include "auth/oauth_internal.h"
#include "auth/oauth_server.h"
#include "auth/password.h"
#include "auth/roles.h"
#include "auth/scopes.h"

namespace carechart::auth {

namespace {

constexpr std::string_view kCookie = "cc_signin";

// The page's look, inline (the CSP of auth pages allows inline styles only; no external asset):
// one card, large touch targets, visible focus, WCAG AA contrast, fits a phone.
constexpr std::string_view kStyle =
    ":root{color-scheme:light}*{box-sizing:border-box}"
    "body{margin:0;min-height:100vh;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,"
    "sans-serif;color:#161616;background:#f2f4f8}"
    "main{max-width:25rem;margin:8vh auto 2rem;background:#fff;border-radius:8px;"
    "box-shadow:0 2px 6px rgba(0,0,0,.12);padding:2rem 1.5rem}"
    "@media (max-width:30rem){main{margin:0;min-height:100vh;border-radius:0;box-shadow:none}}"
    ".brand{display:flex;gap:.5rem;align-items:center;font-weight:700;color:#0043ce;"
    "margin:0 0 1.5rem}.brand svg{flex:none}"
    "h1{font-size:1.5rem;line-height:1.25;margin:0 0 .75rem}p{margin:0 0 1rem}"
    ".field{margin:0 0 1.25rem}label{display:block;font-weight:600;margin:0 0 .375rem}"
    "input[type=text],input[type=password]{width:100%;font:inherit;padding:.625rem .75rem;"
    "min-height:48px;border:1px solid #6f6f6f;border-radius:4px;background:#fff;color:#161616}"
    "input[aria-invalid=true]{border:2px solid #da1e28}"
    "input:focus-visible,button:focus-visible{outline:3px solid #0f62fe;outline-offset:2px}"
    "button{width:100%;font:inherit;font-weight:600;min-height:48px;padding:.75rem;border:0;"
    "border-radius:4px;background:#0f62fe;color:#fff;cursor:pointer}button:hover{background:"
    "#0043ce}.error{border-left:4px solid #da1e28;background:#fff1f1;padding:.75rem 1rem;"
    "margin:0 0 1.25rem}fieldset{border:0;padding:0;margin:0 0 1.25rem}legend{font-weight:600;"
    "margin:0 0 .5rem}.choice{display:flex;gap:.75rem;align-items:center;font-weight:400;"
    "border:1px solid #c6c6c6;border-radius:4px;padding:.75rem;margin:0 0 .5rem;min-height:48px;"
    "cursor:pointer}.choice:has(input:checked){border-color:#0f62fe;background:#edf5ff}"
    ".choice input{width:1.25rem;height:1.25rem;margin:0}.hint,small{color:#525252}"
    "footer{color:#525252;font-size:.875rem;margin-top:1.5rem}";

constexpr std::string_view kLogo =
    "<svg width=28 height=28 viewBox='0 0 28 28' aria-hidden=true><rect width=28 height=28 "
    "rx=6 fill='#0f62fe'/><path d='M12 6h4v6h6v4h-6v6h-4v-6H6v-4h6z' fill='#fff'/></svg>";

http::Response Page(int status, std::string_view title, const std::string& body) {
  http::Response r;
  r.status = status;
  r.set_header("Content-Type", "text/html; charset=utf-8");
  r.set_header("Cache-Control", "no-store");
  r.body =
      "<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport "
      "content='width=device-width,initial-scale=1'><title>" +
      HtmlEscape(title) + " · Carechart</title><style>" + std::string(kStyle) +
      "</style><body><main><p class=brand>" + std::string(kLogo) + "Carechart</p><h1>" +
      HtmlEscape(title) + "</h1>" + body +
      "<footer>Signing in to Carechart. Trouble signing in? Ask your clinic's Carechart "
      "administrator.</footer></main></body></html>";
  return r;
}

http::Response ErrorPage(int status, const std::string& message) {
  return Page(status, "Cannot sign in",
              "<p class=error role=alert>" + HtmlEscape(message) +
                  "</p><p class=hint>Go back to the application you came from and choose "
                  "<b>Sign in</b> again.</p>");
}

// A labelled input; the first of a form takes the focus. Inputs point at the error message (when
// there is one) so that a screen reader reads it with the field.
// `value` refills a field after a failed attempt (never used for passwords).
std::string Field(std::string_view label, std::string_view name, std::string_view type,
                  std::string_view autocomplete, bool first = false, std::string_view value = {}) {
  std::string id = "f-" + std::string(name);
  return "<div class=field><label for=" + id + ">" + std::string(label) +
         "</label><input id=" + id + " name=" + std::string(name) + " type=" + std::string(type) +
         " autocomplete=" + std::string(autocomplete) + " required aria-describedby=signin-error" +
         (first ? " autofocus" : "") + (value.empty() ? "" : " value='" + HtmlEscape(value) + "'") +
         (type == "text" ? " autocapitalize=none spellcheck=false" : "") + "></div>";
}

std::string FormHtml(const std::string& csrf, const std::string& fields, std::string_view button,
                     const std::string& error) {
  std::string err = error.empty()
                        ? ""
                        : "<p class=error id=signin-error role=alert>" + HtmlEscape(error) + "</p>";
  std::string f = fields;
  if (!error.empty()) {
    for (size_t at = f.find("<input id="); at != std::string::npos;
         at = f.find("<input id=", at + 1)) {
      f.insert(at + 6, " aria-invalid=true");
    }
  }
  return err + "<form method=post action='/auth/authorize'><input type=hidden name=csrf value='" +
         HtmlEscape(csrf) + "'>" + f + "<button type=submit>" + std::string(button) +
         "</button></form>";
}

// The authorize request, kept in the session while the user signs in.
struct PendingRequest {
  std::string client_id, client_name, redirect_uri, scope, state, code_challenge, nonce;
  std::string launch_patient, launch_encounter, csrf;
  std::string facility;  // chosen at the pick-facility step

  std::string ToJson() const {
    json::Value v = json::Value::Object();
    auto put = [&](const char* k, const std::string& s) { v.set(k, json::Value::String(s)); };
    put("client_id", client_id);
    put("client_name", client_name);
    put("redirect_uri", redirect_uri);
    put("scope", scope);
    put("state", state);
    put("code_challenge", code_challenge);
    put("nonce", nonce);
    put("launch_patient", launch_patient);
    put("launch_encounter", launch_encounter);
    put("csrf", csrf);
    put("facility", facility);
    return json::Write(v);
  }
  static std::optional<PendingRequest> FromJson(const std::string& text) {
    auto v = json::Parse(text);
    if (!v.ok()) {
      return std::nullopt;
    }
    auto get = [&](const char* k) { return std::string(v->string_at(k)); };
    return PendingRequest{get("client_id"), get("client_name"),    get("redirect_uri"),
                          get("scope"),     get("state"),          get("code_challenge"),
                          get("nonce"),     get("launch_patient"), get("launch_encounter"),
                          get("csrf"),      get("facility")};
  }
};

std::string QueryValue(const http::Request& r, std::string_view name) {
  for (const auto& [k, v] : r.query) {
    if (k == name) {
      return v;
    }
  }
  return {};
}

int StageIndex(std::string_view stage) {
  return stage == "password"          ? 0
         : stage == "totp"            ? 1
         : stage == "change-password" ? 2
         : stage == "pick-facility"   ? 3
                                      : 4;
}

// Staff who work at several facilities choose one for the session.
bool ChoosesFacility(const User& user) {
  return user.role != Role::kPatient && user.role != Role::kProxy && user.facility_ids.size() > 1;
}

bool HasScope(const std::string& scopes, std::string_view s) {
  auto v = SplitScopes(scopes);
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

std::string_view FirstPartyRedirectPath(std::string_view client_id) {
  if (client_id == kClinicianClientId) {
    return "/";
  }
  if (client_id == kPortalClientId) {
    return "/portal/";
  }
  return {};
}

http::Response OAuthServer::AuthorizeGet(const http::Request& request) {
  std::string client_id = QueryValue(request, "client_id");
  std::string redirect_uri = QueryValue(request, "redirect_uri");
  auto client = store_.GetClient(client_id);
  if (!client.ok()) {
    return ErrorPage(503, "The server cannot check the application right now; try again.");
  }
  if (!*client || (*client)->kind == ClientKind::kBackend) {
    return ErrorPage(400, "Unknown application (client_id '" + client_id + "').");
  }
  const Client& c = **client;
  std::string_view own_path = FirstPartyRedirectPath(c.id);
  bool own_app = options_.first_party_clients && !own_path.empty() &&
                 redirect_uri == UrlsFor(request, options_).origin + std::string(own_path);
  if (!own_app && std::find(c.redirect_uris.begin(), c.redirect_uris.end(), redirect_uri) ==
                      c.redirect_uris.end()) {
    return ErrorPage(
        400, "The redirect_uri '" + redirect_uri + "' is not registered for this application.");
  }
  std::string state = QueryValue(request, "state");
  auto fail = [&](std::string_view error, const std::string& why) {
    Form params = {{"error", std::string(error)}, {"error_description", why}};
    if (!state.empty()) {
      params.emplace_back("state", state);
    }
    return Redirect(WithQuery(redirect_uri, params));
  };
  if (QueryValue(request, "response_type") != "code") {
    return fail("unsupported_response_type", "response_type must be code");
  }
  ServerUrls u = UrlsFor(request, options_);
  std::string aud = QueryValue(request, "aud");
  if (aud != u.fhir) {
    return fail("invalid_request", "aud must be this server's FHIR base URL " + u.fhir);
  }
  std::string challenge = QueryValue(request, "code_challenge");
  std::string method = QueryValue(request, "code_challenge_method");
  if (!challenge.empty() && method != "S256") {
    return fail("invalid_request", "code_challenge_method must be S256");
  }
  if (challenge.empty() && c.kind == ClientKind::kPublic) {
    return fail("invalid_request", "public clients must send a PKCE code_challenge (S256)");
  }
  std::string scope = QueryValue(request, "scope");
  if (scope.empty()) {
    return fail("invalid_scope", "scope is required");
  }
  PendingRequest pr{
      c.id, c.name, redirect_uri,    scope, state, challenge, QueryValue(request, "nonce"),
      "",   "",     RandomToken(24), ""};
  if (std::string launch = QueryValue(request, "launch"); !launch.empty()) {
    auto ctx = store_.GetLaunch(launch, tokens_.Now());
    if (!ctx.ok() || !*ctx) {
      return fail("invalid_request", "the launch parameter is unknown or expired");
    }
    pr.launch_patient = (*ctx)->patient_id;
    pr.launch_encounter = (*ctx)->encounter_id;
  }
  std::string cookie = RandomToken(32);
  SignInSession session{Sha256Base64Url(cookie), "", "password", pr.ToJson(),
                        tokens_.Now() + options_.session_seconds};
  if (Status s = store_.PutSession(session); !s.ok()) {
    return ErrorPage(503, "The server cannot start a sign-in right now; try again.");
  }
  return SignInStep(request, session, cookie, "");
}

http::Response OAuthServer::SignInStep(const http::Request& request, SignInSession& session,
                                       const std::string& cookie, const std::string& error) {
  auto pr = PendingRequest::FromJson(session.request_json);
  std::string intro = "<p><b>" +
                      HtmlEscape(pr->client_name.empty() ? pr->client_id : pr->client_name) +
                      "</b> asks to use your Carechart account.</p>";
  http::Response r;
  if (session.stage == "password") {
    // After a wrong password the user retypes only the password: keep the username they sent.
    std::string username;
    if (request.method == "POST") {
      if (auto form = ParseForm(request)) {
        username = FormValue(*form, "username");
      }
    }
    r = Page(200, "Sign in",
             intro + FormHtml(pr->csrf,
                              Field("Username", "username", "text", "username", username.empty(),
                                    username) +
                                  Field("Password", "password", "password", "current-password",
                                        !username.empty()),
                              "Sign in", error));
  } else if (session.stage == "totp") {
    r = Page(200, "Second factor",
             FormHtml(pr->csrf,
                      Field("6-digit code from your authenticator app", "totp", "text",
                            "one-time-code", true),
                      "Continue", error));
  } else if (session.stage == "change-password") {
    r = Page(200, "Choose a new password",
             "<p>Your password was a one-time password; choose your own (12 characters or "
             "more).</p>" +
                 FormHtml(pr->csrf,
                          Field("New password", "new_password", "password", "new-password", true) +
                              Field("Repeat it", "new_password2", "password", "new-password"),
                          "Save and continue", error));
  } else if (session.stage == "pick-facility") {
    auto user = store_.GetUser(session.user_id);
    std::string list;
    if (user.ok() && *user) {
      bool first = true;
      for (const std::string& id : (*user)->facility_ids) {
        std::string name = options_.facility_name ? options_.facility_name(id) : "";
        list += "<label class=choice><input type=radio name=facility required value='" +
                HtmlEscape(id) + "'" + (first ? " autofocus" : "") + "> <span>" +
                HtmlEscape(name.empty() ? id : name) + "</span></label>";
        first = false;
      }
    }
    r = Page(200, "Where are you working today?",
             "<p>You work at more than one facility. What you record is recorded for the "
             "facility you choose; you can switch by signing in again.</p>" +
                 FormHtml(pr->csrf, "<fieldset><legend>Facility</legend>" + list + "</fieldset>",
                          "Continue", error));
  } else {
    std::string list;
    if (find_patients_) {
      for (const auto& [id, name] : find_patients_(QueryValue(request, "name"))) {
        list += "<li><label class=choice><input type=radio name=patient value='" + HtmlEscape(id) +
                "'> <span>" + HtmlEscape(name) + " <small>(" + HtmlEscape(id) +
                ")</small></span></label></li>";
      }
    }
    r = Page(200, "Choose a patient",
             "<p>The application works on one patient's record.</p>" +
                 FormHtml(pr->csrf,
                          "<ul style='list-style:none;padding:0'>" + list +
                              "</ul><div class=field><label for=f-patient_id>or Patient id</label>"
                              "<input id=f-patient_id name=patient_id type=text "
                              "aria-describedby=signin-error></div>",
                          "Open this patient", error));
  }
  r.headers.emplace_back("Set-Cookie",
                         CookieHeader(kCookie, cookie, options_.session_seconds, options_.tls));
  return r;
}

http::Response OAuthServer::AuthorizePost(const http::Request& request) {
  int64_t now = tokens_.Now();
  std::string address_key = "addr:" + request.remote_address;
  if (int64_t wait = address_limiter_.RetryAfter(address_key, now); wait > 0) {
    http::Response r = ErrorPage(429, "Too many failed attempts from your address. Try again in " +
                                          std::to_string((wait + 59) / 60) + " minute(s).");
    r.set_header("Retry-After", std::to_string(wait));
    return r;
  }
  auto form = ParseForm(request);
  std::string cookie = CookieValue(request, kCookie);
  if (!form || cookie.empty()) {
    return ErrorPage(400,
                     "The sign-in session is missing (cookies must be enabled). Start again "
                     "from the application.");
  }
  auto found = store_.GetSession(Sha256Base64Url(cookie), now);
  if (!found.ok() || !*found) {
    return ErrorPage(400, "The sign-in session has expired. Start again from the application.");
  }
  SignInSession session = **found;
  auto pr = PendingRequest::FromJson(session.request_json);
  if (!pr || FormValue(*form, "csrf") != pr->csrf) {
    return ErrorPage(403, "The form is not from this sign-in (CSRF token mismatch).");
  }
  std::optional<User> user;
  if (!session.user_id.empty()) {
    auto u = store_.GetUser(session.user_id);
    if (!u.ok() || !*u || (*u)->disabled) {
      return ErrorPage(403, "This account is not active.");
    }
    user = **u;
  }
  auto fail_attempt = [&](const std::string& message) {
    address_limiter_.RecordFailure(address_key, now);
    if (user) {
      user->failed_logins += 1;
      if (user->failed_logins >= options_.max_failed_logins) {
        user->locked_until = now + options_.lockout_seconds;
        user->failed_logins = 0;
        spdlog::warn("account {} locked after repeated failed sign-ins", user->username);
      }
      (void)store_.PutUser(*user);
    }
    spdlog::info("failed sign-in step {} from {}", session.stage, request.remote_address);
    if (options_.on_sign_in) {
      options_.on_sign_in(user ? user->id : std::string("(unknown account)"),
                          request.remote_address, false,
                          "sign-in step '" + (session.stage.empty() ? "password" : session.stage) +
                              "' failed: " + message);
    }
    return SignInStep(request, session, cookie, message);
  };
  auto locked = [&]() -> std::optional<http::Response> {
    if (user && user->locked_until > now) {
      http::Response r =
          ErrorPage(429, "This account is locked after repeated failed sign-ins. Try again in " +
                             std::to_string((user->locked_until - now + 59) / 60) + " minute(s).");
      r.set_header("Retry-After", std::to_string(user->locked_until - now));
      return r;
    }
    return std::nullopt;
  };

  if (session.stage == "password") {
    auto u = store_.FindUserByName(FormValue(*form, "username"));
    if (!u.ok()) {
      return ErrorPage(503, "The server cannot check passwords right now; try again.");
    }
    user = *u;
    if (auto r = locked()) {
      return *r;
    }
    if (!user || user->disabled ||
        !VerifyPassword(FormValue(*form, "password"), user->password_hash)) {
      if (user && user->disabled) {
        user.reset();  // a disabled account does not count failures
      }
      return fail_attempt(
          "Wrong username or password. Check both (passwords are case-sensitive) and try again.");
    }
  } else if (session.stage == "totp") {
    if (auto r = locked()) {
      return *r;
    }
    if (!VerifyTotp(user->totp_secret, FormValue(*form, "totp"), now)) {
      return fail_attempt("That code is not right (or has expired); enter the current one.");
    }
  } else if (session.stage == "change-password") {
    std::string pw = FormValue(*form, "new_password");
    if (pw != FormValue(*form, "new_password2")) {
      return SignInStep(request, session, cookie, "The two passwords differ.");
    }
    if (std::string why = PasswordProblem(pw); !why.empty()) {
      return SignInStep(request, session, cookie, why);
    }
    auto hash = HashPassword(pw);
    if (!hash.ok()) {
      return ErrorPage(500, "The password could not be stored.");
    }
    user->password_hash = *hash;
    user->must_change_password = false;
  } else if (session.stage == "pick-facility") {
    std::string facility = FormValue(*form, "facility");
    if (std::find(user->facility_ids.begin(), user->facility_ids.end(), facility) ==
        user->facility_ids.end()) {
      return SignInStep(request, session, cookie,
                        "Choose one of your facilities from the list, then press Continue.");
    }
    pr->facility = facility;
    session.request_json = pr->ToJson();
  } else {
    std::string patient = FormValue(*form, "patient");
    if (patient.empty()) {
      patient = FormValue(*form, "patient_id");
    }
    bool known = false;
    if (!patient.empty() && find_patients_) {
      for (const auto& [id, name] : find_patients_(patient)) {
        known = known || id == patient;
      }
    }
    if (!known) {
      return SignInStep(request, session, cookie,
                        "Choose a patient from the list (or a valid id).");
    }
    return FinishSignIn(request, session, *user, patient);
  }
  // A step passed: clear failure counters, then pick the next step that applies.
  user->failed_logins = 0;
  user->locked_until = 0;
  if (Status s = store_.PutUser(*user); !s.ok()) {
    return ErrorPage(503, "The server cannot update the account right now; try again.");
  }
  address_limiter_.RecordSuccess(address_key);
  session.user_id = user->id;
  int done = StageIndex(session.stage);
  std::string next;
  bool wants_patient = HasScope(pr->scope, "launch/patient") && pr->launch_patient.empty();
  if (done < 1 && !user->totp_secret.empty()) {
    next = "totp";
  } else if (done < 2 && user->must_change_password) {
    next = "change-password";
  } else if (done < 3 && ChoosesFacility(*user)) {
    next = "pick-facility";
  } else if (done < 4 && wants_patient && IsClinicalRole(user->role)) {
    next = "pick-patient";
  }
  if (next.empty()) {
    std::string patient = pr->launch_patient;
    if (patient.empty() && user->role == Role::kPatient) {
      patient = user->patient_id;
    }
    if (patient.empty() && user->role == Role::kProxy && !user->proxy_patient_ids.empty()) {
      patient = user->proxy_patient_ids.front();
    }
    return FinishSignIn(request, session, *user, patient);
  }
  session.stage = next;
  if (Status s = store_.PutSession(session); !s.ok()) {
    return ErrorPage(503, "The server cannot continue the sign-in right now; try again.");
  }
  return SignInStep(request, session, cookie, "");
}

http::Response OAuthServer::FinishSignIn(const http::Request& request, SignInSession& session,
                                         const User& user, const std::string& patient_id) {
  if (options_.on_sign_in) {
    options_.on_sign_in(user.id, request.remote_address, true, "signed in");
  }
  auto pr = PendingRequest::FromJson(session.request_json);
  auto client = store_.GetClient(pr->client_id);
  if (!client.ok() || !*client) {
    return ErrorPage(400, "The application is no longer registered.");
  }
  auto granted = IntersectScopes(IntersectScopes(SplitScopes(pr->scope), (*client)->scopes),
                                 RoleScopeCeiling(user.role));
  AuthCode code;
  std::string code_text = RandomToken(32);
  code.code_hash = Sha256Base64Url(code_text);
  code.client_id = pr->client_id;
  code.user_id = user.id;
  code.redirect_uri = pr->redirect_uri;
  code.scope = JoinScopes(granted);
  code.code_challenge = pr->code_challenge;
  code.patient_id = patient_id;
  code.encounter_id = pr->launch_encounter;
  code.nonce = pr->nonce;
  code.facility_id = pr->facility;
  code.expires_at = tokens_.Now() + options_.code_seconds;
  if (Status s = store_.PutCode(code); !s.ok()) {
    return ErrorPage(503, "The server cannot finish the sign-in right now; try again.");
  }
  (void)store_.DeleteSession(session.id_hash);
  spdlog::info("user {} signed in for client {}", user.username, pr->client_id);
  Form params = {{"code", code_text}};
  if (!pr->state.empty()) {
    params.emplace_back("state", pr->state);
  }
  http::Response r = Redirect(WithQuery(pr->redirect_uri, params));
  r.headers.emplace_back("Set-Cookie", CookieHeader(kCookie, "", 0, options_.tls));
  return r;
}

}  // namespace carechart::auth
