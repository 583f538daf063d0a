// Test results: which observations are the trends the portal plots, grouping by test, facility labels.
import type { Observation, Resource } from '@medplum/fhirtypes';
import { loincCode } from './plain';

export const TRENDS = [
  { key: 'hba1c', title: 'HbA1c', codes: ['4548-4', '17856-6'], unit: '%' },
  { key: 'glucose', title: 'Blood sugar (glucose)', codes: ['2339-0', '2345-7', '1558-6'], unit: 'mg/dL' },
] as const;

export const BP_PANEL = '85354-9';
export const SYSTOLIC = '8480-6';
export const DIASTOLIC = '8462-4';

export function dateOf(o: Observation): string {
  return o.effectiveDateTime ?? o.effectivePeriod?.start ?? o.issued ?? o.meta?.lastUpdated ?? '';
}

export function facilityOf(r: Resource): string | undefined {
  return r.meta?.tag?.find((t) => t.system === 'https://carechart.dev/fhir/CodeSystem/facility')?.code;
}

/** Observations of one test, oldest first. */
export function seriesOf(obs: Observation[], codes: readonly string[]): Observation[] {
  return obs
    .filter((o) => codes.includes(loincCode(o.code) ?? '') && o.valueQuantity?.value !== undefined && o.status !== 'entered-in-error')
    .sort((a, b) => dateOf(a).localeCompare(dateOf(b)));
}

/** Blood pressure readings (panel components or separate systolic/diastolic observations), oldest first. */
export function bloodPressure(obs: Observation[]): { date: string; systolic: number; diastolic: number; facility?: string }[] {
  const out: { date: string; systolic: number; diastolic: number; facility?: string }[] = [];
  for (const o of obs) {
    if (loincCode(o.code) !== BP_PANEL || o.status === 'entered-in-error') continue;
    const comp = (code: string) => o.component?.find((c) => loincCode(c.code) === code)?.valueQuantity?.value;
    const s = comp(SYSTOLIC);
    const d = comp(DIASTOLIC);
    if (s !== undefined && d !== undefined) out.push({ date: dateOf(o), systolic: s, diastolic: d, facility: facilityOf(o) });
  }
  return out.sort((a, b) => a.date.localeCompare(b.date));
}

/** The latest result of each test (by LOINC code, else name), newest first, with how many earlier ones. */
export function latestByTest(obs: Observation[]): { latest: Observation; history: Observation[] }[] {
  const groups = new Map<string, Observation[]>();
  for (const o of obs) {
    if (o.status === 'entered-in-error') continue;
    const key = loincCode(o.code) ?? o.code?.text ?? o.code?.coding?.[0]?.code ?? o.id ?? '';
    groups.set(key, [...(groups.get(key) ?? []), o]);
  }
  return [...groups.values()]
    .map((list) => {
      const sorted = [...list].sort((a, b) => dateOf(b).localeCompare(dateOf(a)));
      return { latest: sorted[0], history: sorted.slice(1) };
    })
    .sort((a, b) => dateOf(b.latest).localeCompare(dateOf(a.latest)));
}
