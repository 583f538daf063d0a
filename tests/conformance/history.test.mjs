// history: instance, type, system; _since, _at, _count and paging.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { allPages, assertOperationOutcome, assertStatus, startServer } from './server.mjs';

let server;
let client;
let pid; // Patient with v1 POST, v2 PUT, v3 PUT, v4 DELETE
const versions = {}; // versionId -> lastUpdated of Patient pid
let obs;
let q; // Patient created after tAfterP

// Wait until the wall clock is strictly past a server timestamp, so that the next write gets a
// later lastUpdated (1 ms granularity if the server writes milliseconds, else 1 s).
async function passInstant(lastUpdated) {
  const fractional = /\.\d+/.test(lastUpdated);
  const target = Date.parse(lastUpdated) + (fractional ? 1 : 1000);
  while (Date.now() <= target) await delay(2);
}

function entryVersion(e) {
  if (e.resource) return e.resource.meta?.versionId;
  const m = /_history\/(\d+)/.exec(e.request?.url ?? '') ?? /W\/"(\d+)"/.exec(e.response?.etag ?? '');
  return m?.[1];
}

let tAfterP;

before(async () => {
  server = await startServer();
  client = server.client();
  const p1 = await server.create({ resourceType: 'Patient', gender: 'male', name: [{ family: 'History' }] });
  pid = p1.id;
  versions['1'] = p1.meta.lastUpdated;
  await passInstant(p1.meta.lastUpdated);
  const p2 = await server.put(`Patient/${pid}`, { resourceType: 'Patient', id: pid, gender: 'female' });
  assert.equal(p2.status, 200, p2.text);
  versions['2'] = p2.json.meta.lastUpdated;
  await passInstant(versions['2']);
  const p3 = await server.put(`Patient/${pid}`, { resourceType: 'Patient', id: pid, gender: 'other' });
  assert.equal(p3.status, 200, p3.text);
  versions['3'] = p3.json.meta.lastUpdated;
  await passInstant(versions['3']);
  const del = await server.request('DELETE', `Patient/${pid}`);
  assertStatus(del, [200, 204]);
  obs = await server.create({ resourceType: 'Observation', status: 'final', code: { text: 'history-obs' } });
  await passInstant(obs.meta.lastUpdated);
  tAfterP = new Date().toISOString();
  await delay(5); // make tAfterP strictly earlier than q's timestamp even at ms resolution
  q = await server.create({ resourceType: 'Patient', gender: 'unknown', name: [{ family: 'Later' }] });
});

after(async () => {
  await server?.cleanup();
});

describe('instance history', () => {
  test('Bundle type history, newest first, with request/response in every entry', async () => {
    const res = await server.get(`Patient/${pid}/_history`);
    assert.equal(res.status, 200, res.text);
    const b = res.json;
    assert.equal(b.resourceType, 'Bundle');
    assert.equal(b.type, 'history');
    assert.equal(b.total, 4, 'Carechart always reports the history total');
    assert.equal(b.entry?.length, 4, `expected 4 versions, got ${b.entry?.length}`);
    assert.deepEqual(b.entry.map(entryVersion), ['4', '3', '2', '1'], 'entries newest first');
    assert.deepEqual(
      b.entry.map((e) => e.request?.method),
      ['DELETE', 'PUT', 'PUT', 'POST'],
      'request.method must record each interaction',
    );
    for (const e of b.entry) {
      assert.ok(e.request?.url, `entry without request.url: ${JSON.stringify(e)}`);
      assert.match(e.response?.status ?? '', /^\d{3}/, `entry without response.status: ${JSON.stringify(e)}`);
    }
    assert.equal(b.entry[0].resource, undefined, 'a delete entry carries no resource');
    assert.equal(b.entry[1].resource.gender, 'other');
    assert.equal(b.entry[3].resource.gender, 'male');
    assert.ok(b.link?.some((l) => l.relation === 'self'), 'history Bundle needs a self link');
  });

  test('via fhir-kit-client', async () => {
    const b = await client.history({ resourceType: 'Patient', id: pid });
    assert.equal(b.type, 'history');
    assert.equal(b.entry.length, 4);
  });

  test('_count=1 pages through every version via next links', async () => {
    const { entries, pages } = await allPages(server, `Patient/${pid}/_history?_count=1`);
    assert.equal(pages.length, 4, `expected 4 pages of 1, got ${pages.length}`);
    for (const p of pages) assert.equal((p.entry ?? []).length, 1, 'each page must hold _count entries');
    assert.deepEqual(entries.map(entryVersion), ['4', '3', '2', '1']);
  });

  test('_since=<v2 lastUpdated> → v2 and later only', async () => {
    const res = await server.get(`Patient/${pid}/_history?_since=${encodeURIComponent(versions['2'])}`);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json.entry?.map(entryVersion), ['4', '3', '2']);
  });

  test('_since in the future → no entries', async () => {
    const res = await server.get(`Patient/${pid}/_history?_since=2999-01-01T00:00:00Z`);
    assert.equal(res.status, 200, res.text);
    assert.equal((res.json.entry ?? []).length, 0);
  });

  test('_at=<v2 lastUpdated> → v2 (the version current then), not v3 or the delete', async () => {
    const res = await server.get(`Patient/${pid}/_history?_at=${encodeURIComponent(versions['2'])}`);
    assert.equal(res.status, 200, res.text);
    const got = res.json.entry?.map(entryVersion) ?? [];
    assert.ok(got.includes('2'), `_at must include v2: ${got}`);
    assert.ok(!got.includes('3') && !got.includes('4'), `_at must exclude later versions: ${got}`);
  });

  test('bad _since → 400 OperationOutcome', async () => {
    const res = await server.get(`Patient/${pid}/_history?_since=yesterday`);
    assertStatus(res, 400);
    assertOperationOutcome(res);
  });

  test('bad _count → 400 OperationOutcome', async () => {
    const res = await server.get(`Patient/${pid}/_history?_count=lots`);
    assertStatus(res, 400);
    assertOperationOutcome(res);
  });

  test('history of a missing resource → 404 OperationOutcome', async () => {
    const res = await server.get('Patient/never-there/_history');
    assertStatus(res, 404);
    assertOperationOutcome(res);
  });
});

describe('type history', () => {
  test('/Patient/_history has Patient versions only', async () => {
    const { entries, pages } = await allPages(server, 'Patient/_history');
    assert.equal(pages[0].type, 'history');
    assert.ok(entries.length >= 5, `expected >= 5 Patient versions, got ${entries.length}`);
    for (const e of entries) {
      if (e.resource) assert.equal(e.resource.resourceType, 'Patient');
      assert.match(e.request?.url ?? '', /^Patient/, `request.url ${e.request?.url}`);
    }
    const mine = entries.filter((e) => (e.fullUrl ?? '').endsWith(`/Patient/${pid}`));
    assert.equal(mine.length, 4);
  });

  test('_since restricts to later writes', async () => {
    const res = await server.get(`Patient/_history?_since=${encodeURIComponent(tAfterP)}`);
    assert.equal(res.status, 200, res.text);
    const ids = (res.json.entry ?? []).map((e) => e.resource?.id);
    assert.deepEqual(ids, [q.id], `only the Patient written after ${tAfterP} expected`);
  });

  test('via fhir-kit-client with _count paging (nextPage)', async () => {
    const b = await client.history({ resourceType: 'Patient' });
    assert.equal(b.type, 'history');
    const first = await server.get('Patient/_history?_count=2');
    assert.equal(first.json.entry.length, 2);
    const next = await client.nextPage({ bundle: first.json });
    assert.ok(next, 'a next page must exist');
    assert.equal(next.type, 'history');
    assert.ok(next.entry.length >= 1);
  });

  test('unknown type → 404/400', async () => {
    const res = await server.get('Nope/_history');
    assertStatus(res, [400, 404]);
    assertOperationOutcome(res);
  });
});

describe('system history', () => {
  test('/_history includes every type, consistent across pages', async () => {
    const { entries, pages } = await allPages(server, '_history?_count=2');
    assert.equal(pages[0].type, 'history');
    for (const e of entries) assert.ok(e.fullUrl, `history entry without fullUrl: ${JSON.stringify(e)}`);
    const keys = entries.map((e) => `${e.fullUrl}#${entryVersion(e)}`);
    assert.equal(new Set(keys).size, keys.length, 'no entry may appear twice across pages');
    const types = new Set(entries.map((e) => e.request?.url?.split('/')[0]));
    assert.ok(types.has('Patient') && types.has('Observation'), `types seen: ${[...types]}`);
    // Ours: 4 versions of one Patient, 1 Observation, 1 later Patient (the server may hold more,
    // e.g. the facility Organization it creates at start-up).
    const expected = [
      ...['1', '2', '3', '4'].map((v) => `/Patient/${pid}#${v}`),
      `/Observation/${obs.id}#1`,
      `/Patient/${q.id}#1`,
    ];
    for (const k of expected) {
      assert.ok(keys.some((key) => key.endsWith(k)), `system history lacks ${k}; has ${keys.join(', ')}`);
    }
    assert.equal(pages[0].total, entries.length, 'Bundle.total must equal the entries across pages');
  });

  test('_since restricts the system history', async () => {
    const res = await server.get(`_history?_since=${encodeURIComponent(tAfterP)}`);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual((res.json.entry ?? []).map((e) => e.resource?.id), [q.id]);
  });

  test('via fhir-kit-client', async () => {
    const b = await client.history();
    assert.equal(b.resourceType, 'Bundle');
    assert.equal(b.type, 'history');
  });

  test('bad _at → 400', async () => {
    const res = await server.get('_history?_at=not-a-date');
    assertStatus(res, 400);
    assertOperationOutcome(res);
  });
});
