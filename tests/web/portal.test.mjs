// The patient portal (/portal, issue #9) end to end in Chromium against a real Carechart with the
// demo data: the "Done when" story in one test (María signs in, sees her HbA1c trend with its
// range, requests an appointment, messages her doctor and reads the reply the doctor wrote,
// downloads her record as a FHIR Bundle and the printable summary, sees who opened her chart),
// then one test per remaining flow (booking a free Slot, consents and connected apps, a proxy
// switching records, activation with a clinic code). Screenshots: test-artifacts/web/portal-*.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { runCli } from '../conformance/server.mjs';
import { createUser, screenshot, signIn, useWebSession } from './harness.mjs';

const web = useWebSession();
const { skip } = web;
const MARIA = 'demo-maria-lopez';

/** A phone-sized page signed in to the portal as `login`. */
async function portalPage(login) {
  const page = await web.browser.newPage();
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${web.server.origin}/portal/`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await signIn(page, login);
  await page.waitForURL((u) => u.pathname.startsWith('/portal') && !u.searchParams.has('code'), { timeout: 15000 });
  await page.getByRole('heading', { name: /^Hello/ }).waitFor();
  return page;
}

async function go(page, name) {
  if (await page.getByRole('button', { name: 'Menu' }).isVisible()) await page.getByRole('button', { name: 'Menu' }).click();
  await page.getByRole('navigation', { name: 'Portal sections' }).getByRole('link', { name }).click();
  await page.getByRole('heading', { level: 1 }).filter({ hasText: name === 'Sharing & privacy' ? 'Sharing and privacy' : name }).waitFor();
}

function doctorToken() {
  return runCli(['token', '--user', web.server.logins.doctor.username, '--db', web.server.db, '--base-url', web.server.fhirBase]).trim();
}

async function api(method, path, token, body) {
  const res = await fetch(`${web.server.fhirBase}/${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/fhir+json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, text, json: text ? JSON.parse(text) : undefined };
}

async function downloaded(page, click) {
  const [download] = await Promise.all([page.waitForEvent('download'), click()]);
  return { name: download.suggestedFilename(), text: readFileSync(await download.path(), 'utf8') };
}

test('Done when: María signs in, sees her HbA1c trend, requests a visit, messages her doctor and reads the reply, downloads her record and summary, sees who opened her chart', { skip }, async () => {
  const page = await portalPage(web.server.logins.maria);
  await screenshot(page, 'portal-home');

  // HbA1c trend with the normal range, from several facilities.
  await go(page, 'Test results');
  const a1c = page.getByTestId('trend-card-hba1c');
  await a1c.waitFor();
  assert.match(await a1c.innerText(), /HbA1c/);
  assert.match(await a1c.innerText(), /normal range/);
  assert.ok(await a1c.locator('canvas').count(), 'the trend is drawn');
  await screenshot(page, 'portal-results-hba1c');

  // Request an appointment.
  await go(page, 'Appointments');
  const reason = `Diabetes check ${Date.now()}`;
  await page.getByLabel('Reason for the visit').fill(reason);
  await page.getByRole('button', { name: 'Send request' }).click();
  await page.getByText('Your request was sent').waitFor();
  const card = page.getByTestId('appointment').filter({ hasText: reason });
  await card.waitFor();
  assert.match(await card.innerText(), /Requested — waiting for the clinic/);
  const stored = await web.server.get(`Appointment?patient=Patient/${MARIA}&status=proposed`);
  assert.ok(stored.json.entry.some((e) => e.resource.description === reason), 'the request is stored as a proposed Appointment');
  await screenshot(page, 'portal-appointment-requested');

  // A message to her doctor...
  await go(page, 'Messages');
  const subject = `Question about my HbA1c ${Date.now()}`;
  const to = page.getByRole('textbox', { name: 'To', exact: true });
  await to.click();
  if (await page.getByRole('option').count()) await page.getByRole('option').first().click();
  await page.getByLabel('Subject').fill(subject);
  await page.getByRole('textbox', { name: /^Message/ }).fill('Is 8.2 % too high? Should I change my diet?');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await page.getByTestId('thread').filter({ hasText: subject }).waitFor();

  // ... the doctor replies (as the clinician app does: a Communication answering hers) ...
  const doctor = doctorToken();
  const mine = await api('GET', `Communication?subject=Patient/${MARIA}&_count=200`, doctor);
  assert.equal(mine.status, 200, mine.text);
  const question = mine.json.entry.map((e) => e.resource).find((c) => c.topic?.text === subject);
  assert.ok(question, 'the doctor sees the question');
  const reply = await api('POST', 'Communication', doctor, {
    resourceType: 'Communication', status: 'completed', subject: { reference: `Patient/${MARIA}` },
    sender: { reference: 'Practitioner/prac-rpc-01' }, recipient: [{ reference: `Patient/${MARIA}` }],
    inResponseTo: [{ reference: `Communication/${question.id}` }], topic: { text: subject },
    sent: new Date(Date.now() + 1000).toISOString(), payload: [{ contentString: 'It is a bit high. Let us talk at your visit.' }],
  });
  assert.equal(reply.status, 201, reply.text);
  // The doctor also opens her chart (for the access log below).
  assert.equal((await api('GET', `Patient/${MARIA}/$everything?_count=50`, doctor)).status, 200);

  // ... and María sees the new reply.
  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'Messages' }).waitFor();
  const thread = page.getByTestId('thread').filter({ hasText: subject });
  await thread.getByText('New reply').waitFor();
  await thread.getByRole('button', { name: subject }).click();
  await page.getByText('It is a bit high. Let us talk at your visit.').waitFor();
  await screenshot(page, 'portal-message-reply');

  // Her record as a FHIR Bundle and the printable summary.
  await go(page, 'My record');
  const bundleFile = await downloaded(page, () => page.getByRole('button', { name: 'Download everything (FHIR)' }).click());
  assert.match(bundleFile.name, /\.json$/);
  const bundle = JSON.parse(bundleFile.text);
  assert.equal(bundle.resourceType, 'Bundle');
  const types = new Set(bundle.entry.map((e) => e.resource.resourceType));
  for (const t of ['Patient', 'Observation', 'Condition', 'AllergyIntolerance']) assert.ok(types.has(t), `the download holds ${t}`);
  assert.ok(bundle.entry.every((e) => e.resource.resourceType !== 'Patient' || e.resource.id === MARIA), 'no other patient in the file');
  const htmlFile = await downloaded(page, () => page.getByRole('button', { name: 'Download summary (HTML)' }).click());
  assert.match(htmlFile.text, /<h1>Health summary<\/h1>/);
  assert.match(htmlFile.text, /Allergies/);
  await page.getByRole('button', { name: 'Show printable summary' }).click();
  const summary = page.getByTestId('summary');
  await summary.getByText(/Patient Summary/).waitFor();
  assert.match(await summary.innerText(), /Problem list/);
  await screenshot(page, 'portal-record-summary');

  // Who opened her chart: the doctor, from the audit trail (written in batches: retry).
  await go(page, 'Sharing & privacy');
  const log = page.getByTestId('access-log');
  for (let i = 0; i < 20 && !(await log.count() && /physician/.test(await log.innerText())); i++) {
    await page.waitForTimeout(300);
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Sharing and privacy' }).waitFor();
    await page.getByText(/Who looked at my record/).waitFor();
    await page.waitForTimeout(500);
  }
  assert.match(await log.innerText(), /physician/);
  await screenshot(page, 'portal-privacy-access-log');
  await page.close();
});

test('booking a free time: the Slot becomes busy and the visit confirmed', { skip }, async () => {
  const page = await portalPage(web.server.logins.maria);
  await go(page, 'Appointments');
  const book = page.getByRole('button', { name: /^Book / }).first();
  await book.waitFor();
  const label = await book.getAttribute('aria-label');
  await book.click();
  await page.getByText('Booked.').waitFor();
  const booked = await web.server.get(`Appointment?patient=Patient/${MARIA}&status=booked&_count=100`);
  const withSlot = booked.json.entry.map((e) => e.resource).filter((a) => a.slot?.length);
  assert.ok(withSlot.length, `a booked appointment with its Slot (${label})`);
  const slot = await web.server.get(withSlot[withSlot.length - 1].slot[0].reference);
  assert.equal(slot.json.status, 'busy');
  await page.getByTestId('appointment').filter({ hasText: 'Confirmed' }).first().waitFor();
  await screenshot(page, 'portal-booked');
  await page.close();
});

test('health summary, sharing choices and connected apps', { skip }, async () => {
  const page = await portalPage(web.server.logins.maria);
  await go(page, 'My health');
  await page.getByRole('heading', { name: 'Allergies' }).waitFor();
  const allergies = page.locator('section', { has: page.getByRole('heading', { name: 'Allergies' }) });
  await allergies.getByText(/from /).first().waitFor();
  assert.match(await allergies.innerText(), /enicillin/);
  await screenshot(page, 'portal-health');

  await go(page, 'Sharing & privacy');
  await page.getByLabel(/^Mental health/).check();
  await page.getByRole('button', { name: 'Save this choice' }).click();
  const consent = page.getByTestId('consent').filter({ hasText: 'Mental health records stay with the facility' });
  await consent.waitFor();
  const stored = await web.server.get(`Consent?patient=Patient/${MARIA}&status=active`);
  assert.ok(stored.json.entry.some((e) => JSON.stringify(e.resource.provision).includes('PSY')));
  await consent.getByRole('button', { name: 'Stop this restriction' }).click();
  await consent.waitFor({ state: 'detached' });

  // The portal itself is a connected app (offline access): disconnecting it ends its refresh.
  const apps = page.getByTestId('connected-app');
  await apps.first().waitFor();
  assert.match(await apps.first().innerText(), /Carechart patient portal/);
  await screenshot(page, 'portal-privacy');
  const before = await apps.count();
  await apps.first().getByRole('button', { name: 'Disconnect' }).click();
  for (let i = 0; i < 50 && (await apps.count()) === before; i++) await page.waitForTimeout(100);
  assert.equal(await apps.count(), before - 1, 'one app fewer');
  await page.close();
});

test('a parent (proxy) switches between their own record and their child\'s', { skip }, async () => {
  const others = await web.server.get('Patient?_count=3&_sort=_id');
  const [parentId, childId] = others.json.entry.map((e) => e.resource.id).filter((id) => id !== MARIA);
  const login = createUser(web.server, 'parent-e2e', { role: 'proxy', patient: parentId, proxyFor: [childId] });
  const page = await portalPage(login);
  const switcher = page.getByRole('textbox', { name: 'Whose record' });
  await switcher.waitFor();
  await switcher.click();
  const options = page.getByRole('option');
  assert.equal(await options.count(), 2, 'own record and the child\'s');
  // Names come from the options themselves: the box may still show an id while names load.
  const before = (await page.getByRole('option', { selected: true }).innerText()).trim();
  const other = page.getByRole('option', { selected: false });
  const target = (await other.innerText()).trim();
  await other.click();
  let afterSwitch = '';
  for (let i = 0; i < 50 && afterSwitch !== target; i++) {
    afterSwitch = await switcher.inputValue();
    if (afterSwitch !== target) await page.waitForTimeout(100);
  }
  assert.equal(afterSwitch, target, 'the switch shows the chosen record');
  assert.notEqual(afterSwitch, before);
  assert.equal(/\(you\)/.test(before) + /\(you\)/.test(afterSwitch), 1, `one of "${before}" / "${afterSwitch}" is the parent's own`);
  await go(page, 'My health');
  await screenshot(page, 'portal-proxy-child');
  await page.close();
});

test('activation: a clinic code, a chosen password, then signing in', { skip }, async () => {
  const out = runCli(['user', 'invite', 'maria-new', '--patient', `Patient/${MARIA}`, '--db', web.server.db, '--base-url', web.server.fhirBase]);
  const code = /activation code: (\S+)/.exec(out)?.[1];
  assert.ok(code, out);
  const page = await web.browser.newPage();
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${web.server.origin}/portal/`);
  await page.getByRole('link', { name: 'Activate your account' }).click();
  await page.getByLabel(/^Code/).fill(code);
  const password = 'my new portal passphrase';
  await page.getByLabel('New password', { exact: true }).fill(password);
  await page.getByLabel('Repeat the new password').fill(password);
  await page.getByRole('button', { name: 'Save my password' }).click();
  await page.getByText('Your account is ready').waitFor();
  await screenshot(page, 'portal-activated');
  await page.getByRole('link', { name: 'Open the patient portal' }).click();
  await page.getByRole('button', { name: 'Sign in' }).click();
  await signIn(page, { username: 'maria-new', password });
  await page.getByRole('heading', { name: /^Hello/ }).waitFor();
  await page.close();
});
