// Index entries by (parameter type, element type), following the R4 search rules
// (https://hl7.org/fhir/R4/search.html#table): e.g. a token over a CodeableConcept indexes each
// coding, a string over a HumanName indexes family, given, prefix, suffix and text.
#include "fhir/search_entries.h"

#include <cstdlib>
#include <limits>

#include "fhir/datetime.h"

namespace carechart::fhir::search {
namespace {

std::string_view TypeName(const Node& n) { return n.type ? n.type->name : ""; }

bool IsPrimitiveText(const json::Value& v) { return v.is_string() || v.is_number(); }

void ForEachString(const json::Value& obj, std::string_view key, auto&& fn) {
  const json::Value* v = obj.find(key);
  if (v == nullptr) {
    return;
  }
  if (v->is_string()) {
    fn(v->text());
  } else if (v->is_array()) {
    for (const json::Value& item : v->items()) {
      if (item.is_string()) {
        fn(item.text());
      }
    }
  }
}

// The texts a token's :text modifier searches (CodeableConcept.text, every Coding.display,
// Identifier.type.text), each normalized and preceded by '\x1f', so that "starts with" on any
// of them (a string search, search.html#modifiers) is one LIKE '%\x1f<prefix>%'.
void AppendSearchText(std::string_view text, std::string* out) {
  if (!text.empty()) {
    *out += '\x1f';
    *out += NormalizeForSearch(text);
  }
}

void AddToken(std::string_view code, const Node& n, IndexEntries* out) {
  const json::Value& v = *n.value;
  const std::string_view t = TypeName(n);
  auto add = [&](std::string_view system, std::string_view value, std::string text) {
    out->tokens.push_back(
        {std::string(code), std::string(system), std::string(value), std::move(text)});
  };
  std::string texts;
  if (t == "Coding") {
    AppendSearchText(v.string_at("display"), &texts);
    add(v.string_at("system"), v.string_at("code"), std::move(texts));
  } else if (t == "CodeableConcept") {
    AppendSearchText(v.string_at("text"), &texts);
    const json::Value* codings = v.find("coding");
    const bool any = codings != nullptr && codings->is_array() && !codings->items().empty();
    if (any) {
      for (const json::Value& c : codings->items()) {
        AppendSearchText(c.string_at("display"), &texts);
      }
      for (const json::Value& c : codings->items()) {
        add(c.string_at("system"), c.string_at("code"), texts);
      }
    } else if (!texts.empty()) {
      add({}, {}, std::move(texts));
    }
  } else if (t == "Identifier") {
    const json::Value* type = v.find("type");
    AppendSearchText(type ? type->string_at("text") : "", &texts);
    add(v.string_at("system"), v.string_at("value"), std::move(texts));
    // :of-type rows (param "<code>:of-type"): Identifier.type coding system, "code|value".
    const json::Value* codings = type ? type->find("coding") : nullptr;
    if (codings != nullptr && codings->is_array() && !v.string_at("value").empty()) {
      for (const json::Value& c : codings->items()) {
        if (!c.string_at("code").empty()) {
          std::string typed =
              std::string(c.string_at("code")) + "|" + std::string(v.string_at("value"));
          out->tokens.push_back(
              {std::string(code) + ":of-type", std::string(c.string_at("system")), typed, {}});
        }
      }
    }
  } else if (t == "ContactPoint") {
    add(v.string_at("system"), v.string_at("value"), {});
  } else if (v.is_bool()) {
    add({}, v.as_bool() ? "true" : "false", {});
  } else if (IsPrimitiveText(v)) {
    add({}, v.text(), {});
  }
}

void AddString(std::string_view code, const Node& n, IndexEntries* out) {
  auto add = [&](std::string_view s) {
    if (!s.empty()) {
      out->strings.push_back({std::string(code), NormalizeForSearch(s), std::string(s)});
    }
  };
  const json::Value& v = *n.value;
  const std::string_view t = TypeName(n);
  if (t == "HumanName") {
    for (const char* key : {"family", "given", "prefix", "suffix", "text"}) {
      ForEachString(v, key, add);
    }
  } else if (t == "Address") {
    for (const char* key : {"line", "city", "district", "state", "postalCode", "country", "text"}) {
      ForEachString(v, key, add);
    }
  } else if (v.is_string()) {
    add(v.text());
  } else if (v.is_object()) {  // e.g. Annotation, Attachment: index their text if any
    ForEachString(v, "text", add);
  }
}

void AddDate(std::string_view code, const Node& n, IndexEntries* out) {
  const json::Value& v = *n.value;
  const std::string_view t = TypeName(n);
  DateRange r;
  if (v.is_string()) {
    if (ParseDateRange(v.text(), &r)) {
      out->dates.push_back({std::string(code), r.low, r.high});
    }
  } else if (t == "Period") {
    DateRange s{std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::min()};
    DateRange e{std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::max()};
    const bool has_start = ParseDateRange(v.string_at("start"), &s);
    const bool has_end = ParseDateRange(v.string_at("end"), &e);
    if (has_start && has_end && e.high < s.low) {
      // A Period ending before it starts breaks R4's per-1; stored anyway (lenient imports), it
      // is indexed as the span of its two instants, so every date row has low <= high, which
      // the search's bounded ranges rely on (decisions D111).
      out->dates.push_back({std::string(code), e.low, s.high});
    } else if (has_start || has_end) {
      out->dates.push_back({std::string(code), s.low, e.high});
    }
  } else if (t == "Timing") {
    ForEachString(v, "event", [&](std::string_view ev) {
      if (ParseDateRange(ev, &r)) {
        out->dates.push_back({std::string(code), r.low, r.high});
      }
    });
  }
}

void AddReferenceText(std::string_view code, std::string_view ref, IndexEntries* out) {
  if (ref.empty() || ref[0] == '#') {
    return;
  }
  ReferenceEntry e{std::string(code), {}, {}, {}};
  const bool absolute = ref.find(':') != std::string_view::npos;
  const std::string_view type = ReferenceType(ref);
  if (!absolute && !type.empty()) {
    std::string_view rest = ref.substr(type.size() + 1);
    rest = rest.substr(0, rest.find('/'));
    e.target_type = std::string(type);
    e.target_id = std::string(rest);
  } else {
    e.url = std::string(ref);
  }
  out->references.push_back(std::move(e));
}

void AddReference(std::string_view code, const Node& n, IndexEntries* out) {
  const json::Value& v = *n.value;
  if (v.is_string()) {  // canonical, uri
    AddReferenceText(code, v.text(), out);
  } else if (v.is_object()) {
    AddReferenceText(code, v.string_at("reference"), out);
    // :identifier: Reference.identifier as a token row under the reference parameter's code.
    const json::Value* id = v.find("identifier");
    if (id != nullptr && id->is_object() && !id->string_at("value").empty()) {
      out->tokens.push_back({std::string(code),
                             std::string(id->string_at("system")),
                             std::string(id->string_at("value")),
                             {}});
    }
  }
}

void AddQuantity(std::string_view code, const Node& n, IndexEntries* out) {
  const json::Value& v = *n.value;
  const json::Value* value = v.is_object() ? v.find("value") : nullptr;
  if (value == nullptr || !value->is_number()) {
    return;
  }
  QuantityEntry e{std::string(code), std::strtod(value->text().c_str(), nullptr), {}, {}, {}};
  if (TypeName(n) == "Money") {
    e.system = "urn:iso:std:iso:4217";
    e.code = std::string(v.string_at("currency"));
  } else {
    e.system = std::string(v.string_at("system"));
    e.code = std::string(v.string_at("code"));
    e.unit = std::string(v.string_at("unit"));
  }
  out->quantities.push_back(std::move(e));
}

void AddNumber(std::string_view code, const Node& n, IndexEntries* out) {
  const json::Value& v = *n.value;
  const json::Value* number = v.is_number() ? &v : (v.is_object() ? v.find("value") : nullptr);
  if (number != nullptr && number->is_number()) {
    out->numbers.push_back({std::string(code), std::strtod(number->text().c_str(), nullptr)});
  }
}

}  // namespace

std::vector<CompositePart> CompositeParts(SearchParamType type, const IndexEntries& entries) {
  std::vector<CompositePart> out;
  switch (type) {
    case SearchParamType::kToken:
      for (const TokenEntry& e : entries.tokens) {
        if (e.param.empty() && !e.code.empty()) {  // not :of-type rows, not text-only concepts
          out.push_back({e.system, e.code, e.text, 0, false, 0, 0});
        }
      }
      break;
    case SearchParamType::kQuantity:
      for (const QuantityEntry& e : entries.quantities) {
        out.push_back({e.system, e.code, e.unit, e.value, false, 0, 0});
      }
      break;
    case SearchParamType::kNumber:
      for (const NumberEntry& e : entries.numbers) {
        out.push_back({{}, {}, {}, e.value, false, 0, 0});
      }
      break;
    case SearchParamType::kDate:
      for (const DateEntry& e : entries.dates) {
        out.push_back({{}, {}, {}, 0, true, e.low, e.high});
      }
      break;
    case SearchParamType::kReference:
      for (const ReferenceEntry& e : entries.references) {
        out.push_back({{}, e.url.empty() ? e.target_id : e.url, e.target_type, 0, false, 0, 0});
      }
      break;
    case SearchParamType::kString:
      for (const StringEntry& e : entries.strings) {
        out.push_back({{}, e.normalized, e.exact, 0, false, 0, 0});
      }
      break;
    case SearchParamType::kUri:
      for (const UriEntry& e : entries.uris) {
        out.push_back({{}, e.uri, {}, 0, false, 0, 0});
      }
      break;
    default:
      break;
  }
  return out;
}

std::string_view ReferenceType(std::string_view reference) {
  if (reference.empty() || reference[0] == '#' || reference.substr(0, 4) == "urn:") {
    return {};
  }
  size_t end = reference.find_first_of("?#");
  std::string_view path = reference.substr(0, end);
  if (const size_t h = path.find("/_history/"); h != std::string_view::npos) {
    path = path.substr(0, h);
  }
  const size_t id_slash = path.rfind('/');
  if (id_slash == std::string_view::npos || id_slash == 0) {
    return {};
  }
  const size_t type_slash = path.rfind('/', id_slash - 1);
  const std::string_view type =
      path.substr(type_slash == std::string_view::npos ? 0 : type_slash + 1,
                  id_slash - (type_slash == std::string_view::npos ? 0 : type_slash + 1));
  return IsResourceType(type) ? type : std::string_view();
}

void AddEntries(std::string_view code, SearchParamType type, const Node& node, IndexEntries* out) {
  switch (type) {
    case SearchParamType::kToken:
      AddToken(code, node, out);
      break;
    case SearchParamType::kString:
      AddString(code, node, out);
      break;
    case SearchParamType::kDate:
      AddDate(code, node, out);
      break;
    case SearchParamType::kReference:
      AddReference(code, node, out);
      break;
    case SearchParamType::kQuantity:
      AddQuantity(code, node, out);
      break;
    case SearchParamType::kNumber:
      AddNumber(code, node, out);
      break;
    case SearchParamType::kUri:
      if (node.value->is_string()) {
        out->uris.push_back({std::string(code), node.value->text()});
      }
      break;
    case SearchParamType::kComposite:
    case SearchParamType::kSpecial:
      break;
  }
}

}  // namespace carechart::fhir::search
