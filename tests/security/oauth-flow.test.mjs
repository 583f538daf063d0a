// The authorization-code flow end to end, as a browser and a SMART app do it: a real HTTP client
// (fetch with a cookie jar) follows the redirects, posts the sign-in form (with its CSRF token),
// the TOTP step, the forced password change and the patient picker, and the app's redirect URI
// (a small local HTTP server) receives the code, which is exchanged with PKCE. Then: code reuse,
// PKCE failures, refresh-token rotation and reuse detection, lockout, CSRF, EHR launch.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { runCli, startServer } from '../conformance/server.mjs';

let server;
let app; // the SMART app's redirect endpoint
let redirectUri;
const received = []; // query strings the app received
const CLIENT = 'flow-app';
const PASSWORD = 'correct horse battery staple';

// A browser: a cookie jar and manual redirects (so that each hop can be checked).
class Browser {
  constructor() {
    this.cookies = new Map();
  }
  async fetch(url, init = {}) {
    const headers = { ...(init.headers ?? {}) };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';').map((s) => s.trim());
      const [k, v] = pair.split('=');
      this.lastCookieAttrs = attrs;
      if (v === '' || attrs.some((a) => /^max-age=0$/i.test(a))) this.cookies.delete(k);
      else this.cookies.set(k, v);
    }
    return res;
  }
  // Follows redirects to the end; returns the last response and its text.
  async follow(url, init) {
    let res = await this.fetch(url, init);
    for (let i = 0; i < 5 && [301, 302, 303].includes(res.status); i++) {
      res = await this.fetch(new URL(res.headers.get('location'), url).toString());
    }
    return { res, text: await res.text() };
  }
  async submit(page, fields) {
    const csrf = /name=csrf value='([^']+)'/.exec(page)?.[1];
    assert.ok(csrf, `the page has a CSRF token: ${page.slice(0, 400)}`);
    return this.follow(`${server.origin}/auth/authorize`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf, ...fields }).toString(),
    });
  }
}

function pkce() {
  const verifier = crypto.randomBytes(32).toString('base64url');
  return { verifier, challenge: crypto.createHash('sha256').update(verifier).digest('base64url') };
}

function authorizeUrl({ scope = 'openid fhirUser launch/patient offline_access patient/*.rs user/*.rs', challenge, state = 's-1', launch, aud = server.fhirBase } = {}) {
  const q = new URLSearchParams({ response_type: 'code', client_id: CLIENT, redirect_uri: redirectUri, scope, state, aud });
  if (challenge) q.set('code_challenge', challenge), q.set('code_challenge_method', 'S256');
  if (launch) q.set('launch', launch);
  return `${server.origin}/auth/authorize?${q}`;
}

async function exchange(fields) {
  const res = await fetch(`${server.origin}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: CLIENT, redirect_uri: redirectUri, ...fields }).toString(),
  });
  return { status: res.status, json: await res.json(), headers: res.headers };
}

// RFC 6238 TOTP (SHA-1, 30 s, 6 digits) from a base32 secret.
function totp(base32, time = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of base32.replace(/=+$/, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(time / 1000 / 30)));
  const h = crypto.createHmac('sha1', key).update(counter).digest();
  const o = h[h.length - 1] & 15;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1e6).padStart(6, '0');
}

async function signIn(browser, { username, password = PASSWORD, url, totpSecret, patient, newPassword }) {
  let { res, text } = await browser.follow(url);
  assert.equal(res.status, 200, text.slice(0, 300));
  assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  assert.ok(browser.lastCookieAttrs.includes('HttpOnly') && browser.lastCookieAttrs.includes('SameSite=Lax'), 'sign-in cookie flags');
  ({ res, text } = await browser.submit(text, { username, password }));
  if (totpSecret) {
    assert.match(text, /6-digit code/);
    ({ res, text } = await browser.submit(text, { totp: totp(totpSecret) }));
  }
  if (newPassword) {
    assert.match(text, /Choose a new password/);
    ({ res, text } = await browser.submit(text, { new_password: newPassword, new_password2: newPassword }));
  }
  if (patient) {
    assert.match(text, /Choose a patient/);
    ({ res, text } = await browser.submit(text, { patient }));
  }
  return { res, text };
}

before(async () => {
  app = http.createServer((req, res) => {
    received.push(new URL(req.url, 'http://x').searchParams);
    res.end('app');
  });
  await new Promise((r) => app.listen(0, '127.0.0.1', r));
  redirectUri = `http://127.0.0.1:${app.address().port}/callback`;
  server = await startServer({ args: ['--facility', 'F1'] });
  runCli(['client', 'add', CLIENT, '--db', server.db, '--kind', 'public', '--redirect-uri', redirectUri, '--name', 'Flow test app']);
  runCli(['user', 'add', 'dr-flow', '--db', server.db, '--role', 'physician', '--facility', 'F1', '--practitioner', 'pr-flow', '--password-stdin'], { input: `${PASSWORD}\n` });
  const p = await server.put('Patient/flow-p1', { resourceType: 'Patient', id: 'flow-p1', name: [{ family: 'Flow', given: ['Pat'] }] });
  assert.ok([200, 201].includes(p.status), p.text);
});
after(async () => {
  await server?.cleanup();
  app?.close();
});

test('code flow with PKCE, patient picker, token, refresh rotation and code reuse', async () => {
  const { verifier, challenge } = pkce();
  const browser = new Browser();
  const before = received.length;
  const { text } = await signIn(browser, { username: 'dr-flow', url: authorizeUrl({ challenge, state: 'xyz' }), patient: 'flow-p1' });
  assert.equal(text, 'app', 'the browser ends at the app');
  assert.equal(received.length, before + 1);
  const cb = received.at(-1);
  assert.equal(cb.get('state'), 'xyz');
  const code = cb.get('code');
  assert.ok(code);

  const missing = await exchange({ grant_type: 'authorization_code', code });
  assert.equal(missing.status, 400);
  assert.match(missing.json.error_description, /code_verifier/);
  // That attempt used the code: a fresh one for the rest.
  await signIn(new Browser(), { username: 'dr-flow', url: authorizeUrl({ challenge, state: 'again' }), patient: 'flow-p1' });
  const code2 = received.at(-1).get('code');
  const wrong = await exchange({ grant_type: 'authorization_code', code: code2, code_verifier: pkce().verifier });
  assert.equal(wrong.status, 400);
  assert.match(wrong.json.error_description, /does not match/);

  await signIn(new Browser(), { username: 'dr-flow', url: authorizeUrl({ challenge, state: 'third' }), patient: 'flow-p1' });
  const code3 = received.at(-1).get('code');
  const tok = await exchange({ grant_type: 'authorization_code', code: code3, code_verifier: verifier });
  assert.equal(tok.status, 200, JSON.stringify(tok.json));
  assert.equal(tok.headers.get('cache-control'), 'no-store');
  assert.equal(tok.json.patient, 'flow-p1');
  assert.match(tok.json.scope, /patient\/\*\.rs/);
  assert.ok(tok.json.refresh_token, 'offline_access gives a refresh token');
  const idClaims = JSON.parse(Buffer.from(tok.json.id_token.split('.')[1], 'base64url'));
  assert.equal(idClaims.fhirUser, `${server.fhirBase}/Practitioner/pr-flow`);
  assert.equal(idClaims.aud, CLIENT);

  const read = await server.get('Patient/flow-p1', { token: tok.json.access_token });
  assert.equal(read.status, 200, read.text.slice(0, 300));

  const reuse = await exchange({ grant_type: 'authorization_code', code: code3, code_verifier: verifier });
  assert.equal(reuse.status, 400);
  assert.match(reuse.json.error_description, /already used/);
  // The reuse revoked what the code granted: its refresh token no longer works.
  const afterReuse = await exchange({ grant_type: 'refresh_token', refresh_token: tok.json.refresh_token });
  assert.equal(afterReuse.status, 400);

  // Rotation: a fresh grant, refreshed twice; replaying the first refresh token kills the family.
  await signIn(new Browser(), { username: 'dr-flow', url: authorizeUrl({ challenge, state: 'fourth' }), patient: 'flow-p1' });
  const t1 = await exchange({ grant_type: 'authorization_code', code: received.at(-1).get('code'), code_verifier: verifier });
  assert.equal(t1.status, 200);
  const t2 = await exchange({ grant_type: 'refresh_token', refresh_token: t1.json.refresh_token });
  assert.equal(t2.status, 200, JSON.stringify(t2.json));
  assert.notEqual(t2.json.refresh_token, t1.json.refresh_token, 'a new refresh token each time');
  assert.equal(t2.json.patient, 'flow-p1');
  const replay = await exchange({ grant_type: 'refresh_token', refresh_token: t1.json.refresh_token });
  assert.equal(replay.status, 400);
  assert.match(replay.json.error_description, /already used/);
  const t3 = await exchange({ grant_type: 'refresh_token', refresh_token: t2.json.refresh_token });
  assert.equal(t3.status, 400, 'the whole family is revoked after a replay');
});

test('authorize refuses bad requests: unknown client, unregistered redirect, no PKCE, wrong aud', async () => {
  const b = new Browser();
  const unknown = await b.fetch(authorizeUrl({ challenge: 'x' }).replace(`client_id=${CLIENT}`, 'client_id=nobody'));
  assert.equal(unknown.status, 400);
  const evil = await b.fetch(authorizeUrl({ challenge: 'x' }).replace(encodeURIComponent(redirectUri), encodeURIComponent('http://evil.example/cb')));
  assert.equal(evil.status, 400, 'never redirect to an unregistered URI');
  const noPkce = await b.fetch(authorizeUrl({}));
  assert.equal(noPkce.status, 302);
  assert.match(noPkce.headers.get('location'), /error=invalid_request.*PKCE|error=invalid_request/);
  const aud = await b.fetch(authorizeUrl({ challenge: 'x', aud: 'http://elsewhere.example/fhir' }));
  assert.match(aud.headers.get('location'), /error=invalid_request/);
});

test('CSRF, wrong passwords and lockout (429 with Retry-After)', async () => {
  runCli(['user', 'add', 'nurse-lock', '--db', server.db, '--role', 'nurse', '--facility', 'F1', '--password-stdin'], { input: `${PASSWORD}\n` });
  const b = new Browser();
  const { text } = await b.follow(authorizeUrl({ challenge: pkce().challenge }));
  const forged = await b.follow(`${server.origin}/auth/authorize`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf: 'forged', username: 'nurse-lock', password: PASSWORD }).toString(),
  });
  assert.equal(forged.res.status, 403);
  let page = text;
  for (let i = 0; i < 5; i++) {
    const r = await b.submit(page, { username: 'nurse-lock', password: 'wrong password!' });
    assert.match(r.text, /Wrong username or password/);
    // The username is kept for the retry, the password never is.
    assert.match(r.text, /name=username [^>]*value='nurse-lock'/);
    assert.doesNotMatch(r.text, /wrong password!/);
    page = r.text;
  }
  const locked = await b.submit(page, { username: 'nurse-lock', password: PASSWORD });
  assert.equal(locked.res.status, 429, 'the right password is refused while the account is locked');
  assert.ok(Number(locked.res.headers.get('retry-after')) > 0);
  // An administrator unlocks it.
  runCli(['user', 'enable', 'nurse-lock', '--db', server.db]);
  const again = await signIn(new Browser(), { username: 'nurse-lock', url: authorizeUrl({ challenge: pkce().challenge, scope: 'user/*.rs' }) });
  assert.equal(again.text, 'app');
  // Every sign-in, failed or not, is on the audit trail (DICOM 110114/110122, outcome 4 = failure).
  let failures = [];
  let successes = [];
  for (let i = 0; i < 30 && (failures.length < 5 || successes.length < 1); i++) {
    const res = await server.get('AuditEvent?subtype=110122&_count=200');
    assert.equal(res.status, 200, res.text.slice(0, 300));
    const events = (res.json.entry ?? []).map((e) => e.resource);
    failures = events.filter((e) => e.outcome === '4' && /password/i.test(e.outcomeDesc ?? ''));
    successes = events.filter((e) => e.outcome === '0');
    if (failures.length < 5 || successes.length < 1) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(failures.length >= 5, `five failed sign-ins audited, found ${failures.length}`);
  assert.ok(successes.length >= 1, 'the successful sign-in is audited');
});

test('TOTP second factor and the one-time password change', async () => {
  const out = runCli(['user', 'add', 'dr-totp', '--db', server.db, '--role', 'physician', '--facility', 'F1', '--totp']);
  const oneTime = /one-time password: (\S+)/.exec(out)[1];
  const secret = /TOTP secret: (\S+)/.exec(out)[1];
  assert.match(out, /otpauth:\/\/totp\//);
  const { verifier, challenge } = pkce();
  const b = new Browser();
  let { text } = await b.follow(authorizeUrl({ challenge, scope: 'user/*.rs openid fhirUser' }));
  ({ text } = await b.submit(text, { username: 'dr-totp', password: oneTime }));
  assert.match(text, /6-digit code/);
  ({ text } = await b.submit(text, { totp: '000000' === totp(secret) ? '111111' : '000000' }));
  assert.match(text, /not right/);
  ({ text } = await b.submit(text, { totp: totp(secret) }));
  assert.match(text, /Choose a new password/);
  ({ text } = await b.submit(text, { new_password: 'short', new_password2: 'short' }));
  assert.match(text, /at least 12/);
  ({ text } = await b.submit(text, { new_password: 'a much better passphrase', new_password2: 'a much better passphrase' }));
  assert.equal(text, 'app');
  const tok = await exchange({ grant_type: 'authorization_code', code: received.at(-1).get('code'), code_verifier: verifier });
  assert.equal(tok.status, 200, JSON.stringify(tok.json));
  assert.equal(tok.json.refresh_token, undefined, 'no offline_access, no refresh token');
  // The one-time password is gone.
  const b2 = new Browser();
  const page = (await b2.follow(authorizeUrl({ challenge }))).text;
  assert.match((await b2.submit(page, { username: 'dr-totp', password: oneTime })).text, /Wrong username or password/);
});

test('EHR launch: a registered launch carries its patient into the token', async () => {
  const staff = runCli(['token', '--db', server.db, '--user', 'dr-flow', '--base-url', server.fhirBase]).trim();
  const reg = await server.post('/auth/launch', { patient: 'flow-p1' }, { token: staff, headers: { 'content-type': 'application/json' } });
  assert.equal(reg.status, 201, reg.text);
  const { verifier, challenge } = pkce();
  const { text } = await signIn(new Browser(), { username: 'dr-flow', url: authorizeUrl({ challenge, launch: reg.json.launch, scope: 'launch patient/*.rs' }) });
  assert.equal(text, 'app', 'no patient picker: the launch names the patient');
  const tok = await exchange({ grant_type: 'authorization_code', code: received.at(-1).get('code'), code_verifier: verifier });
  assert.equal(tok.json.patient, 'flow-p1');
  const bad = await new Browser().fetch(authorizeUrl({ challenge, launch: 'no-such-launch' }));
  assert.match(bad.headers.get('location'), /error=invalid_request/);
});
