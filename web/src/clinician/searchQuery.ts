// What a clinician typed into patient search → FHIR Patient search parameters.
import type { Patient } from '@medplum/fhirtypes';
import type { SearchParams } from '../shared/fhir';
import { formatName } from '../shared/format';

/** The searches to run for what was typed (several run in parallel; results are merged). */
export type PatientQuery = { kind: 'birthdate' | 'identifier' | 'name' | 'name-or-identifier'; searches: SearchParams[] } | null;

/** "1962-04-17", "17/04/1962" or "04/17/1962" (month first when the day is > 12) → ISO date. */
export function parseBirthDate(text: string): string | undefined {
  const t = text.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(t)) return t;
  const m = /^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$/.exec(t);
  if (!m) return undefined;
  let [d, mo] = [Number(m[1]), Number(m[2])];
  if (mo > 12 && d <= 12) [d, mo] = [mo, d];
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return undefined;
  return `${m[3]}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

export function patientQuery(text: string): PatientQuery {
  const t = text.trim();
  if (t.length < 2) return null;
  const date = parseBirthDate(t);
  if (date) return { kind: 'birthdate', searches: [{ birthdate: date, _count: 20 }] };
  if (/\d/.test(t) && !/\s/.test(t)) return { kind: 'identifier', searches: [{ identifier: t, _count: 20 }] };
  // "lopez maria" or "López, María": every word must match some name part.
  const words = t.split(/[\s,]+/).filter(Boolean);
  const byName = { name: words, _count: 20 };
  // One word could be a name or an identifier without digits ("MRN-ABC"): try both.
  if (words.length === 1 && !t.includes(',')) return { kind: 'name-or-identifier', searches: [byName, { identifier: t, _count: 20 }] };
  return { kind: 'name', searches: [byName] };
}

/** Patients that share a name with another result: shown with a "same name" marker. */
export function duplicateNames(patients: Patient[]): Set<string> {
  const seen = new Map<string, number>();
  for (const p of patients) {
    const n = formatName(p.name).toLowerCase();
    seen.set(n, (seen.get(n) ?? 0) + 1);
  }
  return new Set(patients.filter((p) => (seen.get(formatName(p.name).toLowerCase()) ?? 0) > 1).map((p) => p.id!));
}
