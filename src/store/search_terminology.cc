// ExpandTerminologyModifiers (see search_terminology.h).
//
// An expansion is a set of (system, code) pairs plus "whole systems" (any code of a system whose
// CodeSystem is not stored, from a ValueSet including a system without concepts). It becomes a
// plain token OR-list, so the compiled search stays one statement over the token index.
#include "store/search_terminology.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "fhir/json.h"

namespace carechart::store {
namespace {

using fhir::SearchParamType;
using Code = std::pair<std::string, std::string>;  // system, code

constexpr int kMaxValueSetDepth = 5;  // ValueSets importing ValueSets

struct CodeSet {
  std::set<Code> codes;
  std::set<std::string> whole_systems;

  size_t size() const { return codes.size() + whole_systems.size(); }
  bool Has(const Code& c) const { return codes.count(c) || whole_systems.count(c.first); }
  void Add(const CodeSet& o) {
    codes.insert(o.codes.begin(), o.codes.end());
    whole_systems.insert(o.whole_systems.begin(), o.whole_systems.end());
  }
  // Codes in both (a whole system meets the other's codes of that system).
  CodeSet Intersect(const CodeSet& o) const {
    CodeSet out;
    for (const Code& c : codes) {
      if (o.Has(c)) {
        out.codes.insert(c);
      }
    }
    for (const Code& c : o.codes) {
      if (Has(c)) {
        out.codes.insert(c);
      }
    }
    for (const std::string& s : whole_systems) {
      if (o.whole_systems.count(s)) {
        out.whole_systems.insert(s);
      }
    }
    return out;
  }
};

Status Bad(const std::string& param, const std::string& why) {
  return InvalidError("search parameter '" + param + "': " + why, param);
}

// The newest stored resource of `type` with this canonical url ("url" or "url|version").
StatusOr<std::optional<json::Value>> FetchCanonical(ResourceStore& store, const std::string& type,
                                                    std::string_view canonical) {
  const size_t bar = canonical.find('|');
  SearchQuery q;
  q.type = type;
  q.count = 1;
  q.want_total = false;
  q.sort.push_back(SortKey{"_lastUpdated", true, SearchParamType::kDate});
  SearchClause url;
  url.param = "url";
  url.type = SearchParamType::kUri;
  SearchValue v;
  v.raw = std::string(canonical.substr(0, bar));
  url.values.push_back(v);
  q.clauses.push_back(std::move(url));
  if (bar != std::string_view::npos) {
    SearchClause version;
    version.param = "version";
    version.type = SearchParamType::kToken;
    SearchValue vv;
    vv.raw = vv.code = std::string(canonical.substr(bar + 1));
    version.values.push_back(vv);
    q.clauses.push_back(std::move(version));
  }
  ASSIGN_OR_RETURN(SearchResult r, store.Search(q));
  if (r.matches.empty()) {
    return std::optional<json::Value>();
  }
  ASSIGN_OR_RETURN(json::Value body, json::Parse(r.matches[0].body));
  return std::optional<json::Value>(std::move(body));
}

// The concept hierarchy of a CodeSystem: its `concept` nesting.
struct Hierarchy {
  std::string system;
  bool complete = false;                                // content = complete
  std::vector<std::string> codes;                       // every concept, in document order
  std::multimap<std::string, std::string> parent_of;    // child -> parent
  std::multimap<std::string, std::string> children_of;  // parent -> child

  explicit Hierarchy(const json::Value& cs) {
    system = std::string(cs.string_at("url"));
    complete = cs.string_at("content") == "complete";
    Walk(cs.find("concept"), "");
  }
  void Walk(const json::Value* concepts, const std::string& parent) {
    if (concepts == nullptr || !concepts->is_array()) {
      return;
    }
    for (const json::Value& c : concepts->items()) {
      std::string code(c.string_at("code"));
      if (code.empty()) {
        continue;
      }
      codes.push_back(code);
      if (!parent.empty()) {
        parent_of.emplace(code, parent);
        children_of.emplace(parent, code);
      }
      Walk(c.find("concept"), code);
    }
  }
  bool Has(const std::string& code) const {
    return std::find(codes.begin(), codes.end(), code) != codes.end();
  }
  // `code` and everything reachable through `links` (children or parents).
  void Closure(const std::string& code, const std::multimap<std::string, std::string>& links,
               bool include_self, CodeSet* out) const {
    std::vector<std::string> todo{code};
    std::set<std::string> seen;
    while (!todo.empty()) {
      std::string c = std::move(todo.back());
      todo.pop_back();
      if (!seen.insert(c).second) {
        continue;
      }
      if (c != code || include_self) {
        out->codes.emplace(system, c);
      }
      auto [b, e] = links.equal_range(c);
      for (auto it = b; it != e; ++it) {
        todo.push_back(it->second);
      }
    }
  }
};

class Expander {
 public:
  Expander(ResourceStore& store, std::string param) : store_(store), param_(std::move(param)) {}

  StatusOr<std::optional<Hierarchy>> CodeSystem(const std::string& system) {
    ASSIGN_OR_RETURN(std::optional<json::Value> cs, FetchCanonical(store_, "CodeSystem", system));
    if (!cs) {
      return std::optional<Hierarchy>();
    }
    return std::optional<Hierarchy>(Hierarchy(*cs));
  }

  StatusOr<Hierarchy> RequireCodeSystem(const std::string& system, const std::string& why) {
    ASSIGN_OR_RETURN(std::optional<Hierarchy> h, CodeSystem(system));
    if (!h) {
      return Bad(param_, "no CodeSystem with url '" + system + "' is stored on this server, so " +
                             why + " (store the CodeSystem, with its concepts nested, first)");
    }
    return std::move(*h);
  }

  // compose.include / compose.exclude entry.
  StatusOr<CodeSet> Include(const json::Value& inc, int depth) {
    const std::string system(inc.string_at("system"));
    std::optional<CodeSet> from_value_sets;
    if (const json::Value* vss = inc.find("valueSet"); vss != nullptr && vss->is_array()) {
      for (const json::Value& vs : vss->items()) {
        ASSIGN_OR_RETURN(CodeSet one, ValueSet(vs.text(), depth + 1));
        from_value_sets = from_value_sets ? from_value_sets->Intersect(one) : one;
      }
    }
    if (system.empty()) {
      if (!from_value_sets) {
        return Bad(param_, "a ValueSet compose.include has neither system nor valueSet");
      }
      return std::move(*from_value_sets);
    }
    CodeSet out;
    const json::Value* concepts = inc.find("concept");
    const json::Value* filters = inc.find("filter");
    if (concepts != nullptr && concepts->is_array()) {
      for (const json::Value& c : concepts->items()) {
        out.codes.emplace(system, std::string(c.string_at("code")));
      }
    } else if (filters != nullptr && filters->is_array() && !filters->items().empty()) {
      ASSIGN_OR_RETURN(Hierarchy h, RequireCodeSystem(system, "its filters cannot be evaluated"));
      std::optional<CodeSet> filtered;
      for (const json::Value& f : filters->items()) {
        ASSIGN_OR_RETURN(CodeSet one, Filter(h, f));
        filtered = filtered ? filtered->Intersect(one) : one;
      }
      out = std::move(*filtered);
    } else {
      ASSIGN_OR_RETURN(std::optional<Hierarchy> h, CodeSystem(system));
      if (h && h->complete) {
        for (const std::string& c : h->codes) {
          out.codes.emplace(system, c);
        }
      } else {
        out.whole_systems.insert(system);
      }
    }
    return from_value_sets ? out.Intersect(*from_value_sets) : out;
  }

  StatusOr<CodeSet> Filter(const Hierarchy& h, const json::Value& f) {
    const std::string property(f.string_at("property"));
    const std::string op(f.string_at("op"));
    const std::string value(f.string_at("value"));
    CodeSet out;
    if (property == "concept" && (op == "is-a" || op == "descendent-of")) {
      if (h.Has(value)) {
        h.Closure(value, h.children_of, op == "is-a", &out);
      }
      return out;
    }
    if (property == "concept" && op == "in") {
      std::string code;
      for (size_t i = 0; i <= value.size(); ++i) {
        if (i == value.size() || value[i] == ',') {
          if (!code.empty() && h.Has(code)) {
            out.codes.emplace(h.system, code);
          }
          code.clear();
        } else {
          code += value[i];
        }
      }
      return out;
    }
    return Bad(param_, "ValueSet filter '" + property + " " + op + " " + value +
                           "' is not supported (concept is-a, descendent-of and in are)");
  }

  StatusOr<CodeSet> ValueSet(const std::string& url, int depth) {
    if (depth > kMaxValueSetDepth) {
      return Bad(param_, "ValueSet '" + url + "' imports ValueSets more than " +
                             std::to_string(kMaxValueSetDepth) + " levels deep");
    }
    ASSIGN_OR_RETURN(std::optional<json::Value> vs, FetchCanonical(store_, "ValueSet", url));
    if (!vs) {
      return Bad(param_, "no ValueSet with url '" + url + "' is stored on this server");
    }
    CodeSet out;
    const json::Value* expansion = vs->find("expansion");
    if (expansion != nullptr && expansion->is_object()) {
      std::function<void(const json::Value*)> walk = [&](const json::Value* contains) {
        if (contains == nullptr || !contains->is_array()) {
          return;
        }
        for (const json::Value& c : contains->items()) {
          if (!c.string_at("code").empty()) {
            out.codes.emplace(std::string(c.string_at("system")), std::string(c.string_at("code")));
          }
          walk(c.find("contains"));
        }
      };
      walk(expansion->find("contains"));
      return out;
    }
    const json::Value* compose = vs->find("compose");
    const json::Value* includes = compose ? compose->find("include") : nullptr;
    if (includes == nullptr || !includes->is_array()) {
      return Bad(param_, "ValueSet '" + url + "' has neither expansion nor compose.include");
    }
    for (const json::Value& inc : includes->items()) {
      ASSIGN_OR_RETURN(CodeSet one, Include(inc, depth));
      out.Add(one);
    }
    if (const json::Value* excludes = compose->find("exclude");
        excludes != nullptr && excludes->is_array()) {
      for (const json::Value& exc : excludes->items()) {
        ASSIGN_OR_RETURN(CodeSet ex, Include(exc, depth));
        for (const std::string& s : ex.whole_systems) {
          out.whole_systems.erase(s);
          std::erase_if(out.codes, [&](const Code& c) { return c.first == s; });
        }
        for (const Code& c : ex.codes) {
          if (out.whole_systems.count(c.first)) {
            return Bad(param_, "ValueSet '" + url + "' excludes codes from the whole system '" +
                                   c.first + "', whose CodeSystem is not stored here");
          }
          out.codes.erase(c);
        }
      }
    }
    return out;
  }

 private:
  ResourceStore& store_;
  std::string param_;
};

bool IsTerminologyModifier(const std::string& m) {
  return m == "in" || m == "not-in" || m == "above" || m == "below";
}

Status Rewrite(ResourceStore& store, SearchClause& c) {
  for (SearchClause& inner : c.linked) {
    RETURN_IF_ERROR(Rewrite(store, inner));
  }
  if (c.type != SearchParamType::kToken || !IsTerminologyModifier(c.modifier)) {
    return Status::Ok();
  }
  const std::string name = c.param + ":" + c.modifier;
  Expander expander(store, name);
  CodeSet set;
  for (const SearchValue& v : c.values) {
    if (c.modifier == "in" || c.modifier == "not-in") {
      ASSIGN_OR_RETURN(CodeSet one, expander.ValueSet(v.raw, 0));
      set.Add(one);
      continue;
    }
    if (!v.has_system || v.system.empty() || v.code.empty()) {
      return Bad(name, "'" + v.raw + "': :" + c.modifier + " needs system|code");
    }
    ASSIGN_OR_RETURN(Hierarchy h,
                     expander.RequireCodeSystem(v.system, "no code hierarchy is known"));
    if (!h.Has(v.code)) {
      return Bad(name, "code '" + v.code + "' is not in the stored CodeSystem '" + v.system + "'");
    }
    h.Closure(v.code, c.modifier == "below" ? h.children_of : h.parent_of, true, &set);
  }
  if (set.size() > kMaxExpandedCodes) {
    return Bad(name, "the expansion has " + std::to_string(set.size()) + " codes, more than " +
                         std::to_string(kMaxExpandedCodes) + "; search a narrower set");
  }
  std::vector<SearchValue> values;
  for (const Code& code : set.codes) {
    SearchValue v;
    v.has_system = true;
    v.system = code.first;
    v.code = code.second;
    v.raw = code.first + "|" + code.second;
    if (code.first.empty()) {  // a ValueSet concept without a system: the code alone
      v.has_system = false;
      v.raw = code.second;
    }
    values.push_back(std::move(v));
  }
  for (const std::string& system : set.whole_systems) {
    SearchValue v;
    v.has_system = true;
    v.system = system;
    v.raw = system + "|";
    values.push_back(std::move(v));
  }
  if (values.empty()) {  // matches no token row: an empty set
    SearchValue none;
    none.has_system = true;
    none.system = "urn:carechart:empty-expansion";
    none.code = none.raw = "-";
    values.push_back(std::move(none));
  }
  c.values = std::move(values);
  c.modifier = c.modifier == "not-in" ? "not" : "";
  return Status::Ok();
}

}  // namespace

Status ExpandTerminologyModifiers(ResourceStore& store, SearchQuery& query) {
  for (SearchClause& c : query.clauses) {
    RETURN_IF_ERROR(Rewrite(store, c));
  }
  return Status::Ok();
}

}  // namespace carechart::store
