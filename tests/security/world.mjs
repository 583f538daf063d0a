// A small two-facility world for the access-policy tests: facilities F1 and F2, practitioner
// pr-1, the four patients of tests/security/matrix.json's contexts with one vital-signs
// Observation each, a care relationship (an Encounter at F2 naming pr-1) with p-own, and one
// user per role with an access token (`carechart user add` + `carechart token`).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { runCli, startServer } from '../conformance/server.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const MATRIX = JSON.parse(readFileSync(path.join(HERE, 'matrix.json'), 'utf8'));
export const USER_ROLES = ['physician', 'nurse', 'front-desk', 'billing', 'lab', 'pharmacist', 'privacy-officer', 'researcher', 'administrator', 'patient', 'proxy'];

export function vitalSigns(id, patient) {
  return {
    resourceType: 'Observation',
    ...(id ? { id } : {}),
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
    subject: { reference: `Patient/${patient}` },
    effectiveDateTime: '2026-11-01T10:00:00Z',
    valueQuantity: { value: 72, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
  };
}

export function condition(id, patient, system, code) {
  return {
    resourceType: 'Condition',
    id,
    subject: { reference: `Patient/${patient}` },
    code: { coding: [{ system, code }] },
  };
}

function put(resource) {
  return { resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } };
}

/** Stores `resources` at `facility` in one transaction (as the test's backend client). */
export async function seed(server, facility, resources) {
  const res = await server.post('', { resourceType: 'Bundle', type: 'transaction', entry: resources.map(put) }, { headers: { 'x-carechart-facility': facility } });
  if (res.status !== 200) throw new Error(`seeding at ${facility}: ${res.status} ${res.text.slice(0, 500)}`);
}

/** username -> Carechart user id (AuditEvent.agent.altId), for the users userToken() made. */
export const USER_IDS = {};

/** Adds a user and returns an access token for them. */
export function userToken(server, username, role, { facilities = ['F1'], practitioner, patient, proxyFor = [] } = {}) {
  const args = ['user', 'add', username, '--role', role, '--db', server.db];
  for (const f of facilities) args.push('--facility', f);
  if (practitioner) args.push('--practitioner', practitioner);
  if (patient) args.push('--patient', patient);
  for (const p of proxyFor) args.push('--proxy-for', p);
  const created = runCli(args);
  const id = /, id ([^)\s]+)/.exec(created)?.[1];
  if (id) USER_IDS[username] = id;
  return runCli(['token', '--user', username, '--db', server.db, '--base-url', server.fhirBase]).trim();
}

export async function startWorld({ args = [] } = {}) {
  const server = await startServer({ args: ['--facility', 'F1', '--facility-name', 'Clinic One', ...args] });
  const org = await server.put('Organization/F2', { resourceType: 'Organization', id: 'F2', name: 'Hospital Two', active: true });
  if (![200, 201].includes(org.status)) throw new Error(`Organization/F2: ${org.status} ${org.text}`);
  const byFacility = { F1: [], F2: [] };
  byFacility.F1.push({ resourceType: 'Practitioner', id: 'pr-1', name: [{ family: 'Ruiz', given: ['Ana'] }] });
  for (const [name, c] of Object.entries(MATRIX.contexts)) {
    byFacility[c.facility].push({ resourceType: 'Patient', id: c.patient, name: [{ family: c.patient }], birthDate: '1970-03-04' });
    byFacility[c.facility].push(vitalSigns(`obs-${name.replaceAll('_', '-')}`, c.patient));
  }
  byFacility.F2.push({
    resourceType: 'Encounter',
    id: 'enc-own',
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    subject: { reference: 'Patient/p-own' },
    participant: [{ individual: { reference: 'Practitioner/pr-1' } }],
  });
  await seed(server, 'F1', byFacility.F1);
  await seed(server, 'F2', byFacility.F2);
  const tokens = { 'backend-service': server.token };
  for (const role of USER_ROLES) {
    const opts = { practitioner: 'pr-1' };
    if (role === 'patient') Object.assign(opts, { facilities: [], practitioner: undefined, patient: 'p-own' });
    if (role === 'proxy') Object.assign(opts, { facilities: [], practitioner: undefined, proxyFor: ['p-own'] });
    tokens[role] = userToken(server, `u-${role}`, role, opts);
  }
  return { server, tokens };
}

/** The ids of the resources of a searchset Bundle. */
export function bundleIds(bundle) {
  return (bundle?.entry ?? []).filter((e) => e.search?.mode !== 'outcome').map((e) => `${e.resource?.resourceType}/${e.resource?.id}`);
}
