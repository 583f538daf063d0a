// carechart user | client | token: accounts, SMART clients, and access tokens for scripts and
// tests. They work on the database file directly (whoever may run them may read the database
// anyway), so they need no server and no token.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/commands.h"
#include "app/open_store.h"
#include "auth/accounts.h"
#include "auth/auth_rows.h"
#include "auth/auth_store.h"
#include "auth/jwt.h"
#include "auth/password.h"
#include "auth/roles.h"
#include "auth/scopes.h"
#include "auth/token_service.h"
#include "rest/context.h"

namespace carechart::app {

struct AuthCommands {
  CLI::App* user = nullptr;
  CLI::App* user_add = nullptr;
  CLI::App* user_invite = nullptr;
  CLI::App* user_list = nullptr;
  CLI::App* user_disable = nullptr;
  CLI::App* user_enable = nullptr;
  CLI::App* user_reset = nullptr;
  CLI::App* client = nullptr;
  CLI::App* client_add = nullptr;
  CLI::App* client_list = nullptr;
  CLI::App* client_remove = nullptr;
  CLI::App* token = nullptr;

  std::string username;
  std::string role = "physician";
  std::string display;
  std::vector<std::string> facilities;
  std::string practitioner;
  std::string patient;
  std::vector<std::string> proxy_for;
  bool totp = false;
  bool password_stdin = false;
  bool reset_code = false;  // reset-password --code: a one-time code for /auth/activate
  std::string base_url;

  std::string client_id;
  std::string client_kind = "public";
  std::string client_name;
  std::vector<std::string> redirect_uris;
  std::vector<std::string> scopes;
  std::string jwks_file;

  std::string token_user;
  std::string token_client;
  std::string token_scope;
  int64_t expires_in = 0;
  int64_t not_before = 0;
  std::string issuer;
  std::string audience;
};

namespace {

int Fail(const std::string& message) {
  std::cerr << "carechart: " << message << "\n";
  return 1;
}

std::unique_ptr<auth::AuthStore> OpenAuth(const CommonOptions& common) {
  auto s = OpenAuthStore(common);
  if (!s.ok()) {
    std::cerr << "carechart: cannot open " << DatabaseName(common) << ": " << s.status().message()
              << "\n";
    return nullptr;
  }
  return std::move(*s);
}

void AddDb(CLI::App* cmd, CommonOptions& common) {
  cmd->add_option("--db", common.db_path, "SQLite database file")
      ->envname("CARECHART_DB")
      ->capture_default_str();
  cmd->add_option("--postgres", common.postgres_uri,
                  "PostgreSQL connection URI: use that database instead of the SQLite file")
      ->envname("CARECHART_POSTGRES");
}

std::string DefaultBaseUrl() {
  const char* env = std::getenv("CARECHART_PUBLIC_BASE_URL");
  return env && *env ? env : "http://localhost:8080/fhir";
}

std::string ReadPassword(bool from_stdin, bool* one_time) {
  if (!from_stdin) {
    *one_time = true;
    return auth::NewOneTimePassword();
  }
  *one_time = false;
  std::string line;
  std::getline(std::cin, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) {
    line.pop_back();
  }
  return line;
}

// Gives `u` a new password: from stdin (--password-stdin), else a one-time one it must change at
// the next sign-in. Returns the one-time password to show once (empty for stdin), or why the
// password is refused.
StatusOr<std::string> SetNewPassword(auth::User& u, bool from_stdin) {
  bool one_time = true;
  std::string password = ReadPassword(from_stdin, &one_time);
  if (std::string why = auth::PasswordProblem(password); !why.empty()) {
    return InvalidError(why);
  }
  ASSIGN_OR_RETURN(u.password_hash, auth::HashPassword(password));
  u.must_change_password = one_time;
  return one_time ? password : std::string();
}

void PrintTotp(const auth::User& u) {
  std::cout << "TOTP secret: " << u.totp_secret << "\n"
            << auth::TotpUri(u.totp_secret, u.username) << "\n";
}

// "Patient/x" and "x" name the same patient on the command line.
void StripPatientPrefix(std::string& id) {
  if (id.starts_with("Patient/")) {
    id = id.substr(8);
  }
}

int UserAdd(const AuthCommands& given, const CommonOptions& common, bool invite) {
  AuthCommands c = given;
  // Portal invitations name the patient: "Patient/x" or "x"; the role follows from it.
  StripPatientPrefix(c.patient);
  for (std::string& id : c.proxy_for) {
    StripPatientPrefix(id);
  }
  bool role_given = invite && c.user_invite->count("--role") > 0;
  if (invite && !role_given && (!c.patient.empty() || !c.proxy_for.empty())) {
    c.role = c.proxy_for.empty() ? "patient" : "proxy";
  }
  auto role = auth::ParseRole(c.role);
  if (!role || *role == auth::Role::kBackendService || *role == auth::Role::kSystem) {
    return Fail("--role '" + c.role +
                "' is not a user role; use one of: " + auth::JoinScopes(auth::UserRoleNames()));
  }
  for (const auto& id : c.facilities) {
    if (!rest::IsValidId(id)) {
      return Fail("--facility '" + id + "' is not a valid FHIR id");
    }
  }
  for (const auto& id : c.proxy_for) {
    if (!rest::IsValidId(id)) {
      return Fail("--proxy-for '" + id + "' is not a valid FHIR id");
    }
  }
  if ((!c.practitioner.empty() && !rest::IsValidId(c.practitioner)) ||
      (!c.patient.empty() && !rest::IsValidId(c.patient))) {
    return Fail("--practitioner and --patient take FHIR ids (1-64 of A-Z a-z 0-9 - .)");
  }
  if (*role == auth::Role::kPatient && c.patient.empty()) {
    return Fail("a patient user needs --patient <Patient id>");
  }
  if (*role == auth::Role::kProxy && c.proxy_for.empty()) {
    return Fail("a proxy user needs --proxy-for <Patient id> (repeatable)");
  }
  // A patient or proxy invitation: an activation code instead of a password; without a
  // username, the patient chooses one at activation.
  bool portal_invite =
      invite && (*role == auth::Role::kPatient || *role == auth::Role::kProxy) && !c.password_stdin;
  if (c.username.empty()) {
    if (!portal_invite) {
      return Fail("a username is needed (only patient and proxy invitations may omit it)");
    }
    c.username = auth::NewPlaceholderUsername();
  } else if (portal_invite) {
    if (std::string why = auth::UsernameProblem(c.username); !why.empty()) {
      return Fail(why);
    }
  }
  auto store = OpenAuth(common);
  if (!store) {
    return 1;
  }
  auto existing = store->FindUserByName(c.username);
  if (!existing.ok()) {
    return Fail(existing.status().message());
  }
  if (*existing) {
    return Fail("a user named '" + c.username + "' already exists");
  }
  auth::User u;
  u.id = rest::NewId();
  u.username = c.username;
  u.display = c.display.empty() ? c.username : c.display;
  u.role = *role;
  u.facility_ids = c.facilities;
  u.practitioner_id = c.practitioner;
  u.patient_id = c.patient;
  u.proxy_patient_ids = c.proxy_for;
  auto shown = SetNewPassword(u, c.password_stdin);
  if (!shown.ok()) {
    return Fail(shown.status().message());
  }
  std::string password = *shown;
  bool one_time = !password.empty();
  if (c.totp) {
    u.totp_secret = auth::NewTotpSecret();
  }
  u.created_at = static_cast<int64_t>(std::time(nullptr));
  if (Status s = store->PutUser(u); !s.ok()) {
    return Fail(s.message());
  }
  std::cout << "created user " << u.username << " (" << auth::RoleName(u.role) << ", id " << u.id
            << ")\n";
  if (portal_invite) {
    auto code = auth::IssueActivationCode(*store, u.id, "activate", u.created_at);
    if (!code.ok()) {
      return Fail(code.status().message());
    }
    std::cout << "activation code: " << *code << "\n"
              << "(single use, valid " << auth::kInviteSeconds / 86400
              << " days; the patient enters it at " << c.base_url.substr(0, c.base_url.rfind('/'))
              << "/auth/activate"
              << (auth::IsPlaceholderUsername(u.username) ? " and chooses a username" : "")
              << " and a password; it is not shown again)\n";
    one_time = false;
  }
  if (one_time) {
    std::cout << (invite ? "invitation: sign in at " + c.base_url.substr(0, c.base_url.rfind('/')) +
                               "/auth/authorize (from a SMART app) as " + u.username +
                               " with the one-time password "
                         : "one-time password: ")
              << password << "\n(it must be changed at the first sign-in; it is not shown again)\n";
  }
  if (c.totp) {
    PrintTotp(u);
  }
  return 0;
}

int UserList(const CommonOptions& common) {
  auto store = OpenAuth(common);
  if (!store) {
    return 1;
  }
  auto users = store->ListUsers();
  if (!users.ok()) {
    return Fail(users.status().message());
  }
  std::cout << "username\trole\tdisplay\tfacilities\tstatus\n";
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  for (const auth::User& u : *users) {
    std::string status = u.disabled ? "disabled" : u.locked_until > now ? "locked" : "active";
    if (u.must_change_password) {
      status += ",must-change-password";
    }
    if (!u.totp_secret.empty()) {
      status += ",totp";
    }
    std::cout << u.username << "\t" << auth::RoleName(u.role) << "\t" << u.display << "\t"
              << auth::JoinScopes(u.facility_ids) << "\t" << status << "\n";
  }
  return 0;
}

int UserChange(const AuthCommands& c, const CommonOptions& common, const std::string& what) {
  auto store = OpenAuth(common);
  if (!store) {
    return 1;
  }
  auto found = store->FindUserByName(c.username);
  if (!found.ok()) {
    return Fail(found.status().message());
  }
  if (!*found) {
    return Fail("no user named '" + c.username + "'");
  }
  auth::User u = **found;
  std::string password;
  bool one_time = false;
  if (what == "disable") {
    u.disabled = true;
  } else if (what == "enable") {
    u.disabled = false;
    u.failed_logins = 0;
    u.locked_until = 0;
  } else if (c.reset_code) {
    auto code =
        auth::IssueActivationCode(*store, u.id, "reset", static_cast<int64_t>(std::time(nullptr)));
    if (!code.ok()) {
      return Fail(code.status().message());
    }
    std::cout << "user " << u.username << ": reset code " << *code << "\n(single use, valid "
              << auth::kResetSeconds / 3600
              << " hours; entered with a new password at /auth/activate; not shown again)\n";
    return 0;
  } else {
    auto shown = SetNewPassword(u, c.password_stdin);
    if (!shown.ok()) {
      return Fail(shown.status().message());
    }
    password = *shown;
    one_time = !password.empty();
    u.failed_logins = 0;
    u.locked_until = 0;
    if (c.totp) {
      u.totp_secret = auth::NewTotpSecret();
    }
  }
  if (Status s = store->PutUser(u); !s.ok()) {
    return Fail(s.message());
  }
  // Disabling or a new password ends the user's refresh tokens; access tokens of a disabled user
  // are refused by every node within a second (TokenService polls the disabled users).
  if (what != "enable") {
    (void)store->RevokeUserRefresh(u.id);
  }
  std::cout << "user " << u.username << ": "
            << (what == "reset-password" ? "password reset" : what + "d") << "\n";
  if (one_time) {
    std::cout << "one-time password: " << password
              << "\n(it must be changed at the next sign-in; it is not shown again)\n";
  }
  if (what == "reset-password" && c.totp) {
    PrintTotp(u);
  }
  return 0;
}

int ClientAdd(const AuthCommands& c, const CommonOptions& common) {
  auth::Client cl;
  cl.id = c.client_id;
  cl.name = c.client_name.empty() ? c.client_id : c.client_name;
  cl.kind = auth::ParseClientKind(c.client_kind);
  cl.redirect_uris = c.redirect_uris;
  for (const std::string& s : c.scopes) {
    for (const std::string& one : auth::SplitScopes(s)) {
      std::string err;
      if (auth::IsResourceScope(one) && !auth::ParseResourceScope(one, &err)) {
        return Fail("--scope: " + err);
      }
      cl.scopes.push_back(one);
    }
  }
  if (cl.kind == auth::ClientKind::kBackend) {
    if (c.jwks_file.empty()) {
      // No keys: the client cannot authenticate over HTTP; `carechart token --client` (which
      // needs the database) is then the only way to get its tokens (scripts, benchmarks).
      std::cout << "note: without --jwks this client gets tokens only from 'carechart token'\n";
    }
  }
  if (cl.kind == auth::ClientKind::kBackend && !c.jwks_file.empty()) {
    std::ifstream in(c.jwks_file);
    std::stringstream text;
    text << in.rdbuf();
    auto keys = auth::ParseJwks(text.str());
    if (!keys.ok()) {
      return Fail("--jwks " + c.jwks_file + ": " + keys.status().message());
    }
    if (keys->keys.empty()) {
      return Fail("--jwks " + c.jwks_file + " holds no usable key (EC P-256/P-384 or RSA): " +
                  auth::JoinScopes(keys->skipped));
    }
    cl.jwks = text.str();
  }
  if (cl.kind == auth::ClientKind::kBackend) {
    if (cl.scopes.empty()) {
      cl.scopes = {"system/*.rs"};
    }
    for (const std::string& s : cl.scopes) {
      if (!s.starts_with("system/")) {
        return Fail("a backend client may only hold system/ scopes, not '" + s + "'");
      }
    }
  } else {
    if (cl.redirect_uris.empty()) {
      return Fail("a " + c.client_kind + " client needs at least one --redirect-uri");
    }
    if (cl.scopes.empty()) {
      cl.scopes = auth::SplitScopes(
          "openid fhirUser profile launch launch/patient launch/encounter offline_access "
          "online_access patient/*.cruds user/*.cruds");
    }
  }
  std::string secret;
  if (cl.kind == auth::ClientKind::kConfidential) {
    secret = auth::RandomToken(32);
    auto hash = auth::HashPassword(secret);
    if (!hash.ok()) {
      return Fail(hash.status().message());
    }
    cl.secret_hash = *hash;
  }
  cl.created_at = static_cast<int64_t>(std::time(nullptr));
  auto store = OpenAuth(common);
  if (!store) {
    return 1;
  }
  if (Status s = store->PutClient(cl); !s.ok()) {
    return Fail(s.message());
  }
  std::cout << "client " << cl.id << " (" << c.client_kind
            << ") allowed scopes: " << auth::JoinScopes(cl.scopes) << "\n";
  if (!secret.empty()) {
    std::cout << "client secret: " << secret << "\n(store it now; it is not shown again)\n";
  }
  return 0;
}

int ClientList(const CommonOptions& common) {
  auto store = OpenAuth(common);
  if (!store) {
    return 1;
  }
  auto clients = store->ListClients();
  if (!clients.ok()) {
    return Fail(clients.status().message());
  }
  std::cout << "id\tkind\tname\tredirect_uris\tscopes\n";
  for (const auth::Client& c : *clients) {
    std::string_view kind = auth::ClientKindName(c.kind);
    std::cout << c.id << "\t" << kind << "\t" << c.name << "\t" << auth::JoinScopes(c.redirect_uris)
              << "\t" << auth::JoinScopes(c.scopes) << "\n";
  }
  return 0;
}

int ClientRemove(const AuthCommands& c, const CommonOptions& common) {
  auto store = OpenAuth(common);
  if (!store) {
    return 1;
  }
  if (Status s = store->RemoveClient(c.client_id); !s.ok()) {
    return Fail(s.message());
  }
  std::cout << "client " << c.client_id << " removed (its refresh tokens are revoked)\n";
  return 0;
}

// An access token signed with the database's key, for scripts (curl) and tests. Its iss/aud are
// those a server with --public-base-url (or reached as) `base_url` expects.
int Token(const AuthCommands& c, const CommonOptions& common) {
  auto store = OpenAuth(common);
  if (!store) {
    return 1;
  }
  auth::Principal p;
  std::vector<std::string> ceiling;
  if (!c.token_user.empty()) {
    auto u = store->FindUserByName(c.token_user);
    if (!u.ok() || !*u) {
      return Fail("no user named '" + c.token_user + "'");
    }
    if ((*u)->disabled) {
      return Fail("user '" + c.token_user + "' is disabled");
    }
    p.role = (*u)->role;
    p.user_id = (*u)->id;
    p.display = (*u)->display;
    p.facility_ids = (*u)->facility_ids;
    p.practitioner_id = (*u)->practitioner_id;
    p.patient_id = (*u)->patient_id;
    p.proxy_patient_ids =
        p.role == auth::Role::kProxy ? auth::PatientsOf(**u) : (*u)->proxy_patient_ids;
    p.client_id = "carechart-cli";
    ceiling = auth::RoleScopeCeiling(p.role);
  } else {
    auto cl = store->GetClient(c.token_client);
    if (!cl.ok() || !*cl) {
      return Fail("no client '" + c.token_client + "'");
    }
    p.role = auth::Role::kBackendService;
    p.client_id = (*cl)->id;
    p.display = (*cl)->name;
    ceiling = (*cl)->scopes;
  }
  std::string requested = c.token_scope;
  if (requested.empty()) {
    requested = auth::JoinScopes(ceiling);
  }
  p.scopes = auth::IntersectScopes(auth::SplitScopes(requested), ceiling);
  if (p.scopes.empty()) {
    return Fail("none of the scopes '" + requested +
                "' may be granted (allowed: " + auth::JoinScopes(ceiling) + ")");
  }
  auto tokens = auth::TokenService::Create(*store, {});
  if (!tokens.ok()) {
    return Fail(tokens.status().message());
  }
  std::string base = c.base_url;
  while (!base.empty() && base.back() == '/') {
    base.pop_back();
  }
  std::string origin = base.ends_with("/fhir") ? base.substr(0, base.size() - 5) : base;
  std::string iss = c.issuer.empty() ? origin + "/auth" : c.issuer;
  std::string aud = c.audience.empty() ? base : c.audience;
  auto issued = (*tokens)->IssueAccessToken(p, iss, aud, c.expires_in, c.not_before);
  if (!issued.ok()) {
    return Fail(issued.status().message());
  }
  std::cout << issued->token << "\n";
  return 0;
}

}  // namespace

std::shared_ptr<AuthCommands> AddAuthCommands(CLI::App& app, CommonOptions& common) {
  auto c = std::make_shared<AuthCommands>();
  c->user = app.add_subcommand("user",
                               "User accounts: add, list, disable, enable, reset-password, "
                               "invite");
  c->user->require_subcommand(1);
  auto add_user_fields = [&](CLI::App* cmd, bool username_required) {
    AddDb(cmd, common);
    cmd->add_option("username", c->username,
                    username_required ? "sign-in name"
                                      : "sign-in name (patients and proxies: optional, chosen at "
                                        "activation)")
        ->required(username_required);
    cmd->add_option("--role", c->role, "one of: " + auth::JoinScopes(auth::UserRoleNames()))
        ->capture_default_str();
    cmd->add_option("--display", c->display, "full name shown in the record and audit");
    cmd->add_option("--facility", c->facilities, "facility (Organization id); repeatable");
    cmd->add_option("--practitioner", c->practitioner, "the user's Practitioner id");
    cmd->add_option("--patient", c->patient, "a patient user's own Patient id");
    cmd->add_option("--proxy-for", c->proxy_for, "a proxy's Patient ids; repeatable");
    cmd->add_flag("--totp", c->totp, "enrol a TOTP second factor (prints the secret)");
    cmd->add_flag("--password-stdin", c->password_stdin,
                  "read the password from standard input instead of making a one-time one");
  };
  c->user_add = c->user->add_subcommand("add", "Create a user (prints a one-time password)");
  add_user_fields(c->user_add, true);
  c->user_invite = c->user->add_subcommand(
      "invite",
      "Create a user and print an invitation: staff get a one-time password; patients and "
      "proxies (--patient Patient/ID, --proxy-for ...) a one-time activation code");
  add_user_fields(c->user_invite, false);
  c->user_invite->add_option("--base-url", c->base_url, "the server's FHIR base URL")
      ->default_str(DefaultBaseUrl());
  c->user_list = c->user->add_subcommand("list", "List users");
  AddDb(c->user_list, common);
  for (auto [cmd, name, help] :
       {std::tuple{&c->user_disable, "disable", "Disable a user (their tokens stop working)"},
        std::tuple{&c->user_enable, "enable", "Enable a user again (and unlock it)"},
        std::tuple{&c->user_reset, "reset-password",
                   "Give a user a new one-time password (and unlock it)"}}) {
    *cmd = c->user->add_subcommand(name, help);
    AddDb(*cmd, common);
    (*cmd)->add_option("username", c->username, "sign-in name")->required();
  }
  c->user_reset->add_flag("--password-stdin", c->password_stdin,
                          "read the new password from standard input");
  c->user_reset->add_flag("--totp", c->totp, "also enrol a new TOTP secret");
  c->user_reset->add_flag("--code", c->reset_code,
                          "print a one-time reset code (patient enters it with a new password at "
                          "/auth/activate) instead of setting a password");

  c->client = app.add_subcommand("client", "SMART clients: add, list, remove");
  c->client->require_subcommand(1);
  c->client_add = c->client->add_subcommand(
      "add",
      "Register a SMART client (public + PKCE, confidential with a secret, or backend "
      "with a JWKS)");
  AddDb(c->client_add, common);
  c->client_add->add_option("id", c->client_id, "client_id")->required();
  c->client_add->add_option("--kind", c->client_kind, "public, confidential or backend")
      ->check(CLI::IsMember({"public", "confidential", "backend"}))
      ->capture_default_str();
  c->client_add->add_option("--name", c->client_name, "name shown on the sign-in page");
  c->client_add->add_option("--redirect-uri", c->redirect_uris, "allowed redirect URI; repeatable");
  c->client_add->add_option("--scope", c->scopes,
                            "the most this client may be granted (space-separated or repeated)");
  c->client_add->add_option("--jwks", c->jwks_file, "backend: JWKS file with the public keys")
      ->check(CLI::ExistingFile);
  c->client_list = c->client->add_subcommand("list", "List SMART clients");
  AddDb(c->client_list, common);
  c->client_remove = c->client->add_subcommand("remove", "Remove a SMART client");
  AddDb(c->client_remove, common);
  c->client_remove->add_option("id", c->client_id, "client_id")->required();

  c->token = app.add_subcommand(
      "token", "Print an access token signed by this database's key (for scripts and tests)");
  AddDb(c->token, common);
  auto* who = c->token->add_option_group("who", "a user or a client");
  who->add_option("--user", c->token_user, "for this user (their role's scopes)");
  who->add_option("--client", c->token_client, "for this backend client (system scopes)");
  who->require_option(1);
  c->token->add_option("--scope", c->token_scope, "scopes (default: all the user/client may have)");
  c->token->add_option("--base-url", c->base_url, "the FHIR base URL the server is reached at")
      ->envname("CARECHART_PUBLIC_BASE_URL")
      ->default_str(DefaultBaseUrl());
  c->token->add_option("--expires-in", c->expires_in, "lifetime in seconds (negative: expired)");
  c->token->add_option("--not-before", c->not_before, "seconds from now before it is valid");
  c->token->add_option("--issuer", c->issuer, "iss (default: the base URL's origin + /auth)");
  c->token->add_option("--audience", c->audience, "aud (default: the base URL)");
  c->base_url = DefaultBaseUrl();
  return c;
}

int RunAuthCommands(const AuthCommands& c, const CommonOptions& common) {
  if (c.user_add->parsed()) {
    return UserAdd(c, common, false);
  }
  if (c.user_invite->parsed()) {
    return UserAdd(c, common, true);
  }
  if (c.user_list->parsed()) {
    return UserList(common);
  }
  if (c.user_disable->parsed()) {
    return UserChange(c, common, "disable");
  }
  if (c.user_enable->parsed()) {
    return UserChange(c, common, "enable");
  }
  if (c.user_reset->parsed()) {
    return UserChange(c, common, "reset-password");
  }
  if (c.client_add->parsed()) {
    return ClientAdd(c, common);
  }
  if (c.client_list->parsed()) {
    return ClientList(common);
  }
  if (c.client_remove->parsed()) {
    return ClientRemove(c, common);
  }
  if (c.token->parsed()) {
    return Token(c, common);
  }
  return -1;
}

void AddAuthServeOptions(CLI::App* serve_cmd, ServeOptions& serve) {
  auto* cert = serve_cmd
                   ->add_option("--tls-cert", serve.tls_cert,
                                "HTTPS: PEM certificate chain file (TLS 1.2+; the port then "
                                "refuses plain HTTP; SIGHUP reads it and the key again)")
                   ->envname("CARECHART_TLS_CERT")
                   ->check(CLI::ExistingFile);
  auto* key = serve_cmd->add_option("--tls-key", serve.tls_key, "HTTPS: PEM private key file")
                  ->envname("CARECHART_TLS_KEY")
                  ->check(CLI::ExistingFile);
  cert->needs(key);
  key->needs(cert);
  serve_cmd
      ->add_option("--cors-origin", serve.cors_origins,
                   "browser origin of a SMART app allowed to call the API (repeatable)")
      ->envname("CARECHART_CORS_ORIGINS")
      ->delimiter(',');
  serve_cmd
      ->add_option("--access-token-seconds", serve.access_token_seconds,
                   "lifetime of access tokens")
      ->envname("CARECHART_ACCESS_TOKEN_SECONDS")
      ->check(CLI::Range(int64_t{10}, int64_t{86400}))
      ->capture_default_str();
}

}  // namespace carechart::app
