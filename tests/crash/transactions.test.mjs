// Transaction atomicity and isolation over HTTP: a Bundle with one bad entry stores none of its
// entries, and concurrent transactions updating the same resources with ifMatch serialise (no
// lost update: every acknowledged increment is in the final value, versions have no gaps).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { backendName, runSql, startServer } from '../conformance/server.mjs';

const MARKER = 'https://carechart.dev/test/tx-marker';
let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.cleanup();
});

async function countMarked(code) {
  let n = 0;
  for (const type of ['Patient', 'Observation']) {
    const res = await server.get(`${type}?_tag=${encodeURIComponent(`${MARKER}|${code}`)}&_summary=count`);
    assert.equal(res.status, 200, res.text);
    n += res.json.total;
  }
  return n;
}

test('a failing entry rolls back the whole transaction, wherever it is', async () => {
  const meta = { tag: [{ system: MARKER, code: 'atomic' }] };
  const good = (i) => ({
    fullUrl: `urn:uuid:0b0c0d0e-0000-4000-8000-00000000000${i}`,
    resource: { resourceType: 'Observation', meta, status: 'final', code: { text: `ok ${i}` } },
    request: { method: 'POST', url: 'Observation' },
  });
  const failures = [
    ['an invalid resource', { resource: { resourceType: 'Patient', meta, birthDate: 'not a date' }, request: { method: 'POST', url: 'Patient' } }, 422],
    ['a stale ifMatch', { resource: { resourceType: 'Patient', id: 'tx-absent', meta }, request: { method: 'PUT', url: 'Patient/tx-absent', ifMatch: 'W/"7"' } }, 412],
    ['a conditional reference matching nothing', { resource: { resourceType: 'Observation', meta, status: 'final', code: { text: 'x' }, subject: { reference: 'Patient?identifier=urn:none|none' } }, request: { method: 'POST', url: 'Observation' } }, 400],
  ];
  for (const [what, bad, status] of failures) {
    for (const position of [0, 2, 4]) {
      const entry = [good(1), good(2), good(3), good(4)];
      entry.splice(position, 0, bad);
      const res = await server.post('', { resourceType: 'Bundle', type: 'transaction', entry });
      assert.equal(res.status, status, `${what} at ${position}: ${res.text.slice(0, 300)}`);
      assert.equal(res.json?.resourceType, 'OperationOutcome');
      assert.equal(await countMarked('atomic'), 0, `${what} at entry ${position}: nothing may be stored`);
    }
  }
});

test('concurrent transactions with ifMatch on the same resources serialise: no lost update', { timeout: 60000 }, async () => {
  const ids = ['tx-counter-a', 'tx-counter-b'];
  for (const id of ids) {
    const res = await server.put(`Patient/${id}`, { resourceType: 'Patient', id, extension: [{ url: 'https://carechart.dev/test/counter', valueInteger: 0 }] });
    assert.ok([200, 201].includes(res.status), res.text);
  }
  const CLIENTS = 8;
  const INCREMENTS = 10;
  let acknowledged = 0;
  let conflicts = 0;
  const client = async (c) => {
    for (let done = 0; done < INCREMENTS; ) {
      // Read both, then increment both in one transaction guarded by their versions.
      const current = await Promise.all(ids.map((id) => server.get(`Patient/${id}`)));
      const entry = current.map(({ json }) => ({
        resource: { ...json, meta: undefined, extension: [{ url: 'https://carechart.dev/test/counter', valueInteger: json.extension[0].valueInteger + 1 }] },
        request: { method: 'PUT', url: `Patient/${json.id}`, ifMatch: `W/"${json.meta.versionId}"` },
      }));
      const res = await server.post('', { resourceType: 'Bundle', type: 'transaction', entry });
      if (res.status === 412 || res.status === 409) {
        conflicts++;
        continue;
      }
      assert.equal(res.status, 200, `client ${c}: ${res.text.slice(0, 300)}`);
      acknowledged++;
      done++;
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
  assert.equal(acknowledged, CLIENTS * INCREMENTS);
  for (const id of ids) {
    const res = await server.get(`Patient/${id}`);
    assert.equal(res.json.extension[0].valueInteger, acknowledged, `${id}: every acknowledged increment is kept`);
    assert.equal(Number(res.json.meta.versionId), acknowledged + 1, `${id}: one version per transaction`);
    const history = await server.get(`Patient/${id}/_history?_count=1000`);
    const values = history.json.entry.map((e) => e.resource.extension[0].valueInteger).sort((a, b) => a - b);
    assert.deepEqual(values, Array.from({ length: acknowledged + 1 }, (_, i) => i), `${id}: history holds each value once`);
  }
  console.log(`ifMatch transactions: ${acknowledged} acknowledged, ${conflicts} conflicts retried, no lost update`);
});

// Large Bundles (≥ 256 KiB) wait for one of a few slots before they are parsed (D51): several at
// once must still all commit, each whole, and the SQLite writer, which does not enforce the
// schema's foreign keys while it writes, must leave no index or history row without its resource.
test('concurrent large transactions each commit whole; no row points at a missing resource', { timeout: 60000 }, async () => {
  const CLIENTS = 6;
  const ENTRIES = 300;
  const tag = { system: MARKER, code: 'large' };
  const bundle = (c, round) => ({
    resourceType: 'Bundle',
    type: 'transaction',
    entry: Array.from({ length: ENTRIES }, (_, i) => ({
      resource: {
        resourceType: 'Observation',
        id: `tx-large-${c}-${i}`,
        meta: { tag: [tag] },
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: `Heart rate, round ${round}` }], text: 'x'.repeat(600) },
        subject: { reference: `Patient/tx-large-${c}` },
        effectiveDateTime: `2024-01-${String(1 + (i % 28)).padStart(2, '0')}T10:00:00Z`,
        valueQuantity: { value: 60 + (i % 40), unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
      },
      request: { method: 'PUT', url: `Observation/tx-large-${c}-${i}` },
    })),
  });
  assert.ok(JSON.stringify(bundle(0, 1)).length >= 256 * 1024, 'the Bundle must count as large');
  // Round 1 creates, round 2 updates every resource (history rows, index rows replaced).
  for (const round of [1, 2]) {
    const results = await Promise.all(
      Array.from({ length: CLIENTS }, (_, c) => server.post('', bundle(c, round), { headers: { prefer: 'return=minimal' } })),
    );
    for (const [c, res] of results.entries()) {
      assert.equal(res.status, 200, `client ${c}, round ${round}: ${res.text.slice(0, 300)}`);
      assert.equal(res.json.entry.length, ENTRIES);
      const wanted = round === 1 ? '201 Created' : '200 OK';
      assert.ok(res.json.entry.every((e) => e.response.status === wanted), `client ${c}, round ${round}: every entry ${wanted}`);
    }
  }
  const res = await server.get(`Observation?_tag=${encodeURIComponent(`${MARKER}|large`)}&_summary=count`);
  assert.equal(res.json.total, CLIENTS * ENTRIES);
  const search = await server.get('Observation?code=http://loinc.org|8867-4&value-quantity=gt99&_summary=count');
  assert.equal(search.json.total, 0, 'index rows of the first round were replaced');
  // A failing large transaction stores nothing, index rows included.
  const failing = bundle(CLIENTS, 1);
  failing.entry[ENTRIES - 1].resource.effectiveDateTime = 'not a date';
  const bad = await server.post('', failing);
  assert.equal(bad.status, 422, bad.text.slice(0, 300));
  const none = await server.get(`Observation?subject=Patient/tx-large-${CLIENTS}&_summary=count`);
  assert.equal(none.json.total, 0);
  if (backendName() !== 'sqlite') {
    console.log('foreign-key check skipped: PostgreSQL enforces its foreign keys itself');
    return;
  }
  const orphans = runSql(server.db, { sqlite: 'PRAGMA foreign_key_check;' }).trim();
  assert.equal(orphans, '', `rows without their resource:\n${orphans.slice(0, 500)}`);
  const rows = runSql(server.db, { sqlite: 'SELECT COUNT(*) FROM sp_quantity;' }).trim();
  assert.ok(Number(rows) >= CLIENTS * ENTRIES, `the check saw the index rows (${rows})`);
});
