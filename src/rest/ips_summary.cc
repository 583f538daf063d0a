// Patient/[id]/$summary: an International Patient Summary (IPS) document
// (http://hl7.org/fhir/uv/ips/): a Bundle of type document whose first entry is a Composition
// (LOINC 60591-5) with the IPS sections, each listing its entries, followed by those entries,
// the Patient and the Organizations that recorded them (the facility tag of every entry, so a
// reader sees which facility each entry comes from).
//
// Access: the same as $everything — the Patient must be readable with the $everything action,
// and every resource passes the guard and the token's scopes, so a consent restriction or a
// scope leaves entries out exactly as it does for $everything. Lab results and vital signs keep
// the most recent Observation per code (a summary, not the flowsheet: the full history is
// $everything). At most kMaxResources resources are read.
#include <algorithm>
#include <map>
#include <set>

#include "core/html.h"
#include "fhir/datetime.h"
#include "rest/access_hooks.h"
#include "rest/outcome.h"
#include "rest/portal_ops.h"
#include "rest/resource_prep.h"
#include "rest/scope_check.h"
#include "store/search_query.h"

namespace carechart::rest {

namespace {

constexpr int kMaxResources = 5000;
constexpr const char* kLoinc = "http://loinc.org";

struct Section {
  const char* key;
  const char* loinc;
  const char* title;
};

// IPS sections, in the order the Composition lists them (required ones first).
constexpr Section kSections[] = {
    {"problems", "11450-4", "Problem list"},
    {"medications", "10160-0", "Medication summary"},
    {"allergies", "48765-2", "Allergies and intolerances"},
    {"immunizations", "11369-6", "Immunizations"},
    {"results", "30954-2", "Results"},
    {"vitals", "8716-3", "Vital signs"},
    {"procedures", "47519-4", "History of procedures"},
    {"encounters", "46240-8", "History of encounters"},
    {"careplans", "18776-5", "Plan of care"},
};

bool HasCategory(const json::Value& r, std::string_view code) {
  const json::Value* cats = r.find("category");
  if (cats == nullptr || !cats->is_array()) {
    return false;
  }
  for (const json::Value& c : cats->items()) {
    if (const json::Value* codings = c.find("coding"); codings && codings->is_array()) {
      for (const json::Value& coding : codings->items()) {
        if (coding.string_at("code") == code) {
          return true;
        }
      }
    }
  }
  return false;
}

// The section a resource belongs to, or empty.
std::string SectionOf(const json::Value& r) {
  std::string_view t = r.string_at("resourceType");
  if (t == "Condition") return "problems";
  if (t == "MedicationStatement" || t == "MedicationRequest") return "medications";
  if (t == "AllergyIntolerance") return "allergies";
  if (t == "Immunization") return "immunizations";
  if (t == "DiagnosticReport") return "results";
  if (t == "Procedure") return "procedures";
  if (t == "Encounter") return "encounters";
  if (t == "CarePlan") return "careplans";
  if (t == "Observation") {
    if (HasCategory(r, "vital-signs")) return "vitals";
    if (HasCategory(r, "laboratory")) return "results";
  }
  return {};
}

// The first code of a CodeableConcept as "system|code", to keep the newest Observation per code.
std::string CodeKey(const json::Value& r) {
  const json::Value* code = r.find("code");
  const json::Value* codings = code ? code->find("coding") : nullptr;
  if (codings && codings->is_array() && !codings->items().empty()) {
    const json::Value& c = codings->items().front();
    return std::string(c.string_at("system")) + "|" + std::string(c.string_at("code"));
  }
  return code ? std::string(code->string_at("text")) : "";
}

std::string_view EffectiveDate(const json::Value& r) {
  for (const char* k : {"effectiveDateTime", "issued"}) {
    if (std::string_view v = r.string_at(k); !v.empty()) {
      return v;
    }
  }
  if (const json::Value* p = r.find("effectivePeriod")) {
    return p->string_at("start");
  }
  return {};
}

json::Value Coding(const char* system, const char* code, const char* display) {
  json::Value c = json::Value::Object();
  c.set("system", json::Value::String(system));
  c.set("code", json::Value::String(code));
  if (display != nullptr) {
    c.set("display", json::Value::String(display));
  }
  return c;
}

json::Value Concept(json::Value coding, std::string text = {}) {
  json::Value cc = json::Value::Object();
  json::Value codings = json::Value::Array();
  codings.push_back(std::move(coding));
  cc.set("coding", std::move(codings));
  if (!text.empty()) {
    cc.set("text", json::Value::String(std::move(text)));
  }
  return cc;
}

json::Value Ref(std::string reference, std::string display = {}) {
  json::Value r = json::Value::Object();
  r.set("reference", json::Value::String(std::move(reference)));
  if (!display.empty()) {
    r.set("display", json::Value::String(std::move(display)));
  }
  return r;
}

}  // namespace

http::Response HandlePatientSummary(RequestContext& ctx) {
  const std::string& m = ctx.http.method;
  if (m != "GET" && m != "HEAD") {
    http::Response r = ErrorResponse(
        {StatusCode::kMethodNotAllowed, m + " is not allowed on $summary; allowed: GET"});
    r.set_header("Allow", "GET");
    return r;
  }
  for (const auto& [k, v] : ctx.SearchParams()) {
    return ErrorResponse(InvalidError(
        "parameter '" + k + "' is not supported by $summary (only _format=html|json)", k));
  }
  auto owner = ctx.store.Read("Patient", ctx.id);
  if (!owner.ok() || owner->deleted) {
    return ErrorResponse(NotFoundError("Patient/" + ctx.id + " is not known"));
  }
  if (auto denied = GuardRead(ctx, *owner, access::Action::kEverything)) {
    return *denied;
  }
  auto query = store::ParseSearch(
      "", {{"_type",
            "Condition,MedicationStatement,MedicationRequest,AllergyIntolerance,Immunization,"
            "Observation,DiagnosticReport,Procedure,Encounter,CarePlan"},
           {"_count", "500"}});
  if (!query.ok()) {
    return ErrorResponse(query.status());
  }
  query->compartment_type = "Patient";
  query->compartment_id = ctx.id;
  query->want_total = false;
  GuardSearchQuery(ctx, *query);

  // Read the compartment (guarded page by page), newest Observation per code for results/vitals.
  std::map<std::string, std::vector<json::Value>> sections;
  std::map<std::string, std::pair<std::string, size_t>> newest;  // section|code → date, index
  int read = 0;
  while (read < kMaxResources) {
    auto page = ctx.store.Search(*query);
    if (!page.ok()) {
      return ErrorResponse(page.status());
    }
    GuardSearchResult(ctx, *page, access::Action::kEverything);
    for (const store::ResourceVersion& v : page->matches) {
      ++read;
      if (v.deleted || !ResourceInScope(ctx, v)) {
        continue;
      }
      auto parsed = json::Parse(v.body);
      if (!parsed.ok()) {
        continue;
      }
      std::string section = SectionOf(*parsed);
      if (section.empty()) {
        continue;
      }
      auto& list = sections[section];
      if (parsed->string_at("resourceType") == "Observation") {
        std::string key = section + "|" + CodeKey(*parsed);
        std::string date(EffectiveDate(*parsed));
        auto it = newest.find(key);
        if (it != newest.end()) {
          if (date > it->second.first) {
            list[it->second.second] = std::move(*parsed);
            it->second.first = date;
          }
          continue;
        }
        newest[key] = {date, list.size()};
      }
      list.push_back(std::move(*parsed));
    }
    if (!page->next) {
      break;
    }
    query->after = page->next;
  }

  // The facilities that recorded the entries (Organizations, directory data).
  std::map<std::string, std::string> facility_names;  // id → name
  std::vector<json::Value> organizations;
  for (const auto& [key, list] : sections) {
    for (const json::Value& r : list) {
      std::string f = FacilityOf(r);
      if (f.empty() || facility_names.contains(f)) {
        continue;
      }
      facility_names[f] = f;
      auto org = ctx.store.Read("Organization", f);
      if (org.ok() && !org->deleted && !GuardRead(ctx, *org) && ResourceInScope(ctx, *org)) {
        if (auto parsed = json::Parse(org->body); parsed.ok()) {
          if (std::string_view name = parsed->string_at("name"); !name.empty()) {
            facility_names[f] = std::string(name);
          }
          organizations.push_back(std::move(*parsed));
        }
      }
    }
  }

  auto patient = json::Parse(owner->body);
  if (!patient.ok()) {
    return ErrorResponse(patient.status());
  }
  std::string patient_name;
  if (const json::Value* names = patient->find("name"); names && names->is_array()) {
    for (const json::Value& n : names->items()) {
      if (std::string_view t = n.string_at("text"); !t.empty()) {
        patient_name = std::string(t);
        break;
      }
      std::string given;
      if (const json::Value* g = n.find("given"); g && g->is_array()) {
        for (const json::Value& part : g->items()) {
          given += (given.empty() ? "" : " ") + part.text();
        }
      }
      patient_name = given + (given.empty() ? "" : " ") + std::string(n.string_at("family"));
      break;
    }
  }

  int64_t now = NowMicros();
  std::string now_text = fhir::FormatInstant(now);
  json::Value composition = json::Value::Object();
  std::string composition_id = NewId();
  composition.set("resourceType", json::Value::String("Composition"));
  composition.set("id", json::Value::String(composition_id));
  composition.set("status", json::Value::String("final"));
  composition.set("type", Concept(Coding(kLoinc, "60591-5", "Patient summary Document")));
  composition.set("subject", Ref("Patient/" + ctx.id, patient_name));
  composition.set("date", json::Value::String(now_text));
  json::Value authors = json::Value::Array();
  json::Value author = json::Value::Object();
  author.set("display", json::Value::String("Carechart (generated from the record)"));
  authors.push_back(std::move(author));
  composition.set("author", std::move(authors));
  composition.set(
      "title",
      json::Value::String("Patient Summary" + (patient_name.empty() ? "" : " of " + patient_name)));
  json::Value section_list = json::Value::Array();
  for (const Section& s : kSections) {
    const auto& list = sections[s.key];
    json::Value sec = json::Value::Object();
    sec.set("title", json::Value::String(s.title));
    sec.set("code", Concept(Coding(kLoinc, s.loinc, s.title)));
    std::string div = "<div xmlns=\"http://www.w3.org/1999/xhtml\">";
    if (list.empty()) {
      div += "<p>No information recorded.</p>";
    } else {
      div += "<ul>";
      for (const json::Value& r : list) {
        std::string facility = FacilityOf(r);
        std::string where = facility.empty() ? "" : facility_names[facility];
        div += "<li>" + HtmlEscape(std::string(r.string_at("resourceType"))) + "/" +
               HtmlEscape(std::string(r.string_at("id"))) +
               (where.empty() ? "" : " (recorded at " + HtmlEscape(where) + ")") + "</li>";
      }
      div += "</ul>";
    }
    div += "</div>";
    json::Value text = json::Value::Object();
    text.set("status", json::Value::String("generated"));
    text.set("div", json::Value::String(div));
    sec.set("text", std::move(text));
    if (list.empty()) {
      sec.set("emptyReason",
              Concept(Coding("http://terminology.hl7.org/CodeSystem/list-empty-reason",
                             "unavailable", "Unavailable")));
    } else {
      json::Value entries = json::Value::Array();
      for (const json::Value& r : list) {
        entries.push_back(
            Ref(std::string(r.string_at("resourceType")) + "/" + std::string(r.string_at("id"))));
      }
      sec.set("entry", std::move(entries));
    }
    section_list.push_back(std::move(sec));
  }
  composition.set("section", std::move(section_list));

  json::Value bundle = json::Value::Object();
  bundle.set("resourceType", json::Value::String("Bundle"));
  bundle.set("id", json::Value::String(NewId()));
  json::Value identifier = json::Value::Object();
  identifier.set("system", json::Value::String("urn:ietf:rfc:3986"));
  identifier.set("value", json::Value::String("urn:uuid:" + composition_id));
  bundle.set("identifier", std::move(identifier));
  bundle.set("type", json::Value::String("document"));
  bundle.set("timestamp", json::Value::String(now_text));
  json::Value entries = json::Value::Array();
  auto add = [&](json::Value r) {
    json::Value e = json::Value::Object();
    e.set("fullUrl",
          json::Value::String(ctx.base_url + "/" + std::string(r.string_at("resourceType")) + "/" +
                              std::string(r.string_at("id"))));
    e.set("resource", std::move(r));
    entries.push_back(std::move(e));
  };
  add(std::move(composition));
  add(std::move(*patient));
  for (const Section& s : kSections) {
    for (json::Value& r : sections[s.key]) {
      add(std::move(r));
    }
  }
  for (json::Value& o : organizations) {
    add(std::move(o));
  }
  bundle.set("entry", std::move(entries));

  http::Response r;
  r.status = 200;
  if (WantsHtml(ctx.http)) {
    r.set_header("Content-Type", "text/html; charset=utf-8");
    r.body = RenderSummaryHtml(bundle);
  } else {
    r.set_header("Content-Type", "application/fhir+json; charset=utf-8");
    r.body = json::Write(bundle, {.pretty = ctx.pretty});
  }
  r.set_header("Cache-Control", "no-store");
  return r;
}

bool WantsHtml(const http::Request& request) {
  for (const auto& [k, v] : request.query) {
    if (k == "_format") {
      return v == "html" || v == "text/html";
    }
  }
  std::string_view accept = request.header("accept");
  size_t html = accept.find("text/html");
  size_t json = accept.find("json");
  return html != std::string_view::npos && (json == std::string_view::npos || html < json);
}

}  // namespace carechart::rest
