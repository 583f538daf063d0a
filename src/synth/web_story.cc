// WebStoryResources (see web_story.h). Hand-written JSON for a handful of resources: easier to
// read as the story it tells than as generator calls. Times carry the UTC offset of the machine
// the demo runs on, so "today at 09:30" is today at 09:30 in the browser beside it.
#include "synth/web_story.h"

#include <cstdio>

#include "fhir/json.h"
#include "synth/region.h"

namespace carechart::synth {

namespace {

constexpr std::string_view kTaskTypes = "https://carechart.dev/fhir/CodeSystem/task-type";

std::string DateText(Day d) {
  char buf[16];
  FormatDate(d, buf);
  return std::string(buf, 10);
}

// "YYYY-MM-DDThh:mm:00" + offset ("Z", "+01:00", "-08:00").
std::string Time(Day d, int hour, int minute, const std::string& offset) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%sT%02d:%02d:00%s", DateText(d).c_str(), hour, minute,
                offset.c_str());
  return buf;
}

std::string Compact(Day d) {
  std::string s = DateText(d);
  return s.substr(0, 4) + s.substr(5, 2) + s.substr(8, 2);
}

bool Weekday(Day d) {
  int dow = static_cast<int>((static_cast<int64_t>(d) + 4) % 7);  // 1970-01-01 was a Thursday
  return dow != 0 && dow != 6;
}

std::string Quote(std::string_view s) { return json::Write(json::Value::String(std::string(s))); }

std::string Ref(std::string_view type, std::string_view id, std::string_view display = {}) {
  std::string r = R"({"reference":")" + std::string(type) + "/" + std::string(id) + "\"";
  if (!display.empty()) {
    r += ",\"display\":" + Quote(display);
  }
  return r + "}";
}

std::string Name(const Practitioner& p) { return "Dr " + p.given + " " + p.family; }

struct Visit {
  int hour, minute, minutes;
  std::string_view patient, patient_name, status, type, reason;
};

}  // namespace

std::string DemoDoctorName() { return Name(Region().Staff(Fac::kRiversidePrimaryCare, 0)); }

std::vector<WebResource> WebStoryResources(
    Day today, int utc_offset_minutes,
    const std::function<std::string(const std::string& patient_id)>& patient_name) {
  std::string offset = "Z";
  if (utc_offset_minutes != 0) {
    int m = utc_offset_minutes < 0 ? -utc_offset_minutes : utc_offset_minutes;
    char buf[16];
    std::snprintf(buf, sizeof buf, "%c%02d:%02d", utc_offset_minutes < 0 ? '-' : '+', m / 60,
                  m % 60);
    offset = buf;
  }
  auto at = [&offset](Day d, int hour, int minute) { return Time(d, hour, minute, offset); };
  std::vector<WebResource> out;
  std::string facility = "riverside-primary-care";  // where what follows is recorded
  auto add = [&out, &facility](std::string type, std::string id, std::string json) {
    out.push_back({std::move(type), std::move(id), std::move(json), facility});
  };
  Region region;
  const Practitioner& pcp = region.Staff(Fac::kRiversidePrimaryCare, 0);
  const Practitioner& endo = region.Staff(Fac::kLakesideEndocrinology, 0);
  const std::string pc_site = "riverside-primary-care-site";
  const std::string endo_site = "lakeside-endocrinology-site";
  const std::string maria = "demo-maria-lopez";

  // Schedules and free Slots (weekdays, 09:00-12:00, 30 minutes) for the next two weeks.
  struct Bookable {
    std::string id, practitioner, practitioner_name, site, org, service;
  };
  const Bookable schedules[] = {
      {"sched-rpc-01", pcp.id, Name(pcp), pc_site, "riverside-primary-care", "General practice"},
      {"sched-endo-01", endo.id, Name(endo), endo_site, "lakeside-endocrinology", "Endocrinology"},
  };
  for (const Bookable& b : schedules) {
    facility = b.org;
    add("Schedule", b.id,
        R"({"resourceType":"Schedule","id":")" + b.id +
            R"(","active":true,"serviceType":[{"text":)" + Quote(b.service) + R"(}],"actor":[)" +
            Ref("Practitioner", b.practitioner, b.practitioner_name) + "," +
            Ref("Location", b.site) + R"(],"comment":"Bookable online in the patient portal"})");
    for (Day d = today + 1; d <= today + 14; ++d) {
      if (!Weekday(d)) {
        continue;
      }
      for (int slot = 0; slot < 6; ++slot) {
        int h = 9 + slot / 2, m = (slot % 2) * 30;
        char id[64];
        std::snprintf(id, sizeof id, "slot-%s-%s-%02d%02d", b.id.substr(6).c_str(),
                      Compact(d).c_str(), h, m);
        bool busy = (d + slot) % 3 == 0;  // some already taken, so the picker shows gaps
        add("Slot", id,
            R"({"resourceType":"Slot","id":")" + std::string(id) + R"(","schedule":)" +
                Ref("Schedule", b.id) + R"(,"status":")" + (busy ? "busy" : "free") +
                R"(","start":")" + at(d, h, m) + R"(","end":")" +
                at(d, m == 30 ? h + 1 : h, m == 30 ? 0 : 30) + R"("})");
      }
    }
  }

  // Today's clinic for the demo doctor at Riverside Primary Care.
  facility = "riverside-primary-care";
  const Visit visits[] = {
      {8, 30, 20, "pat-000001", "", "fulfilled", "ROUTINE", "Annual check-up"},
      {9, 0, 20, "pat-000002", "", "arrived", "FOLLOWUP", "Blood pressure follow-up"},
      {9, 30, 30, maria, "María López", "booked", "FOLLOWUP",
       "Diabetes follow-up after hospital stay; review HbA1c"},
      {10, 30, 20, "pat-000003", "", "booked", "FOLLOWUP", "Medication review"},
      {11, 0, 20, "pat-000004", "", "booked", "WALKIN", "Sore throat"},
      {14, 0, 30, "pat-000005", "", "booked", "ROUTINE", "New patient visit"},
  };
  int n = 0;
  for (const Visit& v : visits) {
    std::string id = "appt-" + Compact(today) + "-" + std::to_string(++n);
    int end_min = v.hour * 60 + v.minute + v.minutes;
    std::string name(v.patient_name);
    if (name.empty() && patient_name) {
      name = patient_name(std::string(v.patient));
    }
    add("Appointment", id,
        R"({"resourceType":"Appointment","id":")" + id + R"(","status":")" + std::string(v.status) +
            R"(","serviceType":[{"text":"General practice"}],"appointmentType":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0276","code":")" +
            std::string(v.type) + R"("}]},"reasonCode":[{"text":)" + Quote(v.reason) +
            R"(}],"description":)" + Quote(v.reason) + R"(,"start":")" +
            at(today, v.hour, v.minute) + R"(","end":")" + at(today, end_min / 60, end_min % 60) +
            R"(","minutesDuration":)" + std::to_string(v.minutes) + R"(,"participant":[{"actor":)" +
            Ref("Patient", v.patient, name) +
            R"(,"required":"required","status":"accepted"},{"actor":)" +
            Ref("Practitioner", pcp.id, Name(pcp)) +
            R"(,"required":"required","status":"accepted"},{"actor":)" +
            Ref("Location", pc_site, "Riverside Primary Care") +
            R"(,"required":"required","status":"accepted"}]})");
  }

  // María's next visit at endocrinology (upcoming in the portal).
  facility = "lakeside-endocrinology";
  const Day endo_day = today + 21 + (Weekday(today + 21) ? 0 : 2);
  add("Appointment", "appt-maria-endo-" + Compact(endo_day),
      R"({"resourceType":"Appointment","id":"appt-maria-endo-)" + Compact(endo_day) +
          R"(","status":"booked","serviceType":[{"text":"Endocrinology"}],"reasonCode":[{"text":"Insulin titration review"}],"description":"Insulin titration review","start":")" +
          at(endo_day, 10, 0) + R"(","end":")" + at(endo_day, 10, 40) +
          R"(","minutesDuration":40,"participant":[{"actor":)" +
          Ref("Patient", maria, "María López") +
          R"(,"required":"required","status":"accepted"},{"actor":)" +
          Ref("Practitioner", endo.id, Name(endo)) +
          R"(,"required":"required","status":"accepted"},{"actor":)" +
          Ref("Location", endo_site, "Lakeside Endocrinology") +
          R"(,"required":"required","status":"accepted"}]})");

  // Labs drawn two days ago at the lab, ordered by the demo doctor, awaiting his review.
  const Day drawn = today - 2;
  facility = "riverside-primary-care";
  add("ServiceRequest", "sr-maria-labs-" + Compact(drawn),
      R"({"resourceType":"ServiceRequest","id":"sr-maria-labs-)" + Compact(drawn) +
          R"(","status":"completed","intent":"order","category":[{"coding":[{"system":"http://snomed.info/sct","code":"108252007","display":"Laboratory procedure"}]}],"code":{"coding":[{"system":"http://loinc.org","code":"4548-4","display":"Hemoglobin A1c/Hemoglobin.total in Blood"}],"text":"HbA1c and fasting glucose"},"subject":)" +
          Ref("Patient", maria, "María López") + R"(,"authoredOn":")" + at(drawn - 5, 9, 10) +
          R"(","requester":)" + Ref("Practitioner", pcp.id, Name(pcp)) + R"(,"performer":[)" +
          Ref("Organization", "clearwater-lab", "Clearwater Diagnostic Laboratory") + "]}");
  struct Result {
    std::string id, code, display, unit, ucum;
    double value, low, high;
  };
  const Result results[] = {
      {"obs-maria-hba1c-" + Compact(drawn), "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood",
       "%", "%", 8.2, 4.0, 5.6},
      {"obs-maria-glucose-" + Compact(drawn), "1558-6",
       "Fasting glucose [Mass/volume] in Serum or Plasma", "mg/dL", "mg/dL", 168, 70, 99},
  };
  std::string result_refs;
  facility = "clearwater-lab";
  for (const Result& r : results) {
    char value[32], low[32], high[32];
    std::snprintf(value, sizeof value, r.unit == "%" ? "%.1f" : "%.0f", r.value);
    std::snprintf(low, sizeof low, r.unit == "%" ? "%.1f" : "%.0f", r.low);
    std::snprintf(high, sizeof high, r.unit == "%" ? "%.1f" : "%.0f", r.high);
    auto qty = [&](const char* v) {
      return R"({"value":)" + std::string(v) + R"(,"unit":")" + r.unit +
             R"(","system":"http://unitsofmeasure.org","code":")" + r.ucum + "\"}";
    };
    add("Observation", r.id,
        R"({"resourceType":"Observation","id":")" + r.id + R"(","status":"final","basedOn":[)" +
            Ref("ServiceRequest", "sr-maria-labs-" + Compact(drawn)) +
            R"(],"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory","display":"Laboratory"}]}],"code":{"coding":[{"system":"http://loinc.org","code":")" +
            r.code + R"(","display":)" + Quote(r.display) + R"(}],"text":)" + Quote(r.display) +
            R"(},"subject":)" + Ref("Patient", maria, "María López") + R"(,"effectiveDateTime":")" +
            at(drawn, 8, 15) + R"(","issued":")" + at(drawn, 14, 5) + R"(","performer":[)" +
            Ref("Organization", "clearwater-lab", "Clearwater Diagnostic Laboratory") +
            R"(],"valueQuantity":)" + qty(value) +
            R"(,"interpretation":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation","code":"H","display":"High"}]}],"referenceRange":[{"low":)" +
            qty(low) + R"(,"high":)" + qty(high) + "}]}");
    result_refs += (result_refs.empty() ? "" : ",") + Ref("Observation", r.id);
  }
  const std::string report = "dr-maria-labs-" + Compact(drawn);
  add("DiagnosticReport", report,
      R"({"resourceType":"DiagnosticReport","id":")" + report + R"(","basedOn":[)" +
          Ref("ServiceRequest", "sr-maria-labs-" + Compact(drawn)) +
          R"(],"status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0074","code":"LAB","display":"Laboratory"}]}],"code":{"coding":[{"system":"http://loinc.org","code":"4548-4","display":"Hemoglobin A1c/Hemoglobin.total in Blood"}],"text":"HbA1c and fasting glucose"},"subject":)" +
          Ref("Patient", maria, "María López") + R"(,"effectiveDateTime":")" + at(drawn, 8, 15) +
          R"(","issued":")" + at(drawn, 14, 5) + R"(","performer":[)" +
          Ref("Organization", "clearwater-lab", "Clearwater Diagnostic Laboratory") +
          R"(],"result":[)" + result_refs +
          R"(],"conclusion":"HbA1c above target (8.2 %); fasting glucose high."})");
  facility = "riverside-primary-care";
  add("Task", "task-review-" + report,
      R"({"resourceType":"Task","id":"task-review-)" + report +
          R"(","status":"requested","intent":"order","priority":"routine","code":{"coding":[{"system":")" +
          std::string(kTaskTypes) +
          R"(","code":"review-result","display":"Review result"}],"text":"Review result"},"description":"New lab results to review: HbA1c 8.2 % and fasting glucose 168 mg/dL, both high","focus":)" +
          Ref("DiagnosticReport", report) + R"(,"for":)" + Ref("Patient", maria, "María López") +
          R"(,"authoredOn":")" + at(drawn, 14, 5) + R"(","owner":)" +
          Ref("Practitioner", pcp.id, Name(pcp)) + "}");

  // A message thread: the doctor's reminder, María's question (awaiting a reply).
  const std::string first = "comm-maria-reminder-" + Compact(today - 6);
  const std::string question = "comm-maria-question-" + Compact(today - 1);
  add("Communication", first,
      R"({"resourceType":"Communication","id":")" + first +
          R"(","status":"completed","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/communication-category","code":"reminder","display":"Reminder"}]}],"subject":)" +
          Ref("Patient", maria, "María López") +
          R"(,"topic":{"text":"Blood test before your visit"},"sent":")" + at(today - 6, 16, 20) +
          R"(","received":")" + at(today - 6, 19, 2) + R"(","recipient":[)" +
          Ref("Patient", maria, "María López") + R"(],"sender":)" +
          Ref("Practitioner", pcp.id, Name(pcp)) +
          R"(,"payload":[{"contentString":"Hello María, please have your HbA1c and fasting glucose drawn at Clearwater Lab before your visit on )" +
          DateText(today) + R"(. No food after midnight the night before."}]})");
  add("Communication", question,
      R"({"resourceType":"Communication","id":")" + question +
          R"(","status":"completed","inResponseTo":[)" + Ref("Communication", first) +
          R"(],"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/communication-category","code":"notification","display":"Notification"}]}],"priority":"routine","subject":)" +
          Ref("Patient", maria, "María López") +
          R"(,"topic":{"text":"Blood test before your visit"},"sent":")" + at(today - 1, 20, 45) +
          R"(","recipient":[)" + Ref("Practitioner", pcp.id, Name(pcp)) + R"(],"sender":)" +
          Ref("Patient", maria, "María López") +
          R"(,"payload":[{"contentString":"I had the blood test. Since the hospital my morning sugars are 150 to 180. Should I change my insulin dose before the visit? Thank you, María"}]})");
  add("Task", "task-reply-" + question,
      R"({"resourceType":"Task","id":"task-reply-)" + question +
          R"(","status":"requested","intent":"order","priority":"routine","code":{"coding":[{"system":")" +
          std::string(kTaskTypes) +
          R"(","code":"reply-message","display":"Reply to patient message"}],"text":"Reply to patient message"},"description":"María López asks about her insulin dose","focus":)" +
          Ref("Communication", question) + R"(,"for":)" + Ref("Patient", maria, "María López") +
          R"(,"authoredOn":")" + at(today - 1, 20, 45) + R"(","owner":)" +
          Ref("Practitioner", pcp.id, Name(pcp)) + "}");
  return out;
}

}  // namespace carechart::synth
