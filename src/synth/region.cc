#include "synth/region.h"

#include <cstdio>
#include <iterator>

#include "synth/catalog.h"

namespace carechart::synth {

namespace {

constexpr Town kTowns[] = {
    {"Riverside", "97401", "541"},   {"Lakeside", "97402", "541"},   {"Northgate", "97404", "541"},
    {"Cedar Falls", "97405", "541"}, {"Millbrook", "97408", "458"},  {"Oak Hollow", "97413", "458"},
    {"Pine Ridge", "97419", "541"},  {"Clearwater", "97420", "458"},
};

constexpr FacilityDef kFacilities[] = {
    {"riverside-primary-care", "Riverside Primary Care", "rpc", "prov", "Healthcare Provider", "PC",
     "Primary care clinic", "207Q00000X", "Family Medicine", "doctor", "Doctor", "MD",
     "Doctor of Medicine", "120 River Road", 0, 6, ""},
    {"hillcrest-family-medicine", "Hillcrest Family Medicine", "hfm", "prov", "Healthcare Provider",
     "FMC", "Family medicine clinic", "207Q00000X", "Family Medicine", "doctor", "Doctor", "DO",
     "Doctor of Osteopathy", "48 Hillcrest Drive", 3, 4, ""},
    {"lakeside-endocrinology", "Lakeside Endocrinology", "endo", "prov", "Healthcare Provider",
     "ENDO", "Endocrinology clinic", "207RE0101X",
     "Internal Medicine, Endocrinology, Diabetes & Metabolism", "doctor", "Doctor", "MD",
     "Doctor of Medicine", "9 Lakeshore Boulevard", 1, 3, ""},
    {"northgate-podiatry", "Northgate Podiatry & Foot Care", "pod", "prov", "Healthcare Provider",
     "PROFF", "Provider's Office", "213E00000X", "Podiatrist", "doctor", "Doctor", "DPM",
     "Doctor of Podiatric Medicine", "310 Northgate Avenue", 2, 2, ""},
    {"valley-heart-cardiology", "Valley Heart Cardiology", "card", "prov", "Healthcare Provider",
     "CVDX", "Cardiovascular diagnostics or therapeutics unit", "207RC0000X",
     "Internal Medicine, Cardiovascular Disease", "doctor", "Doctor", "MD", "Doctor of Medicine",
     "77 Valley Parkway", 7, 3, "mercy-hospital"},
    {"mercy-emergency", "Mercy Hospital Emergency Department", "ed", "dept", "Hospital Department",
     "ER", "Emergency room", "207P00000X", "Emergency Medicine", "doctor", "Doctor", "MD",
     "Doctor of Medicine", "1500 Mercy Way", 7, 5, "mercy-hospital"},
    {"mercy-hospital", "Mercy General Hospital", "hosp", "prov", "Healthcare Provider", "HOSP",
     "Hospital", "208M00000X", "Hospitalist", "doctor", "Doctor", "MD", "Doctor of Medicine",
     "1500 Mercy Way", 7, 6, ""},
    {"clearwater-lab", "Clearwater Diagnostic Laboratory", "lab", "prov", "Healthcare Provider",
     "OUTLAB", "outpatient laboratory", "207ZP0102X", "Pathology, Anatomic & Clinical Pathology",
     "doctor", "Doctor", "MD", "Doctor of Medicine", "22 Commerce Street", 7, 2, ""},
    {"valley-imaging-center", "Valley Imaging Center", "img", "prov", "Healthcare Provider",
     "RADDX", "Radiology diagnostics or therapeutics unit", "2085R0202X", "Diagnostic Radiology",
     "doctor", "Doctor", "MD", "Doctor of Medicine", "80 Valley Parkway", 7, 3, ""},
    {"riverside-pharmacy", "Riverside Community Pharmacy", "rx", "prov", "Healthcare Provider",
     "PHARM", "Pharmacy", "183500000X", "Pharmacist", "pharmacist", "Pharmacist", "PharmD",
     "Doctor of Pharmacy", "134 River Road", 0, 3, ""},
};
static_assert(std::size(kFacilities) == static_cast<size_t>(Fac::kCount));

constexpr PayerDef kPayers[] = {
    {"clearwater-health-plan", "Clearwater Health Plan", "PPO", "Preferred provider organization"},
    {"valley-senior-advantage", "Valley Senior Advantage (Medicare Advantage)", "MA",
     "Medicare Advantage"},
    {"state-medicaid", "State Medicaid", "MCD", "Medicaid"},
};

constexpr std::string_view kFemale[] = {
    "Mary",   "Patricia", "Jennifer", "Linda",   "Elizabeth", "Barbara",  "Susan",  "Jessica",
    "Sarah",  "Karen",    "Lisa",     "Nancy",   "Sandra",    "Ashley",   "Emily",  "Michelle",
    "Amanda", "Melissa",  "Laura",    "Rebecca", "Sofia",     "Isabella", "Camila", "Valentina",
    "Ana",    "Lucía",    "Mei",      "Aiko",    "Priya",     "Aisha",    "Fatima", "Olivia",
    "Emma",   "Ava",      "Mia",      "Harper",  "Chloe",     "Grace",    "Nora",   "Zoe"};
constexpr std::string_view kMale[] = {
    "James",  "Robert",  "John",   "Michael", "David",   "William", "Richard", "Joseph",
    "Thomas", "Charles", "Daniel", "Matthew", "Anthony", "Mark",    "Steven",  "Andrew",
    "Joshua", "Kevin",   "Brian",  "Ryan",    "José",    "Luis",    "Carlos",  "Miguel",
    "Diego",  "Hiroshi", "Kenji",  "Wei",     "Arjun",   "Omar",    "Samuel",  "Liam",
    "Noah",   "Elijah",  "Lucas",  "Ethan",   "Mateo",   "Henry",   "Owen",    "Jack"};
constexpr std::string_view kFamily[] = {
    "Smith",    "Johnson",   "Williams", "Brown",     "Jones",    "Garcia",   "Miller",
    "Davis",    "Rodriguez", "Martinez", "Hernandez", "Lopez",    "Gonzalez", "Wilson",
    "Anderson", "Thomas",    "Taylor",   "Moore",     "Jackson",  "Martin",   "Lee",
    "Perez",    "Thompson",  "White",    "Harris",    "Sanchez",  "Clark",    "Ramirez",
    "Lewis",    "Robinson",  "Walker",   "Young",     "Allen",    "King",     "Wright",
    "Scott",    "Torres",    "Nguyen",   "Hill",      "Flores",   "Green",    "Adams",
    "Nelson",   "Baker",     "Hall",     "Rivera",    "Campbell", "Mitchell", "Carter",
    "Roberts",  "Tanaka",    "Okafor",   "Johansson", "O'Brien",  "Patel",    "Kim",
    "Chen",     "Nakamura",  "Schmidt",  "Kowalski",  "Haddad",   "Novak",    "Morales"};
constexpr std::string_view kStreets[] = {
    "Maple Street",     "Oak Avenue",  "Cedar Lane",     "Pine Street",       "Elm Drive",
    "Willow Way",       "Birch Road",  "Aspen Court",    "Spruce Street",     "Juniper Lane",
    "River Road",       "Lake Drive",  "Hillcrest Road", "Valley View Drive", "Meadow Lane",
    "Sunset Boulevard", "Mill Street", "Church Street",  "Park Avenue",       "Orchard Road"};

void WriteAddress(JsonWriter& w, std::string_view line, const Town& t) {
  w.Arr("address").Obj().Str("use", "work").Arr("line").Str(line).End();
  w.Str("city", t.name).Str("state", "OR").Str("postalCode", t.zip).Str("country", "US");
  w.End().End();
}

void WritePhone(JsonWriter& w, const Town& t, int n) {
  char phone[16];
  std::snprintf(phone, sizeof phone, "%.3s-555-%04d", t.area_code.data(), n % 10000);
  w.Arr("telecom").Obj().Str("system", "phone").Str("value", phone).Str("use", "work").End().End();
}

}  // namespace

const FacilityDef& Def(Fac f) { return kFacilities[static_cast<size_t>(f)]; }
const PayerDef& Def(Payer p) { return kPayers[static_cast<size_t>(p)]; }
const Town& TownAt(int i) { return kTowns[i]; }
int TownCount() { return static_cast<int>(std::size(kTowns)); }

std::string_view GivenName(Rng& rng, bool female) {
  return female ? rng.Pick(kFemale) : rng.Pick(kMale);
}
std::string_view FamilyName(Rng& rng) { return rng.Pick(kFamily); }
std::string_view StreetName(Rng& rng) { return rng.Pick(kStreets); }

std::string MakeNpi(uint64_t n) {
  std::string digits = std::to_string(1000000000ULL + n % 1000000000ULL).substr(1, 9);
  digits[0] = '1';
  // Luhn over "80840" + 9 digits; the check digit makes the 15-digit number valid.
  std::string full = "80840" + digits;
  int sum = 0;
  for (size_t i = 0; i < full.size(); ++i) {
    int d = full[full.size() - 1 - i] - '0';
    if (i % 2 == 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits + static_cast<char>('0' + (10 - sum % 10) % 10);
}

Region::Region() {
  Rng rng(0x5eed0f4e610aULL);  // fixed: the region does not depend on --seed
  for (size_t f = 0; f < std::size(kFacilities); ++f) {
    const FacilityDef& def = kFacilities[f];
    for (int i = 0; i < def.staff; ++i) {
      Practitioner p;
      char buf[32];
      std::snprintf(buf, sizeof buf, "prac-%.*s-%02d", static_cast<int>(def.short_code.size()),
                    def.short_code.data(), i + 1);
      p.id = buf;
      std::snprintf(buf, sizeof buf, "role-%.*s-%02d", static_cast<int>(def.short_code.size()),
                    def.short_code.data(), i + 1);
      p.role_id = buf;
      p.female = rng.Chance(0.5);
      p.given = GivenName(rng, p.female);
      p.family = FamilyName(rng);
      p.facility = static_cast<Fac>(f);
      staff_[f].push_back(std::move(p));
    }
  }
}

const Practitioner& Region::Staff(Fac f, uint64_t i) const {
  const auto& list = staff_[static_cast<size_t>(f)];
  return list[i % list.size()];
}

size_t Region::ResourceCount() const {
  size_t n = std::size(kFacilities) * 2 + std::size(kPayers);
  for (const auto& list : staff_) n += list.size() * 2;
  return n;
}

void Region::Write(JsonWriter& w, ResourceSink& sink) const {
  int serial = 0;
  for (const PayerDef& p : kPayers) {
    w.Reset();
    w.Obj().Str("resourceType", "Organization").Str("id", p.id).Bool("active", true);
    w.Arr("type").ConceptItem("http://terminology.hl7.org/CodeSystem/organization-type", "pay",
                              "Payer");
    w.End().Str("name", p.name);
    WriteAddress(w, "1 Insurance Plaza", kTowns[7]);
    w.End();
    sink.Add(RType::kOrganization, p.id, w.text());
  }
  for (size_t f = 0; f < std::size(kFacilities); ++f) {
    const FacilityDef& d = kFacilities[f];
    const Town& town = kTowns[d.town];
    w.Reset();
    w.Obj().Str("resourceType", "Organization").Str("id", d.id);
    w.Arr("identifier").Obj().Str("system", sys::kNpi).Str("value", MakeNpi(7000 + f)).End().End();
    w.Bool("active", true);
    w.Arr("type").ConceptItem("http://terminology.hl7.org/CodeSystem/organization-type", d.org_type,
                              d.org_type_display);
    w.End().Str("name", d.name);
    WritePhone(w, town, 1000 + static_cast<int>(f) * 10);
    WriteAddress(w, d.street, town);
    if (!d.part_of.empty()) w.Ref("partOf", "Organization", d.part_of);
    w.End();
    sink.Add(RType::kOrganization, d.id, w.text());

    std::string loc_id = std::string(d.id) + "-site";
    w.Reset();
    w.Obj().Str("resourceType", "Location").Str("id", loc_id).Str("status", "active");
    w.Str("name", d.name).Str("mode", "instance");
    w.Arr("type").ConceptItem(sys::kRoleCode, d.loc_type, d.loc_type_display).End();
    WritePhone(w, town, 1000 + static_cast<int>(f) * 10);
    w.Obj("address").Str("use", "work").Arr("line").Str(d.street).End();
    w.Str("city", town.name).Str("state", "OR").Str("postalCode", town.zip).Str("country", "US");
    w.End().Ref("managingOrganization", "Organization", d.id).End();
    sink.Add(RType::kLocation, loc_id, w.text());

    for (const Practitioner& p : staff_[f]) {
      w.Reset();
      w.Obj().Str("resourceType", "Practitioner").Str("id", p.id);
      w.Arr("identifier").Obj().Str("system", sys::kNpi).Str("value", MakeNpi(++serial * 7919));
      w.End().End().Bool("active", true);
      w.Arr("name").Obj().Str("use", "official").Str("family", p.family);
      w.Arr("given").Str(p.given).End();
      if (d.role == "doctor") w.Arr("prefix").Str("Dr.").End();
      w.Arr("suffix").Str(d.degree).End().End().End();
      WritePhone(w, town, 2000 + serial);
      w.Str("gender", p.female ? "female" : "male");
      w.Arr("qualification").Obj().Obj("code").Arr("coding");
      w.Coding("http://terminology.hl7.org/CodeSystem/v2-0360", d.degree, d.degree_display);
      w.End().End().Ref("issuer", "Organization", d.id).End().End();
      w.End();
      sink.Add(RType::kPractitioner, p.id, w.text());

      w.Reset();
      w.Obj().Str("resourceType", "PractitionerRole").Str("id", p.role_id).Bool("active", true);
      w.Ref("practitioner", "Practitioner", p.id, p.given + " " + p.family);
      w.Ref("organization", "Organization", d.id, d.name);
      w.Concept("code", "http://terminology.hl7.org/CodeSystem/practitioner-role", d.role,
                d.role_display, true);
      w.Concept("specialty", sys::kNucc, d.taxonomy, d.taxonomy_display, true);
      w.Arr("location").RefItem("Location", loc_id).End();
      w.End();
      sink.Add(RType::kPractitionerRole, p.role_id, w.text());
    }
  }
  sink.EndGroup("reference-data");
}

}  // namespace carechart::synth
