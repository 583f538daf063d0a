// Activation codes and account helpers (see accounts.h).
#include "auth/accounts.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cctype>

#include "auth/jwt.h"

namespace carechart::auth {

namespace {

// No 0/O, 1/I/L: codes are read out and typed by people.
constexpr std::string_view kAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
constexpr std::string_view kPlaceholderPrefix = "invited-";

}  // namespace

std::string NewActivationCode() {
  std::string out;
  while (out.size() < 14) {
    unsigned char b = 0;
    if (RAND_bytes(&b, 1) != 1) {
      continue;
    }
    // Rejection sampling keeps the letters uniform (256 is not a multiple of 31).
    if (b >= 248) {
      continue;
    }
    if (out.size() == 4 || out.size() == 9) {
      out += '-';
    }
    out += kAlphabet[b % kAlphabet.size()];
  }
  return out;
}

std::string NormaliseActivationCode(std::string_view typed) {
  std::string out;
  for (char c : typed) {
    if (c == '-' || std::isspace(static_cast<unsigned char>(c))) {
      continue;
    }
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

StatusOr<std::string> IssueActivationCode(AuthStore& store, const std::string& user_id,
                                          const std::string& purpose, int64_t now) {
  std::string code = NewActivationCode();
  ActivationCode c;
  c.code_hash = Sha256Base64Url(NormaliseActivationCode(code));
  c.user_id = user_id;
  c.purpose = purpose;
  c.expires_at = now + (purpose == "reset" ? kResetSeconds : kInviteSeconds);
  RETURN_IF_ERROR(store.PutActivation(c));
  return code;
}

std::vector<std::string> PatientsOf(const User& user) {
  std::vector<std::string> out;
  if (!user.patient_id.empty()) {
    out.push_back(user.patient_id);
  }
  if (user.role == Role::kProxy) {
    for (const std::string& id : user.proxy_patient_ids) {
      if (std::find(out.begin(), out.end(), id) == out.end()) {
        out.push_back(id);
      }
    }
  }
  return out;
}

std::string UsernameProblem(std::string_view username) {
  if (username.size() < 3 || username.size() > 64) {
    return "a username has 3 to 64 characters";
  }
  if (!std::isalnum(static_cast<unsigned char>(username[0]))) {
    return "a username starts with a letter or a digit";
  }
  for (char c : username) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-' || c == '@';
    if (!ok) {
      return "a username may hold only lower-case letters, digits and . _ - @";
    }
  }
  if (IsPlaceholderUsername(username)) {
    return "a username may not start with 'invited-'";
  }
  return "";
}

bool IsPlaceholderUsername(std::string_view username) {
  return username.starts_with(kPlaceholderPrefix);
}

std::string NewPlaceholderUsername() { return std::string(kPlaceholderPrefix) + RandomToken(9); }

}  // namespace carechart::auth
