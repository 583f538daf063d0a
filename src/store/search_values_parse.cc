#include "store/search_values_parse.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

#include "fhir/datetime.h"
#include "fhir/definitions.h"
#include "fhir/search_index.h"

namespace carechart::store::internal {
namespace {

using fhir::SearchParamType;

struct PrefixName {
  const char* text;
  Prefix prefix;
};
constexpr PrefixName kPrefixes[] = {{"eq", Prefix::kEq}, {"ne", Prefix::kNe}, {"gt", Prefix::kGt},
                                    {"lt", Prefix::kLt}, {"ge", Prefix::kGe}, {"le", Prefix::kLe},
                                    {"sa", Prefix::kSa}, {"eb", Prefix::kEb}, {"ap", Prefix::kAp}};

// Removes a leading comparison prefix; a value starting with two other letters is an error.
Status TakePrefix(std::string_view& text, Prefix* prefix) {
  *prefix = Prefix::kEq;
  if (text.size() < 2 || !std::isalpha(static_cast<unsigned char>(text[0]))) {
    return Status::Ok();
  }
  for (const PrefixName& p : kPrefixes) {
    if (text.substr(0, 2) == p.text) {
      *prefix = p.prefix;
      text.remove_prefix(2);
      return Status::Ok();
    }
  }
  return InvalidError("unknown prefix '" + std::string(text.substr(0, 2)) +
                      "' (use eq, ne, gt, lt, ge, le, sa, eb or ap)");
}

// A FHIR decimal (optionally with exponent) and the interval its precision implies.
Status ParseNumber(std::string_view text, SearchValue* out) {
  std::string s(text);
  char* end = nullptr;
  double value = s.empty() ? 0 : std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(value) ||
      s.find_first_of("xXnN") != std::string::npos) {
    return InvalidError("'" + s + "' is not a number");
  }
  size_t e = s.find_first_of("eE");
  std::string mantissa = s.substr(0, e);
  int exponent = e == std::string::npos ? 0 : std::atoi(s.c_str() + e + 1);
  size_t dot = mantissa.find('.');
  int decimals = dot == std::string::npos ? 0 : static_cast<int>(mantissa.size() - dot - 1);
  double half = 0.5 * std::pow(10.0, exponent - decimals);
  out->number = value;
  out->number_low = value - half;
  out->number_high = value + half;
  return Status::Ok();
}

Status ParseDate(std::string_view text, SearchValue* out) {
  fhir::DateRange range;
  if (!fhir::ParseDateRange(text, &range)) {
    return InvalidError("'" + std::string(text) + "' is not a FHIR date, dateTime or instant");
  }
  out->low = range.low;
  out->high = range.high;
  return Status::Ok();
}

Status ParseQuantity(std::string_view text, SearchValue* out) {
  std::vector<std::string> parts = SplitPipes(text);
  if (parts.size() != 1 && parts.size() != 3) {
    return InvalidError("a quantity is number, or number|system|code");
  }
  RETURN_IF_ERROR(ParseNumber(parts[0], out));
  if (parts.size() == 3) {
    out->has_system = !parts[1].empty();
    out->system = parts[1];
    out->code = parts[2];
  }
  return Status::Ok();
}

void ParseToken(std::string_view text, SearchValue* out) {
  std::vector<std::string> parts = SplitPipes(text);
  if (parts.size() == 1) {
    out->code = parts[0];
    return;
  }
  out->has_system = true;
  out->system = parts[0];
  out->code = parts[1];
  for (size_t i = 2; i < parts.size(); ++i) {  // a '|' inside the code
    out->code += "|" + parts[i];
  }
}

Status ParseReference(const SearchClause& c, std::string_view text, SearchValue* out) {
  out->raw = Unescape(text);
  std::string_view path = out->raw;
  if (size_t h = path.find("/_history/"); h != std::string_view::npos) {
    path = path.substr(0, h);
  }
  bool absolute = out->raw.find("://") != std::string::npos;
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) {
    out->ref_id = std::string(path);
  } else if (slash > 0) {
    size_t before = path.rfind('/', slash - 1);
    size_t start = before == std::string_view::npos ? 0 : before + 1;
    std::string_view type = path.substr(start, slash - start);
    std::string_view id = path.substr(slash + 1);
    if (fhir::IsResourceType(type) && !id.empty()) {
      out->ref_type = std::string(type);
      out->ref_id = std::string(id);
    } else if (!absolute) {
      return InvalidError("'" + out->raw + "' is not a reference (Type/id, id or absolute URL)");
    }
  } else if (!absolute) {
    return InvalidError("'" + out->raw + "' is not a reference (Type/id, id or absolute URL)");
  }
  if (absolute && out->ref_id.empty()) {
    return Status::Ok();  // matched on the url column only
  }
  if (!c.modifier.empty() && !out->ref_type.empty() && out->ref_type != c.modifier) {
    return InvalidError("'" + out->raw + "' does not match the modifier :" + c.modifier);
  }
  return Status::Ok();
}

// Splits at unescaped '$', keeping the escapes (each component unescapes per its type).
std::vector<std::string> SplitDollars(std::string_view text) {
  std::vector<std::string> out(1);
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      out.back() += text.substr(i, 2);
      ++i;
    } else if (text[i] == '$') {
      out.emplace_back();
    } else {
      out.back() += text[i];
    }
  }
  return out;
}

}  // namespace

// Declared after the anonymous namespace: it recurses into ParseValue for each component.
Status ParseComposite(const SearchClause& c, std::string_view text, SearchValue* out) {
  std::vector<std::string> parts = SplitDollars(text);
  if (parts.size() != c.component_types.size()) {
    return InvalidError("a value of composite parameter '" + c.param + "' has " +
                        std::to_string(c.component_types.size()) +
                        " components separated by '$' (e.g. system|code$value), not " +
                        std::to_string(parts.size()));
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    SearchClause component;
    component.param = c.param + " component " + std::to_string(i + 1);
    component.type = c.component_types[i];
    SearchValue v;
    Status s = ParseValue(component, parts[i], &v);
    if (!s.ok()) {
      return InvalidError("component " + std::to_string(i + 1) + " ('" + parts[i] +
                          "'): " + s.message());
    }
    out->components.push_back(std::move(v));
  }
  return Status::Ok();
}

std::vector<std::string> SplitValues(std::string_view text) {
  std::vector<std::string> out(1);
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      out.back() += text.substr(i, 2);  // kept escaped until the type splits on '|'
      ++i;
    } else if (text[i] == ',') {
      out.emplace_back();
    } else {
      out.back() += text[i];
    }
  }
  return out;
}

std::string Unescape(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      ++i;
    }
    out += text[i];
  }
  return out;
}

std::vector<std::string> SplitPipes(std::string_view text) {
  std::vector<std::string> out(1);
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      out.back() += text[++i];
    } else if (text[i] == '|') {
      out.emplace_back();
    } else {
      out.back() += text[i];
    }
  }
  return out;
}

Status ParseValue(const SearchClause& c, std::string_view text, SearchValue* out) {
  out->raw = std::string(text);
  if (text.empty()) {
    return InvalidError("empty value");
  }
  if (c.modifier == "missing") {
    if (text != "true" && text != "false") {
      return InvalidError(":missing takes true or false");
    }
    return Status::Ok();
  }
  switch (c.type) {
    case SearchParamType::kNumber:
    case SearchParamType::kDate:
    case SearchParamType::kQuantity: {
      RETURN_IF_ERROR(TakePrefix(text, &out->prefix));
      if (c.type == SearchParamType::kDate) {
        return ParseDate(text, out);
      }
      return c.type == SearchParamType::kNumber ? ParseNumber(text, out) : ParseQuantity(text, out);
    }
    case SearchParamType::kToken:
      out->raw = Unescape(text);
      if (c.modifier == "text") {  // a string search against the token's texts
        out->normalized = fhir::NormalizeForSearch(out->raw);
        return Status::Ok();
      }
      if (c.modifier == "of-type") {
        std::vector<std::string> parts = SplitPipes(text);
        if (parts.size() != 3 || parts[1].empty() || parts[2].empty()) {
          return InvalidError(":of-type takes type-system|type-code|value");
        }
        out->has_system = true;
        out->system = parts[0];
        out->code = parts[1] + "|" + parts[2];
      } else if (c.param == "_id") {
        out->code = out->raw;
      } else {
        ParseToken(text, out);
      }
      return Status::Ok();
    case SearchParamType::kString:
      out->raw = Unescape(text);
      out->normalized = fhir::NormalizeForSearch(out->raw);
      return Status::Ok();
    case SearchParamType::kReference:
      if (c.modifier == "identifier") {  // a token against Reference.identifier
        out->raw = Unescape(text);
        ParseToken(text, out);
        return Status::Ok();
      }
      return ParseReference(c, text, out);
    case SearchParamType::kUri:
      out->raw = Unescape(text);
      return Status::Ok();
    case SearchParamType::kComposite:
      return ParseComposite(c, text, out);
    default:
      return InvalidError("special parameters are not supported");
  }
}

}  // namespace carechart::store::internal
