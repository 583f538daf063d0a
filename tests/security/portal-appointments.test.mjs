// What the patient portal writes (docs/portal-api.md): appointment requests and cancellations,
// booking a free Slot atomically (Appointment/$book), the clinic confirming or proposing another
// time, messages with the care team (with attachments), correction requests — and the refusals
// whenever a patient tries to write for someone else.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { seed, startWorld } from './world.mjs';

let world;

const request = (patient, extra = {}) => ({
  resourceType: 'Appointment', status: 'proposed',
  reasonCode: [{ text: 'Diabetes check-up' }],
  participant: [{ actor: { reference: `Patient/${patient}` }, status: 'accepted' }],
  requestedPeriod: [{ start: '2026-12-01T09:00:00Z', end: '2026-12-05T17:00:00Z' }],
  ...extra,
});

before(async () => {
  world = await startWorld();
  await seed(world.server, 'F1', [
    { resourceType: 'Schedule', id: 'sch-1', active: true, actor: [{ reference: 'Practitioner/pr-1', display: 'Dr Ana Ruiz' }] },
    { resourceType: 'Slot', id: 'slot-1', schedule: { reference: 'Schedule/sch-1' }, status: 'free', start: '2026-12-02T09:00:00Z', end: '2026-12-02T09:20:00Z' },
    { resourceType: 'Slot', id: 'slot-2', schedule: { reference: 'Schedule/sch-1' }, status: 'free', start: '2026-12-02T09:20:00Z', end: '2026-12-02T09:40:00Z' },
  ]);
});
after(async () => {
  await world?.server.cleanup();
});

test('appointment requests: create and cancel my own; never booked directly, never for someone else', async () => {
  const { server, tokens } = world;
  const as = { token: tokens.patient };
  const mine = await server.post('Appointment', request('p-own'), as);
  assert.equal(mine.status, 201, mine.text);
  for (const [body, why] of [
    [request('p-other'), 'another patient'],
    [request('p-own', { participant: [{ actor: { reference: 'Patient/p-own' }, status: 'accepted' }, { actor: { reference: 'Patient/p-other' }, status: 'accepted' }] }), 'a second patient'],
    [request('p-own', { status: 'booked', start: '2026-12-02T09:00:00Z', end: '2026-12-02T09:20:00Z' }), 'booked without a Slot'],
  ]) {
    const res = await server.post('Appointment', body, as);
    assert.equal(res.status, 403, `${why}: ${res.text}`);
    assert.equal(res.json?.resourceType, 'OperationOutcome');
  }
  const cancelled = await server.put(`Appointment/${mine.json.id}`, { ...mine.json, status: 'cancelled' }, as);
  assert.equal(cancelled.status, 200, cancelled.text);
  const list = await server.get('Appointment?patient=Patient/p-own', as);
  assert.equal(list.json.entry.find((e) => e.resource.id === mine.json.id).resource.status, 'cancelled');

  // The clinic confirms a request, or proposes another time.
  const req2 = await server.post('Appointment', request('p-own'), as);
  const confirmed = await server.put(`Appointment/${req2.json.id}`, { ...req2.json, status: 'booked', start: '2026-12-03T10:00:00Z', end: '2026-12-03T10:20:00Z' }, { token: tokens.physician });
  assert.equal(confirmed.status, 200, confirmed.text);
  const req3 = await server.post('Appointment', request('p-own'), as);
  const proposal = {
    ...req3.json, status: 'proposed', start: '2026-12-04T11:00:00Z', end: '2026-12-04T11:20:00Z',
    participant: [{ actor: { reference: 'Patient/p-own' }, status: 'needs-action' }, { actor: { reference: 'Practitioner/pr-1' }, status: 'accepted' }],
  };
  const proposed = await server.put(`Appointment/${req3.json.id}`, proposal, { token: tokens['front-desk'] });
  assert.equal(proposed.status, 200, proposed.text);
  const seen = await server.get(`Appointment/${req3.json.id}`, as);
  assert.equal(seen.json.start, '2026-12-04T11:00:00Z');
});

test('Appointment/$book: a free Slot becomes busy and the Appointment booked, once', async () => {
  const { server, tokens } = world;
  const as = { token: tokens.patient };
  const slots = await server.get('Slot?schedule=Schedule/sch-1&status=free', as);
  assert.equal(slots.status, 200, slots.text);
  assert.equal(slots.json.entry.length, 2);
  const schedule = await server.get('Schedule/sch-1', as);
  assert.equal(schedule.status, 200, 'patients read the published schedules');

  const body = { resourceType: 'Parameters', parameter: [{ name: 'appt-resource', resource: { resourceType: 'Appointment', status: 'proposed', slot: [{ reference: 'Slot/slot-1' }], participant: [{ actor: { reference: 'Patient/p-own' }, status: 'accepted' }], description: 'Check-up' } }] };
  const forOther = structuredClone(body);
  forOther.parameter[0].resource.participant[0].actor.reference = 'Patient/p-other';
  const refused = await server.post('Appointment/$book', forOther, as);
  assert.equal(refused.status, 403, refused.text);
  assert.equal((await server.get('Slot/slot-1', as)).json.status, 'free', 'a refused booking changes nothing');

  const booked = await server.post('Appointment/$book', body, as);
  assert.equal(booked.status, 201, booked.text);
  assert.equal(booked.json.status, 'booked');
  assert.equal(booked.json.start, '2026-12-02T09:00:00Z');
  assert.ok(booked.json.participant.some((p) => p.actor.reference === 'Practitioner/pr-1'), 'the schedule\'s practitioner takes part');
  assert.equal((await server.get('Slot/slot-1', as)).json.status, 'busy');
  const twice = await server.post('Appointment/$book', body, as);
  assert.equal(twice.status, 409, twice.text);
  const noSlot = await server.post('Appointment/$book', { resourceType: 'Appointment', status: 'proposed', participant: [{ actor: { reference: 'Patient/p-own' }, status: 'accepted' }] }, as);
  assert.equal(noSlot.status, 400);
  assert.match(noSlot.text, /Appointment\.slot/);
  const slotWrite = await server.put('Slot/slot-2', { resourceType: 'Slot', id: 'slot-2', schedule: { reference: 'Schedule/sch-1' }, status: 'busy', start: '2026-12-02T09:20:00Z', end: '2026-12-02T09:40:00Z' }, as);
  assert.equal(slotWrite.status, 403, 'patients do not write Slots directly');

  // Two bookings of the same Slot at once: exactly one wins.
  const race = structuredClone(body);
  race.parameter[0].resource.slot[0].reference = 'Slot/slot-2';
  const results = await Promise.all([server.post('Appointment/$book', race, as), server.post('Appointment/$book', race, as)]);
  assert.deepEqual(results.map((r) => r.status).sort(), [201, 409], results.map((r) => r.text.slice(0, 200)).join('\n'));

  // Cancelling a booked visit gives its Slot back in the same write; cancelling again changes nothing.
  const cancel = await server.put(`Appointment/${booked.json.id}`, { ...booked.json, status: 'cancelled' }, as);
  assert.equal(cancel.status, 200, cancel.text);
  const freed = await server.get('Slot/slot-1', as);
  assert.equal(freed.json.status, 'free', 'the cancelled visit\'s Slot is free again');
  const again = await server.put(`Appointment/${booked.json.id}`, { ...cancel.json, status: 'cancelled' }, as);
  assert.equal(again.status, 200, again.text);
  assert.equal((await server.get('Slot/slot-1', as)).json.meta.versionId, freed.json.meta.versionId, 'a second cancel leaves the Slot alone');
  assert.equal((await server.get('Slot/slot-2', as)).json.status, 'busy', 'other bookings keep their Slots');
});

test('messages: threads with the care team, attachments, the clinician\'s reply; nothing for another patient', async () => {
  const { server, tokens } = world;
  const as = { token: tokens.patient };
  const question = await server.post('Communication', {
    resourceType: 'Communication', status: 'completed', subject: { reference: 'Patient/p-own' },
    sender: { reference: 'Patient/p-own' }, recipient: [{ reference: 'Practitioner/pr-1' }],
    topic: { text: 'My HbA1c' }, sent: '2026-11-20T10:00:00Z',
    payload: [{ contentString: 'Is 7.2 good?' }, { contentAttachment: { contentType: 'text/plain', title: 'diary.txt', data: Buffer.from('glucose diary').toString('base64') } }],
  }, as);
  assert.equal(question.status, 201, question.text);
  const sneaky = await server.post('Communication', {
    resourceType: 'Communication', status: 'completed', subject: { reference: 'Patient/p-own' },
    recipient: [{ reference: 'Patient/p-other' }], payload: [{ contentString: 'hi' }],
  }, as);
  assert.equal(sneaky.status, 403, sneaky.text);
  const reply = await server.post('Communication', {
    resourceType: 'Communication', status: 'completed', subject: { reference: 'Patient/p-own' },
    sender: { reference: 'Practitioner/pr-1' }, recipient: [{ reference: 'Patient/p-own' }],
    inResponseTo: [{ reference: `Communication/${question.json.id}` }], topic: { text: 'My HbA1c' },
    sent: '2026-11-20T12:00:00Z', payload: [{ contentString: 'Better than last time.' }],
  }, { token: tokens.physician });
  assert.equal(reply.status, 201, reply.text);
  const thread = await server.get('Communication?subject=Patient/p-own&_sort=sent', as);
  assert.equal(thread.status, 200, thread.text);
  const texts = thread.json.entry.map((e) => e.resource.payload[0].contentString);
  assert.deepEqual(texts, ['Is 7.2 good?', 'Better than last time.']);
  assert.equal(thread.json.entry[0].resource.payload[1].contentAttachment.title, 'diary.txt');

  // A correction request is a Task for the care team about one entry.
  const task = {
    resourceType: 'Task', status: 'requested', intent: 'proposal',
    code: { coding: [{ system: 'http://hl7.org/fhir/CodeSystem/task-code', code: 'change' }] },
    focus: { reference: 'Observation/obs-own-patient' }, for: { reference: 'Patient/p-own' },
    description: 'The heart rate on 1 November was measured after running.',
  };
  const asked = await server.post('Task', task, as);
  assert.equal(asked.status, 201, asked.text);
  const foreignTask = await server.post('Task', { ...task, for: { reference: 'Patient/p-other' } }, as);
  assert.equal(foreignTask.status, 403);
  const selfComplete = await server.put(`Task/${asked.json.id}`, { ...asked.json, status: 'completed' }, as);
  assert.equal(selfComplete.status, 403, 'only the care team completes a correction');
});
