// ParseSearch: query parameters -> SearchQuery (see search_query.h).
//
// A parameter name is one of:
//   name[:modifier]                      a parameter of the searched type
//   ref[:Type].rest                      chained: `rest` applies to the resources `ref` refers to
//   _has:Type:ref:rest                   reverse chained: `rest` applies to resources of Type
//                                        whose reference parameter `ref` refers to the match
// where `rest` is again any of the three (up to kMaxChainDepth levels).
#include <algorithm>
#include <charconv>
#include <optional>

#include "fhir/definitions.h"
#include "store/search_query.h"
#include "store/search_values_parse.h"

namespace carechart::store {
namespace {

using fhir::SearchParamType;

constexpr int kMaxCount = 1000;

Status BadValue(const std::string& name, const std::string& value, const std::string& why) {
  return InvalidError("invalid value '" + value + "' for search parameter '" + name + "': " + why);
}

bool ParseInt(std::string_view text, int64_t* out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

std::string Join(std::span<const std::string_view> items) {
  std::string out;
  for (std::string_view s : items) {
    out += (out.empty() ? "" : ", ") + std::string(s);
  }
  return out;
}

bool Contains(std::span<const std::string_view> items, std::string_view x) {
  return std::find(items.begin(), items.end(), x) != items.end();
}

// The types a clause is about: one type, or (system search) every type of _type, or all.
struct Scope {
  std::string type;
  std::vector<std::string> types;  // system search: _type, or empty for all types

  std::string Describe() const {
    if (!type.empty()) {
      return type;
    }
    return types.empty() ? std::string("every resource type (a system search without _type)")
                         : "every type of _type";
  }
};

// Checks `modifier` against what the compiler supports for a parameter of `type`.
Status CheckModifier(const std::string& name, SearchParamType type, const std::string& modifier) {
  if (modifier.empty() || modifier == "missing") {
    return Status::Ok();
  }
  // Token :in/:not-in/:above/:below are expanded against stored ValueSets and CodeSystems by
  // ExpandTerminologyModifiers (search_terminology.h) before the query is compiled.
  bool ok =
      (type == SearchParamType::kString && (modifier == "exact" || modifier == "contains")) ||
      (type == SearchParamType::kToken &&
       (modifier == "not" || modifier == "text" || modifier == "of-type" || modifier == "in" ||
        modifier == "not-in" || modifier == "above" || modifier == "below")) ||
      (type == SearchParamType::kUri && (modifier == "below" || modifier == "above")) ||
      (type == SearchParamType::kReference &&
       (modifier == "identifier" || fhir::IsResourceType(modifier)));
  if (!ok) {
    return InvalidError("modifier :" + modifier + " is not supported for search parameter '" +
                        name + "'");
  }
  if (modifier == "of-type" && name != "identifier") {
    return InvalidError("modifier :of-type applies to identifier only, not '" + name + "'");
  }
  return Status::Ok();
}

// The type of parameter `name` in every type of `scope` (they must agree).
StatusOr<SearchParamType> ParamTypeIn(const Scope& scope, const std::string& name) {
  if (!scope.type.empty()) {
    const fhir::SearchParamDef* def = fhir::FindSearchParam(scope.type, name);
    if (def == nullptr) {
      return InvalidError("unknown search parameter '" + name + "' for " + scope.type);
    }
    return def->type;
  }
  std::vector<std::string_view> types(scope.types.begin(), scope.types.end());
  if (types.empty()) {
    types.assign(fhir::ResourceTypes().begin(), fhir::ResourceTypes().end());
  }
  std::optional<SearchParamType> type;
  for (std::string_view t : types) {
    const fhir::SearchParamDef* def = fhir::FindSearchParam(t, name);
    if (def == nullptr || (type && *type != def->type)) {
      return InvalidError("search parameter '" + name + "' is not defined for " + scope.Describe() +
                          (def == nullptr ? " (not for " + std::string(t) + ")" : "") +
                          "; a system search supports parameters common to every type searched");
    }
    type = def->type;
  }
  return *type;
}

// The component types of composite parameter `name`, the same in every type of `scope`.
StatusOr<std::vector<SearchParamType>> CompositeComponentTypes(const Scope& scope,
                                                               const std::string& name) {
  std::vector<std::string_view> types;
  if (!scope.type.empty()) {
    types.push_back(scope.type);
  } else if (!scope.types.empty()) {
    types.assign(scope.types.begin(), scope.types.end());
  } else {
    types.assign(fhir::ResourceTypes().begin(), fhir::ResourceTypes().end());
  }
  std::optional<std::vector<SearchParamType>> out;
  for (std::string_view t : types) {
    std::vector<SearchParamType> mine;
    for (const fhir::SearchParamComponent& c : fhir::FindSearchParam(t, name)->components) {
      mine.push_back(c.type);
    }
    if (mine.empty() || (out && *out != mine)) {
      return InvalidError("composite parameter '" + name + "' cannot be searched across " +
                          scope.Describe());
    }
    out = std::move(mine);
  }
  return *out;
}

// The clause of `name` on the resource itself: resource columns (_id, _lastUpdated) or a
// parameter of the scope's type(s).
StatusOr<SearchClause> NewClause(const Scope& scope, const std::string& name,
                                 const std::string& modifier) {
  SearchClause clause;
  clause.param = name;
  clause.modifier = modifier;
  if (name == "_id" || name == "_lastUpdated") {
    clause.type = name == "_id" ? SearchParamType::kToken : SearchParamType::kDate;
    if (!modifier.empty() && modifier != "missing" && !(modifier == "not" && name == "_id")) {
      return InvalidError("modifier :" + modifier + " is not supported for '" + name + "'");
    }
    return clause;
  }
  ASSIGN_OR_RETURN(clause.type, ParamTypeIn(scope, name));
  if (clause.type == SearchParamType::kSpecial || name == "_text" || name == "_content" ||
      name == "_query") {
    return InvalidError("search parameter '" + name +
                        "' is not supported by Carechart (no full-text or geographic search; see "
                        "the CapabilityStatement)");
  }
  if (clause.type == SearchParamType::kComposite) {
    ASSIGN_OR_RETURN(clause.component_types, CompositeComponentTypes(scope, name));
    if (!modifier.empty() && modifier != "missing") {
      return InvalidError("modifier :" + modifier + " is not supported for composite parameter '" +
                          name + "' (only :missing)");
    }
    return clause;
  }
  RETURN_IF_ERROR(CheckModifier(name, clause.type, modifier));
  return clause;
}

StatusOr<SearchClause> ParseKeyed(const Scope& scope, const std::string& key,
                                  const std::string& value, int depth);

// _has:Type:ref:rest
StatusOr<SearchClause> ParseHas(const Scope& scope, const std::string& key,
                                const std::string& value, int depth) {
  size_t a = key.find(':', 5);
  size_t b = a == std::string::npos ? a : key.find(':', a + 1);
  if (b == std::string::npos || b + 1 >= key.size()) {
    return InvalidError("'" + key + "' is not a _has parameter (_has:Type:reference:parameter)");
  }
  std::string source = key.substr(5, a - 5), ref = key.substr(a + 1, b - a - 1);
  std::string rest = key.substr(b + 1);
  if (scope.type.empty()) {
    return InvalidError("_has ('" + key +
                        "') needs a resource type: it is not supported in a "
                        "system search");
  }
  if (!fhir::IsResourceType(source)) {
    return InvalidError("'" + source + "' in '" + key + "' is not a FHIR R4 resource type");
  }
  const fhir::SearchParamDef* def = fhir::FindSearchParam(source, ref);
  if (def == nullptr || def->type != SearchParamType::kReference) {
    return InvalidError("'" + ref + "' in '" + key + "' is not a reference search parameter of " +
                        source);
  }
  if (!def->targets.empty() && !Contains(def->targets, scope.type) &&
      !Contains(def->targets, "Resource")) {
    return InvalidError(source + "." + ref + " in '" + key + "' cannot refer to " + scope.type +
                        " (its targets: " + Join(def->targets) + ")");
  }
  ASSIGN_OR_RETURN(SearchClause inner, ParseKeyed(Scope{source, {}}, rest, value, depth + 1));
  inner.target_type = source;
  SearchClause clause;
  clause.param = ref;
  clause.type = SearchParamType::kReference;
  clause.link = ClauseLink::kHas;
  clause.linked.push_back(std::move(inner));
  return clause;
}

// ref[:Type].rest
StatusOr<SearchClause> ParseChain(const Scope& scope, const std::string& key,
                                  const std::string& value, int depth) {
  size_t dot = key.find('.');
  std::string head = key.substr(0, dot), rest = key.substr(dot + 1);
  size_t colon = head.find(':');
  std::string name = head.substr(0, colon);
  std::string type_mod = colon == std::string::npos ? "" : head.substr(colon + 1);
  if (scope.type.empty()) {
    return InvalidError("chained parameter '" + key +
                        "' needs a resource type: it is not supported in a system search");
  }
  const fhir::SearchParamDef* def = fhir::FindSearchParam(scope.type, name);
  if (def == nullptr || def->type != SearchParamType::kReference) {
    return InvalidError("'" + name + "' in '" + key + "' is not a reference search parameter of " +
                        scope.type + ", so it cannot be chained");
  }
  if (rest.empty()) {
    return InvalidError("'" + key + "' names no parameter after the '.'");
  }
  std::string next = rest.substr(0, rest.find_first_of(":."));
  std::vector<std::string> targets;
  if (!type_mod.empty()) {
    if (!fhir::IsResourceType(type_mod)) {
      return InvalidError("'" + type_mod + "' in '" + key + "' is not a FHIR R4 resource type");
    }
    if (!def->targets.empty() && !Contains(def->targets, type_mod) &&
        !Contains(def->targets, "Resource")) {
      return InvalidError(scope.type + "." + name + " in '" + key + "' cannot refer to " +
                          type_mod + " (its targets: " + Join(def->targets) + ")");
    }
    targets.push_back(type_mod);
  } else {
    std::optional<SearchParamType> next_type;
    bool mixed = false;
    for (std::string_view t : def->targets) {
      if (!fhir::IsResourceType(t)) {
        continue;
      }
      const fhir::SearchParamDef* nd = fhir::FindSearchParam(t, next);
      bool column = next == "_id" || next == "_lastUpdated";
      if (nd == nullptr && !column && !next.starts_with("_has")) {
        continue;
      }
      if (nd != nullptr) {
        mixed = mixed || (next_type && *next_type != nd->type);
        next_type = nd->type;
      }
      targets.emplace_back(t);
    }
    if (targets.empty()) {
      return InvalidError("unknown chain target in '" + key + "': no target type of " + scope.type +
                          "." + name + " (" + Join(def->targets) + ") has a search parameter '" +
                          next + "'");
    }
    if (mixed) {
      return InvalidError("chained parameter '" + key + "' is ambiguous: '" + next +
                          "' has different types among the targets of " + scope.type + "." + name +
                          "; name the target type (" + name + ":Type." + rest + ")");
    }
  }
  SearchClause clause;
  clause.param = name;
  clause.modifier = type_mod;
  clause.type = SearchParamType::kReference;
  clause.link = ClauseLink::kChain;
  for (const std::string& t : targets) {
    ASSIGN_OR_RETURN(SearchClause inner, ParseKeyed(Scope{t, {}}, rest, value, depth + 1));
    inner.target_type = t;
    clause.linked.push_back(std::move(inner));
  }
  return clause;
}

StatusOr<SearchClause> ParseKeyed(const Scope& scope, const std::string& key,
                                  const std::string& value, int depth) {
  if (depth > kMaxChainDepth) {
    return InvalidError("'" + key + "' chains more than " + std::to_string(kMaxChainDepth) +
                        " levels; split the search");
  }
  if (key.starts_with("_has:") || key == "_has") {
    return ParseHas(scope, key, value, depth);
  }
  size_t colon = key.find(':');
  size_t dot = key.find('.');
  if (dot != std::string::npos) {
    return ParseChain(scope, key, value, depth);
  }
  std::string name = key.substr(0, colon);
  std::string modifier = colon == std::string::npos ? "" : key.substr(colon + 1);
  ASSIGN_OR_RETURN(SearchClause clause, NewClause(scope, name, modifier));
  for (const std::string& part : internal::SplitValues(value)) {
    SearchValue v;
    Status s = internal::ParseValue(clause, part, &v);
    if (!s.ok()) {
      return BadValue(key, value, s.message());
    }
    clause.values.push_back(std::move(v));
  }
  return clause;
}

StatusOr<std::vector<SortKey>> ParseSort(std::string_view type, const std::string& value) {
  std::vector<SortKey> keys;
  for (const std::string& part : internal::SplitValues(value)) {
    SortKey key;
    key.descending = part.starts_with("-");
    key.param = key.descending ? part.substr(1) : part;
    if (key.param != "_id" && key.param != "_lastUpdated") {
      const fhir::SearchParamDef* def =
          type.empty() ? nullptr : fhir::FindSearchParam(type, key.param);
      if (def == nullptr || def->type == SearchParamType::kComposite ||
          def->type == SearchParamType::kSpecial) {
        return BadValue("_sort", value, "cannot sort by '" + key.param + "'");
      }
      key.type = def->type;
    }
    keys.push_back(std::move(key));
  }
  return keys;
}

// _include / _revinclude[:iterate] = Type:param[:Target] | Type:* | *
StatusOr<IncludeSpec> ParseInclude(std::string_view type, const std::string& name,
                                   const std::string& value) {
  IncludeSpec spec;
  spec.reverse = name.starts_with("_revinclude");
  spec.iterate = name.ends_with(":iterate") || name.ends_with(":recurse");
  if (value == "*") {
    if (spec.reverse) {
      return BadValue(name, value,
                      "_revinclude=* is not supported; name the type and parameter "
                      "(_revinclude=Type:param or Type:*)");
    }
    spec.param = "*";
    return spec;
  }
  size_t a = value.find(':');
  if (a == std::string::npos) {
    return BadValue(name, value, "expected Type:parameter[:targetType]");
  }
  size_t b = value.find(':', a + 1);
  spec.source_type = value.substr(0, a);
  spec.param = value.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
  std::string target = b == std::string::npos ? "" : value.substr(b + 1);
  if (!fhir::IsResourceType(spec.source_type)) {
    return BadValue(name, value, "'" + spec.source_type + "' is not a resource type");
  }
  if (!spec.reverse && !spec.iterate && !type.empty() && spec.source_type != type) {
    return BadValue(name, value,
                    "the type must be the searched type " + std::string(type) +
                        " (use _include:iterate to follow included resources)");
  }
  if (spec.param != "*") {
    const fhir::SearchParamDef* def = fhir::FindSearchParam(spec.source_type, spec.param);
    if (def == nullptr || def->type != SearchParamType::kReference) {
      return BadValue(name, value,
                      "'" + spec.param + "' is not a reference parameter of " + spec.source_type);
    }
    if (!target.empty() && !def->targets.empty() && !Contains(def->targets, target)) {
      return BadValue(name, value,
                      spec.source_type + "." + spec.param + " cannot refer to " + target +
                          " (its targets: " + Join(def->targets) + ")");
    }
  }
  if (!target.empty()) {
    if (!fhir::IsResourceType(target)) {
      return BadValue(name, value, "'" + target + "' is not a resource type");
    }
    spec.target_types.push_back(target);
  }
  return spec;
}

// Result parameters; returns false when `name` is not one.
StatusOr<bool> ParseResultParam(std::string_view type, const std::string& name,
                                const std::string& value, SearchQuery& q) {
  if (name == "_count") {
    int64_t n = 0;
    if (!ParseInt(value, &n) || n < 0) {
      return BadValue(name, value, "expected a non-negative integer");
    }
    q.count = static_cast<int>(std::min<int64_t>(n, kMaxCount));
  } else if (name == "_offset") {
    if (!ParseInt(value, &q.offset) || q.offset < 0) {
      return BadValue(name, value, "expected a non-negative integer");
    }
  } else if (name == "_sort") {
    ASSIGN_OR_RETURN(q.sort, ParseSort(type, value));
  } else if (name == "_total") {
    if (value != "none" && value != "estimate" && value != "accurate") {
      return BadValue(name, value, "expected none, estimate or accurate");
    }
    q.want_total = value != "none";
    q.estimate_total = value == "estimate";
    q.total_limit = value == "estimate" ? kEstimateLimit : 0;
  } else if (name == "_summary") {
    if (value == "count") {
      q.count = 0;
      q.want_total = true;
      q.total_limit = 0;
    }
  } else if (name == "_include" || name == "_revinclude" || name == "_include:iterate" ||
             name == "_revinclude:iterate" || name == "_include:recurse" ||
             name == "_revinclude:recurse") {
    ASSIGN_OR_RETURN(IncludeSpec spec, ParseInclude(type, name, value));
    (spec.reverse ? q.revincludes : q.includes).push_back(value);
    q.include_specs.push_back(std::move(spec));
  } else if (name == "_type" && type.empty()) {
    for (const std::string& t : internal::SplitValues(value)) {
      if (!fhir::IsResourceType(t)) {
        return BadValue(name, value, "'" + t + "' is not a resource type");
      }
      q.types.push_back(t);
    }
  } else if (name == "_contained" || name == "_containedType") {
    if (value != (name == "_contained" ? "false" : "container")) {
      return BadValue(name, value,
                      "searching contained resources is not supported (only the default, " +
                          std::string(name == "_contained" ? "false" : "container") + ")");
    }
  } else if (name == "_page") {
    // Decoded after the loop, once _sort is known.
  } else if (name != "_format" && name != "_pretty" && name != "_elements") {
    return false;
  }
  return true;
}

// base64url without padding.
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string Base64Url(std::string_view in) {
  std::string out;
  uint32_t buf = 0;
  int bits = 0;
  for (unsigned char c : in) {
    buf = (buf << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kB64[(buf >> bits) & 63];
    }
  }
  if (bits > 0) {
    out += kB64[(buf << (6 - bits)) & 63];
  }
  return out;
}

bool UnBase64Url(std::string_view in, std::string* out) {
  uint32_t buf = 0;
  int bits = 0;
  for (char c : in) {
    const char* p = std::find(kB64, kB64 + 64, c);
    if (p == kB64 + 64) {
      return false;
    }
    buf = (buf << 6) | static_cast<uint32_t>(p - kB64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      *out += static_cast<char>((buf >> bits) & 0xff);
    }
  }
  return true;
}

std::string SortSignature(const std::vector<SortKey>& sort) {
  std::string sig;
  for (const SortKey& k : sort) {
    sig += (k.descending ? "-" : "+") + k.param + ",";
  }
  return sig;
}

void PutField(std::string& out, std::string_view field) {
  out += std::to_string(field.size()) + ":" + std::string(field);
}

bool TakeField(std::string_view& in, std::string* field) {
  size_t colon = in.find(':');
  int64_t n = 0;
  if (colon == std::string_view::npos || !ParseInt(in.substr(0, colon), &n) || n < 0 ||
      static_cast<size_t>(n) > in.size() - colon - 1) {
    return false;
  }
  *field = std::string(in.substr(colon + 1, n));
  in.remove_prefix(colon + 1 + n);
  return true;
}

}  // namespace

std::string EncodePageToken(const std::vector<SortKey>& sort, const PageCursor& cursor) {
  std::string raw;
  // k2 adds the first page's Bundle.total ("" when the token carries none); k1 is still read.
  PutField(raw, "k2");
  PutField(raw, SortSignature(sort));
  PutField(raw, std::to_string(cursor.pk));
  PutField(raw, cursor.total ? std::to_string(*cursor.total) : std::string());
  for (const std::string& v : cursor.values) {
    PutField(raw, v);
  }
  return Base64Url(raw);
}

StatusOr<PageCursor> DecodePageToken(const std::vector<SortKey>& sort, std::string_view token) {
  Status bad = InvalidError(
      "invalid value for _page: not a page token of this search (follow the Bundle's links, and "
      "keep _sort unchanged)",
      "_page");
  std::string raw, version, sig, pk, total;
  if (!UnBase64Url(token, &raw)) {
    return bad;
  }
  std::string_view in = raw;
  PageCursor c;
  if (!TakeField(in, &version) || (version != "k1" && version != "k2") || !TakeField(in, &sig) ||
      sig != SortSignature(sort) || !TakeField(in, &pk) || !ParseInt(pk, &c.pk)) {
    return bad;
  }
  if (version == "k2") {
    int64_t n = 0;
    if (!TakeField(in, &total)) {
      return bad;
    }
    if (!total.empty()) {
      bool negative = total.starts_with('-');
      if (!ParseInt(negative ? total.substr(1) : total, &n)) {
        return bad;
      }
      c.total = negative ? -1 : n;
    }
  }
  while (!in.empty()) {
    std::string v;
    if (!TakeField(in, &v)) {
      return bad;
    }
    c.values.push_back(std::move(v));
  }
  // An unsorted search's listing may walk another order than the keys' and carry one value of
  // it (a chain's target id, decisions D75); the store refuses a value its plan has no use for.
  if (c.values.size() != sort.size() && !(sort.empty() && c.values.size() == 1)) {
    return bad;
  }
  return c;
}

StatusOr<SearchQuery> ParseSearch(std::string_view type,
                                  const std::vector<std::pair<std::string, std::string>>& params,
                                  bool lenient, std::vector<std::string>* ignored) {
  if (!type.empty() && !fhir::IsResourceType(type)) {
    return InvalidError("'" + std::string(type) + "' is not a FHIR R4 resource type");
  }
  SearchQuery q;
  q.type = std::string(type);
  q.total_limit = kDefaultTotalLimit;  // without _total: accurate up to a cap (D35)
  auto fail = [&](const std::string& name, const Status& s) -> Status {
    if (!lenient) {
      return s;
    }
    if (ignored != nullptr) {
      ignored->push_back(name);
    }
    return Status::Ok();
  };
  // _type first: a system search's other parameters are checked against its types.
  if (type.empty()) {
    for (const auto& [name, value] : params) {
      if (name == "_type") {
        StatusOr<bool> r = ParseResultParam(type, name, value, q);
        if (!r.ok()) {
          q.types.clear();
          RETURN_IF_ERROR(fail(name, r.status()));
        }
      }
    }
  }
  Scope scope{q.type, q.types};
  std::string page;
  for (const auto& [name, value] : params) {
    if (name == "_type" && type.empty()) {
      continue;
    }
    if (name == "_page") {
      page = value;
    }
    StatusOr<bool> result = ParseResultParam(type, name, value, q);
    Status s = result.ok() ? Status::Ok() : result.status();
    if (result.ok() && !*result) {
      StatusOr<SearchClause> clause = ParseKeyed(scope, name, value, 0);
      if (clause.ok()) {
        q.clauses.push_back(std::move(clause).value());
      } else {
        s = clause.status();
      }
    }
    if (!s.ok()) {
      RETURN_IF_ERROR(fail(name, s));
    }
  }
  if (!page.empty()) {
    StatusOr<PageCursor> cursor = DecodePageToken(q.sort, page);
    if (cursor.ok()) {
      q.after = std::move(cursor).value();
    } else {
      RETURN_IF_ERROR(fail("_page", cursor.status()));
    }
  }
  return q;
}

}  // namespace carechart::store
