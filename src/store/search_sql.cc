// The search compiler: one statement per page.
//
// Shape of a compiled page query:
//
//   SELECT r.type, r.id, ..., r.pk, <sort values> FROM resource r
//   WHERE r.deleted = 0
//     AND r.pk IN (SELECT t.res FROM sp_token t WHERE t.param = ?1 AND (...))  -- driver
//     AND +r.type = ?2
//     AND EXISTS (SELECT 1 FROM sp_date t WHERE t.res = r.pk AND t.param = ?3 AND (...))
//     AND <keyset: rows after the previous page's last (sort values, pk)>
//   ORDER BY <sort keys> NULLS LAST, r.pk LIMIT <count + 1>
//
// The most selective-looking positive clause (reference > token/string/uri/chain/_has >
// date/number/quantity) drives through its (param, value...) index; every other clause is a
// correlated EXISTS probing the index-table's primary key (res, param, ...). The driver is a key
// set (IN): SQLite builds it once, walks it in key order (so the default sort needs no sorter
// and stops after count + 1 rows) and counts each resource once however many of its index rows
// match; "+r.type" keeps SQLite, which has no statistics by default, from walking
// resource(type, ...) instead. PostgreSQL plans the same text with its own statistics. Without
// a usable driver the query walks resource(type, last_updated). A compartment
// (Patient/1/Observation) always drives. A driver on one fully qualified token (system|code)
// is a join instead, "FROM sp_token d CROSS JOIN resource r ... ORDER BY d.res": its index rows
// are unique per resource and already in key order, so a page of a code held by tens of
// thousands of resources reads count + 1 matches rather than building their whole key set.
//
// Chained and reverse-chained clauses nest a complete FROM/WHERE of the linked type, compiled by
// the same code, in a non-correlated IN subquery (evaluated once, not per row):
//   subject:Patient.name=x    t.target_type = 'Patient' AND t.target_id IN
//                               (SELECT r.id FROM <Patient?name=x>)
//   _has:Observation:patient:code=y
//                             r.id IN (SELECT t.target_id FROM sp_reference t WHERE
//                               t.param = <Observation.patient> AND t.target_type = <type> AND
//                               t.res IN (SELECT r.pk FROM <Observation?code=y>))
// (inner aliases r, d, t shadow the outer ones, which SQL scoping allows).
//
// A system search (no type) matches a parameter through the keys of every type searched
// (t.param IN (...)); index_keys_test checks that no two (type, parameter) keys of one index
// table collide, so a key alone identifies its parameter.
#include "store/search_sql.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <optional>
#include <set>

#include "store/index_keys.h"
#include "store/search_param_keys.h"
#include "store/search_sql_internal.h"
#include "store/token_patient.h"

namespace carechart::store {
namespace {

using fhir::SearchParamType;
using internal::ArgList;

class SqliteDialectImpl : public SqlDialect {
 public:
  std::string Placeholder(int n) const override { return "?" + std::to_string(n); }
  std::string_view CaseInsensitiveLike() const override { return "LIKE"; }
  std::string ProbeColumn(std::string_view column) const override {
    return "+" + std::string(column);
  }
  std::string IntListSubquery(const std::string& placeholder) const override {
    return "SELECT value FROM json_each(" + placeholder + ")";
  }
  std::string IntListArg(const std::vector<int64_t>& values) const override {
    std::string out = "[";
    for (size_t i = 0; i < values.size(); ++i) {
      out += (i ? "," : "") + std::to_string(values[i]);
    }
    return out + "]";
  }
};

// Rewrites the index-row columns ("t.x") of a predicate as the dialect's probe columns.
std::string AsProbe(const std::string& pred, const SqlDialect& dialect) {
  std::string out;
  for (size_t i = 0; i < pred.size(); ++i) {
    bool alias =
        pred.compare(i, 2, "t.") == 0 &&
        (i == 0 || !(std::isalnum(static_cast<unsigned char>(pred[i - 1])) || pred[i - 1] == '_'));
    if (!alias) {
      out += pred[i];
      continue;
    }
    size_t end = i + 2;
    while (end < pred.size() &&
           (std::isalnum(static_cast<unsigned char>(pred[end])) || pred[end] == '_')) {
      ++end;
    }
    out += dialect.ProbeColumn(pred.substr(i, end - i));
    i = end - 1;
  }
  return out;
}

// Co-location (decisions D46): with the dialect's CoLocationColumn, an index row `t` joins its
// own resource `r` on the column too, " AND t.compartment_key = r.compartment_key", and a key
// set carries it beside each key, "(r.pk, r.compartment_key) IN (SELECT t.res,
// t.compartment_key ...)", so that Citus runs each such join on one shard. Joins from a
// reference to its target (chains, _has, includes: t.target_type/t.target_id = x.type/x.id)
// stay multi-shard by nature: the target may live under another patient's key, and is found by
// (type, id). Without the column (SQLite) every helper returns its plain form.

// " AND a.col = b.col", or "".
std::string SameShard(const SqlDialect& d, std::string_view a, std::string_view b) {
  std::string_view col = d.CoLocationColumn();
  if (col.empty()) {
    return "";
  }
  return " AND " + std::string(a) + "." + std::string(col) + " = " + std::string(b) + "." +
         std::string(col);
}

// The select list of a key set: "t.res" or "t.res, t.compartment_key".
std::string KeyColumns(const SqlDialect& d, std::string_view key, std::string_view alias) {
  std::string_view col = d.CoLocationColumn();
  if (col.empty()) {
    return std::string(key);
  }
  return std::string(key) + ", " + std::string(alias) + "." + std::string(col);
}

// What is looked up in a key set: "r.pk" or "(r.pk, r.compartment_key)".
std::string KeyTuple(const SqlDialect& d, std::string_view key, std::string_view alias) {
  if (d.CoLocationColumn().empty()) {
    return std::string(key);
  }
  return "(" + KeyColumns(d, key, alias) + ")";
}

bool IsResourceColumnParam(const std::string& param) {
  return param == "_id" || param == "_lastUpdated";
}

// The resource types a clause's parameter keys are computed for.
struct Scope {
  std::string type;                // a type search
  std::vector<std::string> types;  // a system search: _type, or empty for every type
};

// The index table and parameter name a plain clause reads (the :identifier and :of-type
// modifiers read token rows the extractor writes for References and Identifier.type).
struct IndexTarget {
  const char* table;
  std::string param;
  SearchParamType type;
};

IndexTarget TargetOf(const SearchClause& c) {
  if (c.type == SearchParamType::kReference && c.modifier == "identifier") {
    return {"sp_token", c.param, SearchParamType::kToken};
  }
  if (c.modifier == "of-type") {
    return {"sp_token", c.param + ":of-type", SearchParamType::kToken};
  }
  return {internal::IndexTable(c.type), c.param, c.type};
}

}  // namespace

int DriverRank(const SearchClause& c) {
  if (c.link != ClauseLink::kNone) {
    for (const SearchClause& alt : c.linked) {
      if (DriverRank(alt) == 0) {
        return 0;
      }
    }
    return 2;
  }
  if (IsResourceColumnParam(c.param) || c.modifier == "missing" || c.modifier == "not" ||
      c.modifier == "text" || c.modifier == "contains" || c.values.empty()) {
    return 0;
  }
  for (const SearchValue& v : c.values) {
    if (v.prefix == Prefix::kNe) {
      return 0;
    }
  }
  if (c.modifier == "identifier" || c.modifier == "of-type") {
    return 2;
  }
  switch (c.type) {
    case SearchParamType::kReference:
      return 3;
    case SearchParamType::kToken:
    case SearchParamType::kString:
    case SearchParamType::kUri:
    case SearchParamType::kComposite:  // through sp_composite(param, t1, s1): the first code
      return 2;
    case SearchParamType::kDate:
    case SearchParamType::kNumber:
    case SearchParamType::kQuantity:
      return 1;
    default:
      return 0;
  }
}

const SearchClause* PatientWalkClause(const SearchQuery& q) {
  if (q.type != "Patient" || q.clauses.size() != 1 || !q.sort.empty() || q.since_us ||
      !q.compartment_type.empty()) {
    return nullptr;
  }
  const SearchClause& c = q.clauses[0];
  if (c.link != ClauseLink::kHas || c.param != "patient" || c.linked.size() != 1) {
    return nullptr;
  }
  const SearchClause& alt = c.linked[0];
  const bool codes =
      !alt.values.empty() && std::all_of(alt.values.begin(), alt.values.end(),
                                         [](const SearchValue& v) { return !v.code.empty(); });
  return alt.link == ClauseLink::kNone && alt.type == SearchParamType::kToken &&
                 alt.modifier.empty() && codes && HasR4PatientParam(alt.target_type)
             ? &alt
             : nullptr;
}

namespace {

class Compiler {
 public:
  Compiler(int64_t now_us, ArgList& args) : now_us_(now_us), a_(args) {}

  // " = ?k" or " IN (?k1, ...)": the keys of `param` over the scope's types.
  StatusOr<std::string> KeySql(const Scope& s, const std::string& param) {
    if (!s.type.empty()) {
      return internal::ParamKeysSql(s.type, param, a_);  // a union parameter: its parts' keys
    }
    std::vector<std::string_view> types(s.types.begin(), s.types.end());
    if (types.empty()) {
      types.assign(fhir::ResourceTypes().begin(), fhir::ResourceTypes().end());
    }
    std::string base = param.substr(0, param.find(':'));
    std::string out = " IN (";
    bool any = false;
    for (std::string_view t : types) {
      if (fhir::FindSearchParam(t, base) == nullptr) {
        return InvalidError("search parameter " + base + " is not defined for " + std::string(t));
      }
      out += (any ? ", " : "") + internal::ParamKeyList(t, param, a_);
      any = true;
    }
    return out + ")";
  }

  int Rank(const SearchClause& c) const { return DriverRank(c); }

  // "(pred1 OR pred2 ...)" over the index row alias t.
  StatusOr<std::string> ValuesDisjunction(const SearchClause& c) {
    SearchClause as = c;
    IndexTarget target = TargetOf(c);
    as.type = target.type;
    if (c.modifier == "identifier" || c.modifier == "of-type") {
      as.modifier.clear();
    }
    std::string out = "(";
    for (size_t i = 0; i < c.values.size(); ++i) {
      ASSIGN_OR_RETURN(std::string pred, internal::ValuePredicate(as, c.values[i], now_us_, a_));
      out += (i ? " OR " : "") + pred;
    }
    return out + ")";
  }

  StatusOr<std::string> ResourceColumnClause(const SearchClause& c) {
    if (c.modifier == "missing") {  // every resource has an id and a lastUpdated
      return std::string(!c.values.empty() && c.values[0].raw == "true" ? "0 = 1" : "1 = 1");
    }
    if (!c.modifier.empty() && !(c.modifier == "not" && c.param == "_id")) {
      return InvalidError("modifier :" + c.modifier + " is not supported for " + c.param);
    }
    std::string out = c.modifier == "not" ? "NOT (" : "(";
    for (size_t i = 0; i < c.values.size(); ++i) {
      out += i ? " OR " : "";
      if (c.param == "_id") {
        out += "r.id = " + a_.Arg(c.values[i].raw);
      } else {
        out +=
            internal::DatePredicate("r.last_updated", "r.last_updated", c.values[i], now_us_, a_);
      }
    }
    return out + ")";
  }

  // "SELECT r.<column> FROM ... WHERE ..." for one linked alternative (its own type).
  StatusOr<std::string> LinkedSelect(const SearchClause& alt, const char* column) {
    Scope inner{alt.target_type, {}};
    std::vector<const SearchClause*> clauses{&alt};
    ASSIGN_OR_RETURN(std::string fw, FromWhere(inner, clauses, nullptr));
    std::string col = std::string("r.") + column;
    if (col == "r.pk") {
      col = KeyColumns(a_.dialect(), col, "r");
    }
    return "SELECT " + col + fw;
  }

  // The ids of a chain's matching targets of one type. Where the type is one that
  // resource_key_id (pk, type, id) holds (SQLite migration 9, decisions D92) and the linked
  // clause is a plain condition on index rows, each key the rows give is one seek in that
  // small index, where reading the row itself — a page holding the JSON, one cold page per
  // target in a 44 GB file — was most of the chain's time at 10 k patients (D85). The index
  // rows exist only for current resources (the writer deletes them with the resource), so
  // `deleted` needs no test; the type is a literal, as the partial index's condition needs
  // (a bound value does not imply it), and it comes from the fixed list, never from input.
  StatusOr<std::string> ChainTargetIds(const SearchClause& alt) {
    if (!a_.dialect().CoLocationColumn().empty() || alt.link != ClauseLink::kNone ||
        Rank(alt) == 0 || !internal::KeyIdIndexed(alt.target_type)) {
      return LinkedSelect(alt, "id");
    }
    const Scope inner{alt.target_type, {}};
    ASSIGN_OR_RETURN(std::string keys, DriverKeys(inner, alt));
    return "SELECT r.id FROM resource r INDEXED BY resource_key_id WHERE r.pk IN (" + keys +
           ") AND r.type = '" + alt.target_type + "'";
  }

  // Whether `Patient?_has:T:patient:<token clause>` reads the patients from the token rows'
  // patient column (decisions D60, token_patient.h): T has R4's `patient` parameter and the
  // linked clause is a plain condition on token rows. Both backends (PostgreSQL since its
  // migration 9 filled the rows written before the column existed, decisions D68).
  bool PatientsFromTokenRows(const std::string& type, const SearchClause& c) const {
    const SearchClause& alt = c.linked.at(0);
    return type == "Patient" && c.param == "patient" && alt.link == ClauseLink::kNone &&
           Rank(alt) > 0 && std::string_view(TargetOf(alt).table) == "sp_token" &&
           HasR4PatientParam(alt.target_type);
  }

  // The Patient ids of `Patient?_has:T:patient:<alt>`: the patient column of the matching token
  // rows where the writer set it (the resource refers to one Patient), and the `patient`
  // reference rows of the matching resources where it is '' (none or several), so the answer
  // is the reference rows' answer. One range of the code's index entries, where reading each
  // matching resource's reference row costs a seek (11,000 for a lab code at 1 k patients).
  StatusOr<std::string> HasPatientIds(const SearchClause& alt) {
    const Scope linked{alt.target_type, {}};
    const IndexTarget target = TargetOf(alt);
    auto token_rows = [&](const std::string& columns,
                          const char* patient) -> StatusOr<std::string> {
      ASSIGN_OR_RETURN(std::string key, KeySql(linked, target.param));
      ASSIGN_OR_RETURN(std::string preds, ValuesDisjunction(alt));
      return "SELECT " + columns + " FROM sp_token t WHERE t.param" + key + " AND " + preds +
             " AND t.patient " + patient;
    };
    ASSIGN_OR_RETURN(std::string set, token_rows("t.patient", "<> ''"));
    // The '' rows' resources by key ((res, compartment_key) on the co-located schema).
    ASSIGN_OR_RETURN(std::string unset, token_rows(KeyColumns(a_.dialect(), "t.res", "t"), "= ''"));
    return set + " UNION ALL SELECT t.target_id FROM sp_reference t WHERE t.param = " +
           a_.Arg(ParamKey(alt.target_type, "patient")) +
           " AND t.target_type = " + a_.Arg(std::string("Patient")) + " AND " +
           KeyTuple(a_.dialect(), "t.res", "t") + " IN (" + unset + ")";
  }

  // The keys of the current Patients among `ids` (a subquery of Patient ids), from the partial
  // index resource_current_patient (id, type, deleted) WHERE type = 'Patient' AND deleted = 0
  // (SQLite migration 7, PostgreSQL migration 10; decisions D74) alone: the ids a `_has` driver
  // collects include deleted Patients (their Observations keep their token rows), and testing
  // `deleted` on each Patient's row read a table page per match (561 for a lab code at 1 k
  // patients). The type and flag are literals, not arguments: a partial index serves a
  // statement only where the statement's own text implies the index's condition. The answer
  // does not depend on the index: without it the same text reads the rows.
  std::string CurrentPatientKeys(const std::string& ids) const {
    return "SELECT " + KeyColumns(a_.dialect(), "r.pk", "r") +
           " FROM resource r WHERE r.type = 'Patient' AND r.deleted = 0 AND r.id IN (" + ids + ")";
  }

  // _has: "r.id IN (SELECT t.target_id ...)" for a resource of scope type `type`.
  StatusOr<std::string> HasTargetIds(const std::string& type, const SearchClause& c) {
    const SearchClause& alt = c.linked.at(0);
    std::string inner;
    if (PatientsFromTokenRows(type, c)) {
      return HasPatientIds(alt);
    }
    if (alt.link == ClauseLink::kNone && Rank(alt) > 0) {
      // The referring resources' keys straight from their index: index rows exist only for
      // current, non-deleted resources, and the parameter key names the type, so the resource
      // rows need not be read (thousands of Observations for a common code).
      ASSIGN_OR_RETURN(inner, DriverKeys(Scope{alt.target_type, {}}, alt));
    } else {
      ASSIGN_OR_RETURN(inner, LinkedSelect(alt, "pk"));
    }
    std::string key = a_.Arg(ParamKey(alt.target_type, c.param));
    return "SELECT t.target_id FROM sp_reference t WHERE t.param = " + key +
           " AND t.target_type = " + a_.Arg(type) + " AND " + KeyTuple(a_.dialect(), "t.res", "t") +
           " IN (" + inner + ")";
  }

  // A correlated condition on r for clause c.
  StatusOr<std::string> Condition(const Scope& s, const SearchClause& c) {
    if (c.link == ClauseLink::kHas) {
      if (s.type.empty()) {
        return InvalidError("_has needs a resource type");
      }
      ASSIGN_OR_RETURN(std::string ids, HasTargetIds(s.type, c));
      return "r.id IN (" + ids + ")";
    }
    if (c.link == ClauseLink::kChain) {
      ASSIGN_OR_RETURN(std::string key, KeySql(s, c.param));
      const SqlDialect& d = a_.dialect();
      std::string alts;
      for (const SearchClause& alt : c.linked) {
        ASSIGN_OR_RETURN(std::string inner, LinkedSelect(alt, "id"));
        alts += (alts.empty() ? "(" : " OR (") + d.ProbeColumn("t.target_type") + " = " +
                a_.Arg(alt.target_type) + " AND " + d.ProbeColumn("t.target_id") + " IN (" + inner +
                "))";
      }
      return "EXISTS (SELECT 1 FROM sp_reference t WHERE t.res = r.pk" + SameShard(d, "t", "r") +
             " AND t.param" + key + " AND (" + alts + "))";
    }
    if (IsResourceColumnParam(c.param)) {
      return ResourceColumnClause(c);
    }
    IndexTarget target = TargetOf(c);
    if (target.table == nullptr) {
      return InvalidError("search parameter " + c.param +
                          " (composite or special) is not supported yet");
    }
    ASSIGN_OR_RETURN(std::string key, KeySql(s, target.param));
    std::string same_shard = SameShard(a_.dialect(), "t", "r");
    std::string probe = std::string("SELECT 1 FROM ") + target.table + " t WHERE t.res = r.pk" +
                        same_shard + " AND t.param" + key;
    if (c.modifier == "missing") {
      bool missing = !c.values.empty() && c.values[0].raw == "true";
      std::string exists = "EXISTS (" + probe + ")";
      if (c.type == SearchParamType::kReference) {
        // A Reference with only an identifier has a value (its :identifier matches it); the
        // extractor writes that identifier as a token row under the same parameter.
        exists = "(" + exists + " OR EXISTS (SELECT 1 FROM sp_token t WHERE t.res = r.pk" +
                 same_shard + " AND t.param" + key + "))";
      }
      return missing ? "NOT " + exists : exists;
    }
    ASSIGN_OR_RETURN(std::string preds, ValuesDisjunction(c));
    return (c.modifier == "not" ? "NOT EXISTS (" : "EXISTS (") + probe + " AND " +
           AsProbe(preds, a_.dialect()) + ")";
  }

  // A subquery of the keys (column pk) of the resources satisfying c, through an index.
  StatusOr<std::string> DriverKeys(const Scope& s, const SearchClause& c) {
    if (c.link == ClauseLink::kHas) {
      ASSIGN_OR_RETURN(std::string ids, HasTargetIds(s.type, c));
      if (PatientsFromTokenRows(s.type, c)) {
        return CurrentPatientKeys(ids);
      }
      return "SELECT " + KeyColumns(a_.dialect(), "r.pk", "r") +
             " FROM resource r WHERE r.type = " + a_.Arg(s.type) + " AND r.id IN (" + ids + ")";
    }
    if (c.link == ClauseLink::kChain) {
      std::string out;
      for (const SearchClause& alt : c.linked) {
        ASSIGN_OR_RETURN(std::string key, KeySql(s, c.param));
        ASSIGN_OR_RETURN(std::string inner, ChainTargetIds(alt));
        out += (out.empty() ? "" : " UNION ALL ") + std::string("SELECT ") +
               KeyColumns(a_.dialect(), "t.res", "t") + " FROM sp_reference t WHERE t.param" + key +
               " AND t.target_type = " + a_.Arg(alt.target_type) + " AND t.target_id IN (" + inner +
               ")";
      }
      return out;
    }
    ASSIGN_OR_RETURN(std::string rows, IndexRowsFromWhere(s, c));
    return "SELECT " + KeyColumns(a_.dialect(), "t.res", "t") + rows;
  }

  // " FROM sp_x t WHERE t.param ... AND (<values>)": the index rows of a plain clause (a date's
  // may be " FROM (<compound>) t" of their keys: internal::DateIndexRows).
  StatusOr<std::string> IndexRowsFromWhere(const Scope& s, const SearchClause& c) {
    IndexTarget target = TargetOf(c);
    if (c.type == SearchParamType::kDate && c.modifier.empty()) {
      return internal::DateIndexRows(c, now_us_, a_, [&] { return KeySql(s, target.param); });
    }
    ASSIGN_OR_RETURN(std::string key, KeySql(s, target.param));
    ASSIGN_OR_RETURN(std::string preds, ValuesDisjunction(c));
    return std::string(" FROM ") + target.table + " t WHERE t.param" + key + " AND " + preds;
  }

  // The compartment's members: resources referring to the owner through a compartment
  // parameter of their type (plus the owner itself when asked). `as_table`: a key listing from
  // index rows alone (CompartmentKeysOnly): columns named pk, each member once (UNION), the
  // owner only when not deleted, and a listing of every type leaves out AuditEvent's parameters
  // instead of checking r.type (parameter keys are per type).
  StatusOr<std::string> CompartmentKeys(const Scope& s, const SearchQuery& q,
                                        bool as_table = false) {
    if (q.compartment_type != "Patient") {
      return InvalidError("only the Patient compartment is supported, not " + q.compartment_type);
    }
    std::vector<std::string_view> types;
    if (!s.type.empty()) {
      types.push_back(s.type);
    } else if (!s.types.empty()) {
      types.assign(s.types.begin(), s.types.end());
    } else {
      types.assign(fhir::ResourceTypes().begin(), fhir::ResourceTypes().end());
    }
    const bool every_type = s.type.empty() && s.types.empty();
    std::string keys;
    for (std::string_view t : types) {
      if (as_table && every_type && t == "AuditEvent") {
        continue;  // what "r.type <> 'AuditEvent'" leaves out of every-type listings (D21)
      }
      for (std::string_view p : fhir::PatientCompartmentParams(t)) {
        keys += (keys.empty() ? "" : ", ") + a_.Arg(ParamKey(t, p));
      }
    }
    std::string out;
    if (!keys.empty()) {
      out = "SELECT " +
            // DISTINCT: a Coverage naming the patient as beneficiary and subscriber is one member
            (as_table ? std::string("DISTINCT t.res AS pk")
                      : KeyColumns(a_.dialect(), "t.res", "t")) +
            " FROM sp_reference t WHERE t.param IN (" + keys +
            ") AND t.target_id = " + a_.Arg(q.compartment_id) +
            " AND t.target_type = " + a_.Arg(q.compartment_type);
    }
    bool owner_in_scope = std::find(types.begin(), types.end(), q.compartment_type) != types.end();
    if (q.include_owner && owner_in_scope) {
      out += (out.empty() ? ""
              : as_table  ? " UNION "
                          : " UNION ALL ") +
             std::string("SELECT ") +
             (as_table ? std::string("o.pk AS pk") : KeyColumns(a_.dialect(), "o.pk", "o")) +
             " FROM resource o WHERE o.type = " + a_.Arg(q.compartment_type) +
             " AND o.id = " + a_.Arg(q.compartment_id) + (as_table ? " AND o.deleted = 0" : "");
    }
    if (out.empty()) {
      return InvalidError("no resource of the types searched belongs to a " + q.compartment_type +
                          " compartment");
    }
    return out;
  }

  // Whether `c` is R4's `patient` reference naming one Patient by id (patient=P,
  // patient=Patient/P, patient:Patient=P), in a type search of a type with that parameter.
  static bool NamesOnePatient(const Scope& s, const SearchClause& c) {
    if (s.type.empty() || c.link != ClauseLink::kNone || c.param != "patient" ||
        c.type != SearchParamType::kReference || c.values.size() != 1 ||
        !(c.modifier.empty() || c.modifier == "Patient") || !HasR4PatientParam(s.type)) {
      return false;
    }
    const SearchValue& v = c.values[0];
    return !v.ref_id.empty() && (v.ref_type.empty() || v.ref_type == "Patient") &&
           v.raw.find("://") == std::string::npos;
  }

  // With a `patient` driver naming one Patient, the clause (its index) of a plain token
  // condition whose every value names a code, which then drives instead through
  // sp_token_patient (param, patient, code, sys): the patient's rows of the code (decisions
  // D87). -1 otherwise.
  int PatientTokenClause(const Scope& s, const std::vector<const SearchClause*>& clauses,
                         int driver) const {
    if (driver < 0 || !NamesOnePatient(s, *clauses[driver])) {
      return -1;
    }
    for (size_t i = 0; i < clauses.size(); ++i) {
      const SearchClause& c = *clauses[i];
      bool codes =
          !c.values.empty() && std::all_of(c.values.begin(), c.values.end(),
                                           [](const SearchValue& v) { return !v.code.empty(); });
      if (c.link == ClauseLink::kNone && c.type == SearchParamType::kToken && c.modifier.empty() &&
          codes && Rank(c) > 0) {
        return static_cast<int>(i);
      }
    }
    return -1;
  }

  // The keys of the resources of token clause `c` whose patient column is the Patient of the
  // `patient` clause `p` — and those of the rows without one patient (''), whose references the
  // `patient` clause, kept as a probe, decides (D60's rule): two ranges of sp_token_patient
  // (param, patient, code, sys) where the patient's reference rows would each be probed for
  // the code (1,400-2,000 Observations for the largest records, decisions D77).
  StatusOr<std::string> PatientTokenKeys(const Scope& s, const SearchClause& c,
                                         const SearchClause& p) {
    std::string arms;
    for (bool one_patient : {true, false}) {
      ASSIGN_OR_RETURN(std::string key, KeySql(s, c.param));
      ASSIGN_OR_RETURN(std::string preds, ValuesDisjunction(c));
      arms += (one_patient ? "SELECT " : " UNION ALL SELECT ") +
              KeyColumns(a_.dialect(), "t.res", "t") + " FROM sp_token t WHERE t.param" + key +
              " AND t.patient = " + (one_patient ? a_.Arg(p.values[0].ref_id) : "''") + " AND " +
              preds;
    }
    return arms;
  }

  // A driver whose index rows come out unique per resource and in key order: a token clause
  // with one fully qualified system|code, or a code whose rows all carry one system (the store
  // found it, SearchValue::sole_system_key: decisions D83), in a type search.
  static bool StreamsInKeyOrder(const Scope& s, const SearchClause& c) {
    return !s.type.empty() && c.link == ClauseLink::kNone && c.type == SearchParamType::kToken &&
           c.modifier.empty() && c.values.size() == 1 &&
           ((c.values[0].has_system && !c.values[0].system.empty()) ||
            (!c.values[0].has_system && c.values[0].sole_system_key)) &&
           !c.values[0].code.empty() && internal::StoredUnderOwnKey(s.type, c.param);
  }

  // Whether a key listing (decisions D75) or a capped count (D82) walks the chain `c`: a type
  // search whose driver is a chain to one target type through one parameter key, on the schema
  // without co-location.
  bool WalksChain(const Scope& s, const SearchClause& c, const SearchQuery* q) const {
    return (listing_ || counts_to_cap_) && q != nullptr && !s.type.empty() &&
           q->compartment_type.empty() && !q->since_us && a_.dialect().CoLocationColumn().empty() &&
           c.link == ClauseLink::kChain && c.linked.size() == 1 &&
           internal::StoredUnderOwnKey(s.type, c.param);
  }

  // A chain's key listing in the order (target id, key) instead of the key set of every
  // resource referring to any matching target, which SQLite builds in full before the first
  // row (every Observation of every Patient of a name: 10,250 keys at 1 k patients, ten times
  // that at 10 k, for a first page of 20 and a capped total): the targets' ids come
  // out of their IN list in order, and each one's references out of
  // sp_reference_value (param, target_id, target_type) in key order, so the listing stops
  // after its LIMIT. A resource referring to several matching targets is listed at the
  // smallest one only. The cursor is (target id, key): the page token carries the id
  // (PageByKeys), and a later page starts at that target, past the key. Sets `where`, the
  // statement's WHERE over `FROM sp_reference d CROSS JOIN resource r`.
  Status ChainWalk(const Scope& s, const SearchClause& c, const SearchQuery& q,
                   std::string& where) {
    const SearchClause& alt = c.linked.at(0);
    // A count walks from the first target whatever page asked for it.
    const std::optional<PageCursor> after = listing_ ? q.after : std::nullopt;
    std::string after_target;
    if (after) {
      if (after->values.size() != 1 || !after->values[0].starts_with("s")) {
        return InvalidError("the _page token does not fit this search", "_page");
      }
      after_target = after->values[0].substr(1);
    }
    ASSIGN_OR_RETURN(std::string ids, ChainTargetIds(alt));
    if (after) {  // targets before the cursor's are done
      ids += " AND r.id >= " + a_.Arg(after_target);
    }
    where = " WHERE d.param = " + a_.Arg(ParamKey(s.type, c.param)) +
            " AND d.target_type = " + a_.Arg(alt.target_type) + " AND d.target_id IN (" + ids + ")";
    if (after) {  // of the cursor's target, the keys after the cursor's (a filter: "+")
      where +=
          " AND (+d.target_id > " + a_.Arg(after_target) + " OR d.res > " + a_.Arg(after->pk) + ")";
    }
    // Every matching target, those before the cursor's included: a resource listed at one of
    // them on an earlier page is not listed again.
    ASSIGN_OR_RETURN(std::string every, ChainTargetIds(alt));
    where +=
        " AND NOT EXISTS (SELECT 1 FROM sp_reference e WHERE e.res = d.res AND e.param = "
        "d.param AND e.target_type = d.target_type AND e.target_id < d.target_id AND "
        "e.target_id IN (" +
        every + ")) AND r.pk = d.res";
    walk_column_ = "d.target_id";
    order_key_ = "d.target_id, d.res";
    return Status::Ok();
  }

  // Whether `Patient?_has:T:patient:<codes>`'s key listing walks the current Patients
  // (PatientWalk): the store estimated it cheaper (SearchQuery::walk_has_patients), on the
  // schema without co-location (PostgreSQL keeps the set, planned with its statistics).
  bool WalksPatients(const Scope& s, const SearchQuery* q) const {
    return listing_ && q != nullptr && q->walk_has_patients && s.type == "Patient" &&
           a_.dialect().CoLocationColumn().empty() && PatientWalkClause(*q) != nullptr;
  }

  // `Patient?_has:T:patient:<codes>`'s key listing in Patient id order (decisions D88): the
  // current Patients come out of resource_current_patient (id, type, deleted) in id order, and
  // each is probed for a token row of the codes carrying its id, one seek in sp_token_patient
  // (param, patient, code, sys), plus the Patients that the codes' rows without one patient
  // ('') refer to (D60's rule, a small set built once). The listing stops after its LIMIT, so
  // its work follows the page (and the total's cap) where the set read every token row of the
  // codes (106,907 for a lab code at 10 k patients). The cursor is the id: the page token
  // carries it, and a later page starts after it. Sets `where`, the statement's WHERE over
  // `FROM resource r`.
  Status PatientWalk(const SearchQuery& q, std::string& where) {
    const SearchClause& alt = *PatientWalkClause(q);
    const Scope linked{alt.target_type, {}};
    std::string after;
    if (q.after) {
      if (q.after->values.size() != 1 || !q.after->values[0].starts_with("s")) {
        return InvalidError("the _page token does not fit this search", "_page");
      }
      after = q.after->values[0].substr(1);
    }
    ASSIGN_OR_RETURN(std::string key, KeySql(linked, alt.param));
    ASSIGN_OR_RETURN(std::string preds, ValuesDisjunction(alt));
    ASSIGN_OR_RETURN(std::string unset_key, KeySql(linked, alt.param));
    ASSIGN_OR_RETURN(std::string unset_preds, ValuesDisjunction(alt));
    where =
        " WHERE r.type = 'Patient' AND r.deleted = 0 AND (EXISTS (SELECT 1 FROM sp_token t "
        "WHERE t.param" +
        key + " AND t.patient = r.id AND " + preds +
        ") OR r.id IN (SELECT t.target_id FROM sp_reference t WHERE t.param = " +
        a_.Arg(ParamKey(alt.target_type, "patient")) +
        " AND t.target_type = " + a_.Arg(std::string("Patient")) +
        " AND t.res IN (SELECT t.res FROM sp_token t WHERE t.param" + unset_key +
        " AND t.patient = '' AND " + unset_preds + ")))";
    if (q.after) {
      where += " AND r.id > " + a_.Arg(after);
    }
    walk_column_ = "r.id";
    order_key_ = "r.id";
    return Status::Ok();
  }

  // The column of a listing walked in another order than the keys' (ChainWalk, PatientWalk),
  // whose value the next cursor carries (its cursor is part of its WHERE already); "" for a
  // listing in key order.
  const std::string& walk_column() const { return walk_column_; }

  // Asks FromWhere for a key listing (kKeys), which a chain driver may walk (ChainWalk).
  void set_listing(bool on) { listing_ = on; }

  // Asks FromWhere for a count that stops at a cap, which may walk a chain driver too
  // (ChainWalk, from its first target: a count has no order and no cursor).
  void set_counts_to_cap(bool on) { counts_to_cap_ = on; }

  // The expression the default order walks: r.pk, or the streaming driver's d.res (equal to
  // it, but only the index column lets SQLite skip the sorter and seek past a keyset cursor).
  const std::string& order_key() const { return order_key_; }

  // Asks FromWhere for a statement that reads only keys (a key listing or a count): where the
  // matches' keys come from index rows, it then leaves the resource table's rows unread.
  void set_keys_only(bool on) { keys_only_ = on; }

  // Whether a non-driving clause reads the resource row itself (r.id, r.last_updated).
  static bool ReadsResourceRow(const SearchClause& c) {
    return c.link == ClauseLink::kHas || IsResourceColumnParam(c.param);
  }

  // A key listing or count that can skip the resource rows (decisions D49): its driver's keys
  // come from index rows, which exist only for current, non-deleted resources (the writer
  // deletes a resource's rows with it), so "r.deleted = 0" holds already, and the type is
  // checked on resource(type) (migration 4, entries (type, pk)) as "type = ? AND rowid = ?"
  // — a seek in a small index instead of a read of the row, whose page holds the JSON body.
  // Not for _has drivers (their keys come from the target's (type, id), which a deleted
  // resource keeps) other than the Patients of token rows, whose driver keeps only the current
  // ones (CurrentPatientKeys), compartments (the owner arm reads resource too), system searches, or
  // the co-located (PostgreSQL) schema, which keeps the plain form.
  bool KeysFromIndexOnly(const Scope& s, const std::vector<const SearchClause*>& clauses,
                         int driver, const SearchQuery* q) const {
    if (!keys_only_ || q == nullptr || driver < 0 || s.type.empty() || q->since_us ||
        !q->compartment_type.empty() || !a_.dialect().CoLocationColumn().empty()) {
      return false;
    }
    if (clauses[driver]->link == ClauseLink::kHas &&
        !PatientsFromTokenRows(s.type, *clauses[driver])) {
      return false;  // keys of (type, id)s, found whether deleted or not
    }
    for (size_t i = 0; i < clauses.size(); ++i) {
      if (static_cast<int>(i) != driver && ReadsResourceRow(*clauses[i])) {
        return false;
      }
    }
    return true;
  }

  // A compartment's key listing or count with no other condition (the first page of
  // Patient/x/$everything and Patient/x/*, decisions D50): the members' keys come from their
  // index rows, which exist only for current, non-deleted resources, and from the owner's
  // (type, id), so the resource rows — whose pages hold the JSON bodies, 2,000 seeks for a
  // large record — are not read; the page's bodies are read by key afterwards. Not with
  // _since (r.last_updated) or on the co-located (PostgreSQL) schema.
  bool CompartmentKeysOnly(const std::vector<const SearchClause*>& clauses,
                           const SearchQuery* q) const {
    return keys_only_ && q != nullptr && !q->compartment_type.empty() && clauses.empty() &&
           !q->since_us && a_.dialect().CoLocationColumn().empty();
  }

  // The matches' keys straight from the one clause's index rows, "SELECT DISTINCT t.res FROM
  // sp_x t WHERE ...", for a count (decisions D76): it stops after the cap's rows, where
  // "r.pk IN (<keys>)" would first collect every key (the 60,000 tuples of a low threshold on a
  // common code) and seek each in resource(type). Only where KeysFromIndexOnly holds for a lone
  // driver (index rows exist only for current resources, and the parameter key names the type,
  // D49); a one-code join already streams (D42). Empty otherwise.
  StatusOr<std::string> CountedIndexRows(const Scope& s,
                                         const std::vector<const SearchClause*>& clauses,
                                         const SearchQuery& q) {
    if (clauses.size() != 1 || clauses[0]->link != ClauseLink::kNone || Rank(*clauses[0]) == 0 ||
        StreamsInKeyOrder(s, *clauses[0]) || !KeysFromIndexOnly(s, clauses, 0, &q)) {
      return std::string();
    }
    ASSIGN_OR_RETURN(std::string rows, IndexRowsFromWhere(s, *clauses[0]));
    // "+" keeps the key from naming an index column: bare, SQLite serves the DISTINCT from
    // sp_reference_source (param, res), already in res order, and walks every row of the
    // parameter (1 s for `Observation?patient=X&_total=accurate` at 1 k patients) instead of
    // the clause's value index with a small temporary B-tree. (KeysFromIndexOnly holds, so the
    // schema has no co-location column to select beside the key.)
    return "SELECT DISTINCT +t.res" + rows;
  }

  // FROM and WHERE over alias r; `q` adds the query-level conditions (top level only).
  StatusOr<std::string> FromWhere(const Scope& s, const std::vector<const SearchClause*>& clauses,
                                  const SearchQuery* q) {
    if (CompartmentKeysOnly(clauses, q)) {
      ASSIGN_OR_RETURN(std::string keys, CompartmentKeys(s, *q, /*as_table=*/true));
      return " FROM (" + keys + ") r WHERE 1 = 1";  // callers append " AND ..." conditions
    }
    int driver = -1, best = 0;
    bool compartment = q != nullptr && !q->compartment_type.empty();
    if (!compartment) {
      for (size_t i = 0; i < clauses.size(); ++i) {
        int rank = Rank(*clauses[i]);
        if (rank > best) {
          best = rank;
          driver = static_cast<int>(i);
        }
      }
      if (q != nullptr && !q->driver_param.empty()) {  // the store's estimate (D110)
        for (size_t i = 0; i < clauses.size(); ++i) {
          if (clauses[i]->param == q->driver_param && clauses[i]->link == ClauseLink::kNone &&
              clauses[i]->type == SearchParamType::kDate && Rank(*clauses[i]) > 0) {
            driver = static_cast<int>(i);
            break;
          }
        }
      }
    }
    // A key listing or count from index rows alone leaves out "r.deleted = 0" (see
    // KeysFromIndexOnly); its driver's key set or join always adds a first condition.
    const bool index_only = KeysFromIndexOnly(s, clauses, driver, q);
    std::string from = " FROM resource r", where = index_only ? "" : " WHERE r.deleted = 0";
    // The driver's keys as a set (r.pk IN (...)), not a join: a resource matching through
    // several index rows (Coverage referring to its patient as beneficiary, subscriber and
    // policy-holder) is one match, and the rows come out in key order, so the default sort
    // needs no sorter and a page stops after count + 1 rows. With a driver, r.type is written
    // as a probe column so that SQLite walks the key set rather than resource(type, ...) —
    // except from index rows alone, where the seek in resource(type) is the point.
    bool keyed = compartment || driver >= 0;
    std::string type_col = keyed && !index_only ? a_.dialect().ProbeColumn("r.type") : "r.type";
    if (compartment) {
      ASSIGN_OR_RETURN(std::string keys, CompartmentKeys(s, *q));
      where += " AND " + KeyTuple(a_.dialect(), "r.pk", "r") + " IN (" + keys + ")";
    } else if (driver >= 0 && q != nullptr && StreamsInKeyOrder(s, *clauses[driver])) {
      // One system|code: its index rows (param, code, sys, res) are unique per resource and
      // already in key order, so a join walks them without building the whole key set first
      // (a common LOINC code has tens of thousands of Observations; a page needs count + 1).
      const SearchValue& v = clauses[driver]->values[0];
      const int64_t sys = v.has_system ? SystemKey(v.system) : *v.sole_system_key;
      from = " FROM sp_token d CROSS JOIN resource r";
      where = " WHERE d.param = " + a_.Arg(ParamKey(s.type, clauses[driver]->param)) +
              " AND d.code = " + a_.Arg(v.code) + " AND d.sys = " + a_.Arg(sys) +
              " AND r.pk = d.res" + SameShard(a_.dialect(), "d", "r") +
              (index_only ? "" : " AND r.deleted = 0");
      order_key_ = "d.res";
    } else if (driver >= 0 && WalksPatients(s, q)) {
      from = " FROM resource r INDEXED BY resource_current_patient";
      RETURN_IF_ERROR(PatientWalk(*q, where));
    } else if (driver >= 0 && WalksChain(s, *clauses[driver], q)) {
      // From index rows alone, each key's type is checked in resource(type), named: beside the
      // walk's NOT EXISTS, SQLite would read the row (a page holding the JSON) instead.
      from = std::string(" FROM sp_reference d CROSS JOIN resource r") +
             (index_only ? " INDEXED BY resource_type_pk" : "");
      RETURN_IF_ERROR(ChainWalk(s, *clauses[driver], *q, where));
      where += index_only ? "" : " AND r.deleted = 0";
    } else if (driver >= 0) {
      std::string keys;
      if (int token = PatientTokenClause(s, clauses, driver); token >= 0) {
        ASSIGN_OR_RETURN(keys, PatientTokenKeys(s, *clauses[token], *clauses[driver]));
        driver = token;  // the patient clause is probed below, the token clause is the keys
      } else {
        ASSIGN_OR_RETURN(keys, DriverKeys(s, *clauses[driver]));
      }
      where += (index_only ? " WHERE " : " AND ") + KeyTuple(a_.dialect(), "r.pk", "r") + " IN (" +
               keys + ")";
    }
    if (!s.type.empty()) {
      where += " AND " + type_col + " = " + a_.Arg(s.type);
    } else if (!s.types.empty()) {
      where += " AND " + type_col + " IN (";
      for (size_t i = 0; i < s.types.size(); ++i) {
        where += (i ? ", " : "") + a_.Arg(s.types[i]);
      }
      where += ")";
    } else if (q != nullptr) {
      // A listing of every type (system search, Patient/x/*, $everything, system export) leaves
      // out the audit trail, which each such read would otherwise grow (decisions D21); asking
      // for AuditEvent by type or _type finds it.
      where += " AND " + type_col + " <> " + a_.Arg(std::string("AuditEvent"));
    }
    if (q != nullptr && q->since_us) {
      where += " AND r.last_updated >= " + a_.Arg(*q->since_us);
    }
    for (size_t i = 0; i < clauses.size(); ++i) {
      if (static_cast<int>(i) == driver) {
        continue;
      }
      ASSIGN_OR_RETURN(std::string cond, Condition(s, *clauses[i]));
      where += " AND " + cond;
    }
    return from + where;
  }

  StatusOr<std::string> SortExpression(const Scope& s, const SortKey& k) {
    if (k.param == "_id") {
      return std::string("r.id");
    }
    if (k.param == "_lastUpdated") {
      return std::string("r.last_updated");
    }
    const char* table = internal::IndexTable(k.type);
    if (table == nullptr || s.type.empty()) {
      return InvalidError("cannot sort by " + k.param);
    }
    const char* col = "t.value";
    if (k.type == SearchParamType::kDate) {
      col = k.descending ? "t.high" : "t.low";
    } else if (k.type == SearchParamType::kString) {
      col = "t.normalized";
    } else if (k.type == SearchParamType::kToken) {
      col = "t.code";
    } else if (k.type == SearchParamType::kReference) {
      col = "t.target_id";
    } else if (k.type == SearchParamType::kUri) {
      col = "t.uri";
    }
    return std::string("(SELECT ") + (k.descending ? "MAX(" : "MIN(") + col + ") FROM " + table +
           " t WHERE t.res = r.pk" + SameShard(a_.dialect(), "t", "r") + " AND t.param" +
           internal::ParamKeysSql(s.type, k.param, a_) + ")";
  }

  // The rows after `cursor` in the order (sort keys NULLS LAST, r.pk).
  StatusOr<std::string> Keyset(const Scope& s, const SearchQuery& q) {
    const PageCursor& cur = *q.after;
    std::string tail = order_key_ + " > " + a_.Arg(cur.pk);
    for (size_t i = q.sort.size(); i-- > 0;) {
      const SortKey& k = q.sort[i];
      ASSIGN_OR_RETURN(std::string e1, SortExpression(s, k));
      const std::string& v = cur.values.at(i);
      if (v == "n") {
        tail = "(" + e1 + " IS NULL AND " + tail + ")";
        continue;
      }
      ASSIGN_OR_RETURN(std::string e2, SortExpression(s, k));
      ASSIGN_OR_RETURN(std::string e3, SortExpression(s, k));
      std::string arg;
      if (v.starts_with("i")) {
        int64_t n = 0;
        std::from_chars(v.data() + 1, v.data() + v.size(), n);
        arg = a_.Arg(n);
      } else if (v.starts_with("r")) {
        arg = a_.Arg(std::strtod(v.c_str() + 1, nullptr));
      } else {
        arg = a_.Arg(v.substr(1));
      }
      tail = "((" + e1 + (k.descending ? " < " : " > ") + arg + " OR " + e2 + " IS NULL) OR (" +
             e3 + " = " + arg + " AND " + tail + "))";
    }
    return tail;
  }

 private:
  int64_t now_us_;
  ArgList& a_;
  std::string order_key_ = "r.pk";
  bool keys_only_ = false;
  bool listing_ = false;
  bool counts_to_cap_ = false;
  std::string walk_column_;
};

// A search on a code and a value of the same element, answered from that element's composite
// tuples (decisions D58): `Observation?code=S|C&value-quantity=gtV` holds exactly when one
// code-value-quantity tuple of the Observation has code S|C and a value > V, since that
// composite's expression is the Observation itself and its components are the same elements
// as the two parameters' (Observation.code, Observation.value as Quantity; value-quantity's
// other arm, SampledData, has no value and gives no quantity entry). Its index
// (param, t1, s1, lo2) turns a threshold into a range scan of one code's values, where the
// code's token rows would walk every Observation of the code and probe its quantity.
struct TupleRewrite {
  const char* type;
  const char* token;
  const char* quantity;
  const char* composite;
};
constexpr TupleRewrite kTupleRewrites[] = {
    {"Observation", "code", "value-quantity", "code-value-quantity"}};

// The composite clause replacing a token clause and a quantity clause of `q` (whose pointers
// in `clauses` it removes), or nothing. One value each (several would OR tuples, which no
// index range serves), no modifier, a code to seek. Whether the store has the tuples is the
// caller's business (SearchQuery::composite_tuples_indexed).
std::optional<SearchClause> TupleClauseOf(const SearchQuery& q,
                                          std::vector<const SearchClause*>& clauses) {
  if (q.type.empty()) {
    return std::nullopt;
  }
  for (const TupleRewrite& rw : kTupleRewrites) {
    if (q.type != rw.type) {
      continue;
    }
    auto plain = [](const SearchClause& c, const char* param, SearchParamType type) {
      return c.param == param && c.link == ClauseLink::kNone && c.modifier.empty() &&
             c.type == type && c.values.size() == 1;
    };
    auto token = std::find_if(clauses.begin(), clauses.end(), [&](const SearchClause* c) {
      return plain(*c, rw.token, SearchParamType::kToken) && !c->values[0].code.empty();
    });
    auto quantity = std::find_if(clauses.begin(), clauses.end(), [&](const SearchClause* c) {
      return plain(*c, rw.quantity, SearchParamType::kQuantity);
    });
    const fhir::SearchParamDef* def = fhir::FindSearchParam(rw.type, rw.composite);
    if (token == clauses.end() || quantity == clauses.end() || def == nullptr ||
        def->type != SearchParamType::kComposite) {
      continue;
    }
    SearchClause tuple;
    tuple.param = rw.composite;
    tuple.type = SearchParamType::kComposite;
    tuple.component_types = {SearchParamType::kToken, SearchParamType::kQuantity};
    SearchValue value;
    value.components = {(*token)->values[0], (*quantity)->values[0]};
    value.raw = value.components[0].raw + "$" + value.components[1].raw;
    tuple.values.push_back(std::move(value));
    const SearchClause* remove[] = {*token, *quantity};
    std::erase_if(clauses, [&](const SearchClause* c) { return c == remove[0] || c == remove[1]; });
    return tuple;
  }
  return std::nullopt;
}

std::optional<SearchClause> CompositeTupleClause(const SearchQuery& q,
                                                 std::vector<const SearchClause*>& clauses) {
  return q.composite_tuples_indexed ? TupleClauseOf(q, clauses) : std::nullopt;
}

}  // namespace

const SqlDialect& SqliteDialect() {
  static const SqliteDialectImpl dialect;
  return dialect;
}

std::string EncodeSortValue(const SqlArg* value) {
  if (value == nullptr) {
    return "n";
  }
  if (const int64_t* i = std::get_if<int64_t>(value)) {
    return "i" + std::to_string(*i);
  }
  if (const double* d = std::get_if<double>(value)) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", *d);
    return std::string("r") + buf;
  }
  return "s" + std::get<std::string>(*value);
}

StatusOr<CompiledSql> CompileSearch(const SearchQuery& query, const SqlDialect& dialect,
                                    SearchSqlMode mode, int64_t now_us, int limit) {
  ArgList a(dialect);
  Compiler c(now_us, a);
  Scope scope{query.type, query.types};
  std::vector<const SearchClause*> clauses;
  for (const SearchClause& cl : query.clauses) {
    clauses.push_back(&cl);
  }
  // First, so that it drives unless a reference clause (a patient) does.
  const std::optional<SearchClause> tuple = CompositeTupleClause(query, clauses);
  if (tuple) {
    clauses.insert(clauses.begin(), &*tuple);
  }
  // A sorted page sorts keys and sort values (read from index rows by key) and reads the
  // bodies of its page only, so its key set may come from index rows alone too, unless a sort
  // key is a column of the resource row (decisions D60).
  const bool sorts_on_index_rows =
      mode == SearchSqlMode::kPage && !query.sort.empty() &&
      std::none_of(query.sort.begin(), query.sort.end(),
                   [](const SortKey& k) { return IsResourceColumnParam(k.param); });
  c.set_keys_only(mode == SearchSqlMode::kKeys || mode == SearchSqlMode::kCount ||
                  sorts_on_index_rows);
  c.set_listing(mode == SearchSqlMode::kKeys);
  // A capped count of a chain walks it like the listing and stops after the cap's rows, where
  // the key set of every resource referring to any matching target is built whole first (every
  // Observation of every Patient of a name: ~143,000 keys for `Kim` at 10 k patients). An
  // exact count reads every match either way and keeps the key set.
  c.set_counts_to_cap(mode == SearchSqlMode::kCount &&
                      (query.total_limit > 0 || query.estimate_total));
  std::string index_rows;  // a count from one clause's index rows (CountedIndexRows)
  if (mode == SearchSqlMode::kCount) {
    ASSIGN_OR_RETURN(index_rows, c.CountedIndexRows(scope, clauses, query));
  }
  std::string from_where;
  if (index_rows.empty()) {
    ASSIGN_OR_RETURN(from_where, c.FromWhere(scope, clauses, &query));
  }
  c.set_keys_only(false);
  c.set_listing(false);
  c.set_counts_to_cap(false);
  CompiledSql out;
  switch (mode) {
    case SearchSqlMode::kCount:
      if (!index_rows.empty()) {
        const int64_t limit = query.total_limit > 0  ? query.total_limit
                              : query.estimate_total ? kEstimateLimit
                                                     : 0;
        out.sql = "SELECT COUNT(*) FROM (" + index_rows + ") x";
        if (limit > 0) {  // capped as below: -1 over the cap
          std::string cap = a.Arg(limit);
          out.sql = "SELECT CASE WHEN n > " + cap + " THEN -1 ELSE n END FROM (SELECT COUNT(*) " +
                    "AS n FROM (" + index_rows + " LIMIT " + a.Arg(limit + 1) + ") x) y";
        }
      } else if (query.total_limit > 0 || query.estimate_total) {
        // Counting stops after the limit; over it the total is -1 (not reported), so each
        // backend gets the capped behaviour from the statement alone (decisions D35).
        int64_t limit = query.total_limit > 0 ? query.total_limit : kEstimateLimit;
        std::string cap = a.Arg(limit);
        out.sql = "SELECT CASE WHEN n > " + cap +
                  " THEN -1 ELSE n END FROM (SELECT COUNT(*) AS n " + "FROM (SELECT 1" +
                  from_where + " LIMIT " + a.Arg(limit + 1) + ") x) y";
      } else {
        out.sql = "SELECT COUNT(*)" + from_where;
      }
      break;
    case SearchSqlMode::kIds:
      out.sql = "SELECT r.id" + from_where + " ORDER BY " + c.order_key() + " LIMIT " +
                a.Arg(int64_t{limit});
      break;
    case SearchSqlMode::kKeys:
      if (!query.sort.empty()) {
        return InvalidError("the key listing of a search has no _sort");
      }
      if (!c.walk_column().empty()) {  // its cursor is in its WHERE (ChainWalk, PatientWalk)
        out.sql = "SELECT r.pk, " + c.walk_column() + from_where;
        out.ordered_by_value = true;
      } else if (out.sql = "SELECT r.pk" + from_where; query.after) {
        // a later page: the keys after its cursor
        if (!query.after->values.empty()) {
          return InvalidError("the _page token does not fit this search's _sort", "_page");
        }
        ASSIGN_OR_RETURN(std::string keyset, c.Keyset(scope, query));
        out.sql += " AND " + keyset;
      }
      out.sql += " ORDER BY " + c.order_key();
      if (limit > 0) {
        out.sql += " LIMIT " + a.Arg(int64_t{limit});
      }
      break;
    case SearchSqlMode::kPage: {
      std::string columns =
          "SELECT r.type, r.id, r.version, r.last_updated, r.deleted, r.method, r.body, r.pk";
      std::string keyset;
      if (query.after) {
        if (query.after->values.size() != query.sort.size()) {
          return InvalidError("the _page token does not fit this search's _sort", "_page");
        }
        ASSIGN_OR_RETURN(keyset, c.Keyset(scope, query));
        keyset = " AND " + keyset;
      }
      std::string limit = " LIMIT " + a.Arg(int64_t{query.count} + 1);
      if (!query.after && query.offset > 0) {
        limit += " OFFSET " + a.Arg(query.offset);
      }
      if (query.sort.empty()) {
        out.sql = columns + from_where + keyset + " ORDER BY " + c.order_key() + limit;
        break;
      }
      // Sorted: the page's keys and sort values first, then the bodies of those rows only, so
      // the sorter holds (key, values) rather than every match's JSON.
      std::string keys = "SELECT r.pk AS pk", inner_order = " ORDER BY ", outer_cols, outer_order;
      for (size_t i = 0; i < query.sort.size(); ++i) {
        const SortKey& k = query.sort[i];
        ASSIGN_OR_RETURN(std::string expr, c.SortExpression(scope, k));
        std::string name = "k" + std::to_string(i + 1);
        const char* dir = k.descending ? " DESC NULLS LAST, " : " ASC NULLS LAST, ";
        keys += ", " + expr + " AS " + name;
        inner_order += std::to_string(2 + i) + dir;
        outer_cols += ", s." + name;
        outer_order += "s." + name + dir;
      }
      // The page's keys join their resources again, on the co-location column too (after
      // the sort values, whose positions inner_order names).
      std::string_view col = dialect.CoLocationColumn();
      std::string same_shard;
      if (!col.empty()) {
        keys += ", r." + std::string(col) + " AS ck";
        same_shard = " AND r." + std::string(col) + " = s.ck";
      }
      out.sql = columns + outer_cols + " FROM (" + keys + from_where + keyset + inner_order +
                "r.pk" + limit + ") s CROSS JOIN resource r WHERE r.pk = s.pk" + same_shard +
                " ORDER BY " + outer_order + "s.pk";
      break;
    }
  }
  out.args = std::move(a.args());
  return out;
}

std::optional<SearchClause> CompositeTupleOf(const SearchQuery& query) {
  std::vector<const SearchClause*> clauses;
  for (const SearchClause& cl : query.clauses) {
    clauses.push_back(&cl);
  }
  return TupleClauseOf(query, clauses);
}

bool ReindexFillsPlannedTuples(const std::string& type, const std::string& param) {
  return std::any_of(std::begin(kTupleRewrites), std::end(kTupleRewrites), [&](const auto& rw) {
    return (type.empty() || type == rw.type) && (param.empty() || param == rw.composite);
  });
}

namespace {

// The included resource `x` is the target of reference row `t`, of the spec's target types.
std::string TargetMatch(const IncludeSpec& spec, ArgList& a) {
  std::string sql = " AND x.type = t.target_type AND x.id = t.target_id";
  if (!spec.target_types.empty()) {
    sql += " AND t.target_type IN (";
    for (size_t i = 0; i < spec.target_types.size(); ++i) {
      sql += (i ? ", " : "") + a.Arg(spec.target_types[i]);
    }
    sql += ")";
  }
  return sql;
}

}  // namespace

StatusOr<CompiledSql> CompileIncludes(const std::vector<IncludeSpec>& specs,
                                      const std::vector<int64_t>& source_pks,
                                      const SqlDialect& dialect, int limit) {
  ArgList a(dialect);
  std::string arms;
  for (const IncludeSpec& spec : specs) {
    std::string sources = dialect.IntListSubquery(a.Arg(dialect.IntListArg(source_pks)));
    std::string arm;
    if (!spec.reverse && spec.source_type.empty() && dialect.CoLocationColumn().empty()) {
      // Any source type ($everything's): the sources' reference rows by key alone, without
      // reading their resource rows (whose pages hold the JSON bodies).
      arm =
          "SELECT x.pk FROM sp_reference t CROSS JOIN resource x WHERE t.res IN (" + sources + ")";
      if (spec.param != "*") {
        arm += " AND t.param = " + a.Arg(ParamKey(spec.source_type, spec.param));
      }
      arm += TargetMatch(spec, a);
    } else if (!spec.reverse) {
      arm = "SELECT " + KeyColumns(dialect, "x.pk", "x") +
            " FROM resource s CROSS JOIN sp_reference t CROSS JOIN resource x WHERE s.pk IN (" +
            sources + ") AND t.res = s.pk" + SameShard(dialect, "t", "s");
      if (!spec.source_type.empty()) {
        arm += " AND s.type = " + a.Arg(spec.source_type);
      }
      if (spec.param != "*") {
        arm += " AND t.param = " + a.Arg(ParamKey(spec.source_type, spec.param));
      }
      // The target is found by (type, id), on whichever shard holds it (see SameShard).
      arm += TargetMatch(spec, a);
    } else {
      std::string keys;
      if (spec.param != "*") {
        keys = a.Arg(ParamKey(spec.source_type, spec.param));
      } else {
        for (const fhir::SearchParamDef& p : fhir::SearchParams(spec.source_type)) {
          if (p.type == SearchParamType::kReference) {
            keys += (keys.empty() ? "" : ", ") + a.Arg(ParamKey(spec.source_type, p.code));
          }
        }
        if (keys.empty()) {
          continue;
        }
      }
      arm = "SELECT " + KeyColumns(dialect, "x.pk", "x") +
            " FROM resource m CROSS JOIN sp_reference t CROSS JOIN resource x WHERE m.pk IN (" +
            sources + ") AND t.param IN (" + keys +
            ") AND t.target_id = m.id AND t.target_type = m.type AND x.pk = t.res" +
            SameShard(dialect, "t", "x") + " AND x.type = " + a.Arg(spec.source_type);
      if (!spec.target_types.empty()) {
        arm += " AND m.type IN (";
        for (size_t i = 0; i < spec.target_types.size(); ++i) {
          arm += (i ? ", " : "") + a.Arg(spec.target_types[i]);
        }
        arm += ")";
      }
    }
    arms += (arms.empty() ? "" : " UNION ") + arm;
  }
  if (arms.empty()) {
    return InvalidError("no include applies");
  }
  CompiledSql out;
  out.sql =
      "SELECT r.type, r.id, r.version, r.last_updated, r.deleted, r.method, r.body, r.pk, "
      "r.patient_id FROM resource r WHERE r.deleted = 0 AND " +
      KeyTuple(dialect, "r.pk", "r") + " IN (" + arms + ") ORDER BY r.pk LIMIT " +
      a.Arg(int64_t{limit});
  out.args = std::move(a.args());
  return out;
}

}  // namespace carechart::store
