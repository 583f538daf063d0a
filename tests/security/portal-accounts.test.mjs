// Patient-portal accounts (docs/portal-api.md): invitation by CLI and by the clinic's API,
// activation with a one-time code, password reset by a clinic code, rate limiting, "who am I and
// whose records may I open" for patients and proxies, connected apps and revoking one.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, test } from 'node:test';

import { runCli } from '../conformance/server.mjs';
import { startWorld } from './world.mjs';

let world;
const CLIENT = 'portal-test-app';
const REDIRECT = 'http://127.0.0.1:9/callback'; // never contacted: the code is read from Location
const PASSWORD = 'a long enough passphrase 1';

before(async () => {
  world = await startWorld();
  runCli(['client', 'add', CLIENT, '--db', world.server.db, '--kind', 'public', '--name', 'Test Portal', '--redirect-uri', REDIRECT,
    '--scope', 'openid fhirUser launch/patient offline_access patient/*.cruds']);
});
after(async () => {
  await world?.server.cleanup();
});

function cookieJar() {
  const jar = new Map();
  return {
    async fetch(url, init = {}) {
      const headers = { ...(init.headers ?? {}) };
      if (jar.size) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
      const res = await fetch(url, { ...init, headers, redirect: 'manual' });
      for (const c of res.headers.getSetCookie()) {
        const [k, v] = c.split(';')[0].split('=');
        jar.set(k, v);
      }
      return res;
    },
  };
}

/** Signs in through /auth/authorize and returns the token response (with a refresh token). */
async function signIn(username, password) {
  const { origin, fhirBase } = world.server;
  const verifier = crypto.randomBytes(32).toString('base64url');
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  const q = new URLSearchParams({ response_type: 'code', client_id: CLIENT, redirect_uri: REDIRECT, state: 'st',
    scope: 'openid fhirUser launch/patient offline_access patient/*.cruds', aud: fhirBase, code_challenge: challenge, code_challenge_method: 'S256' });
  const browser = cookieJar();
  let res = await browser.fetch(`${origin}/auth/authorize?${q}`);
  let page = await res.text();
  assert.equal(res.status, 200, page);
  const csrf = /name=csrf value='([^']+)'/.exec(page)?.[1];
  res = await browser.fetch(`${origin}/auth/authorize`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf, username, password }).toString(),
  });
  // A refused password shows the form again (200 with an error), without redirecting to the app.
  if (res.status !== 302) return { status: 'refused', httpStatus: res.status, page: await res.text() };
  const code = new URL(res.headers.get('location')).searchParams.get('code');
  assert.ok(code, `redirected with a code: ${res.headers.get('location')}`);
  const tok = await fetch(`${origin}/auth/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, client_id: CLIENT, redirect_uri: REDIRECT }).toString(),
  });
  return { status: tok.status, ...(await tok.json()) };
}

async function activate(fields, headers = {}) {
  const res = await fetch(`${world.server.origin}/auth/activate`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

async function account(method, path, token, body) {
  const res = await fetch(`${world.server.origin}/auth/account/${path}`, {
    method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined, text };
}

test('CLI invitation without a username: the patient activates with the code, chooses a username and signs in', async () => {
  const out = runCli(['user', 'invite', '--patient', 'Patient/p-own', '--db', world.server.db, '--base-url', world.server.fhirBase]);
  assert.match(out, /created user invited-\S+ \(patient,/);
  const code = /activation code: ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})/.exec(out)?.[1];
  assert.ok(code, out);
  assert.doesNotMatch(out, /one-time password/);
  const page = await fetch(`${world.server.origin}/auth/activate?code=${code}`);
  const html = await page.text();
  assert.equal(page.status, 200);
  assert.match(html, /<label for=code>/);
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);

  const short = await activate({ code, username: 'maria.l', password: 'short', password2: 'short' });
  assert.equal(short.status, 400);
  assert.match(short.text, /12 characters/);
  const ok = await activate({ code: code.toLowerCase().replaceAll('-', ' '), username: 'maria.l', password: PASSWORD, password2: PASSWORD });
  assert.equal(ok.status, 200, ok.text);
  assert.match(ok.text, /Your username is <strong>maria\.l<\/strong>/);
  const again = await activate({ code, username: 'maria.l2', password: PASSWORD, password2: PASSWORD });
  assert.equal(again.status, 400, 'a code works once');
  assert.match(again.text, /not valid/);

  const tokens = await signIn('maria.l', PASSWORD);
  assert.equal(tokens.status, 200, JSON.stringify(tokens));
  assert.equal(tokens.patient, 'p-own');
  const me = await account('GET', 'me', tokens.access_token);
  assert.equal(me.status, 200, me.text);
  assert.equal(me.json.username, 'maria.l');
  assert.deepEqual(me.json.patients, [{ patient: 'Patient/p-own', relationship: 'self' }]);

  // Connected apps: the grant is listed and can be revoked; its refresh token then fails.
  const apps = await account('GET', 'apps', tokens.access_token);
  assert.equal(apps.status, 200, apps.text);
  const app = apps.json.apps.find((a) => a.clientId === CLIENT);
  assert.ok(app, apps.text);
  assert.equal(app.name, 'Test Portal');
  const revoked = await account('DELETE', `apps/${encodeURIComponent(app.id)}`, tokens.access_token);
  assert.equal(revoked.status, 204, revoked.text);
  const gone = await account('DELETE', `apps/${encodeURIComponent(app.id)}`, tokens.access_token);
  assert.equal(gone.status, 404);
  const refresh = await fetch(`${world.server.origin}/auth/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: CLIENT }).toString(),
  });
  assert.equal(refresh.status, 400, 'the revoked grant no longer refreshes');
});

test('clinic API: front desk invites and issues reset codes; other roles and bad input are refused', async () => {
  const { tokens } = world;
  const denied = await account('POST', 'invite', tokens.physician, { patient: 'Patient/p-local' });
  assert.equal(denied.status, 403, denied.text);
  const patientTries = await account('POST', 'invite', tokens.patient, { patient: 'Patient/p-other' });
  assert.equal(patientTries.status, 403);
  const bad = await account('POST', 'invite', tokens['front-desk'], { patient: 'Patient/../x' });
  assert.equal(bad.status, 400);
  const none = await account('POST', 'invite', tokens['front-desk'], {});
  assert.equal(none.status, 400);
  assert.match(none.json.error_description, /patient/);

  const inv = await account('POST', 'invite', tokens['front-desk'], { patient: 'Patient/p-local', proxyFor: ['Patient/p-other'], username: 'parent1', display: 'A Parent' });
  assert.equal(inv.status, 201, inv.text);
  assert.equal(inv.json.role, 'proxy');
  assert.match(inv.json.code, /^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/);
  assert.match(inv.json.activateUrl, /\/auth\/activate$/);
  const taken = await account('POST', 'invite', tokens.administrator, { patient: 'Patient/p-local', username: 'parent1' });
  assert.equal(taken.status, 409);

  const act = await activate({ code: inv.json.code, password: PASSWORD, password2: PASSWORD });
  assert.equal(act.status, 200, act.text);
  assert.match(act.text, /parent1/);
  const signed = await signIn('parent1', PASSWORD);
  assert.equal(signed.status, 200, JSON.stringify(signed));
  const me = await account('GET', 'me', signed.access_token);
  assert.deepEqual(me.json.patients, [
    { patient: 'Patient/p-local', relationship: 'self' },
    { patient: 'Patient/p-other', relationship: 'proxy' },
  ]);

  // Reset by a clinic code: the old password stops working, the new one works.
  const staff = await account('POST', 'reset-code', tokens['front-desk'], { username: 'u-physician' });
  assert.equal(staff.status, 403, 'staff passwords are not reset through the portal API');
  const reset = await account('POST', 'reset-code', tokens['front-desk'], { username: 'parent1' });
  assert.equal(reset.status, 200, reset.text);
  const NEW = 'another long passphrase 2';
  const done = await activate({ code: reset.json.code, password: NEW, password2: NEW });
  assert.equal(done.status, 200, done.text);
  assert.match(done.text, /new password is saved/);
  const old = await signIn('parent1', PASSWORD);
  assert.equal(old.status, 'refused', 'the old password no longer works');
  assert.match(old.page, /role=alert/);
  assert.equal((await signIn('parent1', NEW)).status, 200);

  // CLI reset code for an existing account.
  const out = runCli(['user', 'reset-password', 'parent1', '--code', '--db', world.server.db]);
  assert.match(out, /reset code [A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}/);
});

test('wrong codes are rate limited per address and audited', async () => {
  const headers = {};
  let last;
  for (let i = 0; i < 25; i++) {
    last = await activate({ code: `WRNG-CODE-${String(i).padStart(4, '0')}`, username: 'x-user', password: PASSWORD, password2: PASSWORD }, headers);
    if (last.status === 429) break;
  }
  assert.equal(last.status, 429, 'refused after repeated wrong codes');
  assert.ok(Number(last.headers.get('retry-after')) > 0);
  let events;
  for (let i = 0; i < 50; i++) {
    events = await world.server.get('AuditEvent?outcome=4&_count=200');
    if (events.json?.entry?.some((e) => (e.resource.outcomeDesc ?? '').includes('activation code refused'))) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(events.json.entry.some((e) => (e.resource.outcomeDesc ?? '').includes('activation code refused')), 'refused codes are audited');
});
