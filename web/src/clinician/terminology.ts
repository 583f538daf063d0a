// Code search for charting through ValueSet/$expand over the terminology the server holds
// (the demo ships a small set; a deployment imports its own). Which ValueSet serves which field
// is found by its url/name/title, so a deployment's own ValueSets work without configuration.
import { useQuery } from '@tanstack/react-query';
import type { Coding, ValueSet } from '@medplum/fhirtypes';
import { useFhir } from '../shared/context';
import type { FhirClient, FhirError } from '../shared/fhir';

export type CodeField = 'condition' | 'medication' | 'allergy' | 'lab';

const HINTS: Record<CodeField, RegExp[]> = {
  condition: [/condition|problem|diagnos|icd-?10|snomed/i],
  medication: [/rxnorm|medication|drug/i],
  allergy: [/allerg|substance|intoleran/i],
  lab: [/lab|loinc|observation/i],
};

// The demo terminology set's ValueSets (src/synth/terminology.ndjson); a deployment's own are
// found by name when these are absent.
export const PREFERRED: Record<CodeField, string> = {
  condition: 'https://carechart.dev/fhir/ValueSet/conditions',
  medication: 'https://carechart.dev/fhir/ValueSet/medications',
  allergy: 'https://carechart.dev/fhir/ValueSet/allergy-substances',
  lab: 'https://carechart.dev/fhir/ValueSet/lab-tests',
};

/** Picks the ValueSet url for a field from the server's ValueSets (first match by priority). */
export function pickValueSet(allSets: ValueSet[], field: CodeField): string | undefined {
  if (allSets.some((v) => v.url === PREFERRED[field])) return PREFERRED[field];
  // Drug-class sets for allergy checking are not pick lists.
  const sets = allSets.filter((v) => !/allergy-class/i.test(v.url ?? ''));
  const text = (v: ValueSet) => `${v.url ?? ''} ${v.name ?? ''} ${v.title ?? ''}`;
  // A more specific word first: an allergy ValueSet must not be taken for medications.
  const others = (Object.keys(HINTS) as CodeField[]).filter((f) => f !== field);
  const candidates = sets.filter((v) => v.url && HINTS[field].some((re) => re.test(text(v))));
  const exclusive = candidates.filter((v) => !others.some((f) => HINTS[f].some((re) => re.test(text(v)))));
  return (exclusive[0] ?? candidates[0])?.url;
}

export function useValueSets() {
  const { client } = useFhir();
  return useQuery<ValueSet[], FhirError>({
    queryKey: ['ValueSet', 'catalogue'],
    queryFn: () => client.searchAll<ValueSet>('ValueSet', { _count: 200, _elements: 'url,name,title' }, 3),
    staleTime: 30 * 60_000,
  });
}

export async function expand(client: FhirClient, url: string, filter: string, count = 15): Promise<Coding[]> {
  const q = new URLSearchParams({ url, filter, count: String(count) });
  const { body } = await client.request<ValueSet>('GET', `ValueSet/$expand?${q}`);
  return (body.expansion?.contains ?? []).map((c) => ({ system: c.system, code: c.code, display: c.display }));
}
