// What the patient portal reads (docs/portal-api.md): Patient/$summary (IPS document and its
// printable HTML) under the same access checks as $everything, the patient's consents, the
// audit trail as a patient sees it (no other patient's data), and proxies (own record + wards,
// nobody else).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { runCli } from '../conformance/server.mjs';
import { condition, seed, startWorld, userToken } from './world.mjs';

const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
const LAB = [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }];
let world;

function hba1c(id, patient, date, value) {
  return {
    resourceType: 'Observation', id, status: 'final', category: LAB,
    code: { coding: [{ system: 'http://loinc.org', code: '4548-4', display: 'Hemoglobin A1c/Hemoglobin.total in Blood' }] },
    subject: { reference: `Patient/${patient}` }, effectiveDateTime: date,
    valueQuantity: { value, unit: '%', system: 'http://unitsofmeasure.org', code: '%' },
    referenceRange: [{ low: { value: 4, unit: '%' }, high: { value: 5.6, unit: '%' } }],
  };
}

before(async () => {
  world = await startWorld();
  await seed(world.server, 'F2', [
    condition('cond-dm', 'p-own', ICD10, 'E11.9'),
    condition('cond-psy', 'p-own', ICD10, 'F32.1'),
    hba1c('a1c-old', 'p-own', '2026-01-10', 8.1),
    hba1c('a1c-new', 'p-own', '2026-10-10', 7.2),
    { resourceType: 'AllergyIntolerance', id: 'alg-1', patient: { reference: 'Patient/p-own' }, code: { text: 'Penicillin <b>' }, criticality: 'high',
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] } },
    { resourceType: 'MedicationStatement', id: 'med-1', status: 'active', subject: { reference: 'Patient/p-own' }, medicationCodeableConcept: { text: 'Metformin 500 mg' }, dosage: [{ text: 'twice a day' }] },
    { resourceType: 'Immunization', id: 'imm-1', status: 'completed', patient: { reference: 'Patient/p-own' }, vaccineCode: { text: 'Influenza' }, occurrenceDateTime: '2026-10-01' },
    hba1c('a1c-other', 'p-other', '2026-10-10', 6.0),
  ]);
});
after(async () => {
  await world?.server.cleanup();
});

test('$summary: an IPS document of the patient\'s own record, labelled by facility; refused for others', async () => {
  const { server, tokens } = world;
  const res = await server.get('Patient/p-own/$summary', { token: tokens.patient });
  assert.equal(res.status, 200, res.text);
  const doc = res.json;
  assert.equal(doc.resourceType, 'Bundle');
  assert.equal(doc.type, 'document');
  assert.ok(doc.identifier?.value && doc.timestamp);
  const comp = doc.entry[0].resource;
  assert.equal(comp.resourceType, 'Composition');
  assert.equal(comp.type.coding[0].code, '60591-5');
  assert.equal(comp.subject.reference, 'Patient/p-own');
  const section = (loinc) => comp.section.find((s) => s.code.coding[0].code === loinc);
  for (const loinc of ['11450-4', '10160-0', '48765-2', '11369-6', '30954-2', '8716-3']) assert.ok(section(loinc), `section ${loinc}`);
  const refs = (loinc) => (section(loinc).entry ?? []).map((e) => e.reference);
  assert.deepEqual(refs('11450-4').sort(), ['Condition/cond-dm', 'Condition/cond-psy']);
  assert.deepEqual(refs('30954-2'), ['Observation/a1c-new'], 'the newest HbA1c only');
  assert.deepEqual(refs('48765-2'), ['AllergyIntolerance/alg-1']);
  assert.ok(refs('8716-3').includes('Observation/obs-own-patient'));
  const ids = doc.entry.map((e) => `${e.resource.resourceType}/${e.resource.id}`);
  assert.ok(ids.includes('Organization/F2'), 'the recording facility is in the document');
  assert.ok(!ids.some((i) => i.includes('other')), `nothing of another patient: ${ids}`);
  assert.match(section('11450-4').text.div, /recorded at Hospital Two/);

  const valid = await server.post('Bundle/$validate', doc);
  const errors = (valid.json?.issue ?? []).filter((i) => ['error', 'fatal'].includes(i.severity));
  assert.deepEqual(errors, [], 'the document is valid R4');

  for (const [path, opts] of [['Patient/p-own/$summary?_format=html', {}], ['Patient/p-own/$summary', { headers: { accept: 'text/html' } }]]) {
    const html = await server.get(path, { token: tokens.patient, ...opts });
    assert.equal(html.status, 200, html.text);
    assert.match(html.headers.get('content-type'), /^text\/html/);
    assert.match(html.text, /<h1>Health summary<\/h1>/);
    assert.match(html.text, /Hospital Two/);
    assert.match(html.text, /Penicillin &lt;b&gt;/, 'entries are escaped');
    assert.match(html.text, /7\.2 %/);
    assert.doesNotMatch(html.text, /<script/i);
  }

  const other = await server.get('Patient/p-other/$summary', { token: tokens.patient });
  assert.equal(other.status, 403, other.text);
  assert.doesNotMatch(other.text, /a1c-other|6\.0/);
  const unknown = await server.get('Patient/nobody/$summary', { token: tokens.patient });
  assert.equal(unknown.status, 404);
  const badParam = await server.get('Patient/p-own/$summary?foo=1', { token: tokens.patient });
  assert.equal(badParam.status, 400);
  assert.match(badParam.text, /foo/);
  const remote = await server.get('Patient/p-remote/$summary', { token: tokens.physician });
  assert.equal(remote.status, 403, 'no care relationship: as for $everything');
});

test('consents: the patient writes their own; a PSY restriction leaves entries out of a remote clinician\'s $summary', async () => {
  const { server, tokens } = world;
  const consent = (patient) => ({
    resourceType: 'Consent', status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: `Patient/${patient}` },
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    provision: { type: 'permit', provision: [{ type: 'deny', securityLabel: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'PSY' }] }] },
  });
  const before = await server.get('Patient/p-own/$summary', { token: tokens.physician });
  assert.equal(before.status, 200, before.text);
  assert.ok(before.text.includes('Condition/cond-psy'), 'visible before the consent (care relationship)');
  const foreign = await server.post('Consent', consent('p-other'), { token: tokens.patient });
  assert.equal(foreign.status, 403, foreign.text);
  const mine = await server.post('Consent', consent('p-own'), { token: tokens.patient });
  assert.equal(mine.status, 201, mine.text);
  const afterConsent = await server.get('Patient/p-own/$summary', { token: tokens.physician });
  assert.equal(afterConsent.status, 200);
  assert.ok(!afterConsent.text.includes('Condition/cond-psy'), 'the PSY condition stays at Hospital Two');
  assert.ok(afterConsent.text.includes('Condition/cond-dm'));
  // Revoking: status inactive.
  const revoked = await server.put(`Consent/${mine.json.id}`, { ...mine.json, status: 'inactive' }, { token: tokens.patient });
  assert.equal(revoked.status, 200, revoked.text);
});

test('audit trail as the patient sees it: who opened my record, never another patient\'s data', async () => {
  const { server, tokens } = world;
  // A clinician's search touching several patients at once.
  const search = await server.get('Observation?code=http://loinc.org|8867-4', { token: tokens.physician });
  assert.equal(search.status, 200, search.text);
  let events;
  for (let i = 0; i < 50; i++) {
    events = await server.get('AuditEvent?patient=Patient/p-own&_count=200', { token: tokens.patient });
    assert.equal(events.status, 200, events.text);
    if (events.json.entry?.some((e) => e.resource.meta?.security?.some((s) => s.code === 'REDACTED'))) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const text = JSON.stringify(events.json);
  assert.ok(events.json.entry.length > 0);
  assert.ok(events.json.entry.some((e) => e.resource.meta?.security?.some((s) => s.code === 'REDACTED')), 'the shared search event is shown redacted');
  for (const other of ['p-other', 'p-local', 'p-remote', 'obs-other-patient', 'obs-own-facility']) {
    assert.ok(!text.includes(other), `${other} must not appear in the patient's audit view: ${JSON.stringify(events.json.entry.map((e) => e.resource).find((r) => JSON.stringify(r).includes(other)))}`);
  }
  // Reading one event directly is redacted the same way.
  const shared = events.json.entry.find((e) => e.resource.meta?.security?.some((s) => s.code === 'REDACTED'));
  const one = await server.get(`AuditEvent/${shared.resource.id}`, { token: tokens.patient });
  assert.equal(one.status, 200);
  assert.ok(!one.text.includes('p-other') && !one.text.includes('p-local'), one.text);
  // Another patient's audit trail is not theirs to see.
  // Naming another patient finds at most events that concern the patient too, redacted.
  const foreign = await server.get('AuditEvent?patient=Patient/p-other', { token: tokens.patient });
  assert.ok([200, 403].includes(foreign.status), foreign.text.slice(0, 300));
  for (const e of foreign.json?.entry ?? []) {
    const body = JSON.stringify(e.resource);
    assert.ok(!body.includes('p-other'), body);
    assert.ok(body.includes('Patient/p-own'), `only the patient's own events: ${body}`);
  }
});

test('proxy: own record and the wards\' records, nobody else\'s', async () => {
  const { server } = world;
  const token = userToken(server, 'u-parent', 'proxy', { facilities: [], patient: 'p-local', proxyFor: ['p-own'] });
  for (const [path, status] of [
    ['Observation/obs-own-patient', 200], ['Observation/obs-own-facility', 200],
    ['Observation/obs-other-patient', 403], ['Observation/obs-other-facility', 403],
    ['Patient/p-own/$summary', 200], ['Patient/p-local/$everything', 200],
    ['Patient/p-other/$everything', 403], ['Patient/p-other/$summary', 403],
  ]) {
    const res = await server.get(path, { token });
    assert.equal(res.status, status, `${path}: ${res.text.slice(0, 300)}`);
  }
  const search = await server.get('Observation?patient=Patient/p-other', { token });
  assert.ok(search.status === 403 || (search.status === 200 && !(search.json.entry ?? []).length), search.text.slice(0, 300));
  const all = await server.get('Observation?_count=100', { token });
  const subjects = new Set((all.json.entry ?? []).map((e) => e.resource.subject.reference));
  assert.deepEqual([...subjects].sort(), ['Patient/p-local', 'Patient/p-own']);
  const users = runCli(['user', 'list', '--db', server.db]);
  assert.match(users, /u-parent\tproxy/);
});
