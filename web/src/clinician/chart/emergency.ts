// Break-the-glass grants (docs/access-policy.md): Basic resources with an extension holding
// user, role, reason, start and end.
import type { Basic, Extension } from '@medplum/fhirtypes';

export const EMERGENCY_EXTENSION = 'https://carechart.dev/fhir/StructureDefinition/emergency-access';
export const EMERGENCY_CODE = 'https://carechart.dev/fhir/CodeSystem/access|emergency-access';

function valueOf(e: Extension | undefined): string | undefined {
  return e?.valueDateTime ?? e?.valueInstant ?? e?.valueString ?? e?.valueCode;
}

export interface Grant {
  id?: string;
  user?: string;
  reason?: string;
  start?: number;
  end?: number;
}

export function grantOf(b: Basic): Grant {
  const ext = b.extension?.find((e) => e.url === EMERGENCY_EXTENSION);
  const sub = (name: string) => valueOf(ext?.extension?.find((e) => e.url === name));
  const time = (s: string | undefined) => (s ? Date.parse(s) : undefined);
  return { id: b.id, user: sub('user'), reason: sub('reason'), start: time(sub('start')), end: time(sub('end')) };
}

/** The open grant ending last, if any. */
export function openGrant(grants: Basic[], now = Date.now(), user?: string): Grant | undefined {
  return grants
    .map(grantOf)
    .filter((g) => g.end !== undefined && g.end > now && (!user || !g.user || g.user === user))
    .sort((a, b) => (b.end ?? 0) - (a.end ?? 0))[0];
}

const KEY = (patient: string) => `carechart.emergency.${patient}`;

export function rememberGrantEnd(patient: string, end: number): void {
  sessionStorage.setItem(KEY(patient), String(end));
}

export function rememberedGrantEnd(patient: string, now = Date.now()): number | undefined {
  const v = Number(sessionStorage.getItem(KEY(patient)));
  return v > now ? v : undefined;
}
