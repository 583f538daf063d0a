#include "synth/catalog.h"

#include <iterator>

namespace carechart::synth {

namespace {

constexpr ConditionDef kConditions[] = {
    {"44054006", "Diabetes mellitus type 2", "E11.9",
     "Type 2 diabetes mellitus without complications", true},
    {"714628002", "Prediabetes", "R73.03", "Prediabetes", true},
    {"59621000", "Essential hypertension", "I10", "Essential (primary) hypertension", true},
    {"55822004", "Hyperlipidemia", "E78.5", "Hyperlipidemia, unspecified", true},
    {"195967001", "Asthma", "J45.909", "Unspecified asthma, uncomplicated", true},
    {"433144002", "Chronic kidney disease stage 3", "N18.30",
     "Chronic kidney disease, stage 3 unspecified", true},
    {"414916001", "Obesity", "E66.9", "Obesity, unspecified", true},
    {"13645005", "Chronic obstructive lung disease", "J44.9",
     "Chronic obstructive pulmonary disease, unspecified", true},
    {"53741008", "Coronary arteriosclerosis", "I25.10",
     "Atherosclerotic heart disease of native coronary artery without angina pectoris", true},
    {"49436004", "Atrial fibrillation", "I48.91", "Unspecified atrial fibrillation", true},
    {"35489007", "Depressive disorder", "F32.A", "Depression, unspecified", true},
    {"40930008", "Hypothyroidism", "E03.9", "Hypothyroidism, unspecified", true},
    {"239873007", "Osteoarthritis of knee", "M17.9", "Osteoarthritis of knee, unspecified", true},
    {"230572002", "Neuropathy due to diabetes mellitus", "E11.42",
     "Type 2 diabetes mellitus with diabetic polyneuropathy", true},
    {"195662009", "Acute viral pharyngitis", "J02.9", "Acute pharyngitis, unspecified", false},
    {"43878008", "Streptococcal sore throat", "J02.0", "Streptococcal pharyngitis", false},
    {"444814009", "Viral sinusitis", "J01.90", "Acute sinusitis, unspecified", false},
    {"10509002", "Acute bronchitis", "J20.9", "Acute bronchitis, unspecified", false},
    {"65363002", "Otitis media", "H66.90", "Otitis media, unspecified, unspecified ear", false},
    {"68566005", "Urinary tract infectious disease", "N39.0",
     "Urinary tract infection, site not specified", false},
    {"44465007", "Sprain of ankle", "S93.409A",
     "Sprain of unspecified ligament of unspecified ankle, initial encounter", false},
    {"279039007", "Low back pain", "M54.50", "Low back pain, unspecified", false},
    {"29857009", "Chest pain", "R07.9", "Chest pain, unspecified", false},
    {"281239006", "Exacerbation of asthma", "J45.901",
     "Unspecified asthma with (acute) exacerbation", false},
    {"233604007", "Pneumonia", "J18.9", "Pneumonia, unspecified organism", false},
    {"302866003", "Hypoglycemia", "E11.649",
     "Type 2 diabetes mellitus with hypoglycemia without coma", false},
    {"371087003", "Ulcer of foot due to diabetes mellitus", "E11.621",
     "Type 2 diabetes mellitus with foot ulcer", false},
    {"128045006", "Cellulitis", "L03.116", "Cellulitis of left lower limb", false},
};
static_assert(std::size(kConditions) == static_cast<size_t>(Cond::kCount));

constexpr LabDef kLabs[] = {
    {"4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", "%", 4.0, 5.6, 1, "83036"},
    {"2339-0", "Glucose [Mass/volume] in Blood", "mg/dL", "mg/dL", 70, 99, 0, "82947"},
    {"2345-7", "Glucose [Mass/volume] in Serum or Plasma", "mg/dL", "mg/dL", 70, 99, 0, ""},
    {"3094-0", "Urea nitrogen [Mass/volume] in Serum or Plasma", "mg/dL", "mg/dL", 7, 20, 0, ""},
    {"2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", "mg/dL", 0.6, 1.2, 2, ""},
    {"2951-2", "Sodium [Moles/volume] in Serum or Plasma", "mmol/L", "mmol/L", 136, 145, 0, ""},
    {"2823-3", "Potassium [Moles/volume] in Serum or Plasma", "mmol/L", "mmol/L", 3.5, 5.1, 1, ""},
    {"2075-0", "Chloride [Moles/volume] in Serum or Plasma", "mmol/L", "mmol/L", 98, 107, 0, ""},
    {"2028-9", "Carbon dioxide, total [Moles/volume] in Serum or Plasma", "mmol/L", "mmol/L", 22,
     29, 0, ""},
    {"17861-6", "Calcium [Mass/volume] in Serum or Plasma", "mg/dL", "mg/dL", 8.6, 10.3, 1, ""},
    {"33914-3",
     "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum or Plasma by "
     "Creatinine-based formula (MDRD)",
     "mL/min/1.73m2", "mL/min/{1.73_m2}", 60, 60, 0, ""},
    {"2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", "mg/dL", "mg/dL", 0, 200, 0, ""},
    {"2571-8", "Triglyceride [Mass/volume] in Serum or Plasma", "mg/dL", "mg/dL", 0, 150, 0, ""},
    {"2085-9", "Cholesterol in HDL [Mass/volume] in Serum or Plasma", "mg/dL", "mg/dL", 40, 40, 0,
     ""},
    {"18262-6", "Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay", "mg/dL",
     "mg/dL", 0, 100, 0, ""},
    {"6690-2", "Leukocytes [#/volume] in Blood by Automated count", "10*3/uL", "10*3/uL", 4.5, 11.0,
     1, ""},
    {"789-8", "Erythrocytes [#/volume] in Blood by Automated count", "10*6/uL", "10*6/uL", 4.2, 5.9,
     2, ""},
    {"718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", "g/dL", 12.0, 17.5, 1, ""},
    {"4544-3", "Hematocrit [Volume Fraction] of Blood by Automated count", "%", "%", 36, 50, 1, ""},
    {"777-3", "Platelets [#/volume] in Blood by Automated count", "10*3/uL", "10*3/uL", 150, 400, 0,
     ""},
    {"14959-1", "Microalbumin/Creatinine [Mass Ratio] in Urine", "mg/g", "mg/g", 0, 30, 0, "82043"},
    {"1988-5", "C reactive protein [Mass/volume] in Serum or Plasma", "mg/L", "mg/L", 0, 10, 1,
     "86140"},
    {"2524-7", "Lactate [Moles/volume] in Serum or Plasma", "mmol/L", "mmol/L", 0.5, 2.2, 1,
     "83605"},
    {"89579-7", "Troponin I.cardiac [Mass/volume] in Serum or Plasma by High sensitivity method",
     "ng/L", "ng/L", 0, 34, 0, "84484"},
    {"3016-3", "Thyrotropin [Units/volume] in Serum or Plasma", "mIU/L", "m[IU]/L", 0.4, 4.0, 2,
     "84443"},
};
static_assert(std::size(kLabs) == static_cast<size_t>(Lab::kCount));

constexpr PanelDef kPanels[] = {
    {"51990-0",
     "Basic metabolic panel - Blood",
     "80048",
     {Lab::kGlucose, Lab::kBun, Lab::kCreatinine, Lab::kSodium, Lab::kPotassium, Lab::kChloride,
      Lab::kCo2, Lab::kCalcium, Lab::kEgfr},
     9},
    {"57698-3",
     "Lipid panel with direct LDL - Serum or Plasma",
     "80061",
     {Lab::kCholesterol, Lab::kTriglycerides, Lab::kHdl, Lab::kLdl},
     4},
    {"58410-2",
     "CBC panel - Blood by Automated count",
     "85027",
     {Lab::kWbc, Lab::kRbc, Lab::kHemoglobin, Lab::kHematocrit, Lab::kPlatelets},
     5},
};

constexpr MedDef kMeds[] = {
    {"860975", "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet",
     "Take 1 tablet by mouth once daily with the evening meal", 1, 90, true, false, false},
    {"847232", "3 ML insulin glargine 100 UNT/ML Pen Injector [Lantus]",
     "Inject 14 units under the skin once daily at bedtime", 0, 90, true, false, false},
    {"314076", "lisinopril 10 MG Oral Tablet", "Take 1 tablet by mouth once daily", 1, 90, true,
     false, false},
    {"197361", "amlodipine 5 MG Oral Tablet", "Take 1 tablet by mouth once daily", 1, 90, true,
     false, false},
    {"310798", "hydrochlorothiazide 25 MG Oral Tablet", "Take 1 tablet by mouth every morning", 1,
     90, true, false, false},
    {"979492", "losartan potassium 50 MG Oral Tablet", "Take 1 tablet by mouth once daily", 1, 90,
     true, false, false},
    {"312961", "simvastatin 20 MG Oral Tablet", "Take 1 tablet by mouth at bedtime", 1, 90, true,
     false, false},
    {"259255", "atorvastatin 80 MG Oral Tablet", "Take 1 tablet by mouth once daily", 1, 90, true,
     false, false},
    {"745679", "200 ACTUAT albuterol 0.09 MG/ACTUAT Metered Dose Inhaler",
     "Inhale 2 puffs every 4 to 6 hours as needed for wheezing", 0, 30, true, false, false},
    {"895994", "120 ACTUAT fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler",
     "Inhale 2 puffs twice daily; rinse mouth after use", 0, 30, true, false, false},
    {"966222", "levothyroxine sodium 0.075 MG Oral Tablet",
     "Take 1 tablet by mouth every morning on an empty stomach", 1, 90, true, false, false},
    {"312940", "sertraline 50 MG Oral Tablet", "Take 1 tablet by mouth once daily", 1, 90, true,
     false, false},
    {"1364445", "apixaban 5 MG Oral Tablet", "Take 1 tablet by mouth twice daily", 2, 90, true,
     false, false},
    {"866412", "24 HR metoprolol succinate 100 MG Extended Release Oral Tablet",
     "Take 1 tablet by mouth once daily", 1, 90, true, false, false},
    {"309362", "clopidogrel 75 MG Oral Tablet", "Take 1 tablet by mouth once daily", 1, 90, true,
     false, false},
    {"243670", "aspirin 81 MG Oral Tablet", "Take 1 tablet by mouth once daily", 1, 90, true, false,
     false},
    {"308192", "amoxicillin 500 MG Oral Tablet",
     "Take 1 tablet by mouth every 12 hours for 10 days", 2, 10, false, true, false},
    {"562251", "amoxicillin 250 MG / clavulanate 125 MG Oral Tablet",
     "Take 1 tablet by mouth every 8 hours for 7 days", 3, 7, false, true, false},
    {"562508", "amoxicillin 875 MG / clavulanate 125 MG Oral Tablet",
     "Take 1 tablet by mouth every 12 hours for 10 days", 2, 10, false, true, false},
    {"308460", "azithromycin 250 MG Oral Tablet",
     "Take 2 tablets on day 1, then 1 tablet daily on days 2 to 5", 1.2, 5, false, false, false},
    {"311995", "nitrofurantoin, macrocrystals 50 MG Oral Capsule",
     "Take 2 capsules by mouth every 12 hours for 5 days", 4, 5, false, false, false},
    {"198335", "sulfamethoxazole 800 MG / trimethoprim 160 MG Oral Tablet",
     "Take 1 tablet by mouth every 12 hours for 3 days", 2, 3, false, false, true},
    {"309114", "cephalexin 500 MG Oral Capsule", "Take 1 capsule by mouth every 6 hours for 7 days",
     4, 7, false, false, false},
    {"310965", "ibuprofen 200 MG Oral Tablet",
     "Take 2 tablets by mouth every 6 hours as needed for pain", 0, 10, false, false, false},
    {"313782", "acetaminophen 325 MG Oral Tablet",
     "Take 2 tablets by mouth every 6 hours as needed for pain or fever", 0, 10, false, false,
     false},
    {"849574", "naproxen sodium 220 MG Oral Tablet",
     "Take 1 tablet by mouth every 12 hours as needed for pain", 0, 14, false, false, false},
    {"312617", "prednisone 5 MG Oral Tablet", "Take 8 tablets by mouth once daily for 5 days", 8, 5,
     false, false, false},
    {"1665227", "20 ML ciprofloxacin 10 MG/ML Injection", "400 mg intravenously every 12 hours", 2,
     3, false, false, false},
    {"1650142", "doxycycline monohydrate 100 MG Oral Tablet",
     "Take 1 tablet by mouth twice daily for 14 days", 2, 14, false, false, false},
    {"1665021", "ceftriaxone 1000 MG Injection", "1 g intravenously once daily", 1, 3, false, false,
     false},
    {"1870230", "NDA020800 0.3 ML epinephrine 1 MG/ML Auto-Injector",
     "Inject into the outer thigh once for a severe allergic reaction; call 911", 0, 365, false,
     false, false},
};
static_assert(std::size(kMeds) == static_cast<size_t>(Med::kCount));

constexpr VaccineDef kVaccines[] = {
    {"08", "Hep B, adolescent or pediatric"},
    {"20", "DTaP"},
    {"10", "IPV"},
    {"49", "Hib (PRP-OMP)"},
    {"133", "Pneumococcal conjugate PCV 13"},
    {"116", "rotavirus, pentavalent"},
    {"03", "MMR"},
    {"21", "varicella"},
    {"83", "Hep A, ped/adol, 2 dose"},
    {"140", "Influenza, seasonal, injectable, preservative free"},
    {"115", "Tdap"},
    {"113", "Td (adult) preservative free"},
    {"165", "HPV9"},
    {"114", "meningococcal MCV4P"},
    {"187", "zoster vaccine recombinant"},
    {"33", "pneumococcal polysaccharide vaccine, 23 valent"},
};
static_assert(std::size(kVaccines) == static_cast<size_t>(Vaccine::kCount));

constexpr ProcedureDef kProcedures[] = {
    {"401191002", "Diabetic foot examination", "2028F", "Foot exam performed", 0},
    {"36777000", "Debridement", "11042", "Debridement, subcutaneous tissue", 412.0},
    {"29303009", "Electrocardiographic procedure", "93000", "Electrocardiogram, complete", 58.0},
    {"127783003", "Spirometry", "94010", "Spirometry", 64.0},
    {"430193006", "Medication reconciliation", "1111F", "Discharge medications reconciled", 0},
    {"225358003", "Wound care", "97597", "Debridement, open wound, first 20 sq cm", 145.0},
    {"56251003", "Nebulizer therapy", "94640", "Airway inhalation treatment", 42.0},
};
static_assert(std::size(kProcedures) == static_cast<size_t>(Proc::kCount));

constexpr std::string_view kDxSop = "urn:oid:1.2.840.10008.5.1.4.1.1.1.1";
constexpr ImagingDef kImaging[] = {
    {"DX", "Digital Radiography", "399208008", "Plain chest X-ray", "51185008",
     "Thoracic structure", "36643-5", "XR Chest 2 Views", "71046", kDxSop, 96.0},
    {"DX", "Digital Radiography", "363680008", "Radiographic imaging procedure", "56459004",
     "Foot structure", "18748-4", "Diagnostic imaging study", "73630", kDxSop, 84.0},
    {"DX", "Digital Radiography", "363680008", "Radiographic imaging procedure", "70258002",
     "Ankle joint structure", "18748-4", "Diagnostic imaging study", "73610", kDxSop, 84.0},
    {"MR", "Magnetic Resonance", "113091000", "Magnetic resonance imaging", "56459004",
     "Foot structure", "18748-4", "Diagnostic imaging study", "73718",
     "urn:oid:1.2.840.10008.5.1.4.1.1.4", 1180.0},
    {"MG", "Mammography", "24623002", "Screening mammography", "76752008", "Breast structure",
     "24606-6", "MG Breast Screening", "77067", "urn:oid:1.2.840.10008.5.1.4.1.1.1.2", 210.0},
    {"US", "Ultrasound", "40701008", "Echocardiography", "80891009", "Heart structure", "18748-4",
     "Diagnostic imaging study", "93306", "urn:oid:1.2.840.10008.5.1.4.1.1.6.1", 640.0},
};
static_assert(std::size(kImaging) == static_cast<size_t>(Imaging::kCount));

constexpr AllergenDef kAllergens[] = {
    {"764146007", "Penicillin", "70618", "penicillin", "medication", "271807003",
     "Eruption of skin", true},
    {"387406002", "Sulfonamide", "", "", "medication", "247472004", "Wheal", false},
    {"762952008", "Peanut", "", "", "food", "39579001", "Anaphylaxis", true},
    {"111088007", "Latex", "", "", "environment", "247472004", "Wheal", false},
    {"288328004", "Bee venom", "", "", "environment", "39579001", "Anaphylaxis", true},
    {"256259004", "Pollen", "", "", "environment", "76067001", "Sneezing", false},
    {"260147004", "Cat dander", "", "", "environment", "49727002", "Cough", false},
};
static_assert(std::size(kAllergens) == static_cast<size_t>(Allergen::kCount));

constexpr VisitDef kVisits[] = {
    {"185349003", "Encounter for check up", "AMB", "ambulatory", "99396",
     "Preventive visit, established patient, 40-64 years", 210.0},
    {"410620009", "Well child visit", "AMB", "ambulatory", "99392",
     "Preventive visit, established patient, 1-4 years", 180.0},
    {"390906007", "Follow-up encounter", "AMB", "ambulatory", "99214",
     "Office or other outpatient visit, established patient, moderate complexity", 165.0},
    {"185345009", "Encounter for symptom", "AMB", "ambulatory", "99213",
     "Office or other outpatient visit, established patient, low complexity", 112.0},
    {"11429006", "Consultation", "AMB", "ambulatory", "99204",
     "Office or other outpatient visit, new patient, moderate complexity", 245.0},
    {"50849002", "Emergency room admission", "EMER", "emergency", "99284",
     "Emergency department visit, moderate complexity", 690.0},
    {"32485007", "Hospital admission", "IMP", "inpatient encounter", "99222",
     "Initial hospital inpatient care, moderate complexity", 7800.0},
    {"371883000", "Outpatient procedure", "AMB", "ambulatory", "", "", 0},
};
static_assert(std::size(kVisits) == static_cast<size_t>(Visit::kCount));

}  // namespace

const ConditionDef& Def(Cond c) { return kConditions[static_cast<size_t>(c)]; }
const LabDef& Def(Lab l) { return kLabs[static_cast<size_t>(l)]; }
const PanelDef& Def(Panel p) { return kPanels[static_cast<size_t>(p)]; }
const MedDef& Def(Med m) { return kMeds[static_cast<size_t>(m)]; }
const VaccineDef& Def(Vaccine v) { return kVaccines[static_cast<size_t>(v)]; }
const ProcedureDef& Def(Proc p) { return kProcedures[static_cast<size_t>(p)]; }
const ImagingDef& Def(Imaging i) { return kImaging[static_cast<size_t>(i)]; }
const AllergenDef& Def(Allergen a) { return kAllergens[static_cast<size_t>(a)]; }
const VisitDef& Def(Visit v) { return kVisits[static_cast<size_t>(v)]; }

}  // namespace carechart::synth
