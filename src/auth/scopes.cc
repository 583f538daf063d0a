#include "auth/scopes.h"

#include <algorithm>

namespace carechart::auth {

namespace {

constexpr std::string_view kLetters = "cruds";

bool ValidTypeName(std::string_view t) {
  if (t == "*") {
    return true;
  }
  if (t.empty() || !std::isupper(static_cast<unsigned char>(t[0]))) {
    return false;
  }
  return std::all_of(t.begin(), t.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
}

// v2 letters in order (each at most once), or a v1 word.
std::optional<std::string> ParsePermissions(std::string_view p) {
  if (p == "read") {
    return "rs";
  }
  if (p == "write") {
    return "cud";
  }
  if (p == "*") {
    return "cruds";
  }
  if (p.empty()) {
    return std::nullopt;
  }
  int previous = -1;
  for (char c : p) {
    size_t pos = kLetters.find(c);
    if (pos == std::string_view::npos || static_cast<int>(pos) <= previous) {
      return std::nullopt;
    }
    previous = static_cast<int>(pos);
  }
  return std::string(p);
}

bool CategoryMatches(const ResourceScope& s, const json::Value& resource) {
  const json::Value* cats = resource.find("category");
  if (!cats) {
    return false;
  }
  auto concept_matches = [&](const json::Value& cc) {
    const json::Value* codings = cc.find("coding");
    if (!codings || !codings->is_array()) {
      return false;
    }
    for (const json::Value& c : codings->items()) {
      if (c.string_at("code") == s.category_code &&
          (s.category_system.empty() || c.string_at("system") == s.category_system)) {
        return true;
      }
    }
    return false;
  };
  if (cats->is_array()) {
    return std::any_of(cats->items().begin(), cats->items().end(), concept_matches);
  }
  return cats->is_object() && concept_matches(*cats);
}

bool TypeCovers(std::string_view scope_type, std::string_view type) {
  return scope_type == "*" || scope_type == type;
}

// Calls f(scope) for every resource scope of the principal.
template <typename F>
void ForEachResourceScope(const Principal& p, F&& f) {
  for (const std::string& text : p.scopes) {
    if (!IsResourceScope(text)) {
      continue;
    }
    if (auto s = ParseResourceScope(text, nullptr)) {
      f(*s);
    }
  }
}

}  // namespace

bool IsResourceScope(std::string_view scope) {
  return scope.starts_with("patient/") || scope.starts_with("user/") ||
         scope.starts_with("system/");
}

std::optional<ResourceScope> ParseResourceScope(std::string_view scope, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<ResourceScope> {
    if (error) {
      *error = "scope '" + std::string(scope) + "': " + why;
    }
    return std::nullopt;
  };
  ResourceScope s;
  size_t slash = scope.find('/');
  if (slash == std::string_view::npos) {
    return fail("not a resource scope (patient/, user/ or system/)");
  }
  std::string_view ctx = scope.substr(0, slash);
  s.context = ctx == "patient"  ? ScopeContext::kPatient
              : ctx == "user"   ? ScopeContext::kUser
              : ctx == "system" ? ScopeContext::kSystem
                                : ScopeContext::kUser;
  if (ctx != "patient" && ctx != "user" && ctx != "system") {
    return fail("context must be patient, user or system");
  }
  std::string_view rest = scope.substr(slash + 1);
  std::string_view query;
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  size_t dot = rest.find('.');
  if (dot == std::string_view::npos) {
    return fail("needs .permissions (e.g. .rs, .cruds, .read)");
  }
  std::string_view type = rest.substr(0, dot);
  if (!ValidTypeName(type)) {
    return fail("'" + std::string(type) + "' is not a resource type or *");
  }
  s.type = std::string(type);
  auto perms = ParsePermissions(rest.substr(dot + 1));
  if (!perms) {
    return fail("permissions must be letters of cruds in that order, or read, write or *");
  }
  s.permissions = *perms;
  if (!query.empty()) {
    if (!query.starts_with("category=") || query.find('&') != std::string_view::npos) {
      return fail("the only granular parameter supported is one category=");
    }
    std::string_view value = query.substr(9);
    if (size_t bar = value.find('|'); bar != std::string_view::npos) {
      s.category_system = std::string(value.substr(0, bar));
      value = value.substr(bar + 1);
    }
    if (value.empty()) {
      return fail("category= needs a code");
    }
    s.category_code = std::string(value);
    s.has_category = true;
  }
  return s;
}

std::string ScopeText(const ResourceScope& s) {
  std::string out = s.context == ScopeContext::kPatient ? "patient/"
                    : s.context == ScopeContext::kUser  ? "user/"
                                                        : "system/";
  out += s.type + "." + s.permissions;
  if (s.has_category) {
    out +=
        "?category=" + (s.category_system.empty() ? "" : s.category_system + "|") + s.category_code;
  }
  return out;
}

std::vector<std::string> SplitScopes(std::string_view scopes) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < scopes.size()) {
    size_t sp = scopes.find(' ', pos);
    if (sp == std::string_view::npos) {
      sp = scopes.size();
    }
    if (sp > pos) {
      out.emplace_back(scopes.substr(pos, sp - pos));
    }
    pos = sp + 1;
  }
  return out;
}

std::string JoinScopes(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& s : scopes) {
    if (!out.empty()) {
      out += ' ';
    }
    out += s;
  }
  return out;
}

std::vector<std::string> IntersectScopes(const std::vector<std::string>& requested,
                                         const std::vector<std::string>& allowed) {
  std::vector<std::string> out;
  auto add = [&](std::string s) {
    if (std::find(out.begin(), out.end(), s) == out.end()) {
      out.push_back(std::move(s));
    }
  };
  for (const std::string& r : requested) {
    if (!IsResourceScope(r)) {
      if (std::find(allowed.begin(), allowed.end(), r) != allowed.end()) {
        add(r);
      }
      continue;
    }
    auto req = ParseResourceScope(r, nullptr);
    if (!req) {
      continue;
    }
    // Each allowed scope of the same context yields the part of `req` it covers.
    for (const std::string& a : allowed) {
      auto al = IsResourceScope(a) ? ParseResourceScope(a, nullptr) : std::nullopt;
      if (!al || al->context != req->context) {
        continue;
      }
      ResourceScope g = *req;
      if (al->type != "*") {
        if (req->type != "*" && req->type != al->type) {
          continue;
        }
        g.type = al->type;
      }
      if (al->has_category) {
        if (req->has_category && (req->category_code != al->category_code ||
                                  req->category_system != al->category_system)) {
          continue;
        }
        g.has_category = true;
        g.category_code = al->category_code;
        g.category_system = al->category_system;
      }
      g.permissions.clear();
      for (char c : kLetters) {
        if (req->permissions.find(c) != std::string::npos &&
            al->permissions.find(c) != std::string::npos) {
          g.permissions += c;
        }
      }
      if (!g.permissions.empty()) {
        add(ScopeText(g));
      }
    }
  }
  return out;
}

bool ScopesAllow(const Principal& principal, std::string_view type, char interaction,
                 const json::Value* resource) {
  if (principal.role == Role::kSystem) {
    return true;
  }
  bool allowed = false;
  ForEachResourceScope(principal, [&](const ResourceScope& s) {
    if (allowed || !TypeCovers(s.type, type) ||
        s.permissions.find(interaction) == std::string::npos) {
      return;
    }
    if (s.has_category && resource && !CategoryMatches(s, *resource)) {
      return;
    }
    allowed = true;
  });
  return allowed;
}

bool OnlyPatientScopes(const Principal& principal, std::string_view type, char interaction) {
  if (principal.role == Role::kSystem) {
    return false;
  }
  bool patient = false;
  bool wider = false;
  ForEachResourceScope(principal, [&](const ResourceScope& s) {
    if (!TypeCovers(s.type, type) || s.permissions.find(interaction) == std::string::npos) {
      return;
    }
    (s.context == ScopeContext::kPatient ? patient : wider) = true;
  });
  return patient && !wider;
}

bool NeedsResourceCheck(const Principal& principal, std::string_view type, char interaction) {
  if (principal.role == Role::kSystem) {
    return false;
  }
  bool granular = false;
  bool plain = false;
  ForEachResourceScope(principal, [&](const ResourceScope& s) {
    if (!TypeCovers(s.type, type) || s.permissions.find(interaction) == std::string::npos) {
      return;
    }
    (s.has_category ? granular : plain) = true;
  });
  return granular && !plain;
}

std::optional<std::vector<ResourceScope>> GranularScopesOnly(const Principal& principal,
                                                             std::string_view type,
                                                             std::string_view letters) {
  if (principal.role == Role::kSystem) {
    return std::nullopt;
  }
  bool plain = false;
  std::vector<ResourceScope> granular;
  ForEachResourceScope(principal, [&](const ResourceScope& s) {
    bool any_letter = std::any_of(letters.begin(), letters.end(), [&](char c) {
      return s.permissions.find(c) != std::string::npos;
    });
    if (!TypeCovers(s.type, type) || !any_letter) {
      return;
    }
    if (s.has_category) {
      granular.push_back(s);
    } else {
      plain = true;
    }
  });
  if (plain) {
    return std::nullopt;
  }
  return granular;
}

std::string MissingScopeText(const Principal& principal, std::string_view type, char interaction) {
  std::string ctx = principal.role == Role::kBackendService                              ? "system"
                    : principal.role == Role::kPatient || principal.role == Role::kProxy ? "patient"
                                                                                         : "user";
  return ctx + "/" + std::string(type.empty() ? "*" : type) + "." + std::string(1, interaction);
}

}  // namespace carechart::auth
