#include "rest/terminology_ops.h"

#include <algorithm>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include "fhir/json.h"
#include "rest/outcome.h"

namespace carechart::rest {

namespace {

constexpr int kMaxDepth = 5;              // ValueSets importing ValueSets
constexpr size_t kMaxExpansion = 100000;  // concepts one expansion may hold before paging
constexpr int64_t kDefaultCount = 1000;

struct Concept {
  std::string system, code, display;
};
using Key = std::pair<std::string, std::string>;  // system, code

// An expansion in a stable order (first inclusion wins) with a key index.
struct Expansion {
  std::vector<Concept> concepts;
  std::map<Key, size_t> index;

  void Add(Concept c) {
    Key k{c.system, c.code};
    auto [it, inserted] = index.emplace(k, concepts.size());
    if (inserted) {
      concepts.push_back(std::move(c));
    } else if (concepts[it->second].display.empty()) {
      concepts[it->second].display = std::move(c.display);
    }
  }
  bool Has(const Key& k) const { return index.count(k) > 0; }
  void Keep(const std::function<bool(const Concept&)>& keep) {
    std::vector<Concept> kept;
    for (Concept& c : concepts) {
      if (keep(c)) {
        kept.push_back(std::move(c));
      }
    }
    concepts.clear();
    index.clear();
    for (Concept& c : kept) {
      Add(std::move(c));
    }
  }
};

Status Bad(const std::string& param, const std::string& why) {
  return InvalidError("parameter '" + param + "': " + why, param);
}

// The newest stored resource of `type` with this canonical url ("url" or "url|version").
StatusOr<std::optional<json::Value>> FetchCanonical(store::ResourceStore& store,
                                                    const std::string& type,
                                                    std::string_view canonical) {
  const size_t bar = canonical.find('|');
  store::SearchQuery q;
  q.type = type;
  q.count = 1;
  q.want_total = false;
  q.sort.push_back(store::SortKey{"_lastUpdated", true, fhir::SearchParamType::kDate});
  store::SearchClause url;
  url.param = "url";
  url.type = fhir::SearchParamType::kUri;
  store::SearchValue v;
  v.raw = std::string(canonical.substr(0, bar));
  url.values.push_back(v);
  q.clauses.push_back(std::move(url));
  if (bar != std::string_view::npos) {
    store::SearchClause version;
    version.param = "version";
    version.type = fhir::SearchParamType::kToken;
    store::SearchValue vv;
    vv.raw = vv.code = std::string(canonical.substr(bar + 1));
    version.values.push_back(vv);
    q.clauses.push_back(std::move(version));
  }
  ASSIGN_OR_RETURN(store::SearchResult r, store.Search(q));
  if (r.matches.empty()) {
    return std::optional<json::Value>();
  }
  ASSIGN_OR_RETURN(json::Value body, json::Parse(r.matches[0].body));
  return std::optional<json::Value>(std::move(body));
}

// A stored CodeSystem's concepts, flattened, with their hierarchy and properties.
struct CodeSystemView {
  std::string url;
  std::vector<Concept> concepts;
  std::multimap<std::string, std::string> children;
  std::map<std::string, const json::Value*> by_code;
  json::Value body;

  explicit CodeSystemView(json::Value cs) : body(std::move(cs)) {
    url = std::string(body.string_at("url"));
    Walk(body.find("concept"), "");
  }
  void Walk(const json::Value* list, const std::string& parent) {
    if (list == nullptr || !list->is_array()) {
      return;
    }
    for (const json::Value& c : list->items()) {
      std::string code(c.string_at("code"));
      if (code.empty()) {
        continue;
      }
      concepts.push_back({url, code, std::string(c.string_at("display"))});
      by_code.emplace(code, &c);
      if (!parent.empty()) {
        children.emplace(parent, code);
      }
      Walk(c.find("concept"), code);
    }
  }
  const json::Value* Find(const std::string& code) const {
    auto it = by_code.find(code);
    return it == by_code.end() ? nullptr : it->second;
  }
  // The values of property `name` on concept `c` (codes, strings, Coding codes).
  static std::vector<std::string> Property(const json::Value& c, std::string_view name) {
    std::vector<std::string> out;
    if (const json::Value* props = c.find("property"); props && props->is_array()) {
      for (const json::Value& p : props->items()) {
        if (p.string_at("code") != name) {
          continue;
        }
        for (const char* k : {"valueCode", "valueString", "valueBoolean", "valueInteger"}) {
          if (const json::Value* v = p.find(k); v != nullptr) {
            out.push_back(v->is_bool() ? (v->text().empty() ? "false" : v->text()) : v->text());
          }
        }
        if (const json::Value* coding = p.find("valueCoding"); coding != nullptr) {
          out.emplace_back(coding->string_at("code"));
        }
      }
    }
    return out;
  }
};

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : s + ",") {
    if (ch == ',') {
      if (!cur.empty()) {
        out.push_back(cur);
      }
      cur.clear();
    } else if (ch != ' ') {
      cur += ch;
    }
  }
  return out;
}

class Expander {
 public:
  explicit Expander(store::ResourceStore& store) : store_(store) {}

  StatusOr<const CodeSystemView*> CodeSystem(const std::string& system) {
    auto it = code_systems_.find(system);
    if (it != code_systems_.end()) {
      return it->second.get();
    }
    ASSIGN_OR_RETURN(std::optional<json::Value> cs, FetchCanonical(store_, "CodeSystem", system));
    std::unique_ptr<CodeSystemView> view;
    if (cs) {
      view = std::make_unique<CodeSystemView>(std::move(*cs));
    }
    const CodeSystemView* raw = view.get();
    code_systems_.emplace(system, std::move(view));
    return raw;
  }

  StatusOr<Expansion> ValueSetByUrl(const std::string& url, int depth) {
    if (depth > kMaxDepth) {
      return Bad("url", "ValueSet '" + url + "' imports ValueSets more than " +
                            std::to_string(kMaxDepth) + " levels deep");
    }
    ASSIGN_OR_RETURN(std::optional<json::Value> vs, FetchCanonical(store_, "ValueSet", url));
    if (!vs) {
      return Status{StatusCode::kNotFound,
                    "no ValueSet with url '" + url + "' is stored on this server", "url"};
    }
    return ValueSet(*vs, depth);
  }

  StatusOr<Expansion> ValueSet(const json::Value& vs, int depth) {
    Expansion out;
    if (const json::Value* exp = vs.find("expansion"); exp && exp->is_object()) {
      std::function<void(const json::Value*)> walk = [&](const json::Value* contains) {
        if (contains == nullptr || !contains->is_array()) {
          return;
        }
        for (const json::Value& c : contains->items()) {
          if (!c.string_at("code").empty()) {
            out.Add({std::string(c.string_at("system")), std::string(c.string_at("code")),
                     std::string(c.string_at("display"))});
          }
          walk(c.find("contains"));
        }
      };
      walk(exp->find("contains"));
      return out;
    }
    const json::Value* compose = vs.find("compose");
    const json::Value* includes = compose ? compose->find("include") : nullptr;
    if (includes == nullptr || !includes->is_array()) {
      return Bad("url", "ValueSet '" + std::string(vs.string_at("url")) +
                            "' has neither expansion nor compose.include");
    }
    for (const json::Value& inc : includes->items()) {
      ASSIGN_OR_RETURN(Expansion one, Include(inc, depth));
      for (Concept& c : one.concepts) {
        out.Add(std::move(c));
      }
      if (out.concepts.size() > kMaxExpansion) {
        return Status{StatusCode::kTooLarge, "the expansion has more than " +
                                                 std::to_string(kMaxExpansion) +
                                                 " concepts; use filter to narrow it"};
      }
    }
    if (const json::Value* excludes = compose->find("exclude"); excludes && excludes->is_array()) {
      for (const json::Value& exc : excludes->items()) {
        ASSIGN_OR_RETURN(Expansion ex, Include(exc, depth));
        out.Keep([&](const Concept& c) { return !ex.Has({c.system, c.code}); });
      }
    }
    return out;
  }

 private:
  StatusOr<Expansion> Include(const json::Value& inc, int depth) {
    const std::string system(inc.string_at("system"));
    std::optional<Expansion> from_sets;
    if (const json::Value* vss = inc.find("valueSet"); vss && vss->is_array()) {
      for (const json::Value& url : vss->items()) {
        ASSIGN_OR_RETURN(Expansion one, ValueSetByUrl(url.text(), depth + 1));
        if (from_sets) {
          one.Keep([&](const Concept& c) { return from_sets->Has({c.system, c.code}); });
        }
        from_sets = std::move(one);
      }
    }
    if (system.empty()) {
      if (!from_sets) {
        return Bad("url", "a compose.include has neither system nor valueSet");
      }
      return std::move(*from_sets);
    }
    ASSIGN_OR_RETURN(const CodeSystemView* cs, CodeSystem(system));
    Expansion out;
    const json::Value* concepts = inc.find("concept");
    const json::Value* filters = inc.find("filter");
    if (concepts && concepts->is_array()) {
      for (const json::Value& c : concepts->items()) {
        std::string code(c.string_at("code"));
        std::string display(c.string_at("display"));
        if (display.empty() && cs) {
          if (const json::Value* def = cs->Find(code)) {
            display = std::string(def->string_at("display"));
          }
        }
        out.Add({system, code, display});
      }
    } else {
      if (!cs) {
        return Status{StatusCode::kNotImplemented,
                      "the ValueSet includes the whole code system '" + system +
                          "', which is not stored on this server, so it cannot be enumerated "
                          "(load it with carechart import)",
                      "url"};
      }
      std::set<std::string> allowed;
      bool filtered = filters && filters->is_array() && !filters->items().empty();
      if (filtered) {
        std::optional<std::set<std::string>> acc;
        for (const json::Value& f : filters->items()) {
          ASSIGN_OR_RETURN(std::set<std::string> one, Filter(*cs, f));
          if (acc) {
            std::set<std::string> both;
            std::set_intersection(acc->begin(), acc->end(), one.begin(), one.end(),
                                  std::inserter(both, both.begin()));
            acc = std::move(both);
          } else {
            acc = std::move(one);
          }
        }
        allowed = std::move(*acc);
      }
      for (const Concept& c : cs->concepts) {
        if (!filtered || allowed.count(c.code)) {
          out.Add(c);
        }
      }
    }
    if (from_sets) {
      out.Keep([&](const Concept& c) { return from_sets->Has({c.system, c.code}); });
    }
    return out;
  }

  StatusOr<std::set<std::string>> Filter(const CodeSystemView& cs, const json::Value& f) {
    const std::string property(f.string_at("property"));
    const std::string op(f.string_at("op"));
    const std::string value(f.string_at("value"));
    std::set<std::string> out;
    if (property == "concept" && (op == "is-a" || op == "descendent-of")) {
      std::vector<std::string> todo{value};
      while (!todo.empty()) {
        std::string c = std::move(todo.back());
        todo.pop_back();
        if (!cs.Find(c) || !out.insert(c).second) {
          continue;
        }
        auto [b, e] = cs.children.equal_range(c);
        for (auto it = b; it != e; ++it) {
          todo.push_back(it->second);
        }
      }
      if (op == "descendent-of") {
        out.erase(value);
      }
      return out;
    }
    if (op == "=" || op == "in") {
      std::vector<std::string> wanted =
          op == "in" ? SplitCommas(value) : std::vector<std::string>{value};
      for (const Concept& c : cs.concepts) {
        std::vector<std::string> have;
        if (property == "concept" || property == "code") {
          have = {c.code};
        } else {
          have = CodeSystemView::Property(*cs.Find(c.code), property);
        }
        for (const std::string& h : have) {
          if (std::find(wanted.begin(), wanted.end(), h) != wanted.end()) {
            out.insert(c.code);
          }
        }
      }
      return out;
    }
    return Bad("url", "ValueSet filter '" + property + " " + op + " " + value +
                          "' is not supported (concept is-a, descendent-of, in; property = and "
                          "in are)");
  }

  store::ResourceStore& store_;
  std::map<std::string, std::unique_ptr<CodeSystemView>> code_systems_;
};

// Operation parameters from the query (GET) or a Parameters resource (POST), name -> values.
struct Params {
  std::multimap<std::string, std::string> values;
  std::map<std::string, json::Value> resources;  // valueSet / coding given inline (POST)

  std::string Get(const std::string& name) const {
    auto it = values.find(name);
    return it == values.end() ? std::string() : it->second;
  }
};

StatusOr<Params> ReadParams(const http::Request& request) {
  Params p;
  for (const auto& [k, v] : request.query) {
    if (!k.starts_with("_")) {
      p.values.emplace(k, v);
    }
  }
  if (request.method != "POST" || request.body.empty()) {
    return p;
  }
  auto body = json::Parse(request.body);
  if (!body.ok() || body->string_at("resourceType") != "Parameters") {
    return InvalidError("the body of a POST to this operation must be a Parameters resource",
                        "Parameters");
  }
  if (const json::Value* list = body->find("parameter"); list && list->is_array()) {
    for (const json::Value& param : list->items()) {
      std::string name(param.string_at("name"));
      for (const auto& m : param.members()) {
        if (m.first == "resource") {
          p.resources.emplace(name, m.second);
        } else if (m.first == "valueCoding") {
          p.values.emplace("system", std::string(m.second.string_at("system")));
          p.values.emplace("code", std::string(m.second.string_at("code")));
        } else if (m.first.starts_with("value")) {
          p.values.emplace(name, m.second.text());
        }
      }
    }
  }
  return p;
}

StatusOr<int64_t> NonNegative(const Params& p, const std::string& name, int64_t fallback) {
  std::string text = p.Get(name);
  if (text.empty()) {
    return fallback;
  }
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9' || v > 1000000000) {
      return Bad(name, "'" + text + "' is not a non-negative integer");
    }
    v = v * 10 + (c - '0');
  }
  return v;
}

std::string Lower(std::string s) {
  for (char& c : s) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

// Every word of `filter` occurs in the code or the display (case-insensitive).
bool Matches(const Concept& c, const std::vector<std::string>& words) {
  std::string hay = Lower(c.code + " " + c.display);
  for (const std::string& w : words) {
    if (hay.find(w) == std::string::npos) {
      return false;
    }
  }
  return true;
}

http::Response Json(const json::Value& v) {
  http::Response r;
  r.set_header("Content-Type", kFhirJson);
  r.body = json::Write(v);
  return r;
}

// The ValueSet the request names: the instance, a `valueSet` given inline, or `url`.
StatusOr<json::Value> TargetValueSet(store::ResourceStore& store, const Params& p,
                                     const std::vector<std::string>& parts) {
  if (parts.size() == 3) {
    auto v = store.Read("ValueSet", parts[1]);
    if (!v.ok() || v->deleted) {
      return Status{StatusCode::kNotFound, "ValueSet/" + parts[1] + " is not stored here"};
    }
    return json::Parse(v->body);
  }
  if (auto it = p.resources.find("valueSet"); it != p.resources.end()) {
    return it->second;
  }
  std::string url = p.Get("url");
  if (url.empty()) {
    return Bad("url", "give the ValueSet's canonical url (or call ValueSet/{id}/$expand)");
  }
  ASSIGN_OR_RETURN(std::optional<json::Value> vs, FetchCanonical(store, "ValueSet", url));
  if (!vs) {
    return Status{StatusCode::kNotFound,
                  "no ValueSet with url '" + url + "' is stored on this server", "url"};
  }
  return std::move(*vs);
}

http::Response Expand(store::ResourceStore& store, const http::Request& request,
                      const std::vector<std::string>& parts) {
  auto p = ReadParams(request);
  if (!p.ok()) {
    return ErrorResponse(p.status());
  }
  auto count = NonNegative(*p, "count", kDefaultCount);
  auto offset = NonNegative(*p, "offset", 0);
  if (!count.ok() || !offset.ok()) {
    return ErrorResponse(!count.ok() ? count.status() : offset.status());
  }
  auto vs = TargetValueSet(store, *p, parts);
  if (!vs.ok()) {
    return ErrorResponse(vs.status());
  }
  Expander expander(store);
  auto expansion = expander.ValueSet(*vs, 0);
  if (!expansion.ok()) {
    return ErrorResponse(expansion.status());
  }
  std::string filter = p->Get("filter");
  std::vector<std::string> words;  // the filter's words, each to be found
  std::string cur;
  for (char ch : Lower(filter) + " ") {
    if (ch == ' ') {
      if (!cur.empty()) {
        words.push_back(cur);
      }
      cur.clear();
    } else {
      cur += ch;
    }
  }
  std::vector<const Concept*> hits;
  for (const Concept& c : expansion->concepts) {
    if (words.empty() || Matches(c, words)) {
      hits.push_back(&c);
    }
  }
  if (!words.empty()) {
    // Best first: a display starting with the text, then the rest in their order.
    std::stable_sort(hits.begin(), hits.end(), [&](const Concept* a, const Concept* b) {
      bool pa = Lower(a->display).starts_with(words[0]) || a->code.starts_with(words[0]);
      bool pb = Lower(b->display).starts_with(words[0]) || b->code.starts_with(words[0]);
      return pa && !pb;
    });
  }
  json::Value out = json::Value::Object();
  out.set("resourceType", json::Value::String("ValueSet"));
  for (const char* k : {"id", "url", "version", "name", "title", "status"}) {
    if (const json::Value* v = vs->find(k)) {
      out.set(k, *v);
    }
  }
  json::Value exp = json::Value::Object();
  exp.set("identifier", json::Value::String("urn:uuid:" + std::to_string(std::hash<std::string>{}(
                                                              request.target + filter))));
  char ts[32];
  std::time_t now = std::time(nullptr);
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  exp.set("timestamp", json::Value::String(ts));
  exp.set("total", json::Value::Int(static_cast<int64_t>(hits.size())));
  exp.set("offset", json::Value::Int(*offset));
  json::Value params = json::Value::Array();
  auto param = [&](const char* name, json::Value v, const char* type) {
    json::Value e = json::Value::Object();
    e.set("name", json::Value::String(name));
    e.set(type, std::move(v));
    params.push_back(std::move(e));
  };
  if (!filter.empty()) {
    param("filter", json::Value::String(filter), "valueString");
  }
  param("count", json::Value::Int(*count), "valueInteger");
  param("offset", json::Value::Int(*offset), "valueInteger");
  exp.set("parameter", std::move(params));
  json::Value contains = json::Value::Array();
  for (size_t i = static_cast<size_t>(*offset);
       i < hits.size() && i < static_cast<size_t>(*offset + *count); ++i) {
    json::Value c = json::Value::Object();
    c.set("system", json::Value::String(hits[i]->system));
    c.set("code", json::Value::String(hits[i]->code));
    if (!hits[i]->display.empty()) {
      c.set("display", json::Value::String(hits[i]->display));
    }
    contains.push_back(std::move(c));
  }
  if (!contains.items().empty()) {
    exp.set("contains", std::move(contains));
  }
  out.set("expansion", std::move(exp));
  return Json(out);
}

json::Value Parameter(const char* name, const char* type, json::Value v) {
  json::Value e = json::Value::Object();
  e.set("name", json::Value::String(name));
  e.set(type, std::move(v));
  return e;
}

http::Response Lookup(store::ResourceStore& store, const http::Request& request,
                      const std::vector<std::string>& parts) {
  auto p = ReadParams(request);
  if (!p.ok()) {
    return ErrorResponse(p.status());
  }
  std::string code = p->Get("code");
  if (code.empty()) {
    return ErrorResponse(Bad("code", "give the code to look up (and its system)"));
  }
  std::optional<json::Value> cs;
  if (parts.size() == 3) {
    auto v = store.Read("CodeSystem", parts[1]);
    if (!v.ok() || v->deleted) {
      return ErrorResponse({StatusCode::kNotFound, "CodeSystem/" + parts[1] + " is not stored"});
    }
    auto parsed = json::Parse(v->body);
    if (!parsed.ok()) {
      return ErrorResponse(parsed.status());
    }
    cs = std::move(*parsed);
  } else {
    std::string system = p->Get("system");
    if (system.empty()) {
      return ErrorResponse(Bad("system", "give the code system's url"));
    }
    auto found = FetchCanonical(store, "CodeSystem", system);
    if (!found.ok()) {
      return ErrorResponse(found.status());
    }
    if (!*found) {
      return ErrorResponse({StatusCode::kNotFound,
                            "no CodeSystem with url '" + system + "' is stored on this server",
                            "system"});
    }
    cs = std::move(**found);
  }
  CodeSystemView view(std::move(*cs));
  const json::Value* c = view.Find(code);
  if (c == nullptr) {
    return ErrorResponse({StatusCode::kNotFound,
                          "code '" + code + "' is not in the CodeSystem '" + view.url + "'",
                          "code"});
  }
  json::Value out = json::Value::Object();
  out.set("resourceType", json::Value::String("Parameters"));
  json::Value list = json::Value::Array();
  list.push_back(Parameter("name", "valueString",
                           json::Value::String(std::string(view.body.string_at("name")))));
  if (!view.body.string_at("version").empty()) {
    list.push_back(Parameter("version", "valueString",
                             json::Value::String(std::string(view.body.string_at("version")))));
  }
  list.push_back(Parameter("display", "valueString",
                           json::Value::String(std::string(c->string_at("display")))));
  if (const json::Value* props = c->find("property"); props && props->is_array()) {
    for (const json::Value& prop : props->items()) {
      json::Value e = json::Value::Object();
      e.set("name", json::Value::String("property"));
      json::Value parts_list = json::Value::Array();
      parts_list.push_back(
          Parameter("code", "valueCode", json::Value::String(std::string(prop.string_at("code")))));
      for (const auto& m : prop.members()) {
        if (m.first.starts_with("value")) {
          parts_list.push_back(Parameter("value", m.first.c_str(), m.second));
        }
      }
      e.set("part", std::move(parts_list));
      list.push_back(std::move(e));
    }
  }
  out.set("parameter", std::move(list));
  return Json(out);
}

http::Response ValidateCode(store::ResourceStore& store, const http::Request& request,
                            const std::vector<std::string>& parts) {
  auto p = ReadParams(request);
  if (!p.ok()) {
    return ErrorResponse(p.status());
  }
  std::string code = p->Get("code");
  std::string system = p->Get("system");
  if (code.empty()) {
    return ErrorResponse(Bad("code", "give the code to check (with system, or a coding)"));
  }
  auto vs = TargetValueSet(store, *p, parts);
  if (!vs.ok()) {
    return ErrorResponse(vs.status());
  }
  Expander expander(store);
  auto expansion = expander.ValueSet(*vs, 0);
  if (!expansion.ok()) {
    return ErrorResponse(expansion.status());
  }
  const Concept* found = nullptr;
  for (const Concept& c : expansion->concepts) {
    if (c.code == code && (system.empty() || c.system == system)) {
      found = &c;
      break;
    }
  }
  json::Value out = json::Value::Object();
  out.set("resourceType", json::Value::String("Parameters"));
  json::Value list = json::Value::Array();
  list.push_back(Parameter("result", "valueBoolean", json::Value::Bool(found != nullptr)));
  if (found) {
    if (!found->display.empty()) {
      list.push_back(Parameter("display", "valueString", json::Value::String(found->display)));
    }
  } else {
    list.push_back(
        Parameter("message", "valueString",
                  json::Value::String("the code '" + (system.empty() ? "" : system + "|") + code +
                                      "' is not in the ValueSet '" +
                                      std::string(vs->string_at("url")) + "'")));
  }
  out.set("parameter", std::move(list));
  return Json(out);
}

}  // namespace

std::optional<http::Response> HandleTerminologyOperation(store::ResourceStore& store,
                                                         const http::Request& request,
                                                         const std::vector<std::string>& parts) {
  if (parts.size() < 2 || parts.size() > 3 ||
      (request.method != "GET" && request.method != "POST" && request.method != "HEAD")) {
    return std::nullopt;
  }
  const std::string& type = parts[0];
  const std::string& op = parts.back();
  if (parts.size() == 3 && parts[1].starts_with("$")) {
    return std::nullopt;
  }
  if (type == "ValueSet" && op == "$expand") {
    return Expand(store, request, parts);
  }
  if (type == "ValueSet" && op == "$validate-code") {
    return ValidateCode(store, request, parts);
  }
  if (type == "CodeSystem" && op == "$lookup") {
    return Lookup(store, request, parts);
  }
  return std::nullopt;
}

}  // namespace carechart::rest
