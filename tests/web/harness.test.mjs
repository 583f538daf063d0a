// The harness itself: a demo server starts, "/" loads in Chromium, the sign-in round trip gives
// tokens for a clinician (with the facility chosen at sign-in) and a patient, and screenshots
// land in test-artifacts/web/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { browserSignIn, PORTAL_CLIENT, screenshot, useWebSession } from './harness.mjs';

const web = useWebSession();
const { skip } = web;

test('the page at / loads, and a screenshot of it is saved', { skip }, async () => {
  const page = await web.browser.newPage();
  const res = await page.goto(`${web.server.origin}/`);
  assert.equal(res.status(), 200);
  assert.match(res.headers()['content-type'], /^text\/html/);
  assert.match(res.headers()['content-security-policy'], /frame-ancestors 'none'/);
  // The app may send the browser on to the sign-in page: either way a Carechart page shows.
  await page.waitForLoadState('networkidle');
  await page.waitForFunction(() => document.title.includes('Carechart'), null, { timeout: 10000 });
  const file = await screenshot(page, 'harness-home');
  assert.ok(existsSync(file) && statSync(file).size > 1000, `${file} is a real PNG`);
  await page.close();
});

test('a clinician signs in through the sign-in page, picks a facility, and gets tokens', { skip }, async () => {
  const page = await web.browser.newPage();
  const tokens = await browserSignIn(page, web.server, web.server.logins.doctor, { facility: 'Lakeside Endocrinology' });
  assert.ok(tokens.access_token && tokens.refresh_token, JSON.stringify(tokens));
  assert.deepEqual(tokens.facility, { id: 'lakeside-endocrinology', name: 'Lakeside Endocrinology' });
  // The token works on the FHIR API: the demo doctor's patient is there.
  const res = await fetch(`${web.server.fhirBase}/Patient/demo-maria-lopez`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  assert.equal(res.status, 200);
  await screenshot(page, 'harness-clinician-signed-in');
  await page.close();
});

test('a patient signs in to the portal and the token carries their own patient', { skip }, async () => {
  const page = await web.browser.newPage();
  await page.setViewportSize({ width: 390, height: 844 }); // a phone
  const tokens = await browserSignIn(page, web.server, web.server.logins.maria, { clientId: PORTAL_CLIENT });
  assert.equal(tokens.patient, 'demo-maria-lopez');
  assert.equal(tokens.facility, undefined);
  const other = await fetch(`${web.server.fhirBase}/Patient/pat-000001`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  assert.ok([403, 404].includes(other.status), `another patient's record answered ${other.status}`);
  await page.close();
});

test('the sign-in page says what went wrong and keeps the focus usable', { skip }, async () => {
  const page = await web.browser.newPage();
  await page.setViewportSize({ width: 390, height: 844 });
  const { authorizeUrl, pkce } = await import('./harness.mjs');
  await page.goto(authorizeUrl(web.server, { challenge: pkce().challenge }).url);
  await page.getByLabel('Username').fill('demo-doctor');
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForSelector('[role=alert]');
  assert.match(await page.locator('[role=alert]').innerText(), /Wrong username or password\. Check both/);
  assert.equal(await page.getByLabel('Password').getAttribute('aria-invalid'), 'true');
  await screenshot(page, 'harness-sign-in-error-phone');
  await page.close();
});
