// The printable page of an IPS document Bundle ($summary with _format=html): one table per
// section (what, details, date, recorded at), plain-language titles, print styles, no script.
// Everything shown is escaped; the page is built from the Bundle alone.
#include <map>

#include "core/html.h"
#include "rest/portal_ops.h"
#include "rest/resource_prep.h"

namespace carechart::rest {

namespace {

// Text of a CodeableConcept: its text, else the first coding's display, else its code.
std::string ConceptText(const json::Value* cc) {
  if (cc == nullptr || !cc->is_object()) {
    return {};
  }
  if (std::string_view t = cc->string_at("text"); !t.empty()) {
    return std::string(t);
  }
  if (const json::Value* codings = cc->find("coding"); codings && codings->is_array()) {
    for (const json::Value& c : codings->items()) {
      if (std::string_view d = c.string_at("display"); !d.empty()) {
        return std::string(d);
      }
    }
    for (const json::Value& c : codings->items()) {
      if (std::string_view d = c.string_at("code"); !d.empty()) {
        return std::string(d);
      }
    }
  }
  return {};
}

const json::Value* First(const json::Value& r, std::string_view key) {
  const json::Value* v = r.find(key);
  if (v && v->is_array()) {
    return v->items().empty() ? nullptr : &v->items().front();
  }
  return v;
}

std::string Quantity(const json::Value* q) {
  if (q == nullptr) {
    return {};
  }
  const json::Value* value = q->find("value");
  std::string out = value && value->is_number() ? value->text() : "";
  std::string_view unit = q->string_at("unit");
  if (unit.empty()) {
    unit = q->string_at("code");
  }
  if (!unit.empty()) {
    out += " " + std::string(unit);
  }
  return out;
}

std::string ObservationValue(const json::Value& r) {
  if (const json::Value* q = r.find("valueQuantity")) {
    return Quantity(q);
  }
  if (std::string_view s = r.string_at("valueString"); !s.empty()) {
    return std::string(s);
  }
  if (const json::Value* cc = r.find("valueCodeableConcept")) {
    return ConceptText(cc);
  }
  // Blood pressure and other panels: the components' values, "120 / 80 mmHg".
  std::string out;
  if (const json::Value* comps = r.find("component"); comps && comps->is_array()) {
    std::string unit;
    for (const json::Value& c : comps->items()) {
      const json::Value* q = c.find("valueQuantity");
      const json::Value* v = q ? q->find("value") : nullptr;
      if (v && v->is_number()) {
        out += (out.empty() ? "" : " / ") + v->text();
        unit = std::string(q->string_at("unit"));
      }
    }
    if (!out.empty() && !unit.empty()) {
      out += " " + unit;
    }
  }
  return out;
}

std::string Range(const json::Value& r) {
  const json::Value* range = First(r, "referenceRange");
  if (range == nullptr) {
    return {};
  }
  if (std::string_view t = range->string_at("text"); !t.empty()) {
    return std::string(t);
  }
  std::string low = Quantity(range->find("low"));
  std::string high = Quantity(range->find("high"));
  if (!low.empty() && !high.empty()) {
    return low + " – " + high;
  }
  return !low.empty() ? "at least " + low : !high.empty() ? "up to " + high : "";
}

std::string Date(const json::Value& r) {
  for (const char* k : {"effectiveDateTime", "occurrenceDateTime", "performedDateTime",
                        "onsetDateTime", "authoredOn", "recordedDate", "issued", "date"}) {
    if (std::string_view v = r.string_at(k); !v.empty()) {
      return std::string(v.substr(0, 10));
    }
  }
  for (const char* k : {"effectivePeriod", "period", "performedPeriod", "onsetPeriod"}) {
    if (const json::Value* p = r.find(k)) {
      if (std::string_view v = p->string_at("start"); !v.empty()) {
        return std::string(v.substr(0, 10));
      }
    }
  }
  return {};
}

// What the entry is, and the details a patient cares about.
std::pair<std::string, std::string> Describe(const json::Value& r) {
  std::string_view t = r.string_at("resourceType");
  std::string what;
  std::string details;
  if (t == "MedicationStatement" || t == "MedicationRequest") {
    what = ConceptText(r.find("medicationCodeableConcept"));
    if (what.empty()) {
      if (const json::Value* ref = r.find("medicationReference")) {
        what = std::string(ref->string_at("display"));
      }
    }
    const json::Value* dose = First(r, t == "MedicationRequest" ? "dosageInstruction" : "dosage");
    details = dose ? std::string(dose->string_at("text")) : "";
    if (std::string_view s = r.string_at("status"); !s.empty()) {
      details += (details.empty() ? "" : " · ") + std::string(s);
    }
  } else if (t == "Immunization") {
    what = ConceptText(r.find("vaccineCode"));
    details = std::string(r.string_at("status"));
  } else if (t == "Observation") {
    what = ConceptText(r.find("code"));
    details = ObservationValue(r);
    if (std::string range = Range(r); !range.empty()) {
      details += " (normal range " + range + ")";
    }
    if (std::string flag = ConceptText(First(r, "interpretation")); !flag.empty()) {
      details += " · " + flag;
    }
  } else if (t == "DiagnosticReport") {
    what = ConceptText(r.find("code"));
    details = std::string(r.string_at("conclusion"));
  } else if (t == "Encounter") {
    what = ConceptText(First(r, "type"));
    if (what.empty()) {
      if (const json::Value* c = r.find("class")) {
        what = std::string(c->string_at("display").empty() ? c->string_at("code")
                                                           : c->string_at("display"));
      }
    }
    if (const json::Value* sp = r.find("serviceProvider")) {
      details = std::string(sp->string_at("display"));
    }
  } else if (t == "CarePlan") {
    what = std::string(r.string_at("title"));
    if (what.empty()) {
      what = ConceptText(First(r, "category"));
    }
    details = std::string(r.string_at("description"));
  } else {
    // Condition, AllergyIntolerance, Procedure.
    what = ConceptText(r.find("code"));
    details = ConceptText(r.find("clinicalStatus"));
    if (t == "AllergyIntolerance") {
      if (const json::Value* reaction = First(r, "reaction")) {
        if (std::string m = ConceptText(First(*reaction, "manifestation")); !m.empty()) {
          details += (details.empty() ? "" : " · ") + std::string("reaction: ") + m;
        }
      }
      if (std::string_view c = r.string_at("criticality"); !c.empty()) {
        details += (details.empty() ? "" : " · ") + std::string("risk: ") + std::string(c);
      }
    }
  }
  if (what.empty()) {
    what = std::string(t);
  }
  return {what, details};
}

// Plain-language titles for the IPS sections' LOINC codes.
std::string PlainTitle(std::string_view loinc, std::string_view fallback) {
  static const std::map<std::string_view, std::string_view> kTitles = {
      {"11450-4", "Health problems"}, {"10160-0", "Medicines"},    {"48765-2", "Allergies"},
      {"11369-6", "Vaccinations"},    {"30954-2", "Test results"}, {"8716-3", "Vital signs"},
      {"47519-4", "Procedures"},      {"46240-8", "Visits"},       {"18776-5", "Care plans"}};
  auto it = kTitles.find(loinc);
  return std::string(it == kTitles.end() ? fallback : it->second);
}

}  // namespace

std::string RenderSummaryHtml(const json::Value& document) {
  std::map<std::string, const json::Value*> by_ref;
  std::map<std::string, std::string> org_names;
  const json::Value* composition = nullptr;
  const json::Value* patient = nullptr;
  if (const json::Value* entries = document.find("entry"); entries && entries->is_array()) {
    for (const json::Value& e : entries->items()) {
      const json::Value* r = e.find("resource");
      if (r == nullptr) {
        continue;
      }
      std::string type(r->string_at("resourceType"));
      std::string id(r->string_at("id"));
      by_ref[type + "/" + id] = r;
      if (type == "Composition" && composition == nullptr) {
        composition = r;
      } else if (type == "Patient" && patient == nullptr) {
        patient = r;
      } else if (type == "Organization") {
        org_names[id] = std::string(r->string_at("name"));
      }
    }
  }
  std::string name;
  std::string born;
  if (composition) {
    if (const json::Value* s = composition->find("subject")) {
      name = std::string(s->string_at("display"));
    }
  }
  if (patient) {
    born = std::string(patient->string_at("birthDate"));
  }
  std::string html =
      "<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport "
      "content='width=device-width'><title>Health summary of " +
      HtmlEscape(name) +
      "</title><style>"
      "body{font-family:system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;"
      "color:#111;line-height:1.4}h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:1.5rem;"
      "border-bottom:2px solid #333}table{border-collapse:collapse;width:100%}th,td{text-align:"
      "left;padding:.3rem .4rem;border-bottom:1px solid #ccc;vertical-align:top}th{background:"
      "#eee}.meta{color:#333}@media print{body{margin:0;max-width:none}h2{break-after:avoid}"
      "tr{break-inside:avoid}}</style></head><body><main><h1>Health summary</h1>"
      "<p class=meta><strong>" +
      HtmlEscape(name) + "</strong>" + (born.empty() ? "" : " · born " + HtmlEscape(born)) +
      "<br>Made on " + HtmlEscape(document.string_at("timestamp").substr(0, 10)) +
      " from the record held by Carechart, with every facility that recorded each entry. "
      "This is an International Patient Summary (document " +
      HtmlEscape(document.find("identifier") ? document.find("identifier")->string_at("value")
                                             : "") +
      ").</p>";
  const json::Value* sections = composition ? composition->find("section") : nullptr;
  if (sections && sections->is_array()) {
    for (const json::Value& s : sections->items()) {
      std::string loinc;
      if (const json::Value* code = s.find("code")) {
        if (const json::Value* c = First(*code, "coding")) {
          loinc = std::string(c->string_at("code"));
        }
      }
      html += "<section><h2>" + HtmlEscape(PlainTitle(loinc, s.string_at("title"))) + "</h2>";
      const json::Value* entries = s.find("entry");
      if (entries == nullptr || !entries->is_array() || entries->items().empty()) {
        html += "<p>Nothing recorded.</p></section>";
        continue;
      }
      html +=
          "<table><thead><tr><th scope=col>What</th><th scope=col>Details</th><th "
          "scope=col>Date</th><th scope=col>Recorded at</th></tr></thead><tbody>";
      for (const json::Value& ref : entries->items()) {
        auto it = by_ref.find(std::string(ref.string_at("reference")));
        if (it == by_ref.end()) {
          continue;
        }
        const json::Value& r = *it->second;
        auto [what, details] = Describe(r);
        std::string facility = FacilityOf(r);
        auto org = org_names.find(facility);
        std::string where = org != org_names.end() && !org->second.empty() ? org->second : facility;
        html += "<tr><td>" + HtmlEscape(what) + "</td><td>" + HtmlEscape(details) + "</td><td>" +
                HtmlEscape(Date(r)) + "</td><td>" + HtmlEscape(where) + "</td></tr>";
      }
      html += "</tbody></table></section>";
    }
  }
  html += "</main></body></html>";
  return html;
}

}  // namespace carechart::rest
