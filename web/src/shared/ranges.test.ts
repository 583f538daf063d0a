import { describe, expect, it } from 'vitest';
import type { Observation } from '@medplum/fhirtypes';
import { flagFromRange, flagOf, formatRange, rangeBarPositions, rangeOf } from './ranges';

const a1c = (value: number, interp?: string): Observation => ({
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '4548-4' }] },
  valueQuantity: { value, unit: '%' },
  referenceRange: [{ low: { value: 4.0, unit: '%' }, high: { value: 5.6, unit: '%' } }],
  interpretation: interp
    ? [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: interp }] }]
    : undefined,
});

describe('ranges and flags', () => {
  it('compares the value with the range when there is no interpretation', () => {
    expect(flagOf(a1c(7.8))).toBe('H');
    expect(flagOf(a1c(3.2))).toBe('L');
    expect(flagOf(a1c(5.6))).toBe('N');
  });

  it("the lab's interpretation wins over the computed flag", () => {
    expect(flagOf(a1c(5.0, 'HH'))).toBe('HH');
    expect(flagOf(a1c(9.0, 'N'))).toBe('N');
  });

  it('reads component flags (blood pressure)', () => {
    const bp: Observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'BP' },
      component: [
        { code: { text: 'sys' }, valueQuantity: { value: 150 }, referenceRange: [{ high: { value: 120 } }] },
        { code: { text: 'dia' }, valueQuantity: { value: 70 }, referenceRange: [{ high: { value: 80 } }] },
      ],
    };
    expect(flagOf(bp, 0)).toBe('H');
    expect(flagOf(bp, 1)).toBe('N');
  });

  it('no range, no flag', () => {
    expect(flagFromRange(5, undefined)).toBeUndefined();
    expect(flagFromRange(undefined, { low: 1 })).toBeUndefined();
  });

  it('formats ranges', () => {
    expect(formatRange(rangeOf(a1c(1).referenceRange))).toBe('4–5.6 %');
    expect(formatRange({ high: 200, unit: 'mg/dL' })).toBe('≤ 200 mg/dL');
    expect(formatRange(undefined)).toBe('—');
  });

  it('places the value on the bar, inside the band when normal', () => {
    const p = rangeBarPositions(5, { low: 4, high: 6 });
    expect(p.value).toBeGreaterThan(p.low!);
    expect(p.value).toBeLessThan(p.high!);
    const out = rangeBarPositions(12, { low: 4, high: 6 });
    expect(out.value).toBe(1);
    expect(out.high!).toBeLessThan(1);
  });
});
