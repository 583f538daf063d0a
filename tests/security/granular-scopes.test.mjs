// Granular SMART v2 scopes (`system/Observation.cruds?category=vital-signs`) enforced on writes
// (create, update, patch, delete, transaction entries: 403 outside the category) and on every
// result: search pages and Bundle.total count only what the token may see, _include and
// _revinclude, $everything, history and $export leave the other categories out. Plus the SMART
// parts of the CapabilityStatement and of .well-known/smart-configuration.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { ASYNC, downloadAll, kickoff, manifestOf } from '../bulk/bulk-helpers.mjs';
import { startServer } from '../conformance/server.mjs';

const CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
const VITALS_ONLY = 'system/Patient.rs system/Observation.cruds?category=vital-signs';
const PATIENT = 'gs-patient';

let server;
let vitals; // token: vital-signs Observations only
const ids = { vital: [], lab: [] };

function observation(category, extra = {}) {
  return {
    resourceType: 'Observation',
    status: 'final',
    category: [{ coding: [{ system: CATEGORY, code: category }] }],
    code: { coding: [{ system: 'http://loinc.org', code: category === 'laboratory' ? '2345-7' : '8867-4' }] },
    subject: { reference: `Patient/${PATIENT}` },
    valueQuantity: { value: 1, unit: '1', system: 'http://unitsofmeasure.org', code: '1' },
    ...extra,
  };
}

before(async () => {
  server = await startServer({ args: ['--facility', 'F1'] });
  const p = await server.put(`Patient/${PATIENT}`, { resourceType: 'Patient', id: PATIENT, name: [{ family: 'Granular' }] });
  assert.ok([200, 201].includes(p.status), p.text);
  for (let i = 0; i < 3; i++) ids.vital.push((await server.create(observation('vital-signs'))).id);
  for (let i = 0; i < 5; i++) ids.lab.push((await server.create(observation('laboratory'))).id);
  vitals = await server.tokenFor(VITALS_ONLY);
});

after(async () => {
  await server?.cleanup();
});

const opts = () => ({ token: vitals });

test('writes: creating, updating, patching or deleting outside the granted category is 403', async () => {
  const ok = await server.post('Observation', observation('vital-signs'), opts());
  assert.equal(ok.status, 201, ok.text);

  const create = await server.post('Observation', observation('laboratory'), opts());
  assert.equal(create.status, 403, create.text);
  assert.match(create.text, /category is outside/);

  // An update may neither turn a vital sign into a lab result nor touch a lab result.
  const moved = await server.put(`Observation/${ok.json.id}`, { ...observation('laboratory'), id: ok.json.id }, opts());
  assert.equal(moved.status, 403, moved.text);
  const labUpdate = await server.put(`Observation/${ids.lab[0]}`, { ...observation('laboratory'), id: ids.lab[0] }, opts());
  assert.equal(labUpdate.status, 403, labUpdate.text);
  const vitalUpdate = await server.put(`Observation/${ok.json.id}`, { ...observation('vital-signs', { status: 'amended' }), id: ok.json.id }, opts());
  assert.equal(vitalUpdate.status, 200, vitalUpdate.text);

  const patch = await server.request('PATCH', `Observation/${ok.json.id}`, {
    token: vitals,
    headers: { 'content-type': 'application/json-patch+json' },
    body: JSON.stringify([{ op: 'replace', path: '/category/0/coding/0/code', value: 'laboratory' }]),
  });
  assert.equal(patch.status, 403, patch.text);
  const labDelete = await server.request('DELETE', `Observation/${ids.lab[0]}`, opts());
  assert.equal(labDelete.status, 403, labDelete.text);

  const tx = await server.post('', {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { resource: observation('vital-signs'), request: { method: 'POST', url: 'Observation' } },
      { resource: observation('laboratory'), request: { method: 'POST', url: 'Observation' } },
    ],
  }, opts());
  assert.equal(tx.status, 403, tx.text);

  // Nothing of the refused writes was stored.
  const all = await server.get(`Observation?patient=${PATIENT}&_summary=count`);
  assert.equal(all.json.total, ids.vital.length + ids.lab.length + 1);
  const deleted = await server.request('DELETE', `Observation/${ok.json.id}`, opts());
  assert.ok([200, 204].includes(deleted.status), deleted.text);
});

test('search: pages and Bundle.total count only the granted category', async () => {
  const page = await server.get(`Observation?patient=${PATIENT}&_count=2`, opts());
  assert.equal(page.status, 200, page.text);
  assert.equal(page.json.total, ids.vital.length, 'total of visible resources only');
  assert.equal(page.json.entry.length, 2, 'full pages');
  const count = await server.get(`Observation?patient=${PATIENT}&_summary=count`, opts());
  assert.equal(count.json.total, ids.vital.length);
  const seen = [];
  let url = `Observation?patient=${PATIENT}&_count=2`;
  while (url) {
    const r = await server.get(url, opts());
    seen.push(...(r.json.entry ?? []).map((e) => e.resource.id));
    url = r.json.link?.find((l) => l.relation === 'next')?.url;
  }
  assert.deepEqual(seen.sort(), [...ids.vital].sort(), 'paging reaches exactly the visible ones');

  // Several types at once: no total (a count would include hidden resources).
  const system = await server.get('/fhir?_type=Observation,Patient&_count=50', opts());
  assert.equal(system.status, 200, system.text);
  assert.equal(system.json.total, undefined, `no total: ${system.json.total}`);
  const systemIds = (system.json.entry ?? []).map((e) => e.resource.id);
  assert.ok(!ids.lab.some((id) => systemIds.includes(id)), 'no lab result in a system search');

  const history = await server.get('Observation/_history?_count=50', opts());
  assert.equal(history.status, 200, history.text);
  assert.equal(history.json.total, undefined, 'no history total');
  assert.ok(!(history.json.entry ?? []).some((e) => ids.lab.includes(e.resource?.id)), 'no lab version in history');

  // The full token still sees everything, with its total.
  const full = await server.get(`Observation?patient=${PATIENT}&_summary=count`);
  assert.equal(full.json.total, ids.vital.length + ids.lab.length);
});

test('_include, _revinclude and $everything leave the other categories out', async () => {
  const rev = await server.get(`Patient?_id=${PATIENT}&_revinclude=Observation:subject`, opts());
  assert.equal(rev.status, 200, rev.text);
  const included = rev.json.entry.filter((e) => e.search.mode === 'include').map((e) => e.resource.id);
  assert.deepEqual(included.sort(), [...ids.vital].sort());

  const inc = await server.get(`Observation?patient=${PATIENT}&_include=Observation:subject`, opts());
  assert.equal(inc.json.entry.filter((e) => e.resource.resourceType === 'Patient').length, 1);

  const everything = await server.get(`Patient/${PATIENT}/$everything`, opts());
  assert.equal(everything.status, 200, everything.text);
  const obs = everything.json.entry.filter((e) => e.resource.resourceType === 'Observation').map((e) => e.resource.id);
  assert.deepEqual(obs.sort(), [...ids.vital].sort());
  assert.equal(everything.json.total, undefined, 'no $everything total over several types');
});

test('$export applies the granular scopes to what the job writes', async () => {
  const status = await kickoff(server, '$export?_type=Observation', { headers: { ...ASYNC, authorization: `Bearer ${vitals}` } });
  const manifest = await manifestOf(server, status);
  const byType = await downloadAll(server, manifest);
  const exported = [...(byType.get('Observation')?.keys() ?? [])].sort();
  assert.deepEqual(exported, [...ids.vital].sort());

  // With a filter of the client's own, ANDed with the scope's category.
  const filtered = await kickoff(server, `$export?_type=Observation&_typeFilter=${encodeURIComponent('Observation?code=http://loinc.org|2345-7,Observation?status=final')}`, {
    headers: { ...ASYNC, authorization: `Bearer ${vitals}` },
  });
  const again = await downloadAll(server, await manifestOf(server, filtered));
  assert.deepEqual([...(again.get('Observation')?.keys() ?? [])].sort(), [...ids.vital].sort());

  const wildcard = await server.tokenFor('system/*.rs?category=vital-signs');
  const refused = await server.get('$export', { token: wildcard, headers: ASYNC });
  assert.equal(refused.status, 403, refused.text);
  assert.match(refused.text, /_type/);
});

test('CapabilityStatement: SMART security extension and operations; smart-configuration is complete', async () => {
  const cs = await server.get('metadata', { auth: false });
  assert.equal(cs.status, 200);
  const rest = cs.json.rest[0];
  const service = rest.security.service[0].coding[0];
  assert.equal(service.system, 'http://terminology.hl7.org/CodeSystem/restful-security-service');
  assert.equal(service.code, 'SMART-on-FHIR');
  const uris = rest.security.extension.find((e) => e.url === 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris');
  const uri = (name) => uris.extension.find((e) => e.url === name)?.valueUri;
  assert.equal(uri('token'), `${server.origin}/auth/token`);
  assert.equal(uri('authorize'), `${server.origin}/auth/authorize`);
  assert.equal(uri('introspect'), `${server.origin}/auth/introspect`);
  assert.equal(uri('revoke'), `${server.origin}/auth/revoke`);
  const systemOps = rest.operation.map((o) => o.name);
  for (const op of ['export', 'import', 'reindex', 'emergency-access-review']) assert.ok(systemOps.includes(op), `system operation ${op}: ${systemOps}`);
  const patientOps = rest.resource.find((r) => r.type === 'Patient').operation.map((o) => o.name);
  for (const op of ['everything', 'export', 'emergency-access']) assert.ok(patientOps.includes(op), `Patient operation ${op}`);
  assert.ok(rest.resource.find((r) => r.type === 'Group').operation.some((o) => o.name === 'export'));
  const pretty = await server.get('metadata?_pretty=true', { auth: false });
  assert.equal(JSON.parse(pretty.text).rest[0].security.service[0].coding[0].code, 'SMART-on-FHIR');
  assert.match(pretty.text, /\n/);

  const smart = await server.get('.well-known/smart-configuration', { auth: false });
  assert.equal(smart.status, 200);
  const c = smart.json;
  for (const field of ['issuer', 'jwks_uri', 'authorization_endpoint', 'token_endpoint', 'introspection_endpoint', 'revocation_endpoint']) {
    assert.match(c[field] ?? '', /^https?:\/\//, `${field}: ${c[field]}`);
  }
  assert.deepEqual(c.code_challenge_methods_supported, ['S256'], 'S256 only (never plain)');
  for (const g of ['authorization_code', 'refresh_token', 'client_credentials']) assert.ok(c.grant_types_supported.includes(g), g);
  for (const m of ['private_key_jwt', 'client_secret_basic']) assert.ok(c.token_endpoint_auth_methods_supported.includes(m), m);
  for (const cap of ['launch-ehr', 'launch-standalone', 'client-public', 'client-confidential-asymmetric', 'context-standalone-patient', 'permission-v2', 'permission-patient', 'sso-openid-connect']) {
    assert.ok(c.capabilities.includes(cap), `capability ${cap}`);
  }
  for (const s of ['openid', 'fhirUser', 'launch/patient', 'offline_access', 'patient/*.rs', 'system/*.rs']) assert.ok(c.scopes_supported.includes(s), `scope ${s}`);
  // Discovery agrees with the CapabilityStatement.
  assert.equal(c.token_endpoint, uri('token'));
  assert.equal(c.authorization_endpoint, uri('authorize'));
});
