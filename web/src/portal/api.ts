// What the portal asks the server beyond plain FHIR reads: the account endpoints
// (docs/portal-api.md), downloads of the whole record and of the printable summary.
import { FhirClient, FhirError } from '../shared/fhir';
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import { accessToken, dropSession, refreshSession } from '../shared/smart';
import { PORTAL } from './config';

export function portalClient(): FhirClient {
  return new FhirClient({
    baseUrl: `${window.location.origin}/fhir`,
    token: () => accessToken(PORTAL),
    onUnauthorized: async () => {
      const s = await refreshSession(PORTAL);
      if (!s) dropSession(PORTAL);
      return !!s;
    },
  });
}

export interface MePatient {
  patient: string; // "Patient/x"
  relationship: 'self' | 'proxy';
}
export interface Me {
  username: string;
  display: string;
  role: string;
  fhirUser?: string;
  patients: MePatient[];
}
export interface ConnectedApp {
  id: string;
  clientId: string;
  name: string;
  scope: string;
  patient?: string;
  expiresAt: string;
}

async function accountFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const token = await accessToken(PORTAL);
  const r = await fetch(`/auth/account/${path}`, {
    ...init,
    headers: { ...(init.headers ?? {}), Authorization: `Bearer ${token ?? ''}`, Accept: 'application/json' },
  });
  if (!r.ok) {
    const body = await r.json().catch(() => ({}));
    throw new FhirError(r.status, init.method ?? 'GET', `/auth/account/${path}`, [
      { severity: 'error', code: 'processing', text: body.error_description ?? `HTTP ${r.status}` },
    ]);
  }
  return r;
}

export async function fetchMe(): Promise<Me> {
  return (await accountFetch('me')).json();
}
export async function fetchApps(): Promise<ConnectedApp[]> {
  return (await accountFetch('apps')).json().then((b) => b.apps as ConnectedApp[]);
}
export async function revokeApp(id: string): Promise<void> {
  await accountFetch(`apps/${encodeURIComponent(id)}`, { method: 'DELETE' });
}

/** Every page of Patient/$everything merged into one Bundle (type collection), for download. */
export async function everything(client: FhirClient, patientId: string): Promise<Bundle> {
  const entries: BundleEntry[] = [];
  let path: string | undefined = `Patient/${encodeURIComponent(patientId)}/$everything?_count=1000`;
  for (let i = 0; path && i < 100; i++) {
    const res: { body: Bundle } = await client.operation<Bundle>(path, undefined, 'GET');
    const body: Bundle = res.body;
    for (const e of body.entry ?? []) {
      if (e.resource && e.search?.mode !== 'outcome') entries.push({ fullUrl: e.fullUrl, resource: e.resource });
    }
    path = body.link?.find((l: { relation?: string }) => l.relation === 'next')?.url;
  }
  return { resourceType: 'Bundle', type: 'collection', timestamp: new Date().toISOString(), total: entries.length, entry: entries } as Bundle;
}

/** The printable IPS summary as HTML text ($summary?_format=html). */
export async function summaryHtml(patientId: string): Promise<string> {
  const token = await accessToken(PORTAL);
  const url = `/fhir/Patient/${encodeURIComponent(patientId)}/$summary?_format=html`;
  const r = await fetch(url, { headers: { Authorization: `Bearer ${token ?? ''}`, Accept: 'text/html' } });
  if (!r.ok) throw new FhirError(r.status, 'GET', url, [{ severity: 'error', code: 'processing', text: `HTTP ${r.status}` }]);
  return r.text();
}

/** Offers `data` as a file download. */
export function download(name: string, type: string, data: string): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
