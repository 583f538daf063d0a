// The region the synthetic patients live in: its towns, streets and names, and its facilities
// (primary care, specialists, an emergency department, a hospital, a lab, imaging, a pharmacy,
// payers), each an Organization with a Location, practitioners and their roles. Fixed: the same
// for every seed, so that datasets of different seeds share one directory of facilities.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "synth/json_writer.h"
#include "synth/rng.h"
#include "synth/sink.h"

namespace carechart::synth {

enum class Fac : uint8_t {
  kRiversidePrimaryCare,
  kHillcrestFamilyMedicine,
  kLakesideEndocrinology,
  kNorthgatePodiatry,
  kValleyHeartCardiology,
  kMercyEmergency,
  kMercyHospital,
  kClearwaterLab,
  kValleyImaging,
  kRiversidePharmacy,
  kCount
};
enum class Payer : uint8_t { kCommercial, kMedicare, kMedicaid, kCount };

struct FacilityDef {
  std::string_view id, name, short_code;
  std::string_view org_type, org_type_display;  // organization-type
  std::string_view loc_type, loc_type_display;  // v3-RoleCode
  std::string_view taxonomy, taxonomy_display;  // NUCC specialty of its clinicians
  std::string_view role, role_display;          // practitioner-role
  std::string_view degree, degree_display;      // v2-0360 qualification
  std::string_view street;
  int town;
  int staff;
  std::string_view part_of;
};
const FacilityDef& Def(Fac f);

struct PayerDef {
  std::string_view id, name, plan_type, plan_display;
};
const PayerDef& Def(Payer p);

struct Town {
  std::string_view name, zip, area_code;
};
const Town& TownAt(int i);
int TownCount();

struct Practitioner {
  std::string id;
  std::string role_id;
  std::string given, family;
  bool female;
  Fac facility;
};

// Name and address lists.
std::string_view GivenName(Rng& rng, bool female);
std::string_view FamilyName(Rng& rng);
std::string_view StreetName(Rng& rng);

class Region {
 public:
  Region();
  const Practitioner& Staff(Fac f, uint64_t i) const;
  size_t StaffCount(Fac f) const { return staff_[static_cast<size_t>(f)].size(); }
  // Writes every Organization, Location, Practitioner and PractitionerRole.
  void Write(JsonWriter& w, ResourceSink& sink) const;
  size_t ResourceCount() const;

 private:
  std::vector<Practitioner> staff_[static_cast<size_t>(Fac::kCount)];
};

// An NPI-shaped identifier (10 digits, valid Luhn check digit over the 80840 prefix).
std::string MakeNpi(uint64_t n);

}  // namespace carechart::synth
