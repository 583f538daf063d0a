// serve --demo gives the web stories what they need (src/synth/web_story.cc, terminology.ndjson,
// app/demo_web.cc): today's clinic for the demo doctor, free Slots at two facilities, María's
// message awaiting a reply, a result awaiting review, the code lists with the allergy check, and
// the demo users with random passwords kept in a 0600 file beside the database.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import { startWebServer } from './harness.mjs';

let server;
before(async () => {
  server = await startWebServer();
});
after(() => server?.stop());

// Today in this machine's time zone, as the server computes it.
const now = new Date();
const today = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`;

test("María's longitudinal record has glucose and HbA1c with reference ranges from several facilities", async () => {
  const res = await server.get('Observation?patient=demo-maria-lopez&code=http://loinc.org|4548-4&_count=100');
  assert.equal(res.status, 200);
  const obs = res.json.entry.map((e) => e.resource);
  assert.ok(obs.length >= 10, `${obs.length} HbA1c results`);
  assert.ok(obs.every((o) => o.referenceRange?.[0]?.high), 'every result has a reference range');
  const encounters = new Set(obs.map((o) => o.encounter?.reference).filter(Boolean));
  assert.ok(encounters.size >= 5);
  const orgs = new Set();
  for (const ref of encounters) {
    const enc = await server.get(ref);
    orgs.add(enc.json.serviceProvider?.reference);
  }
  assert.ok(orgs.size >= 3, `HbA1c from ${[...orgs].join(', ')}`);
  const allergy = await server.get('AllergyIntolerance?patient=demo-maria-lopez');
  assert.ok(allergy.json.entry.some((e) => JSON.stringify(e.resource.code).includes('764146007')), 'the penicillin allergy');
});

test("today's appointments for the demo doctor, at a facility", async () => {
  const res = await server.get(`Appointment?practitioner=prac-rpc-01&date=${today}&_sort=date`);
  assert.equal(res.status, 200, res.text);
  const appts = (res.json.entry ?? []).map((e) => e.resource);
  assert.ok(appts.length >= 5, `${appts.length} appointments today`);
  const maria = appts.find((a) => a.participant.some((p) => p.actor.reference === 'Patient/demo-maria-lopez'));
  assert.ok(maria, 'María is on today\'s list');
  assert.ok(maria.participant.some((p) => p.actor.reference === 'Location/riverside-primary-care-site'));
});

test('free Slots to book at two facilities', async () => {
  for (const schedule of ['sched-rpc-01', 'sched-endo-01']) {
    const res = await server.get(`Slot?schedule=Schedule/${schedule}&status=free&start=gt${today}&_count=200`);
    assert.equal(res.status, 200, res.text);
    assert.ok(res.json.entry?.length >= 10, `${res.json.entry?.length} free slots for ${schedule}`);
  }
});

test("María's message awaits a reply, and a lab result awaits review, in the doctor's in-basket", async () => {
  const tasks = (await server.get('Task?owner=Practitioner/prac-rpc-01&status=requested')).json.entry.map((e) => e.resource);
  const reply = tasks.find((t) => t.code.coding[0].code === 'reply-message');
  const review = tasks.find((t) => t.code.coding[0].code === 'review-result');
  assert.ok(reply && review, JSON.stringify(tasks.map((t) => t.code)));
  const message = await server.get(reply.focus.reference);
  assert.equal(message.json.sender.reference, 'Patient/demo-maria-lopez');
  assert.equal(message.json.recipient[0].reference, 'Practitioner/prac-rpc-01');
  const report = await server.get(review.focus.reference);
  assert.equal(report.json.resourceType, 'DiagnosticReport');
  const hba1c = await server.get(report.json.result[0].reference);
  assert.equal(hba1c.json.interpretation[0].coding[0].code, 'H');
});

test('code search: conditions, drugs and labs expand with a text filter', async () => {
  const expand = async (id, filter) =>
    (await server.get(`ValueSet/$expand?url=${encodeURIComponent(`https://carechart.dev/fhir/ValueSet/${id}`)}&filter=${encodeURIComponent(filter)}&count=20`)).json;
  const dm = await expand('conditions', 'type 2 diabetes');
  assert.ok(dm.expansion.contains.some((c) => c.code === 'E11.9'), JSON.stringify(dm.expansion.contains));
  assert.ok(dm.expansion.contains.some((c) => c.code === '44054006'));
  const amox = await expand('medications', 'amoxicillin');
  assert.ok(amox.expansion.contains.some((c) => c.code === '562508'), 'amoxicillin-clavulanate 875');
  const a1c = await expand('lab-tests', 'a1c');
  assert.equal(a1c.expansion.contains[0].code, '4548-4');
  const all = await server.get('CodeSystem?_summary=count');
  assert.ok(all.json.total >= 4);
});

test('the allergy check: amoxicillin conflicts with a penicillin allergy, metformin does not', async () => {
  const check = async (code) => {
    const res = await server.get(`ValueSet/allergy-class-penicillins/$validate-code?system=${encodeURIComponent('http://www.nlm.nih.gov/research/umls/rxnorm')}&code=${code}`);
    return res.json.parameter.find((p) => p.name === 'result').valueBoolean;
  };
  assert.equal(await check('562508'), true);
  assert.equal(await check('860975'), false);
  const classes = await server.get('ValueSet?identifier=https://carechart.dev/fhir/allergy-class|');
  assert.ok(classes.json.entry.length >= 3);
  const map = await server.get('ConceptMap/allergy-to-drug-ingredients');
  assert.equal(map.status, 200);
});

test('demo users have random passwords in a file only the owner can read', () => {
  const file = path.join(path.dirname(server.db), 'demo-logins.txt');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.ok(server.logins.doctor.password.length >= 16);
  assert.notEqual(server.logins.doctor.password, server.logins.maria.password);
});
