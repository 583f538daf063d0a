// The web apps' own SMART clients without a browser: they exist at start, accept exactly this
// server's origin + "/" or + "/portal/" as redirect URI, and a clinician's facility chosen at
// sign-in travels with the code and the refresh token and bounds what the token may claim.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { authorizeUrl, CLINICIAN_CLIENT, pkce, PORTAL_CLIENT, startWebServer } from './harness.mjs';

let server;
before(async () => {
  server = await startWebServer();
});
after(() => server?.stop());

// A form-posting browser with a cookie jar (manual redirects).
async function signInByForm(clientId, login, facility) {
  const jar = new Map();
  const go = async (url, init = {}) => {
    const headers = { ...(init.headers ?? {}), cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') };
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [k, v] = c.split(';')[0].split('=');
      jar.set(k, v);
    }
    return { res, text: await res.text() };
  };
  const { verifier, challenge } = pkce();
  const { url, redirect } = authorizeUrl(server, { clientId, challenge });
  let page = await go(url);
  const post = (fields) =>
    go(`${server.origin}/auth/authorize`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: /name=csrf value='([^']+)'/.exec(page.text)[1], ...fields }).toString(),
    });
  page = await post({ username: login.username, password: login.password });
  if (facility) {
    assert.match(page.text, /Where are you working today\?/);
    page = await post({ facility: 'not-mine' });
    assert.match(page.text, /Choose one of your facilities/);
    page = await post({ facility });
  }
  assert.equal(page.res.status, 302, page.text.slice(0, 300));
  const back = new URL(page.res.headers.get('location'));
  assert.equal(`${back.origin}${back.pathname}`, redirect);
  const token = await fetch(`${server.origin}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: back.searchParams.get('code'), redirect_uri: redirect, client_id: clientId, code_verifier: verifier }),
  });
  return token.json();
}

test('only this origin + "/" and + "/portal/" are accepted as the apps\' redirect URIs', async () => {
  const { challenge } = pkce();
  for (const [clientId, path] of [[CLINICIAN_CLIENT, '/x'], [CLINICIAN_CLIENT, '/portal/'], [PORTAL_CLIENT, '/'], [CLINICIAN_CLIENT, '//evil.example/']]) {
    const url = new URL(authorizeUrl(server, { clientId, challenge }).url);
    url.searchParams.set('redirect_uri', `${server.origin}${path}`);
    const res = await fetch(url, { redirect: 'manual' });
    assert.equal(res.status, 400, `${clientId} ${path}`);
    assert.match(await res.text(), /is not registered for this application/);
  }
  const evil = new URL(authorizeUrl(server, { challenge }).url);
  evil.searchParams.set('redirect_uri', 'http://evil.example/');
  assert.equal((await fetch(evil, { redirect: 'manual' })).status, 400);
});

test('the chosen facility is in the token response, survives refresh, and bounds X-Carechart-Facility', async () => {
  const t = await signInByForm(CLINICIAN_CLIENT, server.logins.doctor, 'lakeside-endocrinology');
  assert.deepEqual(t.facility, { id: 'lakeside-endocrinology', name: 'Lakeside Endocrinology' });
  const auth = { authorization: `Bearer ${t.access_token}`, 'content-type': 'application/fhir+json' };
  const vitals = {
    resourceType: 'Observation', status: 'final', subject: { reference: 'Patient/demo-maria-lopez' },
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] }, effectiveDateTime: '2026-11-20T10:00:00Z',
    valueQuantity: { value: 72, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
  };
  const here = await fetch(`${server.fhirBase}/Observation`, { method: 'POST', headers: { ...auth, 'x-carechart-facility': 'lakeside-endocrinology' }, body: JSON.stringify(vitals) });
  const text = await here.text();
  assert.equal(here.status, 201, text);
  const stamped = JSON.parse(text);
  assert.ok(stamped.meta.tag.some((g) => g.code === 'lakeside-endocrinology'), JSON.stringify(stamped.meta));
  const elsewhere = await fetch(`${server.fhirBase}/Observation`, { method: 'POST', headers: { ...auth, 'x-carechart-facility': 'riverside-primary-care' }, body: JSON.stringify(vitals) });
  assert.equal(elsewhere.status, 403, 'the other facility was not chosen at sign-in');
  const refreshed = await fetch(`${server.origin}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: t.refresh_token, client_id: CLINICIAN_CLIENT }),
  });
  assert.deepEqual((await refreshed.json()).facility, t.facility);
});

test('a patient signing in to the portal gets their own record and no facility step', async () => {
  const t = await signInByForm(PORTAL_CLIENT, server.logins.maria);
  assert.equal(t.patient, 'demo-maria-lopez');
  assert.equal(t.facility, undefined);
  assert.match(t.scope, /patient\//);
});
