#include "hl7v2/mapper.h"

#include "core/base64.h"

#include <openssl/evp.h>

#include <algorithm>
#include <set>

namespace carechart::hl7v2 {

using json::Value;

namespace {

constexpr const char* kV2Prefix = "http://terminology.hl7.org/CodeSystem/v2-";

Value Str(std::string s) { return Value::String(std::move(s)); }
Value Ref(const std::string& type, const std::string& id, const std::string& display = {}) {
  Value r = Value::Object();
  r.set("reference", Str(type + "/" + id));
  if (!display.empty()) {
    r.set("display", Str(display));
  }
  return r;
}
bool IsNull(std::string_view s) { return s == "\"\""; }
std::string Clean(std::string s) {
  if (IsNull(s)) {
    return {};
  }
  // trim spaces
  size_t a = s.find_first_not_of(' ');
  if (a == std::string::npos) {
    return {};
  }
  size_t b = s.find_last_not_of(' ');
  return s.substr(a, b - a + 1);
}

Value CodingV(const std::string& system, const std::string& code, const std::string& display) {
  Value c = Value::Object();
  if (!system.empty()) {
    c.set("system", Str(system));
  }
  if (!code.empty()) {
    c.set("code", Str(code));
  }
  if (!display.empty()) {
    c.set("display", Str(display));
  }
  return c;
}

bool ValidCode(const std::string& s) {
  if (s.empty() || s.front() == ' ' || s.back() == ' ') {
    return false;
  }
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\t' || c == '\r' || c == '\n') {
      return false;
    }
    if (c == ' ' && i + 1 < s.size() && s[i + 1] == ' ') {
      return false;
    }
  }
  return true;
}

// The mapper's state for one message.
class Mapper {
 public:
  Mapper(const Message& m, MapContext& ctx) : m_(m), ctx_(ctx), cfg_(ctx.config()) {}

  bool Run(Error* err);

 private:
  // --- helpers ---------------------------------------------------------------------------
  bool Fail(const Segment* s, int field, int code, std::string text) {
    err_.segment = s ? s->id : "MSH";
    err_.sequence = s ? Seq(s) : 0;
    err_.field = field;
    err_.code = code;
    err_.text = std::move(text);
    return false;
  }
  bool StoreFail(const Status& st) {
    err_.segment = src_seg_;
    err_.sequence = src_seq_;
    err_.field = 0;
    err_.code = st.code() == StatusCode::kUnprocessable ? 102 : 207;
    err_.text = st.message() + (st.location().empty() ? "" : " (at " + st.location() + ")");
    return false;
  }
  int Seq(const Segment* s) const { return static_cast<int>(s - m_.segments.data()) + 1; }
  void Source(const Segment* s) {
    src_seg_ = s->id;
    src_seq_ = Seq(s);
    ctx_.SetSource(src_seg_, src_seq_);
  }
  std::string G(const Segment& s, size_t f, size_t rep = 0, size_t c = 1, size_t sub = 1) const {
    return Clean(m_.Get(s, f, rep, c, sub));
  }
  bool Time(const Segment& s, size_t f, std::string* out, size_t comp = 1) {
    std::string raw = G(s, f, 0, comp);
    if (!ToFhirDateTime(raw, cfg_.timezone, out)) {
      return Fail(&s, static_cast<int>(f), 102,
                  "'" + raw + "' is not an HL7 date/time (YYYY[MM[DD[HH[MM[SS[.S]]]]]][+/-ZZZZ])");
    }
    return true;
  }
  // CE/CWE starting at component `c0` (1-based): id^text^system^alt id^alt text^alt system.
  std::optional<Value> Concept(const Segment& s, size_t f, size_t rep = 0, size_t c0 = 1) const {
    std::string id = G(s, f, rep, c0), text = G(s, f, rep, c0 + 1), sys = G(s, f, rep, c0 + 2);
    std::string id2 = G(s, f, rep, c0 + 3), text2 = G(s, f, rep, c0 + 4),
                sys2 = G(s, f, rep, c0 + 5);
    if (id.empty() && text.empty() && id2.empty()) {
      return std::nullopt;
    }
    Value cc = Value::Object();
    Value codings = Value::Array();
    if (!id.empty() && ValidCode(id)) {
      codings.push_back(CodingV(cfg_.CodeSystem(sys), id, text));
    }
    if (!id2.empty() && ValidCode(id2)) {
      codings.push_back(CodingV(cfg_.CodeSystem(sys2), id2, text2));
    }
    if (!codings.items().empty()) {
      cc.set("coding", std::move(codings));
    }
    std::string t = !text.empty() ? text : (!text2.empty() ? text2 : id);
    if (!t.empty()) {
      cc.set("text", Str(t));
    }
    return cc;
  }
  Value TableConcept(const std::string& table, const std::string& code) const {
    Value cc = Value::Object();
    Value codings = Value::Array();
    codings.push_back(CodingV(kV2Prefix + table, code, ""));
    cc.set("coding", std::move(codings));
    return cc;
  }
  // CX -> Identifier (nullopt when there is no id).
  std::optional<Value> Identifier(const Segment& s, size_t f, size_t rep) const {
    std::string value = G(s, f, rep, 1);
    if (value.empty()) {
      return std::nullopt;
    }
    std::string type = G(s, f, rep, 5);
    std::string authority = G(s, f, rep, 4, 1), univ = G(s, f, rep, 4, 2),
                univ_type = G(s, f, rep, 4, 3);
    if (authority.empty() && univ.empty()) {
      authority = G(s, f, rep, 6, 1);  // assigning facility
    }
    Value id = Value::Object();
    if (!type.empty() && ValidCode(type)) {
      id.set("type", TableConcept("0203", type));
    }
    id.set("system", Str(cfg_.IdentifierSystem(authority, univ, univ_type, type)));
    id.set("value", Str(value));
    return id;
  }
  std::vector<Value> Identifiers(const Segment& s, size_t f) const {
    std::vector<Value> out;
    for (size_t r = 0; r < m_.Reps(s, f); ++r) {
      if (auto id = Identifier(s, f, r)) {
        out.push_back(std::move(*id));
      }
    }
    return out;
  }
  static std::pair<std::string, std::string> SysVal(const Value& identifier) {
    return {std::string(identifier.string_at("system")),
            std::string(identifier.string_at("value"))};
  }
  // XPN (or the name part of XCN starting at component c0) -> HumanName.
  std::optional<Value> Name(const Segment& s, size_t f, size_t rep, size_t c0 = 1) const {
    std::string family = G(s, f, rep, c0, 1);
    std::string given = G(s, f, rep, c0 + 1), middle = G(s, f, rep, c0 + 2),
                suffix = G(s, f, rep, c0 + 3), prefix = G(s, f, rep, c0 + 4);
    if (family.empty() && given.empty()) {
      return std::nullopt;
    }
    Value n = Value::Object();
    if (c0 == 1) {
      std::string use = G(s, f, rep, 7);
      auto it = cfg_.name_use.find(use);
      if (it != cfg_.name_use.end()) {
        n.set("use", Str(it->second));
      }
    }
    if (!family.empty()) {
      n.set("family", Str(family));
    }
    Value g = Value::Array();
    if (!given.empty()) {
      g.push_back(Str(given));
    }
    if (!middle.empty()) {
      g.push_back(Str(middle));
    }
    if (!g.items().empty()) {
      n.set("given", std::move(g));
    }
    if (!prefix.empty()) {
      Value p = Value::Array();
      p.push_back(Str(prefix));
      n.set("prefix", std::move(p));
    }
    if (!suffix.empty()) {
      Value p = Value::Array();
      p.push_back(Str(suffix));
      n.set("suffix", std::move(p));
    }
    return n;
  }
  std::optional<Value> Address(const Segment& s, size_t f, size_t rep) const {
    std::string l1 = G(s, f, rep, 1, 1), l2 = G(s, f, rep, 2), city = G(s, f, rep, 3),
                state = G(s, f, rep, 4), zip = G(s, f, rep, 5), country = G(s, f, rep, 6),
                type = G(s, f, rep, 7);
    if (l1.empty() && l2.empty() && city.empty() && state.empty() && zip.empty()) {
      return std::nullopt;
    }
    Value a = Value::Object();
    if (type == "H") {
      a.set("use", Str("home"));
    }
    if (type == "B" || type == "O") {
      a.set("use", Str("work"));
    }
    if (type == "M") {
      a.set("type", Str("postal"));
    }
    Value lines = Value::Array();
    if (!l1.empty()) {
      lines.push_back(Str(l1));
    }
    if (!l2.empty()) {
      lines.push_back(Str(l2));
    }
    if (!lines.items().empty()) {
      a.set("line", std::move(lines));
    }
    if (!city.empty()) {
      a.set("city", Str(city));
    }
    if (!state.empty()) {
      a.set("state", Str(state));
    }
    if (!zip.empty()) {
      a.set("postalCode", Str(zip));
    }
    if (!country.empty()) {
      a.set("country", Str(country));
    }
    return a;
  }
  std::optional<Value> Telecom(const Segment& s, size_t f, size_t rep, const char* use) const {
    std::string formatted = G(s, f, rep, 1);
    std::string equip = G(s, f, rep, 3), email = G(s, f, rep, 4);
    std::string area = G(s, f, rep, 6), local = G(s, f, rep, 7);
    Value t = Value::Object();
    if (!email.empty() || equip == "Internet" || equip == "X.400") {
      if (email.empty()) {
        email = formatted;
      }
      if (email.empty()) {
        return std::nullopt;
      }
      t.set("system", Str("email"));
      t.set("value", Str(email));
    } else {
      std::string v = formatted;
      if (v.empty() && !local.empty()) {
        v = (area.empty() ? "" : "(" + area + ")") + local;
      }
      if (v.empty()) {
        return std::nullopt;
      }
      t.set("system", Str(equip == "FX" ? "fax" : "phone"));
      t.set("value", Str(v));
    }
    t.set("use", Str(use));
    return t;
  }
  // XCN -> Practitioner (created when absent) -> Reference; nullopt when empty.
  StatusOr<std::optional<Value>> Practitioner(const Segment& s, size_t f, size_t rep) {
    std::string idv = G(s, f, rep, 1);
    auto name = Name(s, f, rep, 2);
    if (idv.empty() && !name) {
      return std::optional<Value>();
    }
    std::string authority = G(s, f, rep, 9, 1);
    std::string key = idv.empty() ? json::Write(*name) : idv;
    std::string system =
        cfg_.IdentifierSystem(authority, G(s, f, rep, 9, 2), G(s, f, rep, 9, 3), G(s, f, rep, 13));
    std::string pid = "hl7pr-" + Hash32(ctx_.facility().id + "|" + system + "|" + key);
    Value p = Value::Object();
    p.set("resourceType", Str("Practitioner"));
    p.set("id", Str(pid));
    if (!idv.empty()) {
      Value ids = Value::Array();
      Value id = Value::Object();
      id.set("system", Str(system));
      id.set("value", Str(idv));
      ids.push_back(std::move(id));
      p.set("identifier", std::move(ids));
    }
    std::string display;
    if (name) {
      Value names = Value::Array();
      display = std::string(name->string_at("family"));
      if (const Value* g = name->find("given"); g && !g->items().empty()) {
        display = g->items()[0].text() + (display.empty() ? "" : " " + display);
      }
      names.push_back(std::move(*name));
      p.set("name", std::move(names));
    }
    RETURN_IF_ERROR(ctx_.Ensure(std::move(p)));
    return std::optional<Value>(Ref("Practitioner", pid, display.empty() ? idv : display));
  }

  // --- resources ---------------------------------------------------------------------------
  Status EnsureFacility();
  bool PatientFromPid(const Segment& pid, bool update_existing, std::string* patient_id);
  bool ApplyPid(const Segment& pid, Value& patient);
  bool EncounterFromPv1(const Segment& pv1, const std::string& patient_id, bool adt,
                        std::string* encounter_id);
  bool Location(const Segment& s, size_t f, std::optional<Value>* ref);
  bool Adt(Error* err);
  bool Merge();
  bool Oru();
  bool ObservationValue(const Segment& obx, Value& obs);

  const Message& m_;
  MapContext& ctx_;
  const MappingConfig& cfg_;
  Error err_;
  std::string src_seg_ = "MSH";
  int src_seq_ = 1;
  std::string event_time_;  // EVN-2 / MSH-7 as FHIR dateTime
};

Status Mapper::EnsureFacility() {
  const FacilityEntry& f = ctx_.facility();
  Value org = Value::Object();
  org.set("resourceType", Str("Organization"));
  org.set("id", Str(f.id));
  Value ids = Value::Array();
  Value id = Value::Object();
  id.set("system", Str("urn:carechart:hl7v2:facility"));
  id.set("value", Str(G(m_.msh(), 4).empty() ? f.name : G(m_.msh(), 4)));
  ids.push_back(std::move(id));
  org.set("identifier", std::move(ids));
  org.set("active", Value::Bool(true));
  org.set("name", Str(f.name));
  return ctx_.Ensure(std::move(org));
}

bool Mapper::ApplyPid(const Segment& pid, Value& p) {
  // Identifiers: union of the known ones and the message's (PID-2, PID-3, PID-4, PID-19).
  std::vector<Value> ids = Identifiers(pid, 3);
  for (auto& i : Identifiers(pid, 2)) {
    ids.push_back(std::move(i));
  }
  for (auto& i : Identifiers(pid, 4)) {
    ids.push_back(std::move(i));
  }
  if (std::string ssn = G(pid, 19); !ssn.empty()) {
    Value i = Value::Object();
    i.set("type", TableConcept("0203", "SS"));
    i.set("system", Str("http://hl7.org/fhir/sid/us-ssn"));
    i.set("value", Str(ssn));
    ids.push_back(std::move(i));
  }
  Value* existing = p.find("identifier");
  if (!existing) {
    existing = &p.set("identifier", Value::Array());
  }
  for (auto& i : ids) {
    auto key = SysVal(i);
    bool found = std::any_of(existing->items().begin(), existing->items().end(),
                             [&](const Value& e) { return SysVal(e) == key; });
    if (!found) {
      existing->push_back(std::move(i));
    }
  }
  if (!p.find("active")) {
    p.set("active", Value::Bool(true));
  }
  // Other elements: a field present replaces, "" removes, empty keeps.
  auto apply = [&](size_t field, const char* key, std::optional<Value> v) {
    if (IsNull(m_.Get(pid, field))) {
      p.erase(key);
    } else if (v) {
      p.set(key, std::move(*v));
    }
  };
  auto list = [&](size_t field, auto fn) -> std::optional<Value> {
    Value arr = Value::Array();
    for (size_t r = 0; r < m_.Reps(pid, field); ++r) {
      if (auto v = fn(r)) {
        arr.push_back(std::move(*v));
      }
    }
    if (arr.items().empty()) {
      return std::nullopt;
    }
    return arr;
  };
  apply(5, "name", list(5, [&](size_t r) { return Name(pid, 5, r); }));
  {
    std::optional<Value> tel = Value::Array();
    for (size_t r = 0; r < m_.Reps(pid, 13); ++r) {
      if (auto t = Telecom(pid, 13, r, "home")) {
        tel->push_back(std::move(*t));
      }
    }
    for (size_t r = 0; r < m_.Reps(pid, 14); ++r) {
      if (auto t = Telecom(pid, 14, r, "work")) {
        tel->push_back(std::move(*t));
      }
    }
    if (tel->items().empty()) {
      tel.reset();
    }
    apply(13, "telecom", std::move(tel));
  }
  std::string sex = G(pid, 8);
  if (!sex.empty()) {
    // An unmapped code is left out rather than guessed.
    auto it = cfg_.gender.find(sex);
    if (it != cfg_.gender.end()) {
      p.set("gender", Str(it->second));
    }
  } else if (IsNull(m_.Get(pid, 8))) {
    p.erase("gender");
  }
  std::string birth;
  if (!Time(pid, 7, &birth)) {
    return false;
  }
  if (!birth.empty()) {
    p.set("birthDate", Str(birth.substr(0, std::min<size_t>(birth.size(), 10))));
  } else if (IsNull(m_.Get(pid, 7))) {
    p.erase("birthDate");
  }
  std::string deceased_flag = G(pid, 30), deceased_time;
  if (!Time(pid, 29, &deceased_time)) {
    return false;
  }
  if (!deceased_time.empty()) {
    p.erase("deceasedBoolean");
    p.set("deceasedDateTime", Str(deceased_time));
  } else if (deceased_flag == "Y" || deceased_flag == "N") {
    p.erase("deceasedDateTime");
    p.set("deceasedBoolean", Value::Bool(deceased_flag == "Y"));
  }
  apply(11, "address", list(11, [&](size_t r) { return Address(pid, 11, r); }));
  if (std::string ms = G(pid, 16); !ms.empty() && ValidCode(ms)) {
    Value cc = Value::Object();
    Value codings = Value::Array();
    codings.push_back(
        CodingV("http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", ms, G(pid, 16, 0, 2)));
    cc.set("coding", std::move(codings));
    p.set("maritalStatus", std::move(cc));
  }
  std::string mb = G(pid, 24);
  if (mb == "Y" || mb == "N") {
    std::string order = G(pid, 25);
    if (mb == "Y" && !order.empty() && std::all_of(order.begin(), order.end(), ::isdigit) &&
        order.size() < 4) {
      p.erase("multipleBirthBoolean");
      p.set("multipleBirthInteger", Value::Number(std::to_string(std::stoi(order))));
    } else {
      p.erase("multipleBirthInteger");
      p.set("multipleBirthBoolean", Value::Bool(mb == "Y"));
    }
  }
  return true;
}

bool Mapper::PatientFromPid(const Segment& pid, bool update_existing, std::string* patient_id) {
  Source(&pid);
  std::vector<Value> ids = Identifiers(pid, 3);
  if (ids.empty()) {
    for (auto& i : Identifiers(pid, 2)) {
      ids.push_back(std::move(i));
    }
  }
  if (ids.empty()) {
    return Fail(&pid, 3, 101, "PID-3 (patient identifier list) has no identifier");
  }
  std::vector<std::pair<std::string, std::string>> keys;
  for (const auto& i : ids) {
    keys.push_back(SysVal(i));
  }
  auto found = ctx_.FindPatient(keys);
  if (!found.ok()) {
    return StoreFail(found.status());
  }
  Value patient;
  if (found->empty()) {
    *patient_id = "hl7p-" + Hash32(keys[0].first + "|" + keys[0].second);
    auto cur = ctx_.Get("Patient", *patient_id);
    if (!cur.ok()) {
      return StoreFail(cur.status());
    }
    if (*cur) {
      patient = std::move(**cur);
    } else {
      patient = Value::Object();
      patient.set("resourceType", Str("Patient"));
      patient.set("id", Str(*patient_id));
    }
    update_existing = true;  // new (or recreated) patient: fill it from PID
  } else {
    *patient_id = *found;
    auto cur = ctx_.Get("Patient", *patient_id);
    if (!cur.ok()) {
      return StoreFail(cur.status());
    }
    if (!*cur) {
      return Fail(&pid, 3, 204, "patient " + *patient_id + " vanished");
    }
    patient = std::move(**cur);
    if (!update_existing) {
      // Only add identifiers it does not hold yet.
      Value* existing = patient.find("identifier");
      bool added = false;
      if (!existing) {
        existing = &patient.set("identifier", Value::Array());
      }
      for (auto& i : ids) {
        auto key = SysVal(i);
        if (std::none_of(existing->items().begin(), existing->items().end(),
                         [&](const Value& e) { return SysVal(e) == key; })) {
          existing->push_back(std::move(i));
          added = true;
        }
      }
      if (!added) {
        return true;
      }
      Status s = ctx_.Put(std::move(patient));
      return s.ok() ? true : StoreFail(s);
    }
  }
  if (!ApplyPid(pid, patient)) {
    return false;
  }
  Status s = ctx_.Put(std::move(patient));
  return s.ok() ? true : StoreFail(s);
}

bool Mapper::Location(const Segment& s, size_t f, std::optional<Value>* ref) {
  std::string poc = G(s, f, 0, 1), room = G(s, f, 0, 2), bed = G(s, f, 0, 3), fac = G(s, f, 0, 4),
              building = G(s, f, 0, 7), floor = G(s, f, 0, 8);
  if (poc.empty() && room.empty() && bed.empty()) {
    return true;
  }
  std::string key = poc + "^" + room + "^" + bed + "^" + building + "^" + floor;
  std::string facility = fac.empty() ? ctx_.facility().id : fac;
  std::string id = "hl7l-" + Hash32(facility + "|" + key);
  std::string name;
  for (const auto& part : {poc, room, bed}) {
    if (part.empty()) {
      continue;
    }
    if (!name.empty()) {
      name += " ";
    }
    name += part;
  }
  Value loc = Value::Object();
  loc.set("resourceType", Str("Location"));
  loc.set("id", Str(id));
  Value ids = Value::Array();
  Value i = Value::Object();
  i.set("system", Str("urn:carechart:hl7v2:location:" + SanitizeId(facility)));
  i.set("value", Str(key));
  ids.push_back(std::move(i));
  loc.set("identifier", std::move(ids));
  loc.set("status", Str("active"));
  loc.set("name", Str(name));
  const char* pt = !bed.empty() ? "bd" : (!room.empty() ? "ro" : "wa");
  Value ptc = Value::Object();
  Value codings = Value::Array();
  codings.push_back(
      CodingV("http://terminology.hl7.org/CodeSystem/location-physical-type", pt, ""));
  ptc.set("coding", std::move(codings));
  loc.set("physicalType", std::move(ptc));
  loc.set("managingOrganization", Ref("Organization", ctx_.facility().id));
  Status st = ctx_.Ensure(std::move(loc));
  if (!st.ok()) {
    return StoreFail(st);
  }
  *ref = Ref("Location", id, name);
  return true;
}

bool Mapper::EncounterFromPv1(const Segment& pv1, const std::string& patient_id, bool adt,
                              std::string* encounter_id) {
  Source(&pv1);
  std::string event = adt ? m_.TriggerEvent() : "ORU";
  std::optional<Value> visit = Identifier(pv1, 19, 0);
  std::string admit, discharge;
  if (!Time(pv1, 44, &admit) || !Time(pv1, 45, &discharge)) {
    return false;
  }
  if (visit) {
    auto [sys, val] = SysVal(*visit);
    *encounter_id = "hl7e-" + Hash32(sys + "|" + val);
  } else if (!admit.empty()) {
    *encounter_id = "hl7e-" + Hash32("patient|" + patient_id + "|" + admit);
  } else if (!adt) {
    encounter_id->clear();  // a result without visit: no encounter
    return true;
  } else {
    *encounter_id =
        "hl7e-" + Hash32("msg|" + ctx_.facility().id + "|" + m_.ControlId() + "|" + patient_id);
  }
  auto cur = ctx_.Get("Encounter", *encounter_id);
  if (!cur.ok()) {
    return StoreFail(cur.status());
  }
  bool existed = cur->has_value();
  if (!adt && existed) {
    return true;  // results only link to it
  }
  bool cancel = event == "A11" || event == "A12" || event == "A13";
  if (cancel && !existed) {
    return Fail(&pv1, 19, 204,
                "event " + event + " cancels a visit that was never received (no encounter " +
                    (visit ? std::string(visit->string_at("value")) : *encounter_id) + ")");
  }
  Value enc = existed ? std::move(**cur) : Value::Object();
  if (!existed) {
    enc.set("resourceType", Str("Encounter"));
    enc.set("id", Str(*encounter_id));
  }
  if (visit) {
    Value ids = Value::Array();
    ids.push_back(std::move(*visit));
    enc.set("identifier", std::move(ids));
  }
  // status
  auto st = cfg_.encounter_status.find(event);
  std::string status = st != cfg_.encounter_status.end() ? st->second : "";
  if (!status.empty()) {
    enc.set("status", Str(status));
  } else if (!enc.find("status")) {
    enc.set("status", Str(adt ? "in-progress" : "unknown"));
  }
  // class
  std::string pc = G(pv1, 2);
  if (!pc.empty()) {
    // An unmapped class falls back to default_class (Encounter.class is required).
    auto it = cfg_.patient_class.find(pc);
    const Coding& c = it != cfg_.patient_class.end() ? it->second : cfg_.default_class;
    enc.set("class", CodingV(c.system, c.code, c.display));
  } else if (!enc.find("class")) {
    const Coding& d = cfg_.default_class;
    enc.set("class", CodingV(d.system, d.code, d.display));
  }
  if (std::string svc = G(pv1, 10); !svc.empty() && ValidCode(svc)) {
    enc.set("serviceType", TableConcept("0069", svc));
  }
  enc.set("subject", Ref("Patient", patient_id));
  // participants
  if (adt && !cancel) {
    Value parts = Value::Array();
    struct P {
      size_t field;
      const char* code;
      const char* display;
    };
    for (P p : {P{7, "ATND", "attender"}, P{8, "REF", "referrer"}, P{9, "CON", "consultant"},
                P{17, "ADM", "admitter"}}) {
      for (size_t r = 0; r < m_.Reps(pv1, p.field); ++r) {
        auto ref = Practitioner(pv1, p.field, r);
        if (!ref.ok()) {
          return StoreFail(ref.status());
        }
        if (!*ref) {
          continue;
        }
        Value part = Value::Object();
        Value types = Value::Array();
        Value cc = Value::Object();
        Value codings = Value::Array();
        codings.push_back(CodingV("http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                  p.code, p.display));
        cc.set("coding", std::move(codings));
        types.push_back(std::move(cc));
        part.set("type", std::move(types));
        part.set("individual", std::move(**ref));
        parts.push_back(std::move(part));
      }
    }
    if (!parts.items().empty()) {
      enc.set("participant", std::move(parts));
    }
  }
  // period
  Value* period = enc.find("period");
  if (!period) {
    period = &enc.set("period", Value::Object());
  }
  if (!admit.empty()) {
    period->set("start", Str(admit));
  } else if (!period->find("start") && (event == "A01" || event == "A04") && !event_time_.empty()) {
    period->set("start", Str(event_time_));
  }
  if (event == "A03") {
    std::string end = !discharge.empty() ? discharge : event_time_;
    if (!end.empty()) {
      period->set("end", Str(end));
    }
  } else if (event == "A13") {
    period->erase("end");
  }
  if (period->members().empty()) {
    enc.erase("period");
  }
  // hospitalization
  if (adt) {
    Value* hosp = enc.find("hospitalization");
    Value h = hosp ? *hosp : Value::Object();
    if (std::string src = G(pv1, 14); !src.empty() && ValidCode(src)) {
      h.set("admitSource", TableConcept("0023", src));
    }
    if (event == "A13") {
      h.erase("dischargeDisposition");
    } else if (std::string dd = G(pv1, 36); !dd.empty() && ValidCode(dd)) {
      h.set("dischargeDisposition", TableConcept("0112", dd));
    }
    if (h.members().empty()) {
      enc.erase("hospitalization");
    } else {
      enc.set("hospitalization", std::move(h));
    }
  }
  // locations
  std::optional<Value> loc;
  if (!Location(pv1, 3, &loc)) {
    return false;
  }
  Source(&pv1);
  Value* locs = enc.find("location");
  if (!locs) {
    locs = &enc.set("location", Value::Array());
  }
  auto& items = locs->items();
  std::string when = !event_time_.empty() ? event_time_ : admit;
  auto close = [&](Value& entry) {
    entry.set("status", Str("completed"));
    if (!when.empty()) {
      Value* p = entry.find("period");
      if (!p) {
        p = &entry.set("period", Value::Object());
      }
      if (const Value* s = p->find("start"); !s || s->text() <= when) {
        p->set("end", Str(when));
      }
    }
  };
  if (event == "A12") {
    // cancel transfer: drop the latest location, the one before becomes active again
    if (!items.empty()) {
      items.pop_back();
    }
    if (!items.empty()) {
      items.back().set("status", Str("active"));
      if (Value* p = items.back().find("period")) {
        p->erase("end");
      }
    }
  } else if (event == "A13") {
    if (!items.empty()) {
      items.back().set("status", Str("active"));
      if (Value* p = items.back().find("period")) {
        p->erase("end");
      }
    }
  } else if (loc) {
    std::string ref(loc->string_at("reference"));
    bool same = !items.empty() && items.back().find("location") &&
                items.back().find("location")->string_at("reference") == ref;
    if (!same) {
      for (auto& e : items) {
        if (e.string_at("status") == "active" || e.string_at("status") == "planned") {
          close(e);
        }
      }
      Value entry = Value::Object();
      entry.set("location", std::move(*loc));
      entry.set("status", Str(event == "A05" ? "planned" : "active"));
      if (!when.empty()) {
        Value p = Value::Object();
        p.set("start", Str(when));
        entry.set("period", std::move(p));
      }
      items.push_back(std::move(entry));
    }
  }
  if (event == "A03") {
    for (auto& e : items) {
      if (e.string_at("status") != "completed") {
        close(e);
      }
    }
  }
  if (items.empty()) {
    enc.erase("location");
  }
  enc.set("serviceProvider", Ref("Organization", ctx_.facility().id));
  if (!adt && existed) {
    return true;
  }
  Status s = ctx_.Put(std::move(enc));
  return s.ok() ? true : StoreFail(s);
}

bool Mapper::Adt(Error*) {
  std::string event = m_.TriggerEvent();
  const Segment* pid = m_.Find("PID");
  if (!pid) {
    return Fail(nullptr, 0, 100, "ADT^" + event + " has no PID segment");
  }
  if (event == "A40") {
    return Merge();
  }
  bool cancel = event == "A11" || event == "A12" || event == "A13";
  std::string patient_id;
  if (!PatientFromPid(*pid, !cancel, &patient_id)) {
    return false;
  }
  if (event == "A31") {
    return true;
  }
  const Segment* pv1 = m_.Find("PV1");
  if (!pv1) {
    // Registration and update events without a visit update the patient only.
    if (event == "A01" || event == "A04" || event == "A05" || event == "A08") {
      return true;
    }
    return Fail(nullptr, 0, 100, "ADT^" + event + " has no PV1 segment");
  }
  std::string encounter_id;
  return EncounterFromPv1(*pv1, patient_id, true, &encounter_id);
}

bool Mapper::Merge() {
  const Segment* pid = m_.Find("PID");
  std::string surviving;
  if (!PatientFromPid(*pid, true, &surviving)) {
    return false;
  }
  // Every PID/MRG pair (A40 may repeat the group): MRG-1 names the prior patient.
  for (size_t k = 0;; ++k) {
    const Segment* mrg = m_.Find("MRG", k);
    if (!mrg) {
      if (k == 0) {
        return Fail(nullptr, 0, 100, "ADT^A40 has no MRG segment");
      }
      break;
    }
    Source(mrg);
    std::vector<Value> prior_ids = Identifiers(*mrg, 1);
    if (prior_ids.empty()) {
      return Fail(mrg, 1, 101, "MRG-1 (prior patient identifier) is empty");
    }
    std::vector<std::pair<std::string, std::string>> keys;
    for (const auto& i : prior_ids) {
      keys.push_back(SysVal(i));
    }
    auto found = ctx_.FindPatient(keys);
    if (!found.ok()) {
      return StoreFail(found.status());
    }
    auto sv = ctx_.Get("Patient", surviving);
    if (!sv.ok()) {
      return StoreFail(sv.status());
    }
    Value survivor = std::move(**sv);
    Value* sids = survivor.find("identifier");
    if (!sids) {
      sids = &survivor.set("identifier", Value::Array());
    }
    auto add_ids = [&](const Value* from) {
      if (!from) {
        return;
      }
      for (const auto& i : from->items()) {
        auto key = SysVal(i);
        if (std::none_of(sids->items().begin(), sids->items().end(),
                         [&](const Value& e) { return SysVal(e) == key; })) {
          Value copy = i;
          copy.set("use", Str("old"));
          sids->push_back(std::move(copy));
        }
      }
    };
    Value prior_list = Value::Array();
    for (auto& i : prior_ids) {
      prior_list.push_back(std::move(i));
    }
    add_ids(&prior_list);
    std::string prior = *found;
    if (prior.empty() || prior == surviving) {
      Status s = ctx_.Put(std::move(survivor));
      if (!s.ok()) {
        return StoreFail(s);
      }
      continue;
    }
    auto pv = ctx_.Get("Patient", prior);
    if (!pv.ok()) {
      return StoreFail(pv.status());
    }
    if (!*pv) {
      continue;
    }
    Value old = std::move(**pv);
    add_ids(old.find("identifier"));
    Value* links = survivor.find("link");
    if (!links) {
      links = &survivor.set("link", Value::Array());
    }
    Value l = Value::Object();
    l.set("other", Ref("Patient", prior));
    l.set("type", Str("replaces"));
    links->push_back(std::move(l));
    Status s = ctx_.Put(std::move(survivor));
    if (!s.ok()) {
      return StoreFail(s);
    }
    old.set("active", Value::Bool(false));
    Value* olinks = old.find("link");
    if (!olinks) {
      olinks = &old.set("link", Value::Array());
    }
    Value ol = Value::Object();
    ol.set("other", Ref("Patient", surviving));
    ol.set("type", Str("replaced-by"));
    olinks->push_back(std::move(ol));
    s = ctx_.Put(std::move(old));
    if (!s.ok()) {
      return StoreFail(s);
    }
    // Move every reference to the prior patient onto the survivor.
    auto res = ctx_.Compartment(prior);
    if (!res.ok()) {
      return StoreFail(res.status());
    }
    std::string from = "\"Patient/" + prior + "\"", to = "\"Patient/" + surviving + "\"";
    for (auto& r : *res) {
      if (r.string_at("resourceType") == "Patient") {
        continue;
      }
      std::string text = json::Write(r);
      size_t p = 0;
      bool changed = false;
      while ((p = text.find(from, p)) != std::string::npos) {
        text.replace(p, from.size(), to);
        p += to.size();
        changed = true;
      }
      if (!changed) {
        continue;
      }
      auto moved = json::Parse(text);
      if (!moved.ok()) {
        return StoreFail(moved.status());
      }
      s = ctx_.Put(std::move(*moved));
      if (!s.ok()) {
        return StoreFail(s);
      }
    }
  }
  return true;
}

bool Mapper::ObservationValue(const Segment& obx, Value& obs) {
  std::string type = G(obx, 2);
  size_t reps = m_.Reps(obx, 5);
  if (reps == 0 || IsNull(m_.Get(obx, 5))) {
    return true;
  }
  std::string units_id = G(obx, 6, 0, 1), units_text = G(obx, 6, 0, 2), units_sys = G(obx, 6, 0, 3);
  auto quantity = [&](const std::string& number, const std::string& comparator) -> Value {
    Value q = Value::Object();
    q.set("value", Value::Number(number));
    if (!comparator.empty()) {
      q.set("comparator", Str(comparator));
    }
    std::string unit = !units_text.empty() ? units_text : units_id;
    if (!unit.empty()) {
      q.set("unit", Str(unit));
    }
    std::string sys = cfg_.CodeSystem(units_sys);
    if (!sys.empty() && !units_id.empty()) {
      q.set("system", Str(sys));
      q.set("code", Str(units_id));
    }
    return q;
  };
  auto decimal = [](std::string s, std::string* out) {
    if (s.empty()) {
      return false;
    }
    if (s[0] == '+') {
      s.erase(0, 1);
    }
    bool neg = !s.empty() && s[0] == '-';
    if (neg) {
      s.erase(0, 1);
    }
    if (s.empty()) {
      return false;
    }
    size_t dot = s.find('.');
    if (s.find('.', dot == std::string::npos ? s.size() : dot + 1) != std::string::npos) {
      return false;
    }
    for (char c : s) {
      if (c != '.' && (c < '0' || c > '9')) {
        return false;
      }
    }
    if (s == ".") {
      return false;
    }
    if (s[0] == '.') {
      s = "0" + s;
    }
    if (s.back() == '.') {
      s.pop_back();
    }
    size_t nz = 0;
    while (nz + 1 < s.size() && s[nz] == '0' && s[nz + 1] != '.') {
      ++nz;
    }
    s.erase(0, nz);
    *out = (neg ? "-" : "") + s;
    return true;
  };
  if (type == "NM") {
    std::string raw = G(obx, 5), num;
    if (decimal(raw, &num)) {
      obs.set("valueQuantity", quantity(num, ""));
    } else if (!raw.empty()) {
      obs.set("valueString", Str(raw));
    }
  } else if (type == "SN") {
    std::string cmp = G(obx, 5, 0, 1), n1 = G(obx, 5, 0, 2), sep = G(obx, 5, 0, 3),
                n2 = G(obx, 5, 0, 4), a, b;
    bool ok1 = decimal(n1, &a), ok2 = decimal(n2, &b);
    if (ok1 && sep.empty() && n2.empty() &&
        (cmp.empty() || cmp == "<" || cmp == ">" || cmp == "<=" || cmp == ">=")) {
      obs.set("valueQuantity", quantity(a, cmp));
    } else if (ok1 && ok2 && (sep == ":" || sep == "/")) {
      Value r = Value::Object();
      Value num = Value::Object(), den = Value::Object();
      num.set("value", Value::Number(a));
      den.set("value", Value::Number(b));
      r.set("numerator", std::move(num));
      r.set("denominator", std::move(den));
      obs.set("valueRatio", std::move(r));
    } else if (ok1 && ok2 && sep == "-") {
      Value r = Value::Object();
      r.set("low", quantity(a, ""));
      r.set("high", quantity(b, ""));
      obs.set("valueRange", std::move(r));
    } else {
      obs.set("valueString", Str(cmp + n1 + sep + n2));
    }
  } else if (type == "CE" || type == "CWE" || type == "CNE" || type == "CF" || type == "IS" ||
             type == "ID") {
    std::optional<Value> cc = (type == "IS" || type == "ID") ? std::nullopt : Concept(obx, 5);
    if (!cc) {
      std::string v = G(obx, 5);
      if (v.empty()) {
        return true;
      }
      cc = Value::Object();
      cc->set("text", Str(v));
    }
    obs.set("valueCodeableConcept", std::move(*cc));
  } else if (type == "DT" || type == "TS" || type == "DTM") {
    std::string t;
    if (!Time(obx, 5, &t)) {
      return false;
    }
    if (!t.empty()) {
      obs.set("valueDateTime", Str(t));
    }
  } else if (type == "TM") {
    std::string t = G(obx, 5);
    if (t.size() >= 4 && std::all_of(t.begin(), t.begin() + 4, ::isdigit)) {
      std::string s = t.size() >= 6 ? t.substr(4, 2) : "00";
      obs.set("valueTime", Str(t.substr(0, 2) + ":" + t.substr(2, 2) + ":" + s));
    } else if (!t.empty()) {
      obs.set("valueString", Str(t));
    }
  } else {
    // ST, TX, FT and anything else: text; repetitions joined by line breaks
    std::string text;
    for (size_t r = 0; r < reps; ++r) {
      std::string v = m_.Unescape(m_.RawRep(obx, 5, r));
      if (r) {
        text += "\n";
      }
      text += v;
    }
    text = Clean(text);
    if (!text.empty()) {
      obs.set("valueString", Str(text));
    }
  }
  return true;
}

bool Mapper::Oru() {
  const Segment* pid_seg = nullptr;
  std::string patient_id, encounter_id;
  // Walk the segments: PID [PV1] then ORC/OBR groups with OBX/NTE/SPM.
  struct Group {
    const Segment* orc = nullptr;
    const Segment* obr = nullptr;
    std::vector<const Segment*> obx;
    std::vector<std::vector<const Segment*>> obx_notes;
    std::vector<const Segment*> notes;  // NTE after OBR
    std::vector<const Segment*> spm;
  };
  std::vector<Group> groups;
  const Segment* last_orc = nullptr;
  bool any = false;
  auto flush = [&]() -> bool {
    for (auto& g : groups) {
      if (!g.obr && g.obx.empty()) {
        continue;
      }
      any = true;
      // OBX before any OBR (patient-level observations): no order, no report.
      const bool report = g.obr != nullptr;
      const Segment& obr = report ? *g.obr : *g.obx.front();
      Source(&obr);
      auto code = report ? Concept(obr, 4) : std::optional<Value>(Value::Object());
      if (!code) {
        return Fail(&obr, 4, 101, "OBR-4 (universal service id) is empty");
      }
      std::string filler = G(obr, 3), placer = G(obr, 2);
      if (filler.empty() && g.orc) {
        filler = G(*g.orc, 3);
      }
      if (placer.empty() && g.orc) {
        placer = G(*g.orc, 2);
      }
      std::string order_key = !filler.empty() ? "F|" + filler
                              : !placer.empty()
                                  ? "P|" + placer
                                  : "M|" + m_.ControlId() + "|" + std::to_string(Seq(&obr));
      std::string fac = ctx_.facility().id;
      std::string rid = "hl7r-" + Hash32(fac + "|" + order_key + "|" + json::Write(*code));
      std::string oid = "hl7o-" + Hash32(fac + "|" + order_key);
      std::string when, issued;
      if (report && (!Time(obr, 7, &when) || !Time(obr, 22, &issued))) {
        return false;
      }
      if (issued.size() < 19) {
        issued.clear();  // an instant needs seconds and a zone
      }
      auto make_ids = [&]() {
        Value ids = Value::Array();
        if (!placer.empty()) {
          Value i = Value::Object();
          i.set("type", TableConcept("0203", "PLAC"));
          i.set("system", Str("urn:carechart:hl7v2:placer:" + fac));
          i.set("value", Str(placer));
          ids.push_back(std::move(i));
        }
        if (!filler.empty()) {
          Value i = Value::Object();
          i.set("type", TableConcept("0203", "FILL"));
          i.set("system", Str("urn:carechart:hl7v2:filler:" + fac));
          i.set("value", Str(filler));
          ids.push_back(std::move(i));
        }
        return ids;
      };
      // ServiceRequest (the order) with the ordering provider
      Value sr = Value::Object();
      sr.set("resourceType", Str("ServiceRequest"));
      sr.set("id", Str(oid));
      if (Value ids = make_ids(); !ids.items().empty()) {
        sr.set("identifier", std::move(ids));
      }
      std::string ostatus = g.orc ? G(*g.orc, 5) : "";
      auto os = cfg_.order_status.find(ostatus);
      sr.set("status", Str(os != cfg_.order_status.end() ? os->second : "completed"));
      sr.set("intent", Str("order"));
      sr.set("code", *code);
      sr.set("subject", Ref("Patient", patient_id));
      if (!encounter_id.empty()) {
        sr.set("encounter", Ref("Encounter", encounter_id));
      }
      {
        auto req = Practitioner(obr, 16, 0);
        if (!req.ok()) {
          return StoreFail(req.status());
        }
        if (!*req && g.orc) {
          req = Practitioner(*g.orc, 12, 0);
          if (!req.ok()) {
            return StoreFail(req.status());
          }
        }
        if (*req) {
          sr.set("requester", std::move(**req));
        }
      }
      Source(&obr);
      if (report) {
        if (Status s = ctx_.PutBlind(std::move(sr)); !s.ok()) {
          return StoreFail(s);
        }
      }
      // Specimens: SPM segments, else OBR-15
      Value specimens = Value::Array();
      int sn = 0;
      auto add_specimen = [&](const Segment& seg, std::optional<Value> type,
                              const std::string& ident, const std::string& collected,
                              const std::string& received) -> bool {
        Source(&seg);
        std::string sid = "hl7s-" + Hash32(rid + "|" + std::to_string(sn++) + "|" + ident);
        Value sp = Value::Object();
        sp.set("resourceType", Str("Specimen"));
        sp.set("id", Str(sid));
        if (!ident.empty()) {
          Value ids = Value::Array();
          Value i = Value::Object();
          i.set("system", Str("urn:carechart:hl7v2:specimen:" + fac));
          i.set("value", Str(ident));
          ids.push_back(std::move(i));
          sp.set("identifier", std::move(ids));
        }
        if (type) {
          sp.set("type", std::move(*type));
        }
        sp.set("subject", Ref("Patient", patient_id));
        if (!received.empty() && received.size() >= 19) {
          sp.set("receivedTime", Str(received));
        }
        if (!collected.empty()) {
          Value c = Value::Object();
          c.set("collectedDateTime", Str(collected));
          sp.set("collection", std::move(c));
        }
        Value req = Value::Array();
        req.push_back(Ref("ServiceRequest", oid));
        sp.set("request", std::move(req));
        if (Status s = ctx_.PutBlind(std::move(sp)); !s.ok()) {
          return StoreFail(s);
        }
        specimens.push_back(Ref("Specimen", sid));
        return true;
      };
      for (const Segment* spm : g.spm) {
        std::string collected, received;
        if (!Time(*spm, 17, &collected) || !Time(*spm, 18, &received)) {
          return false;
        }
        std::string ident = G(*spm, 2, 0, 1, 1);
        if (ident.empty()) {
          ident = G(*spm, 2, 0, 2, 1);
        }
        if (!add_specimen(*spm, Concept(*spm, 4), ident, collected, received)) {
          return false;
        }
      }
      if (report && g.spm.empty() && (!G(obr, 15).empty())) {
        if (!add_specimen(obr, Concept(obr, 15), "", when, "")) {
          return false;
        }
      }
      // Observations
      std::string rstatus_code = G(obr, 25);
      auto rs = cfg_.report_status.find(rstatus_code);
      std::string rstatus = rs != cfg_.report_status.end() ? rs->second : "unknown";
      Value results = Value::Array();
      Value forms = Value::Array();
      for (size_t k = 0; k < g.obx.size(); ++k) {
        const Segment& obx = *g.obx[k];
        Source(&obx);
        std::string vt = G(obx, 2);
        if (vt == "ED" || vt == "RP") {
          Value att = Value::Object();
          auto content_type = [](std::string type, std::string sub) {
            for (auto& c : type) {
              c = static_cast<char>(std::tolower(c));
            }
            for (auto& c : sub) {
              c = static_cast<char>(std::tolower(c));
            }
            if (sub.find('/') != std::string::npos) {
              return sub;
            }
            if (type == "ap" || type == "application") {
              type = "application";
            } else if (type == "im" || type == "image") {
              type = "image";
            } else if (type == "au" || type == "audio") {
              type = "audio";
            } else if (type == "vi" || type == "video") {
              type = "video";
            } else if (type == "tx" || type == "text" || type == "te") {
              type = "text";
            } else if (type == "multipart") {
              type = "multipart";
            } else {
              type = "application";
            }
            if (sub.empty()) {
              sub = type == "text" ? "plain" : "octet-stream";
            }
            if (sub == "octet") {
              sub = "octet-stream";
            }
            return type + "/" + sub;
          };
          if (vt == "ED") {
            std::string enc = G(obx, 5, 0, 4), data = m_.Get(obx, 5, 0, 5);
            att.set("contentType", Str(content_type(G(obx, 5, 0, 2), G(obx, 5, 0, 3))));
            std::string b64;
            std::string lower = enc;
            for (auto& c : lower) {
              c = static_cast<char>(std::tolower(c));
            }
            if (lower == "base64") {
              for (char c : data) {
                if (c != ' ' && c != '\n' && c != '\r') {
                  b64 += c;
                }
              }
              if (b64.size() % 4 != 0) {
                return Fail(&obx, 5, 102, "OBX-5.5 is not valid Base64 data");
              }
            } else if (lower == "hex") {
              std::string bytes;
              for (size_t i = 0; i + 1 < data.size(); i += 2) {
                bytes += static_cast<char>(std::stoi(data.substr(i, 2), nullptr, 16));
              }
              b64 = Base64Encode(bytes);
            } else {
              b64 = Base64Encode(data);
            }
            if (!b64.empty()) {
              att.set("data", Str(b64));
            }
          } else {
            std::string url = G(obx, 5, 0, 1);
            if (url.empty()) {
              continue;
            }
            att.set("contentType", Str(content_type(G(obx, 5, 0, 3), G(obx, 5, 0, 4))));
            att.set("url", Str(url));
          }
          if (auto t = Concept(obx, 3)) {
            att.set("title", Str(std::string(t->string_at("text"))));
          }
          forms.push_back(std::move(att));
          continue;
        }
        auto ocode = Concept(obx, 3);
        if (!ocode) {
          return Fail(&obx, 3, 101, "OBX-3 (observation identifier) is empty");
        }
        std::string xid = "hl7x-" + Hash32(rid + "|" + G(obx, 1) + "|" + G(obx, 3) + "|" +
                                           G(obx, 4) + "|" + std::to_string(k));
        Value obs = Value::Object();
        obs.set("resourceType", Str("Observation"));
        obs.set("id", Str(xid));
        if (report) {
          Value basedOn = Value::Array();
          basedOn.push_back(Ref("ServiceRequest", oid));
          obs.set("basedOn", std::move(basedOn));
        }
        std::string ostat = G(obx, 11);
        auto it = cfg_.observation_status.find(ostat);
        obs.set("status", Str(it != cfg_.observation_status.end() ? it->second
                              : ostat.empty()                     ? rstatus
                                                                  : "unknown"));
        if (obs.string_at("status") == "partial") {
          obs.set("status", Str("preliminary"));
        }
        Value cat = Value::Array();
        Value cc = Value::Object();
        Value codings = Value::Array();
        codings.push_back(CodingV("http://terminology.hl7.org/CodeSystem/observation-category",
                                  "laboratory", "Laboratory"));
        cc.set("coding", std::move(codings));
        cat.push_back(std::move(cc));
        obs.set("category", std::move(cat));
        obs.set("code", std::move(*ocode));
        obs.set("subject", Ref("Patient", patient_id));
        if (!encounter_id.empty()) {
          obs.set("encounter", Ref("Encounter", encounter_id));
        }
        std::string eff;
        if (!Time(obx, 14, &eff)) {
          return false;
        }
        if (eff.empty()) {
          eff = when;
        }
        if (!eff.empty()) {
          obs.set("effectiveDateTime", Str(eff));
        }
        if (!issued.empty()) {
          obs.set("issued", Str(issued));
        }
        Value performers = Value::Array();
        for (size_t r = 0; r < m_.Reps(obx, 16); ++r) {
          auto p = Practitioner(obx, 16, r);
          if (!p.ok()) {
            return StoreFail(p.status());
          }
          if (*p) {
            performers.push_back(std::move(**p));
          }
        }
        Source(&obx);
        performers.push_back(Ref("Organization", fac, ctx_.facility().name));
        obs.set("performer", std::move(performers));
        if (!ObservationValue(obx, obs)) {
          return false;
        }
        // interpretation
        Value interp = Value::Array();
        for (size_t r = 0; r < m_.Reps(obx, 8); ++r) {
          std::string flag = Clean(m_.Unescape(m_.Components(m_.RawRep(obx, 8, r))[0]));
          if (flag.empty()) {
            continue;
          }
          auto f = cfg_.interpretation.find(flag);
          if (f == cfg_.interpretation.end()) {
            return Fail(&obx, 8, 103,
                        "abnormal flag '" + flag + "' is not in the interpretation table");
          }
          Value ic = Value::Object();
          Value icodings = Value::Array();
          icodings.push_back(CodingV(cfg_.interpretation_system, f->second, ""));
          ic.set("coding", std::move(icodings));
          interp.push_back(std::move(ic));
        }
        if (!interp.items().empty()) {
          obs.set("interpretation", std::move(interp));
        }
        // reference range
        std::string range = G(obx, 7);
        if (!range.empty()) {
          Value rr = Value::Object();
          std::string lo, hi;
          auto quantity = [&](const std::string& v) {
            Value q = Value::Object();
            q.set("value", Value::Number(v));
            std::string unit = !G(obx, 6, 0, 2).empty() ? G(obx, 6, 0, 2) : G(obx, 6, 0, 1);
            if (!unit.empty()) {
              q.set("unit", Str(unit));
            }
            std::string sys = cfg_.CodeSystem(G(obx, 6, 0, 3));
            if (!sys.empty() && !G(obx, 6, 0, 1).empty()) {
              q.set("system", Str(sys));
              q.set("code", Str(G(obx, 6, 0, 1)));
            }
            return q;
          };
          auto num = [](const std::string& s) {
            if (s.empty()) {
              return false;
            }
            bool dot = false, digit = false;
            for (size_t i = 0; i < s.size(); ++i) {
              char c = s[i];
              if (c == '-' && i == 0) {
                continue;
              }
              if (c == '.') {
                if (dot) {
                  return false;
                }
                dot = true;
                continue;
              }
              if (c < '0' || c > '9') {
                return false;
              }
              digit = true;
            }
            return digit && s[0] != '.' && s.back() != '.' &&
                   !(s.size() > 1 && s[0] == '0' && s[1] != '.') &&
                   !(s.size() > 2 && s[0] == '-' && s[1] == '0' && s[2] != '.');
          };
          size_t dash = range.find('-', 1);
          if (dash != std::string::npos && num(range.substr(0, dash)) &&
              num(range.substr(dash + 1))) {
            rr.set("low", quantity(range.substr(0, dash)));
            rr.set("high", quantity(range.substr(dash + 1)));
          } else if ((range[0] == '<' || range[0] == '>') &&
                     num(range.substr(range.size() > 1 && range[1] == '=' ? 2 : 1))) {
            std::string v = range.substr(range.size() > 1 && range[1] == '=' ? 2 : 1);
            rr.set(range[0] == '<' ? "high" : "low", quantity(v));
          }
          rr.set("text", Str(range));
          Value rrs = Value::Array();
          rrs.push_back(std::move(rr));
          obs.set("referenceRange", std::move(rrs));
        }
        if (!specimens.items().empty()) {
          obs.set("specimen", specimens.items()[0]);
        }
        Value notes = Value::Array();
        for (const Segment* nte : g.obx_notes[k]) {
          std::string t;
          for (size_t r = 0; r < m_.Reps(*nte, 3); ++r) {
            if (r) {
              t += "\n";
            }
            t += m_.Unescape(m_.RawRep(*nte, 3, r));
          }
          t = Clean(t);
          if (t.empty()) {
            continue;
          }
          Value n = Value::Object();
          n.set("text", Str(t));
          notes.push_back(std::move(n));
        }
        if (!notes.items().empty()) {
          obs.set("note", std::move(notes));
        }
        if (Status s = ctx_.PutBlind(std::move(obs)); !s.ok()) {
          return StoreFail(s);
        }
        results.push_back(Ref("Observation", xid));
      }
      if (!report) {
        continue;  // (attachments of patient-level ED/RP OBX have no report)
      }
      // DiagnosticReport
      Source(&obr);
      Value dr = Value::Object();
      dr.set("resourceType", Str("DiagnosticReport"));
      dr.set("id", Str(rid));
      if (Value ids = make_ids(); !ids.items().empty()) {
        dr.set("identifier", std::move(ids));
      }
      Value basedOn = Value::Array();
      basedOn.push_back(Ref("ServiceRequest", oid));
      dr.set("basedOn", std::move(basedOn));
      dr.set("status", Str(rstatus));
      if (std::string sect = G(obr, 24); !sect.empty() && ValidCode(sect)) {
        Value cats = Value::Array();
        cats.push_back(TableConcept("0074", sect));
        dr.set("category", std::move(cats));
      }
      dr.set("code", std::move(*code));
      dr.set("subject", Ref("Patient", patient_id));
      if (!encounter_id.empty()) {
        dr.set("encounter", Ref("Encounter", encounter_id));
      }
      if (!when.empty()) {
        dr.set("effectiveDateTime", Str(when));
      }
      if (!issued.empty()) {
        dr.set("issued", Str(issued));
      }
      Value performers = Value::Array();
      performers.push_back(Ref("Organization", fac, ctx_.facility().name));
      dr.set("performer", std::move(performers));
      {
        Value interpreters = Value::Array();
        std::string iid = G(obr, 32, 0, 1, 1), ifam = G(obr, 32, 0, 1, 2),
                    igiven = G(obr, 32, 0, 1, 3);
        if (!iid.empty() || !ifam.empty()) {
          Value p = Value::Object();
          std::string pid = "hl7pr-" + Hash32(fac + "|interp|" + iid + "|" + ifam + "|" + igiven);
          p.set("resourceType", Str("Practitioner"));
          p.set("id", Str(pid));
          if (!ifam.empty()) {
            Value names = Value::Array();
            Value n = Value::Object();
            n.set("family", Str(ifam));
            if (!igiven.empty()) {
              Value gv = Value::Array();
              gv.push_back(Str(igiven));
              n.set("given", std::move(gv));
            }
            names.push_back(std::move(n));
            p.set("name", std::move(names));
          }
          if (!iid.empty()) {
            Value ids = Value::Array();
            Value i = Value::Object();
            i.set("system", Str(cfg_.IdentifierSystem("", "", "", "")));
            i.set("value", Str(iid));
            ids.push_back(std::move(i));
            p.set("identifier", std::move(ids));
          }
          if (Status s = ctx_.Ensure(std::move(p)); !s.ok()) {
            return StoreFail(s);
          }
          interpreters.push_back(Ref("Practitioner", pid));
          dr.set("resultsInterpreter", std::move(interpreters));
        }
      }
      if (!specimens.items().empty()) {
        dr.set("specimen", std::move(specimens));
      }
      if (!results.items().empty()) {
        dr.set("result", std::move(results));
      }
      std::string conclusion;
      for (const Segment* nte : g.notes) {
        std::string t = Clean(m_.Unescape(m_.RawRep(*nte, 3, 0)));
        if (t.empty()) {
          continue;
        }
        if (!conclusion.empty()) {
          conclusion += "\n";
        }
        conclusion += t;
      }
      if (!conclusion.empty()) {
        dr.set("conclusion", Str(conclusion));
      }
      if (!forms.items().empty()) {
        dr.set("presentedForm", std::move(forms));
      }
      if (Status s = ctx_.PutBlind(std::move(dr)); !s.ok()) {
        return StoreFail(s);
      }
    }
    groups.clear();
    return true;
  };
  const Segment* last_obx_group = nullptr;
  for (const auto& seg : m_.segments) {
    const std::string& id = seg.id;
    if (id == "PID") {
      if (!flush()) {
        return false;
      }
      pid_seg = &seg;
      if (!PatientFromPid(seg, false, &patient_id)) {
        return false;
      }
      encounter_id.clear();
    } else if (id == "PV1" && pid_seg) {
      if (!EncounterFromPv1(seg, patient_id, false, &encounter_id)) {
        return false;
      }
    } else if (id == "ORC") {
      last_orc = &seg;
    } else if (id == "OBR") {
      if (!pid_seg) {
        return Fail(&seg, 0, 100, "OBR before any PID segment");
      }
      Group g;
      g.orc = last_orc;
      g.obr = &seg;
      groups.push_back(std::move(g));
      last_orc = nullptr;
      last_obx_group = nullptr;
    } else if (id == "OBX" && !groups.empty()) {
      groups.back().obx.push_back(&seg);
      groups.back().obx_notes.emplace_back();
      last_obx_group = &seg;
    } else if (id == "NTE" && !groups.empty()) {
      if (last_obx_group) {
        groups.back().obx_notes.back().push_back(&seg);
      } else {
        groups.back().notes.push_back(&seg);
      }
    } else if (id == "SPM" && !groups.empty()) {
      groups.back().spm.push_back(&seg);
      last_obx_group = nullptr;
    } else if (id == "OBX" && groups.empty()) {
      if (!pid_seg) {
        return Fail(&seg, 0, 100, "OBX before any PID segment");
      }
      groups.emplace_back();  // patient-level observations
      groups.back().orc = last_orc;
      groups.back().obx.push_back(&seg);
      groups.back().obx_notes.emplace_back();
      last_obx_group = &seg;
    }
  }
  if (!flush()) {
    return false;
  }
  if (!pid_seg) {
    return Fail(nullptr, 0, 100, "ORU^R01 has no PID segment");
  }
  if (!any) {
    return Fail(nullptr, 0, 100, "ORU^R01 has no OBR segment");
  }
  return true;
}

bool Mapper::Run(Error* err) {
  std::string type = m_.MessageType();
  if (const Segment* evn = m_.Find("EVN")) {
    if (!Time(*evn, 6, &event_time_)) {
      return (*err = err_, false);
    }
    if (event_time_.empty() && !Time(*evn, 2, &event_time_)) {
      return (*err = err_, false);
    }
  }
  if (event_time_.empty() && !Time(m_.msh(), 7, &event_time_)) {
    return (*err = err_, false);
  }
  if (Status s = EnsureFacility(); !s.ok()) {
    StoreFail(s);
    *err = err_;
    return false;
  }
  bool ok = type == "ORU" ? Oru() : Adt(err);
  if (!ok) {
    *err = err_;
  }
  return ok;
}

}  // namespace

bool ToFhirDateTime(std::string_view v, const std::string& default_tz, std::string* out) {
  out->clear();
  while (!v.empty() && v.back() == ' ') {
    v.remove_suffix(1);
  }
  if (v.empty() || v == "\"\"") {
    return true;
  }
  std::string_view tz;
  size_t zpos = v.find_first_of("+-");
  if (zpos != std::string_view::npos) {
    tz = v.substr(zpos);
    v = v.substr(0, zpos);
    if (tz.size() != 5) {
      return false;
    }
    for (char c : tz.substr(1)) {
      if (c < '0' || c > '9') {
        return false;
      }
    }
  }
  std::string_view frac;
  size_t dot = v.find('.');
  if (dot != std::string_view::npos) {
    frac = v.substr(dot + 1);
    v = v.substr(0, dot);
    if (frac.empty() || frac.size() > 4) {
      return false;
    }
    for (char c : frac) {
      if (c < '0' || c > '9') {
        return false;
      }
    }
  }
  for (char c : v) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  if (v.size() < 4 || v.size() > 14 || v.size() % 2 != 0) {
    return false;
  }
  auto num = [&](size_t pos) { return (v[pos] - '0') * 10 + (v[pos + 1] - '0'); };
  if (v.size() >= 6 && (num(4) < 1 || num(4) > 12)) {
    return false;
  }
  if (v.size() >= 8 && (num(6) < 1 || num(6) > 31)) {
    return false;
  }
  if (v.size() >= 10 && num(8) > 23) {
    return false;
  }
  if (v.size() >= 12 && num(10) > 59) {
    return false;
  }
  if (v.size() >= 14 && num(12) > 60) {
    return false;
  }
  if (!frac.empty() && v.size() != 14) {
    return false;
  }
  std::string s(v.substr(0, 4));
  if (v.size() >= 6) {
    s += "-" + std::string(v.substr(4, 2));
  }
  if (v.size() >= 8) {
    s += "-" + std::string(v.substr(6, 2));
  }
  if (v.size() >= 10) {
    s += "T" + std::string(v.substr(8, 2));
    s += ":" + (v.size() >= 12 ? std::string(v.substr(10, 2)) : std::string("00"));
    s += ":" + (v.size() >= 14 ? std::string(v.substr(12, 2)) : std::string("00"));
    if (!frac.empty()) {
      s += "." + std::string(frac);
    }
    if (!tz.empty()) {
      s += std::string(tz.substr(0, 3)) + ":" + std::string(tz.substr(3, 2));
    } else {
      s += default_tz;
    }
  } else if (!tz.empty() && v.size() < 8) {
    // an offset on a partial date is meaningless in FHIR: dropped
  }
  *out = std::move(s);
  return true;
}

std::string Hash32(std::string_view text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), md, &len, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < 16 && i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

bool IsSupported(const Message& m, Error* error) {
  std::string type = m.MessageType(), event = m.TriggerEvent();
  static const std::set<std::string> kAdt = {"A01", "A02", "A03", "A04", "A05", "A08",
                                             "A11", "A12", "A13", "A31", "A40"};
  if (type == "ADT") {
    if (kAdt.count(event)) {
      return true;
    }
    *error = {"MSH", 1, 9, 201, "ADT event '" + event + "' is not supported"};
    return false;
  }
  if (type == "ORU") {
    if (event == "R01") {
      return true;
    }
    *error = {"MSH", 1, 9, 201, "ORU event '" + event + "' is not supported (only R01)"};
    return false;
  }
  *error = {"MSH", 1, 9, 200,
            "message type '" + type + "^" + event +
                "' is not supported (ADT A01-A13/A31/A40 and ORU^R01 are)"};
  return false;
}

bool MapMessage(const Message& m, MapContext& ctx, Error* error) {
  Mapper mapper(m, ctx);
  return mapper.Run(error);
}

}  // namespace carechart::hl7v2
