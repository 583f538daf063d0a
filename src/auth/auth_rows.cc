#include "auth/auth_rows.h"

#include "auth/roles.h"

namespace carechart::auth {

const store::SqlArg* RowReader::Next() {
  if (next_ >= columns_.size()) {
    ++next_;
    return nullptr;
  }
  const auto& c = columns_[next_++];
  return c ? &*c : nullptr;
}

std::string RowReader::Text() {
  const store::SqlArg* v = Next();
  if (v == nullptr) {
    return {};
  }
  if (const auto* s = std::get_if<std::string>(v)) {
    return *s;
  }
  if (const auto* i = std::get_if<int64_t>(v)) {
    return std::to_string(*i);
  }
  return std::to_string(std::get<double>(*v));
}

int64_t RowReader::Int() {
  const store::SqlArg* v = Next();
  if (v == nullptr) {
    return 0;
  }
  if (const auto* i = std::get_if<int64_t>(v)) {
    return *i;
  }
  if (const auto* d = std::get_if<double>(v)) {
    return static_cast<int64_t>(*d);
  }
  const std::string& s = std::get<std::string>(*v);
  return s.empty() ? 0 : std::stoll(s);
}

std::vector<std::string> RowReader::List() { return SplitIds(Text()); }

std::string JoinIds(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& s : ids) {
    if (!out.empty()) {
      out += ' ';
    }
    out += s;
  }
  return out;
}

std::vector<std::string> SplitIds(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t e = text.find(' ', pos);
    if (e == std::string::npos) {
      e = text.size();
    }
    if (e > pos) {
      out.push_back(text.substr(pos, e - pos));
    }
    pos = e + 1;
  }
  return out;
}

std::string_view ClientKindName(ClientKind k) {
  return k == ClientKind::kPublic         ? "public"
         : k == ClientKind::kConfidential ? "confidential"
                                          : "backend";
}

ClientKind ParseClientKind(std::string_view s) {
  return s == "confidential" ? ClientKind::kConfidential
         : s == "backend"    ? ClientKind::kBackend
                             : ClientKind::kPublic;
}

namespace {

store::SqlArg Flag(bool b) { return int64_t{b ? 1 : 0}; }

}  // namespace

SqlRow UserRow(const User& u) {
  return {u.id,
          u.username,
          u.display,
          std::string(RoleName(u.role)),
          JoinIds(u.facility_ids),
          u.practitioner_id,
          u.patient_id,
          JoinIds(u.proxy_patient_ids),
          u.password_hash,
          Flag(u.must_change_password),
          u.totp_secret,
          Flag(u.disabled),
          int64_t{u.failed_logins},
          u.locked_until,
          u.created_at};
}

User ReadUser(RowReader& r) {
  User u;
  u.id = r.Text();
  u.username = r.Text();
  u.display = r.Text();
  u.role = ParseRole(r.Text()).value_or(Role::kPhysician);
  u.facility_ids = r.List();
  u.practitioner_id = r.Text();
  u.patient_id = r.Text();
  u.proxy_patient_ids = r.List();
  u.password_hash = r.Text();
  u.must_change_password = r.Bool();
  u.totp_secret = r.Text();
  u.disabled = r.Bool();
  u.failed_logins = static_cast<int>(r.Int());
  u.locked_until = r.Int();
  u.created_at = r.Int();
  return u;
}

SqlRow ClientRow(const Client& c) {
  return {c.id,
          c.name,
          std::string(ClientKindName(c.kind)),
          c.secret_hash,
          c.jwks,
          JoinIds(c.redirect_uris),
          JoinIds(c.scopes),
          c.created_at};
}

Client ReadClient(RowReader& r) {
  Client c;
  c.id = r.Text();
  c.name = r.Text();
  c.kind = ParseClientKind(r.Text());
  c.secret_hash = r.Text();
  c.jwks = r.Text();
  c.redirect_uris = r.List();
  c.scopes = r.List();
  c.created_at = r.Int();
  return c;
}

SqlRow CodeRow(const AuthCode& c) {
  return {c.code_hash,  c.client_id,    c.user_id, c.redirect_uri, c.scope,      c.code_challenge,
          c.patient_id, c.encounter_id, c.nonce,   c.expires_at,   c.facility_id};
}

SqlRow RefreshRow(const RefreshToken& t) {
  return {t.token_hash, t.family,     t.client_id,  t.user_id,
          t.scope,      t.patient_id, t.expires_at, t.facility_id};
}

std::string Placeholders(size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += i == 0 ? "?" : ", ?";
  }
  return out;
}

namespace {
Status Unauth(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }
}  // namespace

AuthCode ReadTakenCode(RowReader& row, const std::string& code_hash, int64_t* used) {
  AuthCode c;
  c.code_hash = code_hash;
  c.client_id = row.Text();
  c.user_id = row.Text();
  c.redirect_uri = row.Text();
  c.scope = row.Text();
  c.code_challenge = row.Text();
  c.patient_id = row.Text();
  c.encounter_id = row.Text();
  c.nonce = row.Text();
  c.expires_at = row.Int();
  *used = row.Int();
  c.facility_id = row.Text();
  return c;
}

Status CheckTakenCode(const AuthCode& code, int64_t used, int64_t now) {
  if (used > 1) {
    return Unauth("the authorization code was already used");
  }
  if (code.expires_at <= now) {
    return Unauth("the authorization code has expired");
  }
  return Status::Ok();
}

RefreshToken ReadRotatedRefresh(RowReader& row, const std::string& token_hash, int64_t* rotated,
                                bool* revoked) {
  RefreshToken t;
  t.token_hash = token_hash;
  t.family = row.Text();
  t.client_id = row.Text();
  t.user_id = row.Text();
  t.scope = row.Text();
  t.patient_id = row.Text();
  t.expires_at = row.Int();
  *rotated = row.Int();
  *revoked = row.Bool();
  t.facility_id = row.Text();
  return t;
}

Status CheckRotatedRefresh(const RefreshToken& token, int64_t rotated, bool revoked, int64_t now) {
  if (rotated > 1) {
    return Unauth(
        "the refresh token was already used (rotated); every token of this grant is now "
        "revoked");
  }
  if (revoked) {
    return Unauth("the refresh token has been revoked");
  }
  if (token.expires_at <= now) {
    return Unauth("the refresh token has expired");
  }
  return Status::Ok();
}

LaunchContext ReadLaunch(RowReader& row, const std::string& id) {
  LaunchContext l;
  l.id = id;
  l.patient_id = row.Text();
  l.encounter_id = row.Text();
  l.expires_at = row.Int();
  return l;
}

SignInSession ReadSession(RowReader& row, const std::string& id_hash) {
  SignInSession s;
  s.id_hash = id_hash;
  s.user_id = row.Text();
  s.stage = row.Text();
  s.request_json = row.Text();
  s.expires_at = row.Int();
  return s;
}

StatusOr<ActivationCode> ReadActivation(RowReader& row, const std::string& code_hash, int64_t now) {
  ActivationCode c;
  c.code_hash = code_hash;
  c.user_id = row.Text();
  c.purpose = row.Text();
  c.expires_at = row.Int();
  if (row.Int() != 0) {
    return Unauth("the code was already used (or replaced by a newer one)");
  }
  if (c.expires_at < now) {
    return Unauth("the code has expired");
  }
  return c;
}

RefreshToken ReadGrant(RowReader& row, const std::string& user_id) {
  RefreshToken t;
  t.token_hash = row.Text();
  t.family = row.Text();
  t.client_id = row.Text();
  t.user_id = user_id;
  t.scope = row.Text();
  t.patient_id = row.Text();
  t.expires_at = row.Int();
  return t;
}

}  // namespace carechart::auth
