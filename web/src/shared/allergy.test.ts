import { describe, expect, it } from 'vitest';
import type { AllergyIntolerance } from '@medplum/fhirtypes';
import { allergyConflicts, classesFromConceptMap, ingredientsOf } from './allergy';

const allergy = (display: string, code: string, extra: Partial<AllergyIntolerance> = {}): AllergyIntolerance => ({
  resourceType: 'AllergyIntolerance',
  patient: { reference: 'Patient/1' },
  code: { coding: [{ system: 'http://snomed.info/sct', code, display }] },
  clinicalStatus: { coding: [{ code: 'active' }] },
  criticality: 'high',
  ...extra,
});

const penicillin = allergy('Penicillin', '764146007');

describe('allergy conflict check', () => {
  it('warns for a drug of the allergen class (amoxicillin-clavulanate vs penicillin)', () => {
    const c = allergyConflicts(
      { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '562508', display: 'amoxicillin 875 MG / clavulanate 125 MG Oral Tablet' }] },
      [penicillin],
    );
    expect(c).toHaveLength(1);
    expect(c[0].ingredient).toBe('amoxicillin');
    expect(c[0].drugClass).toBe('penicillins');
    expect(c[0].severity).toBe('high');
  });

  it('warns when the drug is the allergen itself', () => {
    const c = allergyConflicts('penicillin V potassium 500 MG Oral Tablet', [penicillin]);
    expect(c).toHaveLength(1);
    expect(c[0].drugClass).toBeUndefined();
  });

  it('matches a class by code even when the display is different', () => {
    const c = allergyConflicts('ampicillin 500 MG Oral Capsule', [allergy('Allergy to penicillin', '91936005')]);
    expect(c.map((x) => x.ingredient)).toEqual(['ampicillin']);
  });

  it('is silent for unrelated drugs and for inactive or refuted allergies', () => {
    expect(allergyConflicts('metformin hydrochloride 500 MG Oral Tablet', [penicillin])).toEqual([]);
    expect(allergyConflicts('azithromycin 250 MG Oral Tablet', [penicillin])).toEqual([]);
    const resolved = allergy('Penicillin', '764146007', { clinicalStatus: { coding: [{ code: 'resolved' }] } });
    const refuted = allergy('Penicillin', '764146007', { verificationStatus: { coding: [{ code: 'refuted' }] } });
    expect(allergyConflicts('amoxicillin 500 MG Oral Tablet', [resolved, refuted])).toEqual([]);
  });

  it('sulfa allergy vs co-trimoxazole', () => {
    const c = allergyConflicts('sulfamethoxazole 800 MG / trimethoprim 160 MG Oral Tablet', [allergy('Sulfonamide', '387406002')]);
    expect(c[0]?.drugClass).toBe('sulfonamides');
  });

  it('finds ingredients as whole words only', () => {
    expect(ingredientsOf('amoxicillin 250 MG / clavulanate')).toEqual(['amoxicillin']);
    expect(ingredientsOf('Penicillinase test')).toEqual([]);
  });
});

describe('classes from the server ConceptMap', () => {
  it('an allergen code maps to the ingredients it rules out', () => {
    const classes = classesFromConceptMap({
      resourceType: 'ConceptMap',
      status: 'active',
      group: [{ source: 'http://snomed.info/sct', element: [{ code: '91935009', display: 'Peanut', target: [{ code: '1', display: 'arachis oil', equivalence: 'specializes', comment: 'peanut class' }] }] }],
    });
    expect(classes[0]).toMatchObject({ allergenCodes: ['91935009'], ingredients: ['arachis oil'] });
    const c = allergyConflicts('arachis oil 10 ML Otic Solution', [allergy('Allergy to peanut', '91935009')], classes);
    expect(c[0]?.ingredient).toBe('arachis oil');
  });
});
