// SMART's own JavaScript client (npm `fhirclient`, pinned in package.json) against Carechart:
// a real standalone launch with its Node adapter. A tiny app server uses
// `smart(req, res, storage).authorize()` (discovery from /.well-known/smart-configuration,
// PKCE S256, the redirect to /auth/authorize) and `.ready()` on its callback (the code exchange);
// a fetch-based browser signs a patient in on Carechart's page. The app then reads with
// fhirclient's Client (patient context, a search, a granular-scope refusal) and refreshes its
// token with `client.refresh()`. What fhirclient's browser-only parts (BrowserAdapter, the
// launch from an EHR iframe) would add is not covered here; see docs/security.md.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';

import smart from 'fhirclient';

import { runCli, startServer } from '../conformance/server.mjs';

const CLIENT = 'fhirclient-app';
const PASSWORD = 'a patient passphrase 42';
const PATIENT = 'pt-fhirclient';
const SCOPE = 'openid fhirUser launch/patient offline_access patient/Patient.rs patient/Observation.rs?category=vital-signs';

let server;
let app;
let appOrigin;
const storage = new Map(); // fhirclient's server-side state (one user: no per-session keys)
const store = {
  get: async (k) => storage.get(k),
  set: async (k, v) => void storage.set(k, v),
  unset: async (k) => storage.delete(k),
};
let appResult; // what the app saw after ready()

async function appHandler(req, res) {
  const url = new URL(req.url, appOrigin);
  try {
    if (url.pathname === '/launch') {
      await smart(req, res, store).authorize({ clientId: CLIENT, scope: SCOPE, redirectUri: '/callback', iss: server.fhirBase, pkceMode: 'required' });
      return; // authorize() answered with the redirect
    }
    if (url.pathname === '/callback') {
      const client = await smart(req, res, store).ready();
      const patient = await client.patient.read();
      const vitals = await client.request(`Observation?patient=${client.patient.id}&category=vital-signs`);
      let labError = null;
      try {
        await client.request({ url: 'Observation', method: 'POST', body: JSON.stringify(lab(client.patient.id)), headers: { 'content-type': 'application/fhir+json' } });
      } catch (e) {
        labError = { status: e.status ?? e.statusCode, message: String(e.message) };
      }
      const before = client.state.tokenResponse.access_token;
      await client.refresh();
      const afterRefresh = await client.patient.read();
      appResult = {
        patientId: client.patient.id,
        family: patient.name?.[0]?.family,
        vitalsTotal: vitals.total,
        vitalsCodes: (vitals.entry ?? []).map((e) => e.resource.category[0].coding[0].code),
        labError,
        refreshed: client.state.tokenResponse.access_token !== before,
        afterRefresh: afterRefresh.id,
        fhirUser: client.getFhirUser(),
        scope: client.state.tokenResponse.scope,
      };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(appResult));
      return;
    }
    res.writeHead(404).end();
  } catch (e) {
    res.writeHead(500, { 'content-type': 'text/plain' }).end(String(e?.stack ?? e));
  }
}

function observation(patientId, category, code) {
  return {
    resourceType: 'Observation',
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: category }] }],
    code: { coding: [{ system: 'http://loinc.org', code }] },
    subject: { reference: `Patient/${patientId}` },
    valueQuantity: { value: 1, unit: '1', system: 'http://unitsofmeasure.org', code: '1' },
  };
}
const lab = (patientId) => observation(patientId, 'laboratory', '2345-7');

before(async () => {
  server = await startServer({ args: ['--facility', 'F1'] });
  app = http.createServer((req, res) => void appHandler(req, res));
  await new Promise((r) => app.listen(0, '127.0.0.1', r));
  appOrigin = `http://127.0.0.1:${app.address().port}`;
  const put = await server.put(`Patient/${PATIENT}`, { resourceType: 'Patient', id: PATIENT, name: [{ family: 'Client' }] });
  assert.ok([200, 201].includes(put.status), put.text);
  for (const o of [observation(PATIENT, 'vital-signs', '8867-4'), observation(PATIENT, 'vital-signs', '8310-5'), lab(PATIENT), lab(PATIENT)]) await server.create(o);
  runCli(['client', 'add', CLIENT, '--db', server.db, '--kind', 'public', '--redirect-uri', `${appOrigin}/callback`, '--name', 'fhirclient test app']);
  runCli(['user', 'add', 'pat-fc', '--db', server.db, '--role', 'patient', '--patient', PATIENT, '--password-stdin'], { input: `${PASSWORD}\n` });
});

after(async () => {
  await new Promise((r) => (app ? app.close(r) : r()));
  await server?.cleanup();
});

test('fhirclient: standalone launch, PKCE, patient context, granular scopes, refresh', async () => {
  const cookies = new Map();
  const go = async (url, init = {}) => {
    const headers = { ...(init.headers ?? {}) };
    if (cookies.size && url.startsWith(server.origin)) headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [k, v] = c.split(';')[0].split('=');
      cookies.set(k, v);
    }
    return res;
  };

  // 1. The app starts the launch: fhirclient discovers the endpoints and redirects with PKCE.
  const launch = await go(`${appOrigin}/launch`);
  assert.equal(launch.status, 302, await launch.text());
  const authorize = new URL(launch.headers.get('location'));
  assert.equal(`${authorize.origin}${authorize.pathname}`, `${server.origin}/auth/authorize`, 'authorization_endpoint from the discovery document');
  assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(authorize.searchParams.get('aud'), server.fhirBase);

  // 2. The patient signs in on Carechart's page; Carechart redirects to the app with a code.
  const page = await go(authorize.toString());
  const html = await page.text();
  assert.equal(page.status, 200, html.slice(0, 300));
  const csrf = /name=csrf value='([^']+)'/.exec(html)?.[1];
  assert.ok(csrf, 'the sign-in form has a CSRF token');
  const signedIn = await go(`${server.origin}/auth/authorize`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf, username: 'pat-fc', password: PASSWORD }).toString(),
  });
  assert.equal(signedIn.status, 302, await signedIn.text());
  const callback = new URL(signedIn.headers.get('location'));
  assert.equal(`${callback.origin}${callback.pathname}`, `${appOrigin}/callback`);
  assert.ok(callback.searchParams.get('code'));

  // 3. fhirclient's ready() exchanges the code; the app reads through its Client.
  const done = await go(callback.toString());
  const body = await done.text();
  assert.equal(done.status, 200, body);
  const r = JSON.parse(body);
  assert.equal(r.patientId, PATIENT, 'launch/patient context from the token response');
  assert.equal(r.family, 'Client');
  assert.equal(r.fhirUser, `Patient/${PATIENT}`, 'fhirUser from the id_token');
  assert.match(r.scope, /patient\/Observation\.rs\?category=vital-signs/);
  assert.equal(r.vitalsTotal, 2, 'the total counts only what the granular scope shows');
  assert.deepEqual(r.vitalsCodes, ['vital-signs', 'vital-signs']);
  assert.ok(r.labError, 'writing outside the granted scopes fails');
  assert.equal(r.labError.status, 403, JSON.stringify(r.labError));
  assert.equal(r.refreshed, true, 'client.refresh() got a new access token (public client, no client_id sent)');
  assert.equal(r.afterRefresh, PATIENT);
});
