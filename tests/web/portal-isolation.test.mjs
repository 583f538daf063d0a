// "No data of any other patient ever reachable" (issue #9 §7), tried the way an attacker with
// María's portal session would: API calls with her token naming another patient (reads,
// searches, compartments, $everything, $summary, audit trail, writes), and the portal itself
// with another patient's id planted in the browser's storage and URLs. Every attempt must fail
// (403/404, or an empty result) and nothing of the other patient may show up in any answer or
// on the page.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { browserSignIn, PORTAL_CLIENT, screenshot, signIn, useWebSession } from './harness.mjs';

const MARIA = 'demo-maria-lopez';
let token;
let other; // another demo patient: { id, family }
const web = useWebSession({
  setup: async ({ server, browser }) => {
    const page = await browser.newPage();
    token = (await browserSignIn(page, server, server.logins.maria, { clientId: PORTAL_CLIENT })).access_token;
    await page.close();
    const maria = (await server.get(`Patient/${MARIA}`)).json;
    const patients = await server.get('Patient?_count=20');
    // Another patient whose family name appears nowhere in María's record (so a leak is visible).
    const p = patients.json.entry
      .map((e) => e.resource)
      .find((r) => r.id !== MARIA && r.name?.[0]?.family && r.name[0].family !== maria.name[0].family && r.name[0].family.length > 3);
    other = { id: p.id, family: p.name[0].family };
  },
});
const { skip } = web;

async function as(method, path, body, headers = {}) {
  const res = await fetch(path.startsWith('/') ? `${web.server.origin}${path}` : `${web.server.fhirBase}/${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/fhir+json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

function assertNothingOf(res, what) {
  // The Bundle's links echo the query we sent (which may hold the name we searched for).
  const body = res.json?.resourceType === 'Bundle' ? JSON.stringify({ ...res.json, link: undefined }) : res.text;
  assert.ok(!body.includes(other.family), `${what}: the other patient's name leaked: ${body.slice(0, 300)}`);
  if (res.status === 200 && res.json?.resourceType === 'Bundle') {
    const leaked = (res.json.entry ?? []).filter((e) => JSON.stringify(e.resource ?? {}).includes(`Patient/${other.id}`) || e.resource?.id === other.id);
    assert.deepEqual(leaked, [], `${what}: returned the other patient's resources`);
  }
}

test('reads, searches and operations naming another patient fail or come back empty', { skip }, async () => {
  const refused = [
    `Patient/${other.id}`,
    `Patient/${other.id}/_history`,
    `Patient/${other.id}/$everything`,
    `Patient/${other.id}/$summary`,
    `Patient/${other.id}/$summary?_format=html`,
    `Patient/${other.id}/Observation`,
    `Patient/${other.id}/*`,
  ];
  for (const path of refused) {
    const res = await as('GET', path);
    assert.ok([403, 404].includes(res.status), `${path} answered ${res.status}: ${res.text.slice(0, 200)}`);
    assertNothingOf(res, path);
  }
  const emptyOrRefused = [
    `Observation?patient=Patient/${other.id}`,
    `Observation?subject=Patient/${other.id}&code=http://loinc.org|4548-4`,
    `Condition?patient=${other.id}`,
    `Communication?subject=Patient/${other.id}`,
    `AuditEvent?patient=Patient/${other.id}`,
    `Appointment?patient=Patient/${other.id}`,
    `Patient?_id=${other.id}`,
    `Patient?family=${encodeURIComponent(other.family)}`,
    `Observation?_count=200`,
    `AuditEvent?_count=200`,
  ];
  for (const path of emptyOrRefused) {
    const res = await as('GET', path);
    assert.ok([200, 403].includes(res.status), `${path} answered ${res.status}`);
    assertNothingOf(res, path);
  }
  // A batch cannot smuggle a read either.
  const batch = await as('POST', '', { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: `Patient/${other.id}` } }, { request: { method: 'GET', url: `Observation?patient=${other.id}` } }] });
  assert.equal(batch.status, 200, batch.text);
  assert.ok(['403', '404'].some((s) => batch.json.entry[0].response.status.startsWith(s)), batch.json.entry[0].response.status);
  assertNothingOf(batch, 'batch');
});

test('writes for another patient are refused and change nothing', { skip }, async () => {
  const ref = { reference: `Patient/${other.id}` };
  const attempts = [
    ['Communication', { resourceType: 'Communication', status: 'completed', subject: ref, payload: [{ contentString: 'x' }] }],
    ['Communication', { resourceType: 'Communication', status: 'completed', subject: { reference: `Patient/${MARIA}` }, recipient: [ref], payload: [{ contentString: 'x' }] }],
    ['Appointment', { resourceType: 'Appointment', status: 'proposed', participant: [{ actor: ref, status: 'accepted' }] }],
    ['Consent', { resourceType: 'Consent', status: 'active', scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] }, category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }], patient: ref, policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] }, provision: { type: 'deny' } }],
    ['Task', { resourceType: 'Task', status: 'requested', intent: 'proposal', for: ref }],
    ['Appointment/$book', { resourceType: 'Appointment', status: 'proposed', slot: [{ reference: 'Slot/none' }], participant: [{ actor: ref, status: 'accepted' }] }],
  ];
  for (const [path, body] of attempts) {
    const res = await as('POST', path, body);
    assert.equal(res.status, 403, `POST ${path} for another patient: ${res.status} ${res.text.slice(0, 200)}`);
  }
  const put = await as('PUT', `Patient/${other.id}`, { resourceType: 'Patient', id: other.id, name: [{ family: 'Hacked' }] });
  assert.ok([403, 404].includes(put.status), `PUT Patient/${other.id}: ${put.status}`);
  const check = await web.server.get(`Patient/${other.id}`);
  assert.equal(check.json.name[0].family, other.family, 'unchanged');
  const invite = await as('POST', '/auth/account/invite', { patient: `Patient/${other.id}` }, { 'content-type': 'application/json' });
  assert.equal(invite.status, 403, 'a patient cannot invite accounts');
});

test('the portal ignores another patient\'s id planted in storage and URLs', { skip }, async () => {
  const page = await web.browser.newPage();
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${web.server.origin}/portal/`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await signIn(page, web.server.logins.maria);
  await page.getByRole('heading', { name: /^Hello/ }).waitFor();
  // Plant the other patient's id where the portal keeps the open record, and in URLs.
  await page.evaluate((id) => sessionStorage.setItem('carechart.portal.patient', id), other.id);
  for (const path of ['/portal/', `/portal/results?patient=${other.id}`, `/portal/Patient/${other.id}`, `/portal/record#${other.id}`]) {
    await page.goto(`${web.server.origin}${path}`);
    await page.getByRole('heading', { level: 1 }).first().waitFor();
    await page.waitForTimeout(1500); // let every query settle
    const text = await page.locator('body').innerText();
    assert.ok(!text.includes(other.family), `${path} shows the other patient's name`);
  }
  await go(page, 'Test results');
  await page.getByTestId('trend-card-hba1c').waitFor(); // María's own data, not the planted patient's
  // Calls from the page with the session's token, as a curious user would make in the console.
  const statuses = await page.evaluate(async (id) => {
    const key = Object.keys(sessionStorage).find((k) => k.startsWith('carechart.session.'));
    const t = JSON.parse(sessionStorage.getItem(key)).accessToken;
    const out = [];
    for (const p of [`Patient/${id}`, `Patient/${id}/$everything`, `Patient/${id}/$summary`]) {
      out.push((await fetch(`/fhir/${p}`, { headers: { Authorization: `Bearer ${t}` } })).status);
    }
    return out;
  }, other.id);
  assert.ok(statuses.every((s) => s === 403 || s === 404), `from the page: ${statuses}`);
  await screenshot(page, 'portal-isolation');
  await page.close();
});

async function go(page, name) {
  if (await page.getByRole('button', { name: 'Menu' }).isVisible()) await page.getByRole('button', { name: 'Menu' }).click();
  await page.getByRole('navigation', { name: 'Portal sections' }).getByRole('link', { name }).click();
  await page.getByRole('heading', { level: 1, name }).waitFor();
}
