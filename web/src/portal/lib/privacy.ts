// Privacy: the access log (AuditEvent) and sharing consents, in plain language.

export interface AuditEvent {
  resourceType: 'AuditEvent';
  id?: string;
  recorded?: string;
  action?: string;
  outcome?: string;
  outcomeDesc?: string;
  subtype?: { code?: string; display?: string }[];
  type?: { code?: string };
  agent?: { who?: { reference?: string; display?: string; identifier?: { value?: string } }; name?: string; altId?: string; role?: { text?: string }[]; requestor?: boolean }[];
  source?: { site?: string; observer?: { display?: string } };
  purposeOfEvent?: { coding?: { code?: string }[] }[];
  entity?: { what?: { reference?: string } }[];
  meta?: { security?: { code?: string }[] };
}

export interface AccessRow {
  id: string;
  when: string;
  who: string;
  role: string;
  what: string;
  where: string;
  emergency: boolean;
  reason?: string;
  denied: boolean;
}

const ACTION: Record<string, string> = {
  C: 'added to your record',
  R: 'looked at your record',
  U: 'changed your record',
  D: 'removed an entry',
  E: 'used your record',
};

/** One row of "who accessed my record". Sign-in events of the patient's own account are skipped by the caller. */
export function accessRow(e: AuditEvent): AccessRow {
  const agent = e.agent?.find((a) => a.requestor) ?? e.agent?.[0];
  const who = agent?.name ?? agent?.who?.display ?? agent?.who?.identifier?.value ?? 'Unknown';
  const role = agent?.role?.[0]?.text ?? '';
  const emergency = (e.purposeOfEvent ?? []).some((p) => p.coding?.some((c) => c.code === 'ETREAT'));
  const subtype = e.subtype?.[0]?.code ?? '';
  let what = ACTION[e.action ?? 'R'] ?? 'used your record';
  if (subtype === 'search-type' || subtype === 'search-system') what = 'searched your record';
  if (subtype === 'operation') what = 'opened your whole record';
  const types = new Set(
    (e.entity ?? [])
      .map((x) => x.what?.reference?.split('/')[0])
      .filter((t): t is string => !!t && t !== 'Patient'),
  );
  if (types.size) what += ` (${[...types].slice(0, 3).join(', ')})`;
  return {
    id: e.id ?? '',
    when: e.recorded ?? '',
    who,
    role,
    what,
    where: e.source?.site ?? '',
    emergency,
    reason: emergency ? e.outcomeDesc : undefined,
    denied: e.outcome !== undefined && e.outcome !== '0',
  };
}

/** Events worth showing: not the patient's own activity in the portal. */
export function isSomeoneElse(e: AuditEvent, myUserId?: string, myPatientRef?: string): boolean {
  const agent = e.agent?.find((a) => a.requestor) ?? e.agent?.[0];
  if (myUserId && agent?.altId === myUserId) return false;
  if (myPatientRef && agent?.who?.reference === myPatientRef) return false;
  return true;
}

// ---- consents ----

export const CONSENT_CATEGORIES: { code: string; label: string; explain: string }[] = [
  { code: 'PSY', label: 'Mental health', explain: 'Mental-health diagnoses and notes' },
  { code: 'ETH', label: 'Substance use', explain: 'Alcohol and drug treatment records' },
  { code: 'HIV', label: 'HIV', explain: 'HIV tests, diagnoses and treatment' },
  { code: 'SEX', label: 'Sexual and reproductive health', explain: 'Sexually transmitted infections, contraception, pregnancy' },
];

export interface Consent {
  resourceType: 'Consent';
  id?: string;
  status: string;
  patient?: { reference?: string };
  dateTime?: string;
  provision?: { type?: string; period?: { start?: string; end?: string }; provision?: { type?: string; securityLabel?: { code?: string }[]; purpose?: { code?: string }[] }[]; securityLabel?: { code?: string }[] };
  meta?: { lastUpdated?: string };
}

/**
 * A consent the server enforces (docs/access-policy.md): keep `categories` (empty: the whole
 * record) at the facilities that recorded them; `strict` also holds in an emergency.
 */
export function denyConsent(patientRef: string, categories: string[], strict = false, now = new Date().toISOString()): Consent & Record<string, unknown> {
  const purpose = strict ? { purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'ETREAT' }] } : {};
  const deny = categories.length
    ? categories.map((c) => ({ type: 'deny', securityLabel: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: c }], ...purpose }))
    : [{ type: 'deny', ...purpose }];
  return {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: patientRef },
    dateTime: now,
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    provision: { type: 'permit', provision: deny },
  } as Consent & Record<string, unknown>;
}

/** What an active consent means, in one sentence. */
export function describeConsent(c: Consent): string {
  const denies = (c.provision?.provision ?? []).filter((p) => p.type === 'deny');
  if (c.provision?.type === 'deny' && !denies.length) return 'Your whole record is shared only with the facility that recorded each entry.';
  if (!denies.length) return 'Your record is shared with every facility that cares for you.';
  const labels = denies.flatMap((p) => p.securityLabel?.map((l) => l.code ?? '') ?? []);
  const strict = denies.some((p) => p.purpose?.some((x) => x.code === 'ETREAT'));
  const names = labels.map((l) => CONSENT_CATEGORIES.find((x) => x.code === l)?.label.toLowerCase() ?? l);
  const what = labels.length ? `${names.join(', ')} records stay with the facility that recorded them` : 'Your whole record stays with the facilities that recorded it';
  return `${what[0].toUpperCase()}${what.slice(1)}; other facilities do not see ${labels.length ? 'them' : 'it'}${strict ? ', not even in an emergency' : ' (except in an emergency)'}.`;
}
