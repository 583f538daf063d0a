// Break-the-glass and consent end to end over HTTP (docs/access-policy.md).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { USER_IDS, bundleIds, condition, seed, startWorld, userToken } from './world.mjs';

const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
let world;
before(async () => {
  world = await startWorld();
  await seed(world.server, 'F2', [
    condition('cond-flu', 'p-own', ICD10, 'J11.1'),
    condition('cond-psy', 'p-own', ICD10, 'F32.1'),
    condition('cond-sud', 'p-own', ICD10, 'F10.2'),
    condition('cond-remote', 'p-remote', ICD10, 'J11.1'),
  ]);
  world.tokens.remotePatient = userToken(world.server, 'u-remote-patient', 'patient', { facilities: [], patient: 'p-remote' });
});
after(async () => {
  await world?.server.cleanup();
});

const reason = (text) => ({ resourceType: 'Parameters', parameter: [{ name: 'reason', valueString: text }] });

test('break-the-glass: denied, then granted with a reason, flagged, queued for review, visible to the patient', async () => {
  const { server, tokens } = world;
  const as = (role) => ({ token: tokens[role] });
  const before = await server.get('Condition/cond-remote', as('physician'));
  assert.equal(before.status, 403, `no care relationship with p-remote: ${before.text}`);
  assert.equal(before.json?.resourceType, 'OperationOutcome');

  const noReason = await server.post('Patient/p-remote/$emergency-access', { resourceType: 'Parameters' }, as('physician'));
  assert.equal(noReason.status, 400, noReason.text);
  assert.match(noReason.text, /reason/);
  const clerk = await server.post('Patient/p-remote/$emergency-access', reason('curious'), as('front-desk'));
  assert.equal(clerk.status, 403, `front desk may not break the glass: ${clerk.text}`);

  const grant = await server.post('Patient/p-remote/$emergency-access', reason('unconscious in the ED'), as('physician'));
  assert.equal(grant.status, 201, grant.text);
  assert.equal(grant.json.resourceType, 'Basic');
  const ext = grant.json.extension.find((e) => e.url.endsWith('/emergency-access'));
  const sub = Object.fromEntries(ext.extension.map((e) => [e.url, Object.values(e).find((v) => v !== e.url)]));
  assert.equal(sub.reason, 'unconscious in the ED');
  const hours = (Date.parse(sub.end) - Date.parse(sub.start)) / 3600e3;
  assert.ok(Math.abs(hours - 4) < 0.01, `default grant lasts 4 h, got ${hours}`);

  const during = await server.get('Condition/cond-remote', as('physician'));
  assert.equal(during.status, 200, during.text);
  assert.equal(during.headers.get('x-carechart-emergency-access'), 'granted');
  const everything = await server.get('Patient/p-remote/$everything', as('physician'));
  assert.equal(everything.status, 200, everything.text);
  assert.ok(bundleIds(everything.json).includes('Condition/cond-remote'));
  assert.equal(everything.headers.get('x-carechart-emergency-access'), 'granted');
  const other = await server.get('Condition/cond-remote', as('nurse'));
  assert.equal(other.status, 403, 'the grant is the physician\'s only');

  const queue = await server.get('$emergency-access-review', as('privacy-officer'));
  assert.equal(queue.status, 200, queue.text);
  assert.ok(bundleIds(queue.json).includes(`Basic/${grant.json.id}`), 'the grant waits for review');
  const notPo = await server.get('$emergency-access-review', as('physician'));
  assert.equal(notPo.status, 403);
  const reviewed = await server.post('$emergency-access-review', { resourceType: 'Parameters', parameter: [{ name: 'grant', valueString: `Basic/${grant.json.id}` }, { name: 'note', valueString: 'justified' }] }, as('privacy-officer'));
  assert.equal(reviewed.status, 200, reviewed.text);
  assert.ok(reviewed.json.meta.tag.some((t) => t.code === 'reviewed'));
  const after = await server.get('$emergency-access-review', as('privacy-officer'));
  assert.ok(!bundleIds(after.json).includes(`Basic/${grant.json.id}`), 'reviewed grants leave the queue');

  // The patient sees who opened their record, why, and the grant itself.
  let events;
  for (let i = 0; i < 50; i++) {
    events = await server.get('AuditEvent?patient=Patient/p-remote&_count=100', { token: tokens.remotePatient });
    assert.equal(events.status, 200, events.text);
    if (events.json.entry?.some((e) => JSON.stringify(e.resource).includes('unconscious in the ED'))) break;
    await new Promise((r) => setTimeout(r, 100));  // read audits are written in batches
  }
  const mine = events.json.entry.map((e) => e.resource);
  assert.ok(mine.some((e) => e.purposeOfEvent?.[0]?.coding?.[0]?.code === 'ETREAT' && e.agent[0].altId === USER_IDS['u-physician']), 'an ETREAT event by the physician');
  assert.ok(mine.some((e) => (e.outcomeDesc ?? '').includes('unconscious in the ED')), 'the reason is recorded');
  const grants = await server.get('Basic?subject=Patient/p-remote', { token: tokens.remotePatient });
  assert.ok(bundleIds(grants.json).includes(`Basic/${grant.json.id}`));
  const notYours = await server.get('AuditEvent?patient=Patient/p-own', { token: tokens.remotePatient });
  for (const e of notYours.json.entry ?? []) {
    // Only events about their own record (a Bundle that wrote both records names both).
    assert.ok(e.resource.entity.some((x) => x.what?.reference === 'Patient/p-remote'), `not about p-remote: ${JSON.stringify(e.resource.entity)}`);
  }
});

test('break-the-glass closes by itself when the grant expires', async () => {
  const policy = JSON.parse((await import('node:fs')).readFileSync(new URL('../../src/access/default_policy.json', import.meta.url), 'utf8'));
  policy.emergency_access_hours = 0.0008;  // about 3 s
  const file = path.join(world.server.tmpDir, 'short-grants.json');
  writeFileSync(file, JSON.stringify(policy));
  const short = await startWorld({ args: ['--access-policy', file] });
  try {
    const { server, tokens } = short;
    const grant = await server.post('Patient/p-remote/$emergency-access', reason('short'), { token: tokens.physician });
    assert.equal(grant.status, 201, grant.text);
    const during = await server.get('Observation/obs-other-facility', { token: tokens.physician });
    assert.equal(during.status, 200, during.text);
    await new Promise((r) => setTimeout(r, 3500));
    const later = await server.get('Observation/obs-other-facility', { token: tokens.physician });
    assert.equal(later.status, 403, `expired grant: ${later.text}`);
  } finally {
    await short.server.cleanup();
  }
});

test('consent: sensitive categories stay at the recording facility; break-the-glass overrides only what is allowed', async () => {
  const { server, tokens } = world;
  const dr = { token: tokens.physician };
  // The physician cares for p-own (Encounter at F2 naming pr-1): the whole record is visible.
  for (const id of ['cond-flu', 'cond-psy', 'cond-sud']) {
    const r = await server.get(`Condition/${id}`, dr);
    assert.equal(r.status, 200, `${id} before consent: ${r.text}`);
  }
  const consent = await server.post('Consent', {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: 'Patient/p-own' },
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    provision: { type: 'permit', provision: [{ type: 'deny', securityLabel: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'PSY' }, { code: 'ETH' }] }] },
  }, { token: tokens.patient });
  assert.equal(consent.status, 201, `the patient records their consent: ${consent.text}`);

  const flu = await server.get('Condition/cond-flu', dr);
  assert.equal(flu.status, 200);
  const psy = await server.get('Condition/cond-psy', dr);
  assert.equal(psy.status, 403, psy.text);
  assert.match(psy.text, /consent/);
  const search = await server.get('Condition?patient=Patient/p-own', dr);
  assert.deepEqual(bundleIds(search.json).sort(), ['Condition/cond-flu']);
  const everything = await server.get('Patient/p-own/$everything', dr);
  const ids = bundleIds(everything.json);
  assert.ok(ids.includes('Condition/cond-flu') && !ids.includes('Condition/cond-psy') && !ids.includes('Condition/cond-sud'), ids.join(' '));
  const own = await server.get('Condition/cond-psy', { token: tokens.patient });
  assert.equal(own.status, 200, 'the patient sees their whole record');

  const grant = await server.post('Patient/p-own/$emergency-access', reason('suicidal ideation, ED'), dr);
  assert.equal(grant.status, 201, grant.text);
  const psyNow = await server.get('Condition/cond-psy', dr);
  assert.equal(psyNow.status, 200, psyNow.text);
  assert.equal(psyNow.headers.get('x-carechart-emergency-access'), 'consent-overridden');
  const sudNow = await server.get('Condition/cond-sud', dr);
  assert.equal(sudNow.status, 403, 'ETH (substance use) is not overridable by default');
  assert.match(sudNow.text, /may not override/);
});
