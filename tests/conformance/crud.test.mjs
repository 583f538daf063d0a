// create / conditional create / read / vread / update / conditional update / patch / delete,
// Prefer handling and the headers that go with them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RESPONSE_KEY } from 'fhir-kit-client';
import {
  FACILITY_SYSTEM,
  FHIR_JSON_CT,
  assertOperationOutcome,
  assertStatus,
  randomTag,
  startServer,
} from './server.mjs';

const FACILITY = 'org-crud-test';
const ID_RE = /^[A-Za-z0-9\-.]{1,64}$/;
const INSTANT_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

let server;
let client;
const idSystem = `urn:carechart-test:${randomTag('crud')}`;

before(async () => {
  server = await startServer({ args: ['--facility', FACILITY] });
  client = server.client();
});

after(async () => {
  await server?.cleanup();
});

function headersOf(result) {
  return result[RESPONSE_KEY].headers;
}

function assertVersionMeta(resource, version, context) {
  assert.ok(ID_RE.test(resource.id ?? ''), `${context}: id ${resource.id} is not a valid FHIR id`);
  assert.equal(resource.meta?.versionId, String(version), `${context}: meta.versionId`);
  assert.match(resource.meta?.lastUpdated ?? '', INSTANT_RE, `${context}: meta.lastUpdated must be an instant`);
}

function assertFacilityRecorded(resource, context) {
  const tags = resource.meta?.tag ?? [];
  assert.ok(
    tags.some((t) => t.system === FACILITY_SYSTEM && t.code === FACILITY),
    `${context}: meta.tag must record the facility ${FACILITY}; got ${JSON.stringify(tags)}`,
  );
  assert.equal(typeof resource.meta?.source, 'string', `${context}: meta.source must be recorded`);
  assert.ok(resource.meta.source.length > 0, `${context}: meta.source is empty`);
}

function assertLastModified(headers, resource, context) {
  const lm = headers.get('last-modified');
  assert.ok(lm, `${context}: Last-Modified header missing`);
  const t = Date.parse(lm);
  assert.ok(!Number.isNaN(t), `${context}: Last-Modified unparseable: ${lm}`);
  const lu = Date.parse(resource.meta.lastUpdated);
  assert.ok(Math.abs(Math.floor(lu / 1000) * 1000 - t) <= 1000, `${context}: Last-Modified ${lm} does not match meta.lastUpdated ${resource.meta.lastUpdated}`);
}

describe('create', () => {
  test('POST /Patient → 201, Location, ETag W/"1", Last-Modified, server-assigned id, facility tag', async () => {
    const res = await server.post('Patient', {
      resourceType: 'Patient',
      id: 'client-chosen-id-ignored',
      gender: 'male',
      name: [{ family: 'Create', given: ['Test'] }],
    });
    assert.equal(res.status, 201, res.text);
    assert.match(res.headers.get('content-type') ?? '', FHIR_JSON_CT);
    const body = res.json;
    assert.equal(body.resourceType, 'Patient');
    assert.notEqual(body.id, 'client-chosen-id-ignored', 'create must ignore the id in the body (server-assigned id)');
    assertVersionMeta(body, 1, 'create');
    assertFacilityRecorded(body, 'create');
    assert.equal(body.gender, 'male');
    assert.deepEqual(body.name, [{ family: 'Create', given: ['Test'] }]);
    const loc = res.headers.get('location') ?? '';
    assert.match(loc, new RegExp(`/fhir/Patient/${body.id}(/_history/1)?$`), `Location header: ${loc}`);
    assert.equal(res.headers.get('etag'), 'W/"1"');
    assertLastModified(res.headers, body, 'create');
  });

  test('create via fhir-kit-client, then read it back via fhir-kit-client', async () => {
    const created = await client.create({
      resourceType: 'Observation',
      body: {
        resourceType: 'Observation',
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
        valueQuantity: { value: 72.50, unit: 'beats/min', system: 'http://unitsofmeasure.org', code: '/min' },
      },
    });
    assertVersionMeta(created, 1, 'client.create');
    const read = await client.read({ resourceType: 'Observation', id: created.id });
    assert.equal(read.id, created.id);
    assert.equal(read.status, 'final');
    assert.equal(read.valueQuantity.value, 72.5);
    assertFacilityRecorded(read, 'read after create');
  });

  test('invalid resource → 400/422 OperationOutcome, nothing written', async () => {
    const before = await server.count('Patient');
    const res = await server.post('Patient', { resourceType: 'Patient', birthDate: 'not-a-date' });
    assertStatus(res, [400, 422]);
    assertOperationOutcome(res);
    assert.equal(await server.count('Patient'), before);
  });

  test('create via client of a bad body rejects with OperationOutcome', async () => {
    await assert.rejects(
      () => client.create({ resourceType: 'Patient', body: { resourceType: 'Patient', gender: 'not-a-gender-code' } }),
      (err) => {
        assert.ok([400, 422].includes(err.response?.status), `status ${err.response?.status}`);
        assert.equal(err.response.data.resourceType, 'OperationOutcome');
        return true;
      },
    );
  });

  test('Prefer: return=minimal → 201 with empty body, Location and ETag still set', async () => {
    const res = await server.post('Patient', { resourceType: 'Patient', gender: 'other' }, { headers: { prefer: 'return=minimal' } });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.text, '', 'return=minimal must have an empty body');
    assert.match(res.headers.get('location') ?? '', /\/fhir\/Patient\/[A-Za-z0-9\-.]{1,64}(\/_history\/1)?$/);
    assert.equal(res.headers.get('etag'), 'W/"1"');
  });

  test('Prefer: return=representation → resource body', async () => {
    const res = await server.post('Patient', { resourceType: 'Patient', gender: 'female' }, { headers: { prefer: 'return=representation' } });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json?.resourceType, 'Patient');
    assert.equal(res.json.gender, 'female');
  });

  test('Prefer: return=OperationOutcome → OperationOutcome body', async () => {
    const res = await server.post('Patient', { resourceType: 'Patient', gender: 'female' }, { headers: { prefer: 'return=OperationOutcome' } });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json?.resourceType, 'OperationOutcome', `expected OperationOutcome, got ${res.text.slice(0, 200)}`);
    assert.ok(res.headers.get('location'), 'Location still required');
  });
});

describe('conditional create (If-None-Exist)', () => {
  test('no match → 201; one match → 200 with the existing resource and no new one', async () => {
    const ident = `cc-${randomTag()}`;
    const body = { resourceType: 'Patient', identifier: [{ system: idSystem, value: ident }], gender: 'female' };
    const cond = { 'if-none-exist': `identifier=${idSystem}|${ident}` };
    const first = await server.post('Patient', body, { headers: cond });
    assert.equal(first.status, 201, first.text);
    const before = await server.count('Patient');
    const second = await server.post('Patient', { ...body, gender: 'male' }, { headers: cond });
    assert.equal(second.status, 200, `second conditional create must return 200: ${second.text}`);
    if (second.json) assert.equal(second.json.id, first.json.id, 'must return the existing resource');
    assert.equal(await server.count('Patient'), before, 'a matched conditional create must not write');
    const read = await server.get(`Patient/${first.json.id}`);
    assert.equal(read.json.gender, 'female', 'existing resource must be unchanged');
    assert.equal(read.json.meta.versionId, '1');
  });

  test('several matches → 412, nothing written', async () => {
    const ident = `dup-${randomTag()}`;
    const body = { resourceType: 'Patient', identifier: [{ system: idSystem, value: ident }] };
    await server.create(body);
    await server.create(body);
    const before = await server.count('Patient');
    const res = await server.post('Patient', body, { headers: { 'if-none-exist': `identifier=${idSystem}|${ident}` } });
    assertStatus(res, 412);
    assertOperationOutcome(res);
    assert.equal(await server.count('Patient'), before);
  });
});

describe('read / vread', () => {
  let p;
  before(async () => {
    p = await server.create({ resourceType: 'Patient', gender: 'male', birthDate: '1970-01-01' });
    const upd = await server.put(`Patient/${p.id}`, { ...p, gender: 'female', meta: undefined });
    assert.equal(upd.status, 200, upd.text);
  });

  test('read → 200 current version with ETag, Last-Modified, Content-Type', async () => {
    const res = await server.get(`Patient/${p.id}`);
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type') ?? '', FHIR_JSON_CT);
    assert.equal(res.headers.get('etag'), 'W/"2"');
    assertVersionMeta(res.json, 2, 'read');
    assertLastModified(res.headers, res.json, 'read');
    assert.equal(res.json.gender, 'female');
  });

  test('read via fhir-kit-client exposes the ETag', async () => {
    const r = await client.read({ resourceType: 'Patient', id: p.id });
    assert.equal(r.meta.versionId, '2');
    assert.equal(headersOf(r).get('etag'), 'W/"2"');
  });

  test('vread of version 1 → the old content', async () => {
    const v1 = await client.vread({ resourceType: 'Patient', id: p.id, version: '1' });
    assert.equal(v1.meta.versionId, '1');
    assert.equal(v1.gender, 'male');
    assert.equal(headersOf(v1).get('etag'), 'W/"1"');
  });

  test('read of a missing id → 404 OperationOutcome', async () => {
    const res = await server.get('Patient/does-not-exist-123');
    assertStatus(res, 404);
    assertOperationOutcome(res);
  });

  test('read of a missing id via fhir-kit-client rejects with 404', async () => {
    await assert.rejects(
      () => client.read({ resourceType: 'Patient', id: 'missing-via-client' }),
      (err) => err.response?.status === 404 && err.response.data?.resourceType === 'OperationOutcome',
    );
  });

  test('vread of a missing version → 404 OperationOutcome', async () => {
    const res = await server.get(`Patient/${p.id}/_history/99`);
    assertStatus(res, 404);
    assertOperationOutcome(res);
  });

  test('vread with a non-numeric version → 400/404', async () => {
    const res = await server.get(`Patient/${p.id}/_history/abc`);
    assertStatus(res, [400, 404]);
    assertOperationOutcome(res);
  });

  test('read with a wrong type for an existing id → 404', async () => {
    const res = await server.get(`Observation/${p.id}`);
    assertStatus(res, 404);
    assertOperationOutcome(res);
  });
});

describe('update (PUT)', () => {
  test('update → 200, version 2, ETag W/"2", content replaced', async () => {
    const p = await server.create({ resourceType: 'Patient', gender: 'male', active: true });
    const res = await server.put(`Patient/${p.id}`, { resourceType: 'Patient', id: p.id, gender: 'female' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('etag'), 'W/"2"');
    assertVersionMeta(res.json, 2, 'update');
    assertFacilityRecorded(res.json, 'update');
    assert.equal(res.json.gender, 'female');
    assert.equal(res.json.active, undefined, 'update replaces the whole resource');
  });

  test('update via fhir-kit-client', async () => {
    const p = await server.create({ resourceType: 'Condition', subject: { reference: 'Patient/x' }, code: { text: 'a' } });
    const upd = await client.update({ resourceType: 'Condition', id: p.id, body: { ...p, meta: undefined, code: { text: 'b' } } });
    assert.equal(upd.meta.versionId, '2');
    assert.equal(upd.code.text, 'b');
  });

  test('update-as-create with a client id → 201, version 1', async () => {
    const id = randomTag('client-');
    const res = await server.put(`Patient/${id}`, { resourceType: 'Patient', id, gender: 'unknown' });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.headers.get('etag'), 'W/"1"');
    assert.equal(res.json.id, id);
    assertVersionMeta(res.json, 1, 'update-as-create');
    const read = await server.get(`Patient/${id}`);
    assert.equal(read.status, 200);
    assert.equal(read.json.gender, 'unknown');
  });

  test('If-Match with the current version → 200; with a stale version → 412 and nothing written', async () => {
    const p = await server.create({ resourceType: 'Patient', gender: 'male' });
    const ok = await server.put(`Patient/${p.id}`, { resourceType: 'Patient', id: p.id, gender: 'female' }, { headers: { 'if-match': 'W/"1"' } });
    assert.equal(ok.status, 200, ok.text);
    const stale = await server.put(`Patient/${p.id}`, { resourceType: 'Patient', id: p.id, gender: 'other' }, { headers: { 'if-match': 'W/"1"' } });
    assertStatus(stale, 412);
    assertOperationOutcome(stale);
    const read = await server.get(`Patient/${p.id}`);
    assert.equal(read.json.meta.versionId, '2');
    assert.equal(read.json.gender, 'female');
  });

  test('id in body differs from URL → 400, nothing written', async () => {
    const p = await server.create({ resourceType: 'Patient', gender: 'male' });
    const res = await server.put(`Patient/${p.id}`, { resourceType: 'Patient', id: 'some-other-id', gender: 'female' });
    assertStatus(res, 400);
    assertOperationOutcome(res);
    const read = await server.get(`Patient/${p.id}`);
    assert.equal(read.json.meta.versionId, '1');
    assert.equal((await server.get('Patient/some-other-id')).status, 404);
  });

  test('no id in body → 400', async () => {
    const p = await server.create({ resourceType: 'Patient', gender: 'male' });
    const res = await server.put(`Patient/${p.id}`, { resourceType: 'Patient', gender: 'female' });
    assertStatus(res, 400);
    assertOperationOutcome(res);
    assert.equal((await server.get(`Patient/${p.id}`)).json.meta.versionId, '1');
  });

  test('invalid content → 400/422, version unchanged', async () => {
    const p = await server.create({ resourceType: 'Patient', gender: 'male' });
    const res = await server.put(`Patient/${p.id}`, { resourceType: 'Patient', id: p.id, birthDate: '2020-02-30' });
    assertStatus(res, [400, 422]);
    assertOperationOutcome(res);
    assert.equal((await server.get(`Patient/${p.id}`)).json.meta.versionId, '1');
  });
});

describe('conditional update (PUT /Type?criteria)', () => {
  test('no match → 201 create; one match → 200 update of that resource', async () => {
    const ident = `cu-${randomTag()}`;
    const body = { resourceType: 'Patient', identifier: [{ system: idSystem, value: ident }], gender: 'male' };
    const created = await client.update({ resourceType: 'Patient', searchParams: { identifier: `${idSystem}|${ident}` }, body });
    assert.equal(created[RESPONSE_KEY].status, 201, 'no match must create');
    const upd = await server.put(`Patient?identifier=${encodeURIComponent(`${idSystem}|${ident}`)}`, { ...body, gender: 'female' });
    assert.equal(upd.status, 200, upd.text);
    assert.equal(upd.json.id, created.id, 'one match must update that resource');
    assert.equal(upd.json.meta.versionId, '2');
    assert.equal(upd.json.gender, 'female');
  });

  test('several matches → 412, nothing written', async () => {
    const ident = `cu-dup-${randomTag()}`;
    const body = { resourceType: 'Patient', identifier: [{ system: idSystem, value: ident }] };
    const a = await server.create(body);
    const b = await server.create(body);
    const res = await server.put(`Patient?identifier=${encodeURIComponent(`${idSystem}|${ident}`)}`, { ...body, gender: 'female' });
    assertStatus(res, 412);
    assertOperationOutcome(res);
    for (const x of [a, b]) {
      const r = await server.get(`Patient/${x.id}`);
      assert.equal(r.json.meta.versionId, '1');
      assert.equal(r.json.gender, undefined);
    }
  });
});

describe('patch (JSON Patch)', () => {
  test('replace + add → 200, version incremented, change persisted', async () => {
    const p = await server.create({ resourceType: 'Patient', gender: 'male', name: [{ family: 'Patch' }] });
    const patched = await client.patch({
      resourceType: 'Patient',
      id: p.id,
      jsonPatch: [
        { op: 'replace', path: '/gender', value: 'female' },
        { op: 'add', path: '/birthDate', value: '1980-05-06' },
        { op: 'add', path: '/name/0/given', value: ['Jo'] },
      ],
    });
    assert.equal(patched.meta.versionId, '2');
    assert.equal(patched[RESPONSE_KEY].headers.get('etag'), 'W/"2"');
    const read = await server.get(`Patient/${p.id}`);
    assert.equal(read.json.gender, 'female');
    assert.equal(read.json.birthDate, '1980-05-06');
    assert.deepEqual(read.json.name, [{ family: 'Patch', given: ['Jo'] }]);
    assertFacilityRecorded(read.json, 'patch');
  });

  test('If-Match honoured: stale → 412, current → 200', async () => {
    const p = await server.create({ resourceType: 'Patient', gender: 'male' });
    const patch = JSON.stringify([{ op: 'replace', path: '/gender', value: 'female' }]);
    const stale = await server.request('PATCH', `Patient/${p.id}`, {
      headers: { 'content-type': 'application/json-patch+json', 'if-match': 'W/"7"' },
      body: patch,
    });
    assertStatus(stale, 412);
    assertOperationOutcome(stale);
    const ok = await server.request('PATCH', `Patient/${p.id}`, {
      headers: { 'content-type': 'application/json-patch+json', 'if-match': 'W/"1"' },
      body: patch,
    });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.gender, 'female');
  });

  test('patch producing an invalid resource → 400/422, nothing written', async () => {
    const p = await server.create({ resourceType: 'Patient', gender: 'male' });
    const res = await server.request('PATCH', `Patient/${p.id}`, {
      headers: { 'content-type': 'application/json-patch+json' },
      body: JSON.stringify([{ op: 'add', path: '/birthDate', value: '1999-13-45' }]),
    });
    assertStatus(res, [400, 422]);
    assertOperationOutcome(res);
    const read = await server.get(`Patient/${p.id}`);
    assert.equal(read.json.meta.versionId, '1');
    assert.equal(read.json.birthDate, undefined);
  });

  test('patch adding an unknown element → 400/422', async () => {
    const p = await server.create({ resourceType: 'Patient' });
    const res = await server.request('PATCH', `Patient/${p.id}`, {
      headers: { 'content-type': 'application/json-patch+json' },
      body: JSON.stringify([{ op: 'add', path: '/notAnElement', value: 1 }]),
    });
    assertStatus(res, [400, 422]);
    assertOperationOutcome(res);
    assert.equal((await server.get(`Patient/${p.id}`)).json.meta.versionId, '1');
  });

  test('failing "test" op → 4xx, nothing written', async () => {
    const p = await server.create({ resourceType: 'Patient', gender: 'male' });
    const res = await server.request('PATCH', `Patient/${p.id}`, {
      headers: { 'content-type': 'application/json-patch+json' },
      body: JSON.stringify([
        { op: 'test', path: '/gender', value: 'female' },
        { op: 'replace', path: '/gender', value: 'other' },
      ]),
    });
    assertStatus(res, [400, 409, 412, 422]);
    assertOperationOutcome(res);
    assert.equal((await server.get(`Patient/${p.id}`)).json.gender, 'male');
  });

  test('malformed patch document (not an array / bad op) → 400', async () => {
    const p = await server.create({ resourceType: 'Patient' });
    for (const body of ['{"op":"replace"}', '[{"op":"frobnicate","path":"/gender"}]', '[{"op":"remove","path":"/nonexistent/0"}]']) {
      const res = await server.request('PATCH', `Patient/${p.id}`, { headers: { 'content-type': 'application/json-patch+json' }, body });
      assertStatus(res, [400, 422], `patch body ${body}`);
      assertOperationOutcome(res);
    }
    assert.equal((await server.get(`Patient/${p.id}`)).json.meta.versionId, '1');
  });

  test('patch of a missing resource → 404', async () => {
    const res = await server.request('PATCH', 'Patient/no-such-patient', {
      headers: { 'content-type': 'application/json-patch+json' },
      body: JSON.stringify([{ op: 'replace', path: '/gender', value: 'female' }]),
    });
    assertStatus(res, 404);
    assertOperationOutcome(res);
  });

  test('patch changing the id or resourceType → 400/422', async () => {
    const p = await server.create({ resourceType: 'Patient' });
    for (const op of [
      { op: 'replace', path: '/id', value: 'another-id' },
      { op: 'replace', path: '/resourceType', value: 'Observation' },
    ]) {
      const res = await server.request('PATCH', `Patient/${p.id}`, {
        headers: { 'content-type': 'application/json-patch+json' },
        body: JSON.stringify([op]),
      });
      assertStatus(res, [400, 422], JSON.stringify(op));
      assertOperationOutcome(res);
    }
    assert.equal((await server.get(`Patient/${p.id}`)).json.meta.versionId, '1');
  });
});

describe('delete', () => {
  test('delete → 200/204; read → 410; vread of older version works; history records it', async () => {
    const p = await server.create({ resourceType: 'Patient', gender: 'male' });
    const del = await server.request('DELETE', `Patient/${p.id}`);
    assertStatus(del, [200, 204]);
    if (del.status === 204) assert.equal(del.text, '', '204 must have no body');
    const gone = await server.get(`Patient/${p.id}`);
    assertStatus(gone, 410);
    assertOperationOutcome(gone);
    const v1 = await server.get(`Patient/${p.id}/_history/1`);
    assert.equal(v1.status, 200, v1.text);
    assert.equal(v1.json.gender, 'male');
    const hist = await server.get(`Patient/${p.id}/_history`);
    assert.equal(hist.status, 200);
    assert.equal(hist.json.entry.length, 2);
    assert.equal(hist.json.entry[0].request?.method, 'DELETE', 'newest history entry must be the delete');
    assert.equal(hist.json.entry[0].resource, undefined, 'a delete entry has no resource');
  });

  test('delete via fhir-kit-client, search no longer finds it', async () => {
    const ident = randomTag('del');
    const p = await server.create({ resourceType: 'Patient', identifier: [{ system: idSystem, value: ident }] });
    await client.delete({ resourceType: 'Patient', id: p.id });
    const bundle = await client.search({ resourceType: 'Patient', searchParams: { identifier: `${idSystem}|${ident}` } });
    assert.equal((bundle.entry ?? []).length, 0, 'deleted resources must not match searches');
  });

  test('delete of an id that never existed → 404 with an OperationOutcome (docs/decisions.md D5)', async () => {
    const res = await server.request('DELETE', 'Patient/never-existed-xyz');
    assertStatus(res, 404);
    assert.equal(res.json?.resourceType, 'OperationOutcome');
    assert.match(res.json.issue[0].diagnostics, /never-existed-xyz/);
  });

  test('deleting twice is idempotent (200/204), still 410', async () => {
    const p = await server.create({ resourceType: 'Patient' });
    assertStatus(await server.request('DELETE', `Patient/${p.id}`), [200, 204]);
    assertStatus(await server.request('DELETE', `Patient/${p.id}`), [200, 204]);
    assertStatus(await server.get(`Patient/${p.id}`), 410);
  });

  test('update after delete revives the resource with a higher version', async () => {
    const p = await server.create({ resourceType: 'Patient', gender: 'male' });
    assertStatus(await server.request('DELETE', `Patient/${p.id}`), [200, 204]);
    const res = await server.put(`Patient/${p.id}`, { resourceType: 'Patient', id: p.id, gender: 'female' });
    assertStatus(res, [200, 201]);
    assert.ok(Number(res.json.meta.versionId) >= 3, `version after delete must be >= 3, got ${res.json.meta.versionId}`);
    const read = await server.get(`Patient/${p.id}`);
    assert.equal(read.status, 200);
    assert.equal(read.json.gender, 'female');
  });

  test('DELETE with a bad id → 400', async () => {
    const res = await server.request('DELETE', 'Patient/bad_id!');
    assertStatus(res, 400);
    assertOperationOutcome(res);
  });
});

describe('concurrent writes', () => {
  test('10 concurrent updates of one resource: each success gets its own version, history complete', async () => {
    // Unconditional updates may be refused with 409 Conflict (FHIR allows it for colliding
    // writes) but every 200 must get a distinct, contiguous version and none may be lost.
    const p = await server.create({ resourceType: 'Patient', gender: 'male' });
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => server.put(`Patient/${p.id}`, { resourceType: 'Patient', id: p.id, name: [{ family: `C${i}` }] })),
    );
    for (const r of results) {
      assertStatus(r, [200, 409]);
      if (r.status === 409) assertOperationOutcome(r);
    }
    const ok = results.filter((r) => r.status === 200);
    assert.ok(ok.length >= 1, 'at least one concurrent update must succeed');
    const versions = ok.map((r) => Number(r.json.meta.versionId)).sort((a, b) => a - b);
    assert.deepEqual(versions, Array.from({ length: ok.length }, (_, i) => i + 2), 'each successful update must get its own version');
    const hist = await server.get(`Patient/${p.id}/_history?_count=50`);
    assert.equal(hist.json.entry.length, ok.length + 1, 'history must hold every successful version');
    const cur = await server.get(`Patient/${p.id}`);
    const last = ok.find((r) => Number(r.json.meta.versionId) === ok.length + 1);
    assert.deepEqual(cur.json.name, last.json.name, 'the current version is the highest-numbered one');
    if (ok.length < 10) console.log(`note: ${10 - ok.length}/10 concurrent unconditional updates were refused with 409`);
  });

  test('10 concurrent If-Match W/"1" updates: exactly one succeeds, the rest get 412', async () => {
    const p = await server.create({ resourceType: 'Patient', gender: 'male' });
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        server.put(`Patient/${p.id}`, { resourceType: 'Patient', id: p.id, name: [{ family: `M${i}` }] }, { headers: { 'if-match': 'W/"1"' } }),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    assert.equal(statuses.filter((s) => s === 200).length, 1, `exactly one 200 expected: ${statuses}`);
    assert.equal(statuses.filter((s) => s === 412 || s === 409).length, 9, `nine 412 (or 409) expected: ${statuses}`);
    assert.equal((await server.get(`Patient/${p.id}`)).json.meta.versionId, '2');
  });

  test('10 concurrent conditional creates with the same If-None-Exist create exactly one resource', async () => {
    const ident = `race-${randomTag()}`;
    const body = { resourceType: 'Patient', identifier: [{ system: idSystem, value: ident }] };
    const results = await Promise.all(
      Array.from({ length: 10 }, () => server.post('Patient', body, { headers: { 'if-none-exist': `identifier=${idSystem}|${ident}` } })),
    );
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 201).length, 1, `exactly one 201 expected: ${statuses}`);
    assert.ok(statuses.every((s) => s === 201 || s === 200), `others must be 200: ${statuses}`);
    const found = await server.get(`Patient?identifier=${encodeURIComponent(`${idSystem}|${ident}`)}`);
    assert.equal(found.json.total, 1, 'a race of conditional creates must not duplicate the resource');
  });
});
