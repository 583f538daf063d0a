// Analytes the charts trend, by LOINC code, and turning Observations into trend series.
import type { Observation } from '@medplum/fhirtypes';
import { flagOf, rangeOf, type Range } from './ranges';
import type { TrendSeries } from './TrendChart';
import { facilityLabel } from './provenance';

export const LOINC = 'http://loinc.org';

export interface Analyte {
  key: string;
  title: string;
  codes: string[]; // LOINC codes that count as this analyte
  component?: string[]; // for panels (blood pressure): the component codes to plot
  unit?: string;
}

export const TREND_ANALYTES: Analyte[] = [
  { key: 'bp', title: 'Blood pressure', codes: ['85354-9', '55284-4'], component: ['8480-6', '8462-4'], unit: 'mm[Hg]' },
  { key: 'glucose', title: 'Glucose', codes: ['2345-7', '2339-0', '41653-7', '1558-6', '15074-8'], unit: 'mg/dL' },
  { key: 'hba1c', title: 'HbA1c', codes: ['4548-4', '17856-6', '59261-8'], unit: '%' },
  { key: 'weight', title: 'Body weight', codes: ['29463-7', '3141-9'], unit: 'kg' },
  { key: 'bmi', title: 'BMI', codes: ['39156-5'], unit: 'kg/m2' },
  { key: 'egfr', title: 'eGFR', codes: ['33914-3', '62238-1', '48642-3', '48643-1', '98979-8', '69405-9'], unit: 'mL/min/1.73m2' },
];

export function codesOf(o: Observation): string[] {
  return (o.code?.coding ?? []).map((c) => c.code ?? '').filter(Boolean);
}

export function isAnalyte(o: Observation, a: Analyte): boolean {
  return codesOf(o).some((c) => a.codes.includes(c));
}

export function effectiveTime(o: Observation): string | undefined {
  return o.effectiveDateTime ?? o.effectivePeriod?.start ?? o.effectiveInstant ?? o.issued;
}

const COMPONENT_NAMES: Record<string, string> = { '8480-6': 'Systolic', '8462-4': 'Diastolic' };

/** The trend series of one analyte from a patient's Observations, each point labelled by source. */
export function seriesFor(observations: Observation[], a: Analyte, facilityNames: Map<string, string>): TrendSeries[] {
  const matching = observations.filter((o) => isAnalyte(o, a) && o.status !== 'entered-in-error');
  if (a.component) {
    return a.component.map((code) => {
      let range: Range | undefined;
      const points = matching.flatMap((o) => {
        const i = (o.component ?? []).findIndex((c) => c.code?.coding?.some((x) => x.code === code));
        const comp = o.component?.[i];
        const v = comp?.valueQuantity?.value;
        const t = effectiveTime(o);
        if (i < 0 || v === undefined || !t) return [];
        range ??= rangeOf(comp?.referenceRange);
        return [{ time: t, value: v, flag: flagOf(o, i), source: facilityLabel(o, facilityNames) }];
      });
      return { name: COMPONENT_NAMES[code] ?? code, unit: a.unit, points, range };
    });
  }
  let range: Range | undefined;
  let unit = a.unit;
  const points = matching.flatMap((o) => {
    const v = o.valueQuantity?.value;
    const t = effectiveTime(o);
    if (v === undefined || !t) return [];
    range ??= rangeOf(o.referenceRange);
    unit = o.valueQuantity?.unit ?? unit;
    return [{ time: t, value: v, flag: flagOf(o), source: facilityLabel(o, facilityNames) }];
  });
  return [{ name: a.title, unit, points, range }];
}
