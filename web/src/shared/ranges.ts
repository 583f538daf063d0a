// Reference ranges and abnormal flags of Observations. The flag comes from the Observation's own
// interpretation when it has one (the lab's word wins), else from comparing the value with its
// reference range. Abnormal is always shown as a letter as well as a colour (WCAG 1.4.1).
import type { Observation, ObservationReferenceRange } from '@medplum/fhirtypes';

export type Flag = 'HH' | 'H' | 'L' | 'LL' | 'A' | 'N';

export const FLAG_LABEL: Record<Flag, string> = {
  HH: 'Critically high',
  H: 'High',
  L: 'Low',
  LL: 'Critically low',
  A: 'Abnormal',
  N: 'Normal',
};

const INTERPRETATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';

export interface Range {
  low?: number;
  high?: number;
  text?: string;
  unit?: string;
}

export function rangeOf(ranges: ObservationReferenceRange[] | undefined): Range | undefined {
  const r = ranges?.find((x) => !x.type || x.type.coding?.some((c) => c.code === 'normal')) ?? ranges?.[0];
  if (!r) return undefined;
  return { low: r.low?.value, high: r.high?.value, text: r.text, unit: r.low?.unit ?? r.high?.unit };
}

export function formatRange(r: Range | undefined): string {
  if (!r) return '—';
  if (r.low !== undefined && r.high !== undefined) return `${r.low}–${r.high}${r.unit ? ' ' + r.unit : ''}`;
  if (r.low !== undefined) return `≥ ${r.low}${r.unit ? ' ' + r.unit : ''}`;
  if (r.high !== undefined) return `≤ ${r.high}${r.unit ? ' ' + r.unit : ''}`;
  return r.text ?? '—';
}

/** Flag from the value and range alone. */
export function flagFromRange(value: number | undefined, r: Range | undefined): Flag | undefined {
  if (value === undefined || !r) return undefined;
  if (r.high !== undefined && value > r.high) return 'H';
  if (r.low !== undefined && value < r.low) return 'L';
  if (r.high !== undefined || r.low !== undefined) return 'N';
  return undefined;
}

/** The flag of an Observation (its interpretation if coded, else its value against its range). */
export function flagOf(o: Observation, component?: number): Flag | undefined {
  const interp = component === undefined ? o.interpretation : o.component?.[component]?.interpretation;
  for (const cc of interp ?? []) {
    for (const c of cc.coding ?? []) {
      if (c.system && c.system !== INTERPRETATION_SYSTEM) continue;
      const code = (c.code ?? '').toUpperCase();
      if (code === 'HH' || code === 'H' || code === 'L' || code === 'LL' || code === 'A' || code === 'N') return code;
      if (code === 'HU' || code === '>') return 'HH';
      if (code === 'LU' || code === '<') return 'LL';
      if (code === 'AA') return 'A';
    }
  }
  if (component !== undefined) {
    const comp = o.component?.[component];
    return flagFromRange(comp?.valueQuantity?.value, rangeOf(comp?.referenceRange));
  }
  return flagFromRange(o.valueQuantity?.value, rangeOf(o.referenceRange));
}

export function isAbnormal(flag: Flag | undefined): boolean {
  return !!flag && flag !== 'N';
}

/** Colour (Mantine palette name) for a flag; never the only signal. */
export function flagColor(flag: Flag | undefined): string {
  if (flag === 'HH' || flag === 'LL') return 'red';
  if (flag === 'H' || flag === 'L' || flag === 'A') return 'orange';
  return 'gray';
}

/** Where `value` sits on a bar from min to max that contains the range, as fractions 0..1. */
export function rangeBarPositions(value: number, r: Range): { value: number; low?: number; high?: number } {
  const lo = r.low ?? r.high! * 0.5;
  const hi = r.high ?? r.low! * 1.5;
  const span = Math.max(hi - lo, Math.abs(hi) * 0.1, 1e-9);
  const min = Math.min(lo - span * 0.5, value);
  const max = Math.max(hi + span * 0.5, value);
  const pos = (x: number) => (x - min) / (max - min);
  return { value: pos(value), low: r.low !== undefined ? pos(r.low) : undefined, high: r.high !== undefined ? pos(r.high) : undefined };
}
