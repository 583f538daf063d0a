// Predicates for one search value per parameter type (FHIR R4 search semantics).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <optional>

#include "store/index_keys.h"
#include "store/search_sql_internal.h"

namespace carechart::store::internal {
namespace {

using fhir::SearchParamType;

// Smallest string greater than every string starting with `prefix` in byte order: the prefix
// followed by U+10FFFF, which normalized text never contains.
std::string PrefixUpperBound(const std::string& prefix) { return prefix + "\xF4\x8F\xBF\xBF"; }

const std::string& StringValue(const SearchValue& v) {
  return v.normalized.empty() ? v.raw : v.normalized;
}

std::string TokenPredicate(const SearchClause& c, const SearchValue& v, ArgList& a) {
  if (c.modifier == "text") {
    // t.text holds each searchable text normalized after a '\x1f' (fhir AddToken): a string
    // search, i.e. one of them starts with the value (case and accents folded).
    return "t.text " + std::string(a.dialect().CaseInsensitiveLike()) + " " +
           a.Arg("%\x1f" + EscapeLike(StringValue(v)) + "%") + " ESCAPE '\\'";
  }
  if (!v.has_system) {
    return "t.code = " + a.Arg(v.code);
  }
  if (v.system.empty()) {
    return "(t.sys = 0 AND t.code = " + a.Arg(v.code) + ")";
  }
  if (v.code.empty()) {
    return "t.sys = " + a.Arg(SystemKey(v.system));
  }
  std::string sys = a.Arg(SystemKey(v.system));
  return "(t.sys = " + sys + " AND t.code = " + a.Arg(v.code) + ")";
}

StatusOr<std::string> StringPredicate(const SearchClause& c, const SearchValue& v, ArgList& a) {
  if (c.modifier.empty()) {
    std::string low = a.Arg(StringValue(v));
    return "(t.normalized >= " + low + " AND t.normalized < " +
           a.Arg(PrefixUpperBound(StringValue(v))) + ")";
  }
  if (c.modifier == "exact") {
    return "COALESCE(NULLIF(t.exact, ''), t.normalized) = " + a.Arg(v.raw);
  }
  if (c.modifier == "contains") {
    return "t.normalized " + std::string(a.dialect().CaseInsensitiveLike()) + " " +
           a.Arg("%" + EscapeLike(StringValue(v)) + "%") + " ESCAPE '\\'";
  }
  return InvalidError("modifier :" + c.modifier + " is not supported for string parameter " +
                      c.param);
}

std::string NumberPredicate(const std::string& col, const SearchValue& v, ArgList& a) {
  double low = v.number_low, high = v.number_high;
  if (low == 0 && high == 0) {
    low = high = v.number;
  }
  switch (v.prefix) {
    case Prefix::kEq:
      return low == high
                 ? col + " = " + a.Arg(low)
                 : "(" + col + " >= " + a.Arg(low) + " AND " + col + " < " + a.Arg(high) + ")";
    case Prefix::kNe:
      return low == high
                 ? col + " <> " + a.Arg(low)
                 : "(" + col + " < " + a.Arg(low) + " OR " + col + " >= " + a.Arg(high) + ")";
    case Prefix::kGt:
    case Prefix::kSa:
      return col + " > " + a.Arg(v.number);
    case Prefix::kLt:
    case Prefix::kEb:
      return col + " < " + a.Arg(v.number);
    case Prefix::kGe:
      return col + " >= " + a.Arg(v.number);
    case Prefix::kLe:
      return col + " <= " + a.Arg(v.number);
    case Prefix::kAp: {
      double d = std::fabs(v.number) * 0.1;
      return "(" + col + " >= " + a.Arg(v.number - d) + " AND " + col +
             " <= " + a.Arg(v.number + d) + ")";
    }
  }
  return "0 = 1";
}

std::string QuantityPredicate(const SearchValue& v, ArgList& a) {
  std::string out = "(" + NumberPredicate("t.value", v, a);
  if (v.has_system && !v.system.empty()) {
    out += " AND t.sys = " + a.Arg(SystemKey(v.system));
  }
  if (!v.code.empty()) {
    std::string code = a.Arg(v.code);
    out += v.has_system && !v.system.empty()
               ? " AND t.code = " + code
               : " AND (t.code = " + code + " OR t.unit = " + code + ")";
  }
  return out + ")";
}

std::string ReferencePredicate(const SearchClause& c, const SearchValue& v, ArgList& a) {
  std::string type = !v.ref_type.empty() ? v.ref_type : c.modifier;
  if (v.ref_id.empty()) {
    return "t.url = " + a.Arg(v.raw);
  }
  // target_type is '' for references whose type is unknown (stored entries always have it).
  std::string out = "(t.target_id = " + a.Arg(v.ref_id);
  if (!type.empty()) {
    out += " AND t.target_type = " + a.Arg(type);
  }
  out += ")";
  if (v.raw.find("://") != std::string::npos) {
    out = "(" + out + " OR t.url = " + a.Arg(v.raw) + ")";
  }
  return out;
}

StatusOr<std::string> UriPredicate(const SearchClause& c, const SearchValue& v, ArgList& a) {
  if (c.modifier.empty()) {
    return "t.uri = " + a.Arg(v.raw);
  }
  if (c.modifier == "below") {
    std::string low = a.Arg(v.raw);
    return "(t.uri >= " + low + " AND t.uri < " + a.Arg(PrefixUpperBound(v.raw)) + ")";
  }
  if (c.modifier == "above") {
    // The value or one of its parent paths: "http://x/fhir/ValueSet/a" matches stored
    // ".../ValueSet/a", ".../ValueSet", "http://x/fhir" ... (each an index seek).
    std::string out = "t.uri IN (" + a.Arg(v.raw);
    size_t scheme = v.raw.find("://");
    size_t floor = scheme == std::string::npos ? 0 : scheme + 3;
    for (size_t slash = v.raw.rfind('/'); slash != std::string::npos && slash > floor;
         slash = v.raw.rfind('/', slash - 1)) {
      out += ", " + a.Arg(v.raw.substr(0, slash));
    }
    return out + ")";
  }
  return InvalidError("modifier :" + c.modifier + " is not supported for uri parameter " + c.param);
}

// The sp_composite column component `n` (1-based) uses for an index-table column `col` (see
// fhir::CompositePart).
std::string CompositeColumn(std::string_view col, int n) {
  std::string_view mapped = "t";
  if (col == "sys") {
    mapped = "s";
  } else if (col == "text" || col == "exact" || col == "target_type" || col == "unit") {
    mapped = "u";
  } else if (col == "value" || col == "low") {
    mapped = "lo";
  } else if (col == "high") {
    mapped = "hi";
  }
  return std::string(mapped) + std::to_string(n);
}

// Rewrites "t.<col>" of a single-type predicate into component n's columns of sp_composite.
std::string ForComponent(const std::string& pred, int n) {
  std::string out;
  for (size_t i = 0; i < pred.size(); ++i) {
    bool alias = pred.compare(i, 2, "t.") == 0 &&
                 (i == 0 || !(std::isalnum(static_cast<unsigned char>(pred[i - 1])) ||
                              pred[i - 1] == '_' || pred[i - 1] == '.'));
    if (!alias) {
      out += pred[i];
      continue;
    }
    size_t end = i + 2;
    while (end < pred.size() &&
           (std::isalnum(static_cast<unsigned char>(pred[end])) || pred[end] == '_')) {
      ++end;
    }
    out += "t." + CompositeColumn(std::string_view(pred).substr(i + 2, end - i - 2), n);
    i = end - 1;
  }
  return out;
}

// Every component of one tuple matches, each with its own type's semantics (prefixes included).
StatusOr<std::string> CompositePredicate(const SearchClause& c, const SearchValue& v,
                                         int64_t now_us, ArgList& a) {
  if (v.components.size() != c.component_types.size()) {
    return InvalidError("composite parameter " + c.param + " needs " +
                        std::to_string(c.component_types.size()) + " components");
  }
  std::string out = "(";
  for (size_t i = 0; i < v.components.size(); ++i) {
    SearchClause component;
    component.param = c.param;
    component.type = c.component_types[i];
    ASSIGN_OR_RETURN(std::string pred, ValuePredicate(component, v.components[i], now_us, a));
    out += (i ? " AND " : "") + ForComponent(pred, static_cast<int>(i) + 1);
  }
  return out + ")";
}

}  // namespace

const char* IndexTable(SearchParamType type) {
  switch (type) {
    case SearchParamType::kToken:
      return "sp_token";
    case SearchParamType::kString:
      return "sp_string";
    case SearchParamType::kDate:
      return "sp_date";
    case SearchParamType::kReference:
      return "sp_reference";
    case SearchParamType::kQuantity:
      return "sp_quantity";
    case SearchParamType::kNumber:
      return "sp_number";
    case SearchParamType::kUri:
      return "sp_uri";
    case SearchParamType::kComposite:
      return "sp_composite";
    default:
      return nullptr;
  }
}

bool KeyIdIndexed(std::string_view type) {
  // The types of resource_key_id's condition (sqlite_schema.cc, migration 9), in its order.
  static constexpr std::string_view kTypes[] = {"Patient",       "Practitioner", "PractitionerRole",
                                                "Organization",  "Location",     "Group",
                                                "RelatedPerson", "Device",       "Medication"};
  return std::find(std::begin(kTypes), std::end(kTypes), type) != std::end(kTypes);
}

std::string EscapeLike(const std::string& text) {
  std::string out;
  for (char ch : text) {
    if (ch == '%' || ch == '_' || ch == '\\') {
      out += '\\';
    }
    out += ch;
  }
  return out;
}

namespace {

// How far `ap` widens a value on each side: 10% of its distance from now, at least one day.
int64_t ApproximateWidening(const SearchValue& v, int64_t now_us) {
  const int64_t gap = now_us > v.low ? now_us - v.low : v.low - now_us;
  return std::max<int64_t>(gap / 10, int64_t{86400} * 1000000);
}

// Bounds on a stored range [low, high] that a date value's predicate implies, so that its rows
// are ranges of the (param, low, high) index: every match has high >= high_at_least (then low
// >= high_at_least - the parameter's longest closed range) and low <= low_at_most.
struct DateBounds {
  std::optional<int64_t> high_at_least;
  std::optional<int64_t> low_at_most;
};

DateBounds BoundsOf(const SearchValue& v, int64_t now_us) {
  switch (v.prefix) {
    case Prefix::kEq:  // low >= pl AND high <= ph, and low <= high
      return {std::nullopt, v.high};
    case Prefix::kGt:  // high > ph
      return {v.high, std::nullopt};
    case Prefix::kGe:  // high > ph OR (low >= pl AND high <= ph): high >= pl either way
      return {v.low, std::nullopt};
    case Prefix::kLe:  // low < pl OR (low >= pl AND high <= ph): low <= ph either way
      return {std::nullopt, v.high};
    case Prefix::kEb:  // high < pl, and low <= high
      return {std::nullopt, v.low};
    case Prefix::kAp:  // high >= pl - widening
      return {v.low - ApproximateWidening(v, now_us), std::nullopt};
    case Prefix::kLt:  // low < pl and sa's low > ph bound the index already; ne cannot
    case Prefix::kSa:
    case Prefix::kNe:
      return {};
  }
  return {};
}

}  // namespace

std::string DatePredicate(const std::string& lo, const std::string& hi, const SearchValue& v,
                          int64_t now_us, ArgList& a) {
  // Resource range [lo, hi], parameter range [pl, ph].
  auto contained = [&](const std::string& pl, const std::string& ph) {
    return "(" + lo + " >= " + pl + " AND " + hi + " <= " + ph + ")";
  };
  switch (v.prefix) {
    case Prefix::kEq: {
      std::string pl = a.Arg(v.low);
      return contained(pl, a.Arg(v.high));
    }
    case Prefix::kNe: {
      std::string pl = a.Arg(v.low);
      return "NOT " + contained(pl, a.Arg(v.high));
    }
    case Prefix::kGt:
      return hi + " > " + a.Arg(v.high);
    case Prefix::kLt:
      return lo + " < " + a.Arg(v.low);
    case Prefix::kGe: {  // gt OR eq
      std::string pl = a.Arg(v.low), ph = a.Arg(v.high);
      return "(" + hi + " > " + ph + " OR " + contained(pl, ph) + ")";
    }
    case Prefix::kLe: {  // lt OR eq
      std::string pl = a.Arg(v.low), ph = a.Arg(v.high);
      return "(" + lo + " < " + pl + " OR " + contained(pl, ph) + ")";
    }
    case Prefix::kSa:
      return lo + " > " + a.Arg(v.high);
    case Prefix::kEb:
      return hi + " < " + a.Arg(v.low);
    case Prefix::kAp: {
      // Overlap with the value widened by 10% of its distance from now (at least one day).
      const int64_t widen = ApproximateWidening(v, now_us);
      std::string pl = a.Arg(v.low - widen);
      return "(" + hi + " >= " + pl + " AND " + lo + " <= " + a.Arg(v.high + widen) + ")";
    }
  }
  return "0 = 1";
}

StatusOr<std::string> DateIndexRows(const SearchClause& c, int64_t now_us, ArgList& a,
                                    const std::function<StatusOr<std::string>()>& keys) {
  bool split = false;
  for (const SearchValue& v : c.values) {
    split = split || BoundsOf(v, now_us).high_at_least.has_value();
  }
  // Split: each value's rows as up to three disjoint ranges of the index, one SELECT each,
  // under UNION ALL (an OR of them would have SQLite gather every row's key in a temporary
  // table to drop repeats: 17 ms for 6,000 rows, against 4 as a compound).
  // The compound's rows carry what the caller selects of `t` (KeyColumns in search_sql.cc).
  const std::string_view col = a.dialect().CoLocationColumn();
  const std::string co_location =
      col.empty() ? "" : ", t." + std::string(col) + " AS " + std::string(col);
  std::string out;
  for (const SearchValue& v : c.values) {
    const DateBounds b = BoundsOf(v, now_us);
    auto part = [&](const std::string& bound) -> StatusOr<std::string> {
      ASSIGN_OR_RETURN(std::string k, keys());
      std::string low_at_most = b.low_at_most ? " AND t.low <= " + a.Arg(*b.low_at_most) : "";
      std::string cond = "t.param" + k + bound + low_at_most + " AND " +
                         DatePredicate("t.low", "t.high", v, now_us, a);
      return split ? "SELECT t.res AS res" + co_location + " FROM sp_date t WHERE " + cond
                   : "(" + cond + ")";
    };
    std::string rows;
    if (split && b.high_at_least) {
      // The closed ranges that can reach high_at_least (low no earlier than it less the
      // parameter's longest closed range, read in the same snapshot as the rows: never less
      // than INT64_MIN for dates of years 1-9999), those without a start (low = INT64_MIN, one
      // range of high), and those without an end (the partial index sp_date_open_end, whose
      // condition this literal repeats). A parameter with no closed range has no span: NULL,
      // so the first has no row.
      constexpr const char* kNoEnd = "9223372036854775807";
      ASSIGN_OR_RETURN(std::string span_keys, keys());
      ASSIGN_OR_RETURN(std::string closed,
                       part(" AND t.low >= " + a.Arg(*b.high_at_least) +
                            " - (SELECT MAX(s.span) FROM sp_date_span s WHERE s.param" + span_keys +
                            ") AND t.high < " + kNoEnd));
      ASSIGN_OR_RETURN(std::string no_start,
                       part(" AND t.low = " + a.Arg(std::numeric_limits<int64_t>::min()) +
                            " AND t.high < " + kNoEnd));
      ASSIGN_OR_RETURN(std::string no_end, part(std::string(" AND t.high = ") + kNoEnd));
      rows = closed + " UNION ALL " + no_start + " UNION ALL " + no_end;
    } else {
      ASSIGN_OR_RETURN(rows, part(""));
    }
    out += (out.empty() ? "" : split ? " UNION ALL " : " OR ") + rows;
  }
  return split ? " FROM (" + out + ") t" : " FROM sp_date t WHERE " + out;
}

StatusOr<std::string> ValuePredicate(const SearchClause& c, const SearchValue& v, int64_t now_us,
                                     ArgList& a) {
  switch (c.type) {
    case SearchParamType::kToken:
      if (c.modifier == "in" || c.modifier == "not-in" || c.modifier == "above" ||
          c.modifier == "below") {
        return InvalidError("modifier :" + c.modifier + " of " + c.param +
                            " needs the stored terminology (ExpandTerminologyModifiers): it is "
                            "not supported here");
      }
      return TokenPredicate(c, v, a);
    case SearchParamType::kString:
      return StringPredicate(c, v, a);
    case SearchParamType::kDate:
      return DatePredicate("t.low", "t.high", v, now_us, a);
    case SearchParamType::kNumber:
      return NumberPredicate("t.value", v, a);
    case SearchParamType::kQuantity:
      return QuantityPredicate(v, a);
    case SearchParamType::kReference:
      return ReferencePredicate(c, v, a);
    case SearchParamType::kUri:
      return UriPredicate(c, v, a);
    case SearchParamType::kComposite:
      return CompositePredicate(c, v, now_us, a);
    default:
      return InvalidError("search parameter " + c.param + " (special) is not supported");
  }
}

}  // namespace carechart::store::internal
