// Drug–allergy conflict check for prescribing. A recorded allergy names a substance or a drug
// class (SNOMED CT / RxNorm / free text); a drug names its ingredients in its RxNorm display
// ("amoxicillin 875 MG / clavulanate 125 MG Oral Tablet"). We warn when an ingredient of the
// drug is the allergen, or belongs to the allergen's class. The class table is a small built-in
// list of the classes whose cross-reactions matter most at the point of prescribing; a server
// ConceptMap (when the terminology set ships one) can extend it with `extraClasses`.
import type { AllergyIntolerance, CodeableConcept, ConceptMap } from '@medplum/fhirtypes';

export interface DrugClass {
  name: string; // "penicillins"
  allergenTerms: string[]; // words that name the class or its substance in an allergy
  allergenCodes: string[]; // SNOMED CT / RxNorm codes of the class or substance
  ingredients: string[]; // member ingredient names (lower case)
}

export const DRUG_CLASSES: DrugClass[] = [
  {
    name: 'penicillins',
    allergenTerms: ['penicillin', 'penicillins'],
    allergenCodes: ['764146007', '373270004', '91936005', '6369005', '70618'],
    ingredients: [
      'penicillin', 'amoxicillin', 'ampicillin', 'piperacillin', 'dicloxacillin', 'nafcillin',
      'oxacillin', 'cloxacillin', 'flucloxacillin', 'ticarcillin', 'benzathine penicillin',
      'penicillin g', 'penicillin v',
    ],
  },
  {
    name: 'cephalosporins',
    allergenTerms: ['cephalosporin', 'cephalosporins'],
    allergenCodes: ['294530000', '91939003'],
    ingredients: ['cefalexin', 'cephalexin', 'cefazolin', 'cefuroxime', 'ceftriaxone', 'cefdinir', 'cefepime', 'cefpodoxime', 'cefadroxil'],
  },
  {
    name: 'sulfonamides',
    allergenTerms: ['sulfonamide', 'sulfonamides', 'sulfa', 'sulpha'],
    allergenCodes: ['387406002', '10180'],
    ingredients: ['sulfamethoxazole', 'sulfadiazine', 'sulfasalazine', 'sulfisoxazole'],
  },
  {
    name: 'NSAIDs',
    allergenTerms: ['nsaid', 'nsaids', 'non-steroidal anti-inflammatory'],
    allergenCodes: ['293585002'],
    ingredients: ['ibuprofen', 'naproxen', 'diclofenac', 'aspirin', 'ketorolac', 'meloxicam', 'celecoxib', 'indomethacin'],
  },
];

export interface AllergyConflict {
  allergy: AllergyIntolerance;
  allergen: string; // as recorded
  ingredient: string; // the drug's ingredient that conflicts
  drugClass?: string; // when the conflict is through a class
  severity: 'high' | 'low' | 'unknown';
}

function words(s: string): string {
  return ` ${s.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim()} `;
}

function conceptTexts(cc: CodeableConcept | undefined): string[] {
  if (!cc) return [];
  return [cc.text ?? '', ...(cc.coding ?? []).map((c) => c.display ?? '')].filter(Boolean);
}

function conceptCodes(cc: CodeableConcept | undefined): string[] {
  return (cc?.coding ?? []).map((c) => c.code ?? '').filter(Boolean);
}

/** Ingredient names of a drug from its text ("amoxicillin 875 MG / clavulanate 125 MG ..."). */
export function ingredientsOf(drugText: string): string[] {
  const all = [...DRUG_CLASSES.flatMap((c) => c.ingredients)];
  const w = words(drugText);
  return all.filter((ing) => w.includes(` ${ing} `));
}

function isActive(a: AllergyIntolerance): boolean {
  const clinical = a.clinicalStatus?.coding?.[0]?.code;
  const verification = a.verificationStatus?.coding?.[0]?.code;
  return clinical !== 'inactive' && clinical !== 'resolved' && verification !== 'refuted' && verification !== 'entered-in-error';
}

/**
 * Conflicts between a drug (its CodeableConcept or text) and the patient's recorded allergies.
 * Only active, not refuted, allergies count.
 */
export function allergyConflicts(
  drug: CodeableConcept | string,
  allergies: AllergyIntolerance[],
  extraClasses: DrugClass[] = [],
): AllergyConflict[] {
  const classes = [...DRUG_CLASSES, ...extraClasses];
  const drugText = typeof drug === 'string' ? drug : conceptTexts(drug).join(' ');
  const w = words(drugText);
  const drugIngredients = classes.flatMap((c) => c.ingredients).filter((ing) => w.includes(` ${ing} `));
  const out: AllergyConflict[] = [];
  for (const a of allergies) {
    if (!isActive(a)) continue;
    const texts = conceptTexts(a.code);
    const codes = conceptCodes(a.code);
    const allergen = texts[0] ?? codes[0] ?? 'recorded allergen';
    const aw = words(texts.join(' '));
    const severity = a.criticality === 'high' ? 'high' : a.criticality === 'low' ? 'low' : 'unknown';
    // 1. the drug contains the very substance.
    const direct = drugIngredients.find((ing) => aw.includes(` ${ing} `));
    if (direct) {
      out.push({ allergy: a, allergen, ingredient: direct, severity });
      continue;
    }
    // 2. the allergy names a class and the drug has a member ingredient.
    for (const c of classes) {
      const namesClass =
        c.allergenTerms.some((t) => aw.includes(` ${t} `)) || codes.some((code) => c.allergenCodes.includes(code));
      if (!namesClass) continue;
      const member = drugIngredients.find((ing) => c.ingredients.includes(ing));
      if (member) {
        out.push({ allergy: a, allergen, ingredient: member, drugClass: c.name, severity });
        break;
      }
    }
  }
  return out;
}

/** True when the patient has an explicit "no known allergies" entry and nothing else active. */
export function isNoKnownAllergy(a: AllergyIntolerance): boolean {
  const code = a.code?.coding?.[0]?.code;
  return code === '716186003' || code === '409137002' || /no known (drug )?allerg/i.test(a.code?.text ?? '');
}

/**
 * Drug classes from a ConceptMap of allergy substances to the drug ingredients they rule out
 * (the demo ships https://carechart.dev/fhir/ConceptMap/allergy-to-drug-ingredients): one class
 * per source code, its ingredients the targets' displays.
 */
export function classesFromConceptMap(cm: ConceptMap | undefined): DrugClass[] {
  const out: DrugClass[] = [];
  for (const g of cm?.group ?? []) {
    for (const e of g.element ?? []) {
      const ingredients = (e.target ?? []).map((t) => (t.display ?? '').toLowerCase()).filter(Boolean);
      if (!e.code || !ingredients.length) continue;
      out.push({
        name: e.target?.[0]?.comment?.replace(/ class$/, 's') ?? e.display ?? e.code,
        allergenTerms: e.display ? [e.display.toLowerCase()] : [],
        allergenCodes: [e.code],
        ingredients,
      });
    }
  }
  return out;
}
