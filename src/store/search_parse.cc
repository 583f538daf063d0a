// ParseSearch: query parameters -> SearchQuery (see search_query.h).
#include <charconv>

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

// Checks `modifier` against what the compiler supports for a parameter of `type`.
Status CheckModifier(const std::string& name, SearchParamType type, const std::string& modifier) {
  if (modifier.empty() || modifier == "missing") {
    return Status::Ok();
  }
  bool ok = (type == SearchParamType::kString && (modifier == "exact" || modifier == "contains")) ||
            (type == SearchParamType::kToken && (modifier == "not" || modifier == "text")) ||
            (type == SearchParamType::kUri && modifier == "below") ||
            (type == SearchParamType::kReference && fhir::IsResourceType(modifier));
  if (!ok) {
    return InvalidError("modifier :" + modifier + " is not supported for search parameter '" +
                        name + "'");
  }
  return Status::Ok();
}

// The clause of `name`: resource columns (_id, _lastUpdated) or a parameter of `type`.
StatusOr<SearchClause> NewClause(std::string_view type, const std::string& name,
                                 const std::string& modifier) {
  SearchClause clause;
  clause.param = name;
  clause.modifier = modifier;
  if (name == "_id" || name == "_lastUpdated") {
    clause.type = name == "_id" ? SearchParamType::kToken : SearchParamType::kDate;
    if (!modifier.empty()) {
      return InvalidError("modifier :" + modifier + " is not supported for '" + name + "'");
    }
    return clause;
  }
  if (name.find('.') != std::string::npos || name == "_has" || name.starts_with("_has:")) {
    return InvalidError("chained and _has search ('" + name + "') is not supported yet");
  }
  if (type.empty()) {
    return InvalidError("unknown search parameter '" + name +
                        "' (a system search supports _id, _lastUpdated and _type)");
  }
  const fhir::SearchParamDef* def = fhir::FindSearchParam(type, name);
  if (def == nullptr) {
    return InvalidError("unknown search parameter '" + name + "' for " + std::string(type));
  }
  clause.type = def->type;
  if (clause.type == SearchParamType::kComposite || clause.type == SearchParamType::kSpecial) {
    return InvalidError("search parameter '" + name +
                        "' (composite or special) is not supported yet");
  }
  RETURN_IF_ERROR(CheckModifier(name, clause.type, modifier));
  return clause;
}

StatusOr<SearchClause> ParseClause(std::string_view type, const std::string& key,
                                   const std::string& value) {
  size_t colon = key.find(':');
  std::string name = key.substr(0, colon);
  std::string modifier = colon == std::string::npos ? "" : key.substr(colon + 1);
  ASSIGN_OR_RETURN(SearchClause clause, NewClause(type, name, modifier));
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
  } else if (name == "_summary") {
    if (value == "count") {
      q.count = 0;
      q.want_total = true;
    }
  } else if (name == "_include" || name == "_revinclude" || name == "_include:iterate" ||
             name == "_revinclude:iterate") {
    (name.starts_with("_include") ? q.includes : q.revincludes).push_back(value);
  } else if (name == "_type" && type.empty()) {
    for (const std::string& t : internal::SplitValues(value)) {
      if (!fhir::IsResourceType(t)) {
        return BadValue(name, value, "'" + t + "' is not a resource type");
      }
      q.types.push_back(t);
    }
  } else if (name != "_format" && name != "_pretty" && name != "_elements") {
    return false;
  }
  return true;
}

}  // namespace

StatusOr<SearchQuery> ParseSearch(std::string_view type,
                                  const std::vector<std::pair<std::string, std::string>>& params,
                                  bool lenient, std::vector<std::string>* ignored) {
  if (!type.empty() && !fhir::IsResourceType(type)) {
    return InvalidError("'" + std::string(type) + "' is not a FHIR R4 resource type");
  }
  SearchQuery q;
  q.type = std::string(type);
  for (const auto& [name, value] : params) {
    StatusOr<bool> result = ParseResultParam(type, name, value, q);
    Status s = result.ok() ? Status::Ok() : result.status();
    if (result.ok() && !*result) {
      StatusOr<SearchClause> clause = ParseClause(type, name, value);
      if (clause.ok()) {
        q.clauses.push_back(std::move(clause).value());
      } else {
        s = clause.status();
      }
    }
    if (!s.ok()) {
      if (!lenient) {
        return s;
      }
      if (ignored != nullptr) {
        ignored->push_back(name);
      }
    }
  }
  return q;
}

}  // namespace carechart::store
