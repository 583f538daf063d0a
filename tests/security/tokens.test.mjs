// Access tokens over HTTP: the 401 gate and its reasons (missing, expired, not yet valid, wrong
// audience or issuer, tampered, unknown key, alg none, revoked), 403 for scopes on every kind of
// interaction and on every returned resource, introspection and revocation, and the client
// assertions of SMART Backend Services (replay, audience, expiry, unregistered key).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
  assertOperationOutcome,
  clientAssertion,
  rawHttp,
  runCli,
  signJwt,
  startServer,
  testClientKeys,
  TEST_CLIENT_ID,
} from '../conformance/server.mjs';

let server;
// POST an application/x-www-form-urlencoded body (no token unless opts say so).
const postForm = (p, fields, opts = {}) =>
  server.post(p, new URLSearchParams(fields).toString(), { headers: { 'content-type': 'application/x-www-form-urlencoded' }, auth: false, ...opts });
const cliToken = (...extra) => runCli(['token', '--db', server.db, '--client', TEST_CLIENT_ID, '--base-url', server.fhirBase, ...extra]).trim();
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');

function assert401(res, reason) {
  assert.equal(res.status, 401, `${res.method} ${res.url}: expected 401, got ${res.status}: ${res.text.slice(0, 300)}`);
  const www = res.headers.get('www-authenticate') ?? '';
  assert.match(www, /^Bearer /, 'WWW-Authenticate must name the Bearer scheme');
  const oo = assertOperationOutcome(res);
  assert.equal(oo.issue[0].code, 'login');
  if (reason) assert.match(oo.issue[0].diagnostics, reason);
}

before(async () => {
  server = await startServer({ args: ['--facility', 'F1'] });
  // Data for the scope tests, written with the full system/*.cruds token.
  await server.put('Patient/tok-p1', { resourceType: 'Patient', id: 'tok-p1', name: [{ family: 'Token' }] });
  const obs = (id, category) => ({
    resourceType: 'Observation',
    id,
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: category }] }],
    code: { coding: [{ system: 'http://loinc.org', code: category === 'laboratory' ? '2345-7' : '8867-4' }] },
    subject: { reference: 'Patient/tok-p1' },
  });
  for (const [id, cat] of [['tok-lab', 'laboratory'], ['tok-vital', 'vital-signs']]) {
    const r = await server.put(`Observation/${id}`, obs(id, cat));
    assert.ok([200, 201].includes(r.status), `seed ${id}: ${r.status} ${r.text.slice(0, 200)}`);
  }
});
after(async () => server?.cleanup());

test('public: CapabilityStatement and SMART discovery need no token', async () => {
  const meta = await server.get('metadata', { auth: false });
  assert.equal(meta.status, 200);
  const smart = await server.get('.well-known/smart-configuration', { auth: false });
  assert.equal(smart.status, 200);
  for (const k of ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'introspection_endpoint', 'revocation_endpoint']) {
    assert.match(smart.json[k], /^http:\/\/127\.0\.0\.1:\d+\/auth\//, k);
  }
  assert.deepEqual(smart.json.code_challenge_methods_supported, ['S256']);
  assert.ok(smart.json.capabilities.includes('permission-v2'));
  assert.ok(smart.json.token_endpoint_auth_signing_alg_values_supported.includes('ES384'));
  // A real FHIR client: with the bearer token it reads, without it it gets 401.
  const pat = await server.client().read({ resourceType: 'Patient', id: 'tok-p1' });
  assert.equal(pat.id, 'tok-p1');
  await assert.rejects(() => server.client({ auth: false }).read({ resourceType: 'Patient', id: 'tok-p1' }), (e) => e.response?.status === 401);
  const jwks = await server.get('/auth/jwks', { auth: false });
  assert.equal(jwks.json.keys[0].kty, 'EC');
  assert.equal(jwks.json.keys[0].d, undefined, 'the private key must never be published');
});

test('401 without a token, on every kind of request', async () => {
  for (const [method, p] of [['GET', 'Patient'], ['GET', 'Patient/tok-p1'], ['POST', 'Patient'], ['DELETE', 'Patient/tok-p1'], ['GET', ''], ['GET', 'Patient/tok-p1/$everything'], ['GET', '_history']]) {
    const res = await server.request(method, p, { auth: false, body: method === 'POST' ? { resourceType: 'Patient' } : undefined });
    assert401(res, /needs an access token/);
  }
  const raw = await rawHttp(server.url('Patient'), { auth: false });
  assert.equal(raw.status, 401);
  assert401(await server.get('Patient', { headers: { authorization: 'Basic YTpi' } }), /Bearer/);
  assert401(await server.get('Patient', { token: 'not-a-jwt' }), /not a JWT/);
});

test('401 with the precise reason for bad tokens', async () => {
  assert401(await server.get('Patient', { token: cliToken('--expires-in', '-120') }), /expired/);
  assert401(await server.get('Patient', { token: cliToken('--not-before', '600') }), /not valid before/);
  assert401(await server.get('Patient', { token: cliToken('--audience', 'http://elsewhere.example/fhir') }), /audience/);
  assert401(await server.get('Patient', { token: cliToken('--issuer', 'http://evil.example/auth') }), /issued by/);
  // Tampered: the claims changed (a wider scope), the signature kept.
  const good = cliToken('--scope', 'system/Patient.r');
  const [h, p, s] = good.split('.');
  const claims = JSON.parse(Buffer.from(p, 'base64url'));
  claims.scope = 'system/*.cruds';
  assert401(await server.get('Observation', { token: `${h}.${b64(claims)}.${s}` }), /signature does not verify/);
  // Same claims, signed by a key the server does not know (with and without a kid).
  const other = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  assert401(await server.get('Patient', { token: signJwt(claims, { privateKey: other, kid: 'stranger', alg: 'ES256' }) }), /unknown key/);
  const header = JSON.parse(Buffer.from(h, 'base64url'));
  assert401(await server.get('Patient', { token: signJwt(claims, { privateKey: other, kid: header.kid, alg: 'ES256' }) }), /signature does not verify/);
  // alg none, and an HMAC token made with the public key as secret (the classic confusion).
  assert401(await server.get('Patient', { token: `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.` }), /unsigned/);
  const hs = `${b64({ alg: 'HS256', typ: 'JWT', kid: header.kid })}.${b64(claims)}`;
  const mac = crypto.createHmac('sha256', JSON.stringify((await server.get('/auth/jwks')).json)).update(hs).digest('base64url');
  assert401(await server.get('Patient', { token: `${hs}.${mac}` }), /not accepted/);
});

test('403 naming the missing scope, for every interaction', async () => {
  const readPatients = cliToken('--scope', 'system/Patient.rs');
  const as = { token: readPatients };
  assert.equal((await server.get('Patient/tok-p1', as)).status, 200);
  assert.equal((await server.get('Patient?_id=tok-p1', as)).status, 200);
  const cases = [
    ['GET', 'Observation', 'system/Observation.s'],
    ['GET', 'Observation/tok-lab', 'system/Observation.r'],
    ['GET', 'Observation/tok-lab/_history', 'system/Observation.r'],
    ['GET', 'Observation/_history', 'system/Observation.s'],
    ['POST', 'Patient', 'system/Patient.c'],
    ['PUT', 'Patient/tok-p1', 'system/Patient.u'],
    ['PATCH', 'Patient/tok-p1', 'system/Patient.u'],
    ['DELETE', 'Patient/tok-p1', 'system/Patient.d'],
    ['GET', 'Patient/tok-p1/Observation', 'system/Observation.s'],
    ['POST', 'Observation/$validate', 'system/Observation.r'],
  ];
  for (const [method, p, scope] of cases) {
    const body = method === 'PATCH' ? '[]' : ['POST', 'PUT'].includes(method) ? { resourceType: p.split('/')[0], id: p.split('/')[1] } : undefined;
    const headers = method === 'PATCH' ? { 'content-type': 'application/json-patch+json' } : {};
    const res = await server.request(method, p, { ...as, body, headers });
    assert.equal(res.status, 403, `${method} ${p}: expected 403, got ${res.status}: ${res.text.slice(0, 200)}`);
    const oo = assertOperationOutcome(res);
    assert.ok(oo.issue[0].diagnostics.includes(scope), `${method} ${p}: the outcome must name ${scope}: ${oo.issue[0].diagnostics}`);
    assert.match(res.headers.get('www-authenticate') ?? '', /insufficient_scope/);
  }
});

test('resources outside the scopes are never returned (includes, $everything, batch, transaction)', async () => {
  const as = { token: cliToken('--scope', 'system/Patient.rs') };
  const rev = await server.get('Patient?_id=tok-p1&_revinclude=Observation:subject', as);
  assert.equal(rev.status, 200);
  const types = (rev.json.entry ?? []).map((e) => e.resource.resourceType);
  assert.deepEqual(types, ['Patient'], `only the Patient may come back: ${types}`);
  const all = await server.get('Patient/tok-p1/$everything', as);
  assert.equal(all.status, 200, all.text.slice(0, 200));
  assert.ok((all.json.entry ?? []).every((e) => e.resource.resourceType === 'Patient'), 'no Observation in $everything');
  assert.ok((all.json.entry ?? []).some((e) => e.resource.id === 'tok-p1'));
  // With both scopes, $everything does include the Observations: the filter is the scope.
  const both = await server.get('Patient/tok-p1/$everything', { token: cliToken('--scope', 'system/Patient.rs system/Observation.rs') });
  assert.ok((both.json.entry ?? []).some((e) => e.resource.resourceType === 'Observation'));
  const batch = await server.post('', {
    resourceType: 'Bundle',
    type: 'batch',
    entry: [{ request: { method: 'GET', url: 'Patient/tok-p1' } }, { request: { method: 'GET', url: 'Observation/tok-lab' } }],
  }, as);
  assert.equal(batch.status, 200);
  assert.match(batch.json.entry[0].response.status, /^200/);
  assert.match(batch.json.entry[1].response.status, /^403/);
  assert.equal(batch.json.entry[1].resource, undefined);
  const txn = await server.post('', {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [{ request: { method: 'POST', url: 'Observation' }, resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' } } }],
  }, as);
  assert.equal(txn.status, 403);
  assert.match(assertOperationOutcome(txn).issue[0].diagnostics, /system\/Observation\.c/);
});

test('granular scopes: patient/Observation.rs?category=laboratory', async () => {
  const lab = { token: cliToken('--scope', 'system/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory') };
  const found = await server.get('Observation?subject=Patient/tok-p1', lab);
  assert.equal(found.status, 200);
  const ids = (found.json.entry ?? []).map((e) => e.resource.id);
  assert.ok(ids.includes('tok-lab'), `the laboratory result is in scope: ${ids}`);
  assert.ok(!ids.includes('tok-vital'), `the vital sign is not: ${ids}`);
  assert.equal((await server.get('Observation/tok-lab', lab)).status, 200);
  assert.equal((await server.get('Observation/tok-vital', lab)).status, 403);
});

test('introspection and revocation', async () => {
  const token = cliToken();
  const caller = cliToken(); // introspection needs an authorised caller: here a valid token
  const intro = async (t) => (await postForm('/auth/introspect', { token: t }, { auth: true, token: caller })).json;
  const active = await intro(token);
  assert.equal(active.active, true);
  assert.equal(active.client_id, TEST_CLIENT_ID);
  assert.match(active.scope, /system\/\*\.cruds/);
  assert.equal((await server.get('Patient/tok-p1', { token })).status, 200);
  const revoke = await postForm('/auth/revoke', { token });
  assert.equal(revoke.status, 200);
  assert.equal(revoke.headers.get('cache-control'), 'no-store');
  assert.equal((await intro(token)).active, false);
  assert401(await server.get('Patient/tok-p1', { token }), /revoked/);
  // Introspection itself needs the caller to be authorised.
  const anon = await postForm('/auth/introspect', { token });
  assert.equal(anon.status, 401);
});

test('client assertions: replay, audience, expiry, unregistered key', async () => {
  const tokenUrl = `${server.origin}/auth/token`;
  const ask = (assertion, scope = 'system/Patient.rs') =>
    postForm('/auth/token', { grant_type: 'client_credentials', scope, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion });
  const once = clientAssertion(tokenUrl);
  const first = await ask(once);
  assert.equal(first.status, 200, first.text);
  assert.equal(first.json.token_type, 'Bearer');
  assert.equal(first.json.scope, 'system/Patient.rs');
  assert.equal(first.headers.get('cache-control'), 'no-store');
  const replay = await ask(once);
  assert.equal(replay.status, 401);
  assert.equal(replay.json.error, 'invalid_client');
  assert.match(replay.json.error_description, /replay/);
  const wrongAud = await ask(clientAssertion('http://elsewhere.example/auth/token'));
  assert.match(wrongAud.json.error_description, /aud/);
  const expired = await ask(clientAssertion(tokenUrl, { exp: Math.floor(Date.now() / 1000) - 600 }));
  assert.match(expired.json.error_description, /expired/);
  const tooLong = await ask(clientAssertion(tokenUrl, { exp: Math.floor(Date.now() / 1000) + 3600 }));
  assert.match(tooLong.json.error_description, /five minutes/);
  const stranger = crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
  const unknownKey = await ask(clientAssertion(tokenUrl, { keys: { privateKey: stranger, kid: testClientKeys().kid } }));
  assert.equal(unknownKey.status, 401);
  assert.match(unknownKey.json.error_description, /signature/);
  const badScope = await ask(clientAssertion(tokenUrl), 'user/*.cruds');
  assert.equal(badScope.status, 400);
  assert.equal(badScope.json.error, 'invalid_scope');
  const badGrant = await postForm('/auth/token', { grant_type: 'password', username: 'a', password: 'b' });
  assert.ok([400, 401].includes(badGrant.status));
});
