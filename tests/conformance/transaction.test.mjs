// batch and transaction Bundles at POST [base] (http.html#transaction), through fhir-kit-client's
// client.transaction() / client.batch() and raw HTTP: urn:uuid graphs, conditional references,
// conditional create/update/delete, GET entries, Prefer, atomicity, batch independence, concurrent
// transactions, malformed Bundles, and every Synthea/Inferno Bundle of the shared data.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { RESPONSE_KEY } from 'fhir-kit-client';
import {
  FHIR_JSON_CT,
  allPages,
  assertOperationOutcome,
  issuesMentioning,
  randomTag,
  sharedDataDir,
  startServer,
} from './server.mjs';

const ID = '[A-Za-z0-9\\-.]{1,64}';
const INSTANT_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const SYS = `urn:carechart-test:${randomTag('tx')}`;

let server;
let client;

before(async () => {
  server = await startServer({ args: ['--facility', 'org-tx-test'] });
  client = server.client();
});

after(async () => {
  await server?.cleanup();
});

let uuidCounter = 0;
function uuid() {
  const n = (++uuidCounter).toString(16).padStart(12, '0');
  return `urn:uuid:${randomHex(8)}-${randomHex(4)}-4${randomHex(3)}-8${randomHex(3)}-${n}`;
}
function randomHex(len) {
  let s = '';
  while (s.length < len) s += Math.floor(Math.random() * 16).toString(16);
  return s;
}

const patient = (value, extra = {}) => ({
  resourceType: 'Patient',
  identifier: [{ system: SYS, value }],
  name: [{ family: `Tx-${value}` }],
  ...extra,
});

function bundle(type, entry) {
  return { resourceType: 'Bundle', type, entry };
}

/** POST a Bundle with raw HTTP (for statuses fhir-kit-client would throw on). */
function postBundle(b, headers = {}) {
  return server.post('', b, { headers });
}

/** The failure of a fhir-kit-client call, as { status, data }. */
async function failureOf(promise) {
  try {
    const r = await promise;
    assert.fail(`expected the request to fail, got ${JSON.stringify(r).slice(0, 400)}`);
  } catch (e) {
    if (!e.response) throw e;
    return e.response;
  }
}

async function countOf(type, query) {
  const res = await server.get(`${type}?${query}&_summary=count`);
  assert.equal(res.status, 200, res.text);
  return res.json.total;
}

function assertWriteResponse(entry, { type, status, version }, context) {
  assert.equal(entry.response?.status, status, `${context}: response.status; entry ${JSON.stringify(entry).slice(0, 400)}`);
  const loc = entry.response.location ?? '';
  const m = new RegExp(`^${type}/(${ID})/_history/(\\d+)$`).exec(loc);
  assert.ok(m, `${context}: response.location '${loc}' must be ${type}/[id]/_history/[version]`);
  assert.equal(m[2], String(version), `${context}: location version`);
  assert.equal(entry.response.etag, `W/"${version}"`, `${context}: etag`);
  assert.match(entry.response.lastModified ?? '', INSTANT_RE, `${context}: lastModified`);
  return m[1];
}

describe('transaction: success cases', () => {
  test('urn:uuid graph: ids assigned, every reference rewritten (nested too), 201s with location/etag/lastModified', async () => {
    const p = uuid();
    const enc = uuid();
    const obs = uuid();
    const tx = bundle('transaction', [
      // A reference to an entry that comes later in the Bundle.
      {
        fullUrl: obs,
        resource: {
          resourceType: 'Observation',
          status: 'final',
          code: { text: 'graph' },
          subject: { reference: p },
          encounter: { reference: enc },
          extension: [{ url: 'http://example.org/ext', valueReference: { reference: p } }],
        },
        request: { method: 'POST', url: 'Observation' },
      },
      { fullUrl: p, resource: patient('graph-1'), request: { method: 'POST', url: 'Patient' } },
      {
        fullUrl: enc,
        resource: {
          resourceType: 'Encounter',
          status: 'finished',
          class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
          subject: { reference: p },
        },
        request: { method: 'POST', url: 'Encounter' },
      },
    ]);
    const res = await client.transaction({ body: tx });
    assert.equal(res.resourceType, 'Bundle');
    assert.equal(res.type, 'transaction-response');
    assert.equal(res.entry.length, 3, 'one response entry per request entry, in order');
    assert.match(res[RESPONSE_KEY].headers.get('content-type') ?? '', FHIR_JSON_CT);
    const obsId = assertWriteResponse(res.entry[0], { type: 'Observation', status: '201 Created', version: 1 }, 'Observation');
    const patId = assertWriteResponse(res.entry[1], { type: 'Patient', status: '201 Created', version: 1 }, 'Patient');
    const encId = assertWriteResponse(res.entry[2], { type: 'Encounter', status: '201 Created', version: 1 }, 'Encounter');
    assert.ok(!patId.startsWith('urn'), 'the server assigns a new id to POST entries');
    assert.equal(res.entry[1].resource?.id, patId, 'the resource is returned by default');
    assert.equal(res.entry[1].fullUrl, `${server.fhirBase}/Patient/${patId}`);

    const stored = await client.read({ resourceType: 'Observation', id: obsId });
    assert.equal(stored.subject.reference, `Patient/${patId}`);
    assert.equal(stored.encounter.reference, `Encounter/${encId}`);
    assert.equal(stored.extension[0].valueReference.reference, `Patient/${patId}`, 'references inside extensions are rewritten too');
    const storedEnc = await client.read({ resourceType: 'Encounter', id: encId });
    assert.equal(storedEnc.subject.reference, `Patient/${patId}`);
    assert.equal(res.entry[0].resource.subject.reference, `Patient/${patId}`, 'the returned resource carries rewritten references');
  });

  test('conditional references (Type?identifier=system|value) resolve to the one match', async () => {
    const org = await server.create({ resourceType: 'Organization', identifier: [{ system: SYS, value: 'org-cond' }], name: 'Cond Org' });
    const res = await client.transaction({
      body: bundle('transaction', [
        {
          fullUrl: uuid(),
          resource: patient('cond-ref', { managingOrganization: { reference: `Organization?identifier=${SYS}|org-cond` } }),
          request: { method: 'POST', url: 'Patient' },
        },
      ]),
    });
    const id = assertWriteResponse(res.entry[0], { type: 'Patient', status: '201 Created', version: 1 }, 'Patient');
    const stored = await client.read({ resourceType: 'Patient', id });
    assert.equal(stored.managingOrganization.reference, `Organization/${org.id}`);
  });

  test('ifNoneExist: an existing match answers 200 with it and writes nothing; references to its fullUrl point at it', async () => {
    const existing = await server.create(patient('ine-1'));
    const p = uuid();
    const res = await client.transaction({
      body: bundle('transaction', [
        { fullUrl: p, resource: patient('ine-1'), request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${SYS}|ine-1` } },
        { fullUrl: uuid(), resource: patient('ine-2'), request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${SYS}|ine-2` } },
        {
          fullUrl: uuid(),
          resource: { resourceType: 'Observation', status: 'final', code: { text: 'ine' }, subject: { reference: p } },
          request: { method: 'POST', url: 'Observation' },
        },
      ]),
    });
    const matched = assertWriteResponse(res.entry[0], { type: 'Patient', status: '200 OK', version: 1 }, 'matched');
    assert.equal(matched, existing.id);
    assertWriteResponse(res.entry[1], { type: 'Patient', status: '201 Created', version: 1 }, 'created');
    const obsId = assertWriteResponse(res.entry[2], { type: 'Observation', status: '201 Created', version: 1 }, 'obs');
    assert.equal(await countOf('Patient', `identifier=${SYS}|ine-1`), 1, 'no second Patient ine-1');
    const obs = await client.read({ resourceType: 'Observation', id: obsId });
    assert.equal(obs.subject.reference, `Patient/${existing.id}`);
  });

  test('conditional update (PUT Type?search): a match is updated (200, v2), no match creates (201)', async () => {
    const existing = await server.create(patient('cu-1'));
    const res = await client.transaction({
      body: bundle('transaction', [
        { resource: patient('cu-1', { gender: 'female' }), request: { method: 'PUT', url: `Patient?identifier=${SYS}|cu-1` } },
        { resource: patient('cu-2'), request: { method: 'PUT', url: `Patient?identifier=${SYS}|cu-2` } },
      ]),
    });
    const id = assertWriteResponse(res.entry[0], { type: 'Patient', status: '200 OK', version: 2 }, 'update');
    assert.equal(id, existing.id);
    assertWriteResponse(res.entry[1], { type: 'Patient', status: '201 Created', version: 1 }, 'create');
    assert.equal((await client.read({ resourceType: 'Patient', id })).gender, 'female');
  });

  test('PUT with a client id, DELETE, conditional DELETE of nothing, PATCH (Binary JSON Patch)', async () => {
    const del = await server.create(patient('del-1'));
    const pat = await server.create(patient('patch-1', { active: false }));
    const cid = `tx-put-${randomTag()}`;
    const patch = Buffer.from(JSON.stringify([{ op: 'replace', path: '/active', value: true }])).toString('base64');
    const res = await client.transaction({
      body: bundle('transaction', [
        { resource: { ...patient('put-1'), id: cid }, request: { method: 'PUT', url: `Patient/${cid}` } },
        { request: { method: 'DELETE', url: `Patient/${del.id}` } },
        { request: { method: 'DELETE', url: `Patient?identifier=${SYS}|nobody-${randomTag()}` } },
        {
          resource: { resourceType: 'Binary', contentType: 'application/json-patch+json', data: patch },
          request: { method: 'PATCH', url: `Patient/${pat.id}`, ifMatch: 'W/"1"' },
        },
      ]),
    });
    assert.equal(assertWriteResponse(res.entry[0], { type: 'Patient', status: '201 Created', version: 1 }, 'put'), cid);
    assert.equal(res.entry[1].response.status, '204 No Content');
    assert.equal(res.entry[1].response.etag, 'W/"2"', 'a deletion reports the deletion version');
    assert.equal(res.entry[2].response.status, '204 No Content');
    assertWriteResponse(res.entry[3], { type: 'Patient', status: '200 OK', version: 2 }, 'patch');
    assert.equal((await server.get(`Patient/${del.id}`)).status, 410);
    assert.equal((await client.read({ resourceType: 'Patient', id: pat.id })).active, true);
  });

  test('GET entries run after the writes (processing order DELETE, POST, PUT, GET) and answer like GET requests', async () => {
    const known = await server.create(patient('get-1'));
    const res = await client.transaction({
      body: bundle('transaction', [
        { request: { method: 'GET', url: `Patient?identifier=${SYS}|get-2` } },
        { request: { method: 'GET', url: `Patient/${known.id}` } },
        { request: { method: 'GET', url: `Patient/does-not-exist-${randomTag()}` } },
        { fullUrl: uuid(), resource: patient('get-2'), request: { method: 'POST', url: 'Patient' } },
      ]),
    });
    assert.equal(res.entry[0].response.status, '200 OK');
    assert.equal(res.entry[0].resource.resourceType, 'Bundle');
    assert.equal(res.entry[0].resource.type, 'searchset');
    assert.equal(res.entry[0].resource.entry?.length, 1, 'the search sees the POST of the same transaction');
    assert.equal(res.entry[1].response.status, '200 OK');
    assert.equal(res.entry[1].resource.id, known.id);
    assert.equal(res.entry[1].response.etag, 'W/"1"');
    assert.equal(res.entry[2].response.status, '404 Not Found');
    assert.equal(res.entry[2].response.outcome?.resourceType, 'OperationOutcome');
    assert.equal(res.entry[3].response.status, '201 Created');
  });

  test('Prefer: return=minimal leaves resources out; return=OperationOutcome puts an outcome in each response', async () => {
    const body = bundle('transaction', [{ fullUrl: uuid(), resource: patient('prefer-1'), request: { method: 'POST', url: 'Patient' } }]);
    const min = await postBundle(body, { prefer: 'return=minimal' });
    assert.equal(min.status, 200, min.text);
    assert.equal(min.json.entry[0].resource, undefined);
    assert.equal(min.json.entry[0].response.status, '201 Created');
    assert.ok(min.json.entry[0].response.location);
    const oo = await postBundle(
      bundle('transaction', [{ fullUrl: uuid(), resource: patient('prefer-2'), request: { method: 'POST', url: 'Patient' } }]),
      { prefer: 'return=OperationOutcome' },
    );
    assert.equal(oo.status, 200, oo.text);
    assert.equal(oo.json.entry[0].response.outcome?.resourceType, 'OperationOutcome');
  });

  test('the CapabilityStatement lists the transaction and batch system interactions', async () => {
    const cs = await client.capabilityStatement();
    const codes = cs.rest[0].interaction.map((i) => i.code);
    assert.ok(codes.includes('transaction'), codes.join(','));
    assert.ok(codes.includes('batch'), codes.join(','));
  });
});

describe('transaction: all or nothing', () => {
  test('an invalid last entry → 422 naming the entry and path; nothing of the transaction is stored', async () => {
    const tag = `atom-${randomTag()}`;
    const ids = [`${tag}-a`, `${tag}-b`];
    const before = await countOf('Patient', `identifier=${SYS}|${tag}`);
    const res = await postBundle(
      bundle('transaction', [
        { resource: { ...patient(tag), id: ids[0] }, request: { method: 'PUT', url: `Patient/${ids[0]}` } },
        { resource: { ...patient(tag), id: ids[1] }, request: { method: 'PUT', url: `Patient/${ids[1]}` } },
        { fullUrl: uuid(), resource: patient(tag), request: { method: 'POST', url: 'Patient' } },
        { fullUrl: uuid(), resource: patient(tag, { birthDate: 'yesterday' }), request: { method: 'POST', url: 'Patient' } },
      ]),
    );
    assert.equal(res.status, 422, res.text);
    const oo = assertOperationOutcome(res);
    assert.ok(issuesMentioning(oo, 'Patient.birthDate').length > 0, `an issue must name Patient.birthDate: ${res.text}`);
    assert.match(res.text, /Bundle\.entry\[3\]/, 'the failing entry is named');
    assert.equal(await countOf('Patient', `identifier=${SYS}|${tag}`), before, 'no Patient of the transaction exists');
    for (const id of ids) assert.equal((await server.get(`Patient/${id}`)).status, 404, `Patient/${id} must not exist`);
  });

  test('a failure found while resolving (DELETE of an unknown id → 404) rolls back everything', async () => {
    const tag = `atom404-${randomTag()}`;
    const f = await failureOf(
      client.transaction({
        body: bundle('transaction', [
          { fullUrl: uuid(), resource: patient(tag), request: { method: 'POST', url: 'Patient' } },
          { request: { method: 'DELETE', url: `Patient/never-${tag}` } },
        ]),
      }),
    );
    assert.equal(f.status, 404);
    assert.match(JSON.stringify(f.data), /Bundle\.entry\[1\]/);
    assert.equal(await countOf('Patient', `identifier=${SYS}|${tag}`), 0);
  });

  test('conditional references matching nothing (400) or several (412) fail with an error naming the reference', async () => {
    const none = `Organization?identifier=${SYS}|nobody-${randomTag()}`;
    const f0 = await failureOf(
      client.transaction({
        body: bundle('transaction', [
          { fullUrl: uuid(), resource: patient('cr0', { managingOrganization: { reference: none } }), request: { method: 'POST', url: 'Patient' } },
        ]),
      }),
    );
    assert.equal(f0.status, 400);
    assert.ok(JSON.stringify(f0.data).includes(none), `the error names the reference: ${JSON.stringify(f0.data)}`);
    assert.match(JSON.stringify(f0.data), /matches no Organization/);
    assert.equal(await countOf('Patient', `identifier=${SYS}|cr0`), 0);

    const dup = `dup-${randomTag()}`;
    for (let i = 0; i < 2; i++) await server.create({ resourceType: 'Organization', identifier: [{ system: SYS, value: dup }] });
    const several = `Organization?identifier=${SYS}|${dup}`;
    const f2 = await failureOf(
      client.transaction({
        body: bundle('transaction', [
          { fullUrl: uuid(), resource: patient('cr2', { managingOrganization: { reference: several } }), request: { method: 'POST', url: 'Patient' } },
        ]),
      }),
    );
    assert.equal(f2.status, 412);
    assert.ok(JSON.stringify(f2.data).includes(several));
    assert.match(JSON.stringify(f2.data), /more than one Organization/);
  });

  test('ifNoneExist and conditional update matching several → 412', async () => {
    const dup = `dupp-${randomTag()}`;
    for (let i = 0; i < 2; i++) await server.create(patient(dup));
    const f = await failureOf(
      client.transaction({
        body: bundle('transaction', [{ resource: patient(dup), request: { method: 'PUT', url: `Patient?identifier=${SYS}|${dup}` } }]),
      }),
    );
    assert.equal(f.status, 412);
    const g = await failureOf(
      client.transaction({
        body: bundle('transaction', [
          { resource: patient(dup), request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${SYS}|${dup}` } },
        ]),
      }),
    );
    assert.equal(g.status, 412);
  });

  test('two entries changing the same resource → 400 naming both entries', async () => {
    const p = await server.create(patient('twice'));
    const res = await postBundle(
      bundle('transaction', [
        { resource: { ...patient('twice'), id: p.id }, request: { method: 'PUT', url: `Patient/${p.id}` } },
        { fullUrl: uuid(), resource: patient('other'), request: { method: 'POST', url: 'Patient' } },
        { request: { method: 'DELETE', url: `Patient/${p.id}` } },
      ]),
    );
    assert.equal(res.status, 400, res.text);
    assertOperationOutcome(res);
    assert.match(res.text, /Bundle\.entry\[0\]/);
    assert.match(res.text, /Bundle\.entry\[2\]/);
    assert.equal((await client.read({ resourceType: 'Patient', id: p.id })).meta.versionId, '1');
  });

  test('ifMatch on a stale version → 412, nothing written', async () => {
    const p = await server.create(patient('stale'));
    const tag = `stale-${randomTag()}`;
    const f = await failureOf(
      client.transaction({
        body: bundle('transaction', [
          { fullUrl: uuid(), resource: patient(tag), request: { method: 'POST', url: 'Patient' } },
          { resource: { ...patient('stale'), id: p.id }, request: { method: 'PUT', url: `Patient/${p.id}`, ifMatch: 'W/"7"' } },
        ]),
      }),
    );
    assert.equal(f.status, 412);
    assert.equal(await countOf('Patient', `identifier=${SYS}|${tag}`), 0);
  });

  test('a urn:uuid reference that names no entry → 400 naming its path', async () => {
    const res = await postBundle(
      bundle('transaction', [
        {
          fullUrl: uuid(),
          resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: uuid() } },
          request: { method: 'POST', url: 'Observation' },
        },
      ]),
    );
    assert.equal(res.status, 400, res.text);
    const oo = assertOperationOutcome(res);
    assert.ok(issuesMentioning(oo, 'Bundle.entry[0].resource.subject.reference').length > 0, res.text);
  });
});

describe('batch', () => {
  test('each entry stands alone: a bad entry fails with its outcome, the others succeed', async () => {
    const tag = `batch-${randomTag()}`;
    const res = await client.batch({
      body: bundle('batch', [
        { resource: patient(tag), request: { method: 'POST', url: 'Patient' } },
        { resource: patient(tag, { birthDate: 'yesterday' }), request: { method: 'POST', url: 'Patient' } },
        { request: { method: 'GET', url: `Patient/missing-${tag}` } },
        { resource: { ...patient(tag), id: `${tag}-put` }, request: { method: 'PUT', url: `Patient/${tag}-put` } },
        {
          resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: uuid() } },
          request: { method: 'POST', url: 'Observation' },
        },
      ]),
    });
    assert.equal(res.type, 'batch-response');
    assert.equal(res.entry.length, 5);
    assertWriteResponse(res.entry[0], { type: 'Patient', status: '201 Created', version: 1 }, 'good POST');
    assert.equal(res.entry[1].response.status, '422 Unprocessable Entity');
    assert.equal(res.entry[1].response.outcome?.resourceType, 'OperationOutcome');
    assert.ok(
      res.entry[1].response.outcome.issue.some((i) => (i.expression ?? []).some((e) => e.includes('Patient.birthDate'))),
      JSON.stringify(res.entry[1].response.outcome),
    );
    assert.equal(res.entry[2].response.status, '404 Not Found');
    assertWriteResponse(res.entry[3], { type: 'Patient', status: '201 Created', version: 1 }, 'good PUT');
    assert.equal(res.entry[4].response.status, '400 Bad Request', 'batch entries cannot reference each other');
    assert.equal(await countOf('Patient', `identifier=${SYS}|${tag}`), 2);
  });

  test('conditional references and ifNoneExist work per entry', async () => {
    const org = await server.create({ resourceType: 'Organization', identifier: [{ system: SYS, value: 'batch-org' }] });
    const res = await client.batch({
      body: bundle('batch', [
        {
          resource: patient('batch-cr', { managingOrganization: { reference: `Organization?identifier=${SYS}|batch-org` } }),
          request: { method: 'POST', url: 'Patient' },
        },
        {
          resource: { resourceType: 'Organization', identifier: [{ system: SYS, value: 'batch-org' }] },
          request: { method: 'POST', url: 'Organization', ifNoneExist: `identifier=${SYS}|batch-org` },
        },
      ]),
    });
    const id = assertWriteResponse(res.entry[0], { type: 'Patient', status: '201 Created', version: 1 }, 'patient');
    assert.equal((await client.read({ resourceType: 'Patient', id })).managingOrganization.reference, `Organization/${org.id}`);
    assert.equal(res.entry[1].response.status, '200 OK');
    assert.match(res.entry[1].response.location, new RegExp(`^Organization/${org.id}/`));
  });
});

describe('concurrent transactions on the same resources', () => {
  async function threePatients(tag) {
    const ps = [];
    for (let i = 0; i < 3; i++) ps.push(await server.create(patient(`${tag}-${i}`)));
    return ps;
  }
  const updateAll = (ps, n, ifMatch) =>
    bundle(
      'transaction',
      ps.map((p, i) => ({
        resource: { ...patient(`${p.identifier[0].value}`), id: p.id, multipleBirthInteger: n },
        request: { method: 'PUT', url: `Patient/${p.id}`, ...(ifMatch ? { ifMatch } : {}) },
      })),
    );

  test('8 parallel transactions updating the same 3 resources all commit, serialised: consecutive versions, nothing lost', async () => {
    const ps = await threePatients(`conc-${randomTag()}`);
    const results = await Promise.all(Array.from({ length: 8 }, (_, n) => client.transaction({ body: updateAll(ps, n) })));
    const versions = results.map((r) => {
      const vs = r.entry.map((e) => Number(/\/_history\/(\d+)$/.exec(e.response.location)[1]));
      assert.ok(vs.every((v) => v === vs[0]), `one transaction moves all three to the same version: ${vs}`);
      return vs[0];
    });
    assert.deepEqual([...versions].sort((a, b) => a - b), [2, 3, 4, 5, 6, 7, 8, 9]);
    for (const p of ps) {
      const h = await server.get(`Patient/${p.id}/_history`);
      assert.equal(h.json.total, 9, 'every version is in the history');
      const cur = await client.read({ resourceType: 'Patient', id: p.id });
      assert.equal(cur.meta.versionId, '9');
    }
    // The last writer's value is on all three resources.
    const last = results[versions.indexOf(9)].entry[0].resource.multipleBirthInteger;
    for (const p of ps) assert.equal((await client.read({ resourceType: 'Patient', id: p.id })).multipleBirthInteger, last);
  });

  test('8 parallel transactions with ifMatch, retrying on 412: every success has consecutive versions, nothing lost', async () => {
    const ps = await threePatients(`concm-${randomTag()}`);
    let conflicts = 0;
    const worker = async (n) => {
      for (let attempt = 0; attempt < 50; attempt++) {
        const cur = await Promise.all(ps.map((p) => client.read({ resourceType: 'Patient', id: p.id })));
        const v = cur[0].meta.versionId;
        const body = bundle(
          'transaction',
          ps.map((p, i) => ({
            resource: { ...patient(p.identifier[0].value), id: p.id, multipleBirthInteger: n },
            request: { method: 'PUT', url: `Patient/${p.id}`, ifMatch: `W/"${cur[i].meta.versionId}"` },
          })),
        );
        const res = await postBundle(body);
        if (res.status === 200) {
          const vs = res.json.entry.map((e) => Number(/\/_history\/(\d+)$/.exec(e.response.location)[1]));
          assert.ok(vs.every((x) => x === Number(v) + 1), `versions ${vs} follow ${v}`);
          return vs[0];
        }
        assert.equal(res.status, 412, res.text);
        conflicts++;
      }
      throw new Error('no success in 50 attempts');
    };
    const versions = await Promise.all(Array.from({ length: 8 }, (_, n) => worker(n)));
    assert.deepEqual([...versions].sort((a, b) => a - b), [2, 3, 4, 5, 6, 7, 8, 9]);
    for (const p of ps) assert.equal((await client.read({ resourceType: 'Patient', id: p.id })).meta.versionId, '9');
    assert.ok(conflicts >= 0);
  });

  test('6 parallel conditional creates of one Patient: the losers are retried from the Bundle as sent (one Patient, every reference to it)', async () => {
    // All six find no match, prepare, and race to commit; the re-checked search fails for all but
    // one, whose retry must start again from the Bundle's resources as sent (a transaction moves
    // them into the versions it prepares, D57) and now matches the winner's Patient.
    const value = `race-${randomTag()}`;
    const send = (n) => {
      const p = uuid();
      const observations = Array.from({ length: 60 }, (_, i) => ({
        fullUrl: uuid(),
        resource: {
          resourceType: 'Observation', status: 'final', code: { text: `race ${n}.${i}` },
          subject: { reference: p }, valueQuantity: { value: i, unit: 'mg' },
        },
        request: { method: 'POST', url: 'Observation' },
      }));
      return server.post('', JSON.stringify(bundle('transaction', [
        { fullUrl: p, resource: patient(value), request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${SYS}|${value}` } },
        ...observations,
      ])));
    };
    const results = await Promise.all(Array.from({ length: 6 }, (_, n) => send(n)));
    for (const r of results) assert.equal(r.status, 200, r.text);
    const created = results.filter((r) => r.json.entry[0].response.status === '201 Created');
    assert.equal(created.length, 1, 'exactly one transaction creates the Patient');
    const found = await server.get(`Patient?identifier=${encodeURIComponent(`${SYS}|${value}`)}`);
    assert.equal(found.json.entry?.length, 1);
    const pid = found.json.entry[0].resource.id;
    assert.equal(found.json.entry[0].resource.name?.[0]?.family, patient(value).name[0].family, 'the Patient is stored whole');
    const obs = await server.get(`Observation?subject=Patient/${pid}&_count=1000`);
    assert.equal(obs.json.entry?.length, 360, 'every Observation of every transaction points at the one Patient');
    assert.ok(obs.json.entry.every((e) => e.resource.valueQuantity?.unit === 'mg' && /^race \d\.\d+$/.test(e.resource.code?.text)), 'and is stored whole');
  });
});

describe('a cancelled Appointment gives its Slots back', () => {
  // As a plain PUT does (portal cancel): a cancelled visit must not keep its time busy.
  async function booked() {
    const schedule = await server.create({ resourceType: 'Schedule', actor: [{ display: 'Dr Slot' }] });
    const slot = await server.create({
      resourceType: 'Slot', schedule: { reference: `Schedule/${schedule.id}` }, status: 'busy',
      start: '2031-03-04T09:00:00Z', end: '2031-03-04T09:20:00Z',
    });
    const appt = await server.create({
      resourceType: 'Appointment', status: 'booked', slot: [{ reference: `Slot/${slot.id}` }],
      start: slot.start, end: slot.end,
      participant: [{ actor: { display: 'Pat' }, status: 'accepted' }],
    });
    return { slot, appt };
  }
  const slotStatus = async (slot) => (await client.read({ resourceType: 'Slot', id: slot.id })).status;

  test('transaction PUT status=cancelled → the Slot is free, in the same commit', async () => {
    const { slot, appt } = await booked();
    const res = await client.transaction({
      body: bundle('transaction', [{
        resource: { ...appt, status: 'cancelled' },
        request: { method: 'PUT', url: `Appointment/${appt.id}` },
      }]),
    });
    assert.match(res.entry[0].response.status, /^200/);
    assert.equal(await slotStatus(slot), 'free');
  });

  test('transaction PATCH to cancelled and a plain PATCH free the Slot too', async () => {
    const a = await booked();
    const patchOp = Buffer.from(JSON.stringify([{ op: 'replace', path: '/status', value: 'cancelled' }])).toString('base64');
    const res = await postBundle(bundle('transaction', [{
      resource: { resourceType: 'Binary', contentType: 'application/json-patch+json', data: patchOp },
      request: { method: 'PATCH', url: `Appointment/${a.appt.id}` },
    }]));
    assert.equal(res.status, 200, res.text);
    assert.equal(await slotStatus(a.slot), 'free');

    const b = await booked();
    const plain = await server.request('PATCH', `Appointment/${b.appt.id}`, {
      headers: { 'content-type': 'application/json-patch+json' },
      body: JSON.stringify([{ op: 'replace', path: '/status', value: 'cancelled' }]),
    });
    assert.equal(plain.status, 200, plain.text);
    assert.equal(await slotStatus(b.slot), 'free');
  });

  test('a Slot the bundle writes itself is left to that entry', async () => {
    const { slot, appt } = await booked();
    await client.transaction({
      body: bundle('transaction', [
        { resource: { ...appt, status: 'cancelled' }, request: { method: 'PUT', url: `Appointment/${appt.id}` } },
        { resource: { ...slot, status: 'busy-unavailable' }, request: { method: 'PUT', url: `Slot/${slot.id}` } },
      ]),
    });
    assert.equal(await slotStatus(slot), 'busy-unavailable');
  });
});

describe('malformed Bundles → 400 naming the path', () => {
  const cases = [
    ['not a Bundle', { resourceType: 'Patient' }, 'resourceType'],
    ['type collection', { resourceType: 'Bundle', type: 'collection', entry: [] }, 'Bundle.type'],
    ['entry without request', bundle('batch', [{ request: { method: 'GET', url: 'Patient' } }, { resource: patient('x') }]), 'Bundle.entry[1].request'],
    ['bad method', bundle('transaction', [{ request: { method: 'FETCH', url: 'Patient' } }]), 'Bundle.entry[0].request.method'],
    ['url missing', bundle('transaction', [{ request: { method: 'DELETE' } }]), 'Bundle.entry[0].request.url'],
    ['POST to an id', bundle('transaction', [{ resource: patient('x'), request: { method: 'POST', url: 'Patient/1' } }]), 'Bundle.entry[0].request.url'],
    ['unknown type', bundle('transaction', [{ request: { method: 'DELETE', url: 'Nope/1' } }]), 'Bundle.entry[0].request.url'],
    ['resource type differs from url', bundle('batch', [{ resource: patient('x'), request: { method: 'POST', url: 'Observation' } }]), 'Bundle.entry[0].resource.resourceType'],
  ];
  for (const [name, body, where] of cases) {
    test(name, async () => {
      const res = await postBundle(body);
      assert.equal(res.status, 400, res.text);
      const oo = assertOperationOutcome(res);
      assert.ok(issuesMentioning(oo, where).length > 0, `an issue must name ${where}: ${res.text}`);
    });
  }

  test('more than 10,000 entries → 413', async () => {
    const entry = Array.from({ length: 10001 }, () => ({ request: { method: 'GET', url: 'Patient' } }));
    const res = await postBundle(bundle('batch', entry));
    assert.equal(res.status, 413, res.text.slice(0, 300));
    assertOperationOutcome(res);
  });

  test('malformed JSON → 400', async () => {
    const res = await postBundle('{"resourceType":"Bundle",');
    assert.equal(res.status, 400);
  });
});

// ---- Synthea and Inferno Bundles -------------------------------------------------------------
const SYNTHEA = path.join(sharedDataDir(), 'synthea-r4');
const present = existsSync(SYNTHEA);
// Inferno bundles that are invalid R4: the whole transaction must be rejected (422) naming the path.
const KNOWN_INVALID = {
  'inferno-uscore/us_quality_core_bundle_patient.json': 'Media.content.link',
  'inferno-uscore/uscore_bundle_patient_355.json': 'Observation.effectivePeriod.stop',
};

// Plain references written in the data to resources that no file of the data contains (the
// server stores them as sent; FHIR does not require a target to exist).
const KNOWN_DANGLING = {
  'MedicationRequest/medicationrequest-coded-oral-axid': 'inferno-uscore/uscore_bundle_patient_client_test.json (MedicationDispense.authorizingPrescription)',
};

function referencesOf(value, out = []) {
  if (Array.isArray(value)) {
    for (const v of value) referencesOf(v, out);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'reference' && typeof v === 'string') out.push(v);
      else referencesOf(v, out);
    }
  }
  return out;
}

test('synthea over HTTP: provider batches, then every patient Bundle as a transaction; every reference resolves', { skip: present ? false : `shared data absent: ${SYNTHEA} (set CARECHART_SHARED_DATA)`, timeout: 240000 }, async (t) => {
  const s = await startServer();
  try {
    const c = s.client();
    const started = Date.now();
    const folders = readdirSync(SYNTHEA, { withFileTypes: true }).filter((d) => d.isDirectory() && d.name !== 'licenses').map((d) => d.name).sort();
    const files = [];
    for (const f of folders) for (const n of readdirSync(path.join(SYNTHEA, f)).filter((x) => x.endsWith('.json')).sort()) files.push(`${f}/${n}`);
    const providers = files.filter((f) => /\/0-(hospital|practitioner)Information.*\.json$/.test(f));
    assert.equal(providers.length, 2, `the two provider Bundles: ${providers}`);
    let resources = 0;
    for (const f of providers) {
      const body = JSON.parse(readFileSync(path.join(SYNTHEA, f), 'utf8'));
      assert.equal(body.type, 'batch');
      const res = await c.batch({ body });
      assert.equal(res.entry.length, body.entry.length);
      for (const e of res.entry) assert.ok(['201 Created', '200 OK'].includes(e.response.status), `${f}: ${JSON.stringify(e.response)}`);
      resources += res.entry.filter((e) => e.response.status === '201 Created').length;
    }
    // The v2.7 Bundles (conditional references to the providers' identifiers) go first: the v2.4
    // Bundles POST Organizations again under the same Synthea identifiers, after which such a
    // reference rightly matches several Organizations (412).
    const patients = files
      .filter((f) => !providers.includes(f))
      .sort((a, b) => Number(!a.startsWith('synthea-v2.7')) - Number(!b.startsWith('synthea-v2.7')) || a.localeCompare(b));
    let bundles = providers.length;
    const failures = [];
    let next = 0;
    const worker = async () => {
      while (next < patients.length) {
        const f = patients[next++];
        const text = readFileSync(path.join(SYNTHEA, f), 'utf8');
        const sent = JSON.parse(text);
        const res = await s.post('', text);
        bundles++;
        const invalidPath = KNOWN_INVALID[f];
        if (invalidPath) {
          if (res.status !== 422) failures.push(`${f}: known-invalid Bundle answered ${res.status}, not 422`);
          else if (!res.json?.issue?.some((i) => [...(i.expression ?? []), ...(i.location ?? [])].some((e) => e.includes(invalidPath)))) failures.push(`${f}: 422 without an issue naming ${invalidPath}: ${res.text.slice(0, 300)}`);
          else if (!/Bundle\.entry\[\d+\]/.test(res.text)) failures.push(`${f}: the 422 does not name the entry`);
          continue;
        }
        if (res.status !== 200) {
          failures.push(`${f}: ${res.status} ${res.text.slice(0, 400)}`);
          continue;
        }
        const entries = res.json.entry ?? [];
        if (entries.length !== sent.entry.length) failures.push(`${f}: ${entries.length} response entries for ${sent.entry.length}`);
        const bad = entries.filter((e) => e.response?.status !== '201 Created');
        if (bad.length) failures.push(`${f}: ${bad.length} entries not 201, e.g. ${JSON.stringify(bad[0].response)}`);
        resources += entries.length - bad.length;
      }
    };
    await Promise.all([worker(), worker()]);
    assert.deepEqual(failures, []);
    for (const [f, p] of Object.entries(KNOWN_INVALID)) assert.ok(files.includes(f), `known-invalid ${f} (${p}) is in the data`);
    const seconds = (Date.now() - started) / 1000;

    // Every stored reference resolves: no urn:uuid: or conditional reference left, targets exist.
    const all = (await allPages(s, '?_count=1000', { maxPages: 10000 })).entries.map((e) => e.resource);
    const keys = new Set(all.map((r) => `${r.resourceType}/${r.id}`));
    const problems = [];
    let checked = 0;
    for (const r of all) {
      for (const ref of referencesOf(r)) {
        if (ref.startsWith('#')) continue;
        checked++;
        if (ref.startsWith('urn:uuid:') || ref.includes('?')) problems.push(`${r.resourceType}/${r.id}: unresolved ${ref}`);
        else if (!keys.has(ref) && !KNOWN_DANGLING[ref]) problems.push(`${r.resourceType}/${r.id}: ${ref} does not exist`);
      }
    }
    const line = `synthea over HTTP: ${bundles} bundles, ${resources} resources in ${seconds.toFixed(1)} s; ${checked} references checked, ${problems.length} unresolved`;
    console.log(line);
    t.diagnostic(line);
    assert.deepEqual(problems.slice(0, 20), []);
    await s.assertHealthy('after the Synthea bundles');
  } finally {
    await s.cleanup();
  }
});
