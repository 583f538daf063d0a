// FHIR R4 primitive formats, following the regexes of the R4 specification
// (https://hl7.org/fhir/R4/datatypes.html#primitive), written by hand.
#include "fhir/primitive_format.h"

#include <cctype>

#include "fhir/datetime.h"

namespace carechart::fhir::primitive {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsHexLower(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f'); }

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::string Quote(std::string_view type, std::string_view v) {
  std::string m = "Not a valid ";
  m += type;
  m += ": '";
  m += v.substr(0, 100);
  m += "'";
  return m;
}

bool IsValidDate(std::string_view s, bool allow_time, bool require_instant) {
  DateTimeParts p;
  if (!ParseDateTimeParts(s, &p)) {
    return false;
  }
  using P = DateTimeParts::Precision;
  const bool has_time = p.precision == P::kMinute || p.precision == P::kSecond;
  if (require_instant) {
    return p.precision == P::kSecond && p.has_zone;
  }
  if (!allow_time) {
    return !has_time;
  }
  // R4 dateTime: a time needs seconds and a zone.
  return !has_time || (p.precision == P::kSecond && p.has_zone);
}

std::string CheckString(std::string_view type, std::string_view s) {
  if (s.empty()) {
    return "@value cannot be empty (" + std::string(type) + ")";
  }
  if (s.size() > kMaxStringBytes) {
    return "Value is longer than 1 MB (" + std::string(type) + ")";
  }
  bool ok = true;
  if (type == "id") {
    ok = IsValidId(s);
  } else if (type == "code") {
    ok = IsValidCode(s);
  } else if (type == "uri" || type == "url" || type == "canonical") {
    ok = IsValidUri(s);
  } else if (type == "oid") {
    ok = IsValidOid(s);
  } else if (type == "uuid") {
    ok = IsValidUuid(s);
  } else if (type == "base64Binary") {
    if (!IsValidBase64(s)) {
      return "The value '" + std::string(s.substr(0, 100)) + "' is not a valid Base64 value";
    }
  } else if (type == "date") {
    ok = IsValidDate(s, false, false);
  } else if (type == "dateTime") {
    ok = IsValidDate(s, true, false);
    if (!ok && s.find('T') != std::string_view::npos) {
      DateTimeParts p;
      if (ParseDateTimeParts(s, &p) && !p.has_zone) {
        return "If a date has a time, it must have a timezone: '" + std::string(s) + "'";
      }
    }
  } else if (type == "instant") {
    ok = IsValidDate(s, true, true);
  } else if (type == "time") {
    ok = IsValidFhirTime(s);
  } else if (type == "xhtml") {
    return CheckXhtml(s);
  }
  return ok ? std::string() : Quote(std::string(type) + " format", s);
}

}  // namespace

bool IsValidId(std::string_view s) {
  if (s.empty() || s.size() > 64) {
    return false;
  }
  for (const char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.')) {
      return false;
    }
  }
  return true;
}

bool IsValidCode(std::string_view s) {
  if (s.empty() || IsSpace(s.front()) || IsSpace(s.back())) {
    return false;
  }
  for (size_t i = 1; i < s.size(); ++i) {
    if (IsSpace(s[i]) && IsSpace(s[i - 1])) {
      return false;
    }
  }
  return true;
}

bool IsValidUri(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  for (const char c : s) {
    if (IsSpace(c)) {
      return false;
    }
  }
  return true;
}

bool IsValidOid(std::string_view s) {
  if (!StartsWith(s, "urn:oid:")) {
    return false;
  }
  s.remove_prefix(8);
  if (s.size() < 3 || s[0] < '0' || s[0] > '2' || s[1] != '.') {
    return false;
  }
  size_t i = 2;
  while (i <= s.size()) {
    const size_t start = i;
    while (i < s.size() && IsDigit(s[i])) {
      ++i;
    }
    if (i == start || (s[start] == '0' && i - start > 1)) {
      return false;
    }
    if (i == s.size()) {
      return true;
    }
    if (s[i] != '.') {
      return false;
    }
    ++i;
  }
  return false;
}

bool IsValidUuid(std::string_view s) {
  if (!StartsWith(s, "urn:uuid:") || s.size() != 9 + 36) {
    return false;
  }
  s.remove_prefix(9);
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !IsHexLower(s[i])) {
      return false;
    }
  }
  return true;
}

bool IsValidBase64(std::string_view s) {
  size_t n = 0;
  size_t padding = 0;
  for (const char c : s) {
    if (IsSpace(c)) {
      continue;
    }
    if (c == '=') {
      ++padding;
    } else if (padding > 0 ||
               !(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/')) {
      return false;
    }
    ++n;
  }
  return n % 4 == 0 && padding <= 2;
}

bool IsValidDecimal(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && s[i] == '-') {
    ++i;
  }
  const size_t int_start = i;
  while (i < s.size() && IsDigit(s[i])) {
    ++i;
  }
  if (i == int_start || (s[int_start] == '0' && i - int_start > 1)) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    const size_t f = ++i;
    while (i < s.size() && IsDigit(s[i])) {
      ++i;
    }
    if (i == f) {
      return false;
    }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
      ++i;
    }
    const size_t e = i;
    while (i < s.size() && IsDigit(s[i])) {
      ++i;
    }
    if (i == e) {
      return false;
    }
  }
  return i == s.size();
}

bool IsIntegerInRange(std::string_view s, long long min, long long max) {
  size_t i = 0;
  const bool negative = !s.empty() && s[0] == '-';
  if (negative) {
    ++i;
  }
  if (i == s.size() || s.size() - i > 11) {
    return false;
  }
  long long v = 0;
  for (; i < s.size(); ++i) {
    if (!IsDigit(s[i])) {
      return false;
    }
    v = v * 10 + (s[i] - '0');
  }
  if (negative) {
    v = -v;
  }
  return v >= min && v <= max;
}

std::string CheckXhtml(std::string_view s) {
  if (!StartsWith(s, "<div")) {
    return "The narrative div must start with <div";
  }
  std::string lower(s);
  for (char& c : lower) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (lower.find("<script") != std::string::npos) {
    return "Invalid element name in the XHTML ('script')";
  }
  if (lower.find("javascript:") != std::string::npos) {
    return "The XHTML contains a javascript: URL";
  }
  // Event attributes: whitespace, "on", letters, optional spaces, "=" inside a tag.
  bool in_tag = false;
  for (size_t i = 0; i < lower.size(); ++i) {
    const char c = lower[i];
    if (c == '<') {
      in_tag = true;
    } else if (c == '>') {
      in_tag = false;
    } else if (in_tag && IsSpace(c) && lower.compare(i + 1, 2, "on") == 0) {
      size_t j = i + 3;
      while (j < lower.size() && std::isalpha(static_cast<unsigned char>(lower[j]))) {
        ++j;
      }
      while (j < lower.size() && IsSpace(lower[j])) {
        ++j;
      }
      if (j > i + 3 && j < lower.size() && lower[j] == '=') {
        return "The XHTML contains an event attribute ('" + lower.substr(i + 1, j - i - 1) + "')";
      }
    } else if (c == '&') {
      const size_t semi = lower.find(';', i);
      const std::string_view name = semi == std::string::npos
                                        ? std::string_view()
                                        : std::string_view(s).substr(i + 1, semi - i - 1);
      const bool ok = name == "lt" || name == "gt" || name == "amp" || name == "quot" ||
                      name == "apos" || (name.size() > 1 && name[0] == '#');
      if (!ok) {
        return "Invalid entity in the XHTML ('&" + std::string(name.substr(0, 20)) + ";')";
      }
    }
  }
  return {};
}

std::string Check(std::string_view type, const json::Value& value) {
  if (type == "boolean") {
    return value.is_bool() ? std::string()
                           : "Error parsing JSON: the primitive value must be a boolean";
  }
  const bool numeric =
      type == "integer" || type == "decimal" || type == "positiveInt" || type == "unsignedInt";
  if (numeric) {
    if (!value.is_number()) {
      return "Error parsing JSON: the primitive value must be a number";
    }
    const std::string& t = value.text();
    bool ok = true;
    if (type == "integer") {
      ok = IsIntegerInRange(t, -2147483648LL, 2147483647LL);
    } else if (type == "positiveInt") {
      ok = IsIntegerInRange(t, 1, 2147483647LL);
    } else if (type == "unsignedInt") {
      ok = IsIntegerInRange(t, 0, 2147483647LL);
    } else {
      ok = IsValidDecimal(t);
    }
    return ok ? std::string() : Quote(type, t);
  }
  if (!value.is_string()) {
    return "Error parsing JSON: the primitive value must be a string";
  }
  return CheckString(type, value.text());
}

}  // namespace carechart::fhir::primitive
