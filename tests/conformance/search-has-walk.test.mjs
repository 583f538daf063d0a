// `Patient?_has:Observation:patient:code=S|C` for a code most Patients have (decisions D88): on
// SQLite its pages walk the current Patients in id order (their keys are in another order here)
// and the `_page` token carries the last Patient's id. Paged one by one, every matching Patient
// comes exactly once, in id order, with the total the first page counted; a Patient deleted
// between pages is left out of the later pages, and the Patients of a rare code keep the other
// plan's key order. (PostgreSQL keeps the collected set, in key order: SQLite only.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { allPages, randomTag, startServer } from './server.mjs';

const SQLITE = process.env.CARECHART_BACKEND !== 'postgres';
const SYS = 'urn:carechart-test:has-walk';
let server;

before(async () => {
  if (SQLITE) server = await startServer();
});
after(async () => {
  await server?.cleanup();
});

function observation(code, patient) {
  return {
    request: { method: 'POST', url: 'Observation' },
    resource: {
      resourceType: 'Observation', status: 'final',
      code: { coding: [{ system: SYS, code }] }, subject: { reference: `Patient/${patient}` },
    },
  };
}

describe('_has over a common code walks the Patients in id order', { skip: !SQLITE && 'SQLite plan' }, () => {
  const tag = randomTag('hw');
  // Written in this order, so their keys are c < a < d < b; ids sort a < b < c < d.
  const ids = ['c', 'a', 'd', 'b'].map((s) => `${tag}-${s}`);
  const [c, a, d, b] = ids;
  before(async () => {
    for (const id of ids) {
      const res = await server.put(`Patient/${id}`, { resourceType: 'Patient', id });
      assert.ok(res.status === 201 || res.status === 200, res.text.slice(0, 300));
    }
    // 'common': 12 Observations each for a, b and c (more rows than the walk's probes of four
    // Patients are worth, so the walk is chosen); 'rare': one Observation of d.
    const entry = [];
    for (const p of [a, b, c]) for (let i = 0; i < 12; i++) entry.push(observation('common', p));
    entry.push(observation('rare', d));
    const res = await server.post('', { resourceType: 'Bundle', type: 'transaction', entry });
    assert.equal(res.status, 200, res.text.slice(0, 600));
  });

  const ofCode = (code, extra = '') => `Patient?_has:Observation:patient:code=${SYS}|${code}${extra}`;
  const idsOf = (entries) => entries.map((e) => e.resource.id);

  test('paged by one: each Patient once, in id order, the first page counts them', async () => {
    const { entries, pages } = await allPages(server, ofCode('common', '&_count=1'));
    assert.deepEqual(idsOf(entries), [a, b, c]);
    assert.equal(pages[0].total, 3);
    assert.equal(pages.length, 3);
    const all = await server.get(ofCode('common', '&_total=accurate'));
    assert.equal(all.status, 200, all.text.slice(0, 300));
    assert.deepEqual(idsOf(all.json.entry), [a, b, c]);
    assert.equal(all.json.total, 3);
    const counted = await server.get(ofCode('common', '&_summary=count'));
    assert.equal(counted.json.total, 3);
  });

  test('a Patient deleted between pages is not on the later pages', async () => {
    const first = await server.get(ofCode('common', '&_count=1'));
    assert.deepEqual(idsOf(first.json.entry), [a]);
    const next = first.json.link.find((l) => l.relation === 'next').url;
    const del = await server.request('DELETE', `Patient/${b}`);
    assert.ok(del.status === 200 || del.status === 204, del.text.slice(0, 300));
    const rest = await allPages(server, next);
    assert.deepEqual(idsOf(rest.entries), [c]);
  });

  test('a rare code keeps the collected set', async () => {
    const res = await server.get(ofCode('rare'));
    assert.deepEqual(idsOf(res.json.entry), [d]);
  });
});
