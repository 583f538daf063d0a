// Clinical catalogues: the codes the generator writes, as real systems use them (SNOMED CT and
// ICD-10-CM on conditions, LOINC with UCUM units on observations, RxNorm on medications, CVX on
// immunizations, CPT on claim lines, DICOM on imaging studies).
#pragma once

#include <cstdint>
#include <string_view>

namespace carechart::synth {

namespace sys {
// The meta.tag system of the facility a resource was recorded at (rest/resource_prep.h).
inline constexpr std::string_view kFacilityTag = "https://carechart.dev/fhir/CodeSystem/facility";
inline constexpr std::string_view kSnomed = "http://snomed.info/sct";
inline constexpr std::string_view kLoinc = "http://loinc.org";
inline constexpr std::string_view kRxNorm = "http://www.nlm.nih.gov/research/umls/rxnorm";
inline constexpr std::string_view kIcd10 = "http://hl7.org/fhir/sid/icd-10-cm";
inline constexpr std::string_view kCvx = "http://hl7.org/fhir/sid/cvx";
inline constexpr std::string_view kCpt = "http://www.ama-assn.org/go/cpt";
inline constexpr std::string_view kNucc = "http://nucc.org/provider-taxonomy";
inline constexpr std::string_view kNpi = "http://hl7.org/fhir/sid/us-npi";
inline constexpr std::string_view kDicom = "http://dicom.nema.org/resources/ontology/DCM";
inline constexpr std::string_view kActCode = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
inline constexpr std::string_view kRoleCode = "http://terminology.hl7.org/CodeSystem/v3-RoleCode";
inline constexpr std::string_view kParticipation =
    "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";
inline constexpr std::string_view kObsCategory =
    "http://terminology.hl7.org/CodeSystem/observation-category";
inline constexpr std::string_view kV2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074";
inline constexpr std::string_view kV2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203";
inline constexpr std::string_view kMrn = "https://carechart.dev/fhir/demo/mrn";
}  // namespace sys

enum class Cond : uint8_t {
  kDiabetes,
  kPrediabetes,
  kHypertension,
  kHyperlipidemia,
  kAsthma,
  kCkd3,
  kObesity,
  kCopd,
  kCad,
  kAfib,
  kDepression,
  kHypothyroid,
  kOsteoarthritis,
  kNeuropathy,
  // acute
  kViralPharyngitis,
  kStrepThroat,
  kSinusitis,
  kBronchitis,
  kOtitis,
  kUti,
  kAnkleSprain,
  kBackPain,
  kChestPain,
  kAsthmaExacerbation,
  kPneumonia,
  kHypoglycemia,
  kFootUlcer,
  kCellulitis,
  kCount
};
struct ConditionDef {
  std::string_view snomed, snomed_display, icd10, icd10_display;
  bool chronic;
};
const ConditionDef& Def(Cond c);

enum class Lab : uint8_t {
  kHba1c,
  kGlucoseBlood,
  kGlucose,
  kBun,
  kCreatinine,
  kSodium,
  kPotassium,
  kChloride,
  kCo2,
  kCalcium,
  kEgfr,
  kCholesterol,
  kTriglycerides,
  kHdl,
  kLdl,
  kWbc,
  kRbc,
  kHemoglobin,
  kHematocrit,
  kPlatelets,
  kUacr,
  kCrp,
  kLactate,
  kTroponin,
  kTsh,
  kCount
};
struct LabDef {
  std::string_view loinc, display, unit, ucum;
  double low, high;  // reference range; low == high: none
  int places;
  std::string_view cpt;  // billed alone (empty: billed as part of its panel)
};
const LabDef& Def(Lab l);

enum class Panel : uint8_t { kBmp, kLipid, kCbc, kCount };
struct PanelDef {
  std::string_view loinc, display, cpt;
  Lab members[9];
  int count;
};
const PanelDef& Def(Panel p);

enum class Med : uint8_t {
  kMetformin,
  kInsulinGlargine,
  kLisinopril,
  kAmlodipine,
  kHctz,
  kLosartan,
  kSimvastatin,
  kAtorvastatin,
  kAlbuterol,
  kFluticasone,
  kLevothyroxine,
  kSertraline,
  kApixaban,
  kMetoprolol,
  kClopidogrel,
  kAspirin,
  kAmoxicillin,
  kAmoxClav,
  kAmoxClav875,
  kAzithromycin,
  kNitrofurantoin,
  kSmxTmp,
  kCephalexin,
  kIbuprofen,
  kAcetaminophen,
  kNaproxen,
  kPrednisone,
  kCiprofloxacinIv,
  kDoxycycline,
  kCeftriaxone,
  kEpinephrine,
  kCount
};
struct MedDef {
  std::string_view rxnorm, display, sig;
  double per_day;  // units a day (0: as needed)
  int days;        // days supplied per fill (chronic: 90)
  bool chronic;
  bool penicillin;  // contains a penicillin
  bool sulfonamide;
};
const MedDef& Def(Med m);

enum class Vaccine : uint8_t {
  kHepB,
  kDtap,
  kIpv,
  kHib,
  kPcv13,
  kRotavirus,
  kMmr,
  kVaricella,
  kHepA,
  kFlu,
  kTdap,
  kTd,
  kHpv,
  kMening,
  kZoster,
  kPpsv23,
  kCount
};
struct VaccineDef {
  std::string_view cvx, display;
};
const VaccineDef& Def(Vaccine v);

enum class Proc : uint8_t {
  kFootExam,
  kDebridement,
  kEcg,
  kSpirometry,
  kMedRec,
  kWoundCare,
  kNebulizer,
  kCount
};
struct ProcedureDef {
  std::string_view snomed, display, cpt, cpt_display;
  double price;
};
const ProcedureDef& Def(Proc p);

enum class Imaging : uint8_t {
  kChestXray,
  kFootXray,
  kAnkleXray,
  kFootMri,
  kMammogram,
  kEcho,
  kCount
};
struct ImagingDef {
  std::string_view modality, modality_display, snomed, display, body_snomed, body_display;
  std::string_view report_loinc, report_display, cpt, sop_class;
  double price;
};
const ImagingDef& Def(Imaging i);

enum class Allergen : uint8_t {
  kPenicillin,
  kSulfonamide,
  kPeanut,
  kLatex,
  kBeeVenom,
  kPollen,
  kCatDander,
  kCount
};
struct AllergenDef {
  std::string_view snomed, display, rxnorm, rxnorm_display;  // rxnorm: ingredient, drugs only
  std::string_view category;                                 // medication | food | environment
  std::string_view reaction_snomed, reaction_display;
  bool high_criticality;
};
const AllergenDef& Def(Allergen a);

enum class Visit : uint8_t {
  kWellness,
  kWellChild,
  kFollowUp,
  kSymptom,
  kConsult,
  kEmergency,
  kInpatient,
  kImaging,
  kCount
};
struct VisitDef {
  std::string_view snomed, display, act_class, act_display;
  std::string_view cpt, cpt_display;
  double price;
};
const VisitDef& Def(Visit v);

}  // namespace carechart::synth
