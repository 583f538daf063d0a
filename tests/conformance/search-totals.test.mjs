// Search totals, $everything membership, and run-time SearchParameters (issue #3, decisions D35):
// - a resource that refers to its patient through several compartment parameters is one member
//   of Patient/{id}/$everything and Patient/{id}/* (once on the pages, once in Bundle.total);
// - without _total, Bundle.total is exact up to 100 matches and absent above; _total=accurate
//   _summary=count and _count=0 always count; later pages carry the first page's total;
// - a SearchParameter written in a transaction indexes the resources written after it, and the
//   CapabilityStatement lists it at once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { allPages, randomTag, startServer } from './server.mjs';

const TAGS = 'urn:carechart-test:totals';
let server;

before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.cleanup();
});

async function ok(res) {
  assert.equal(res.status, 200, `${res.method} ${res.url}: ${res.text.slice(0, 400)}`);
  return res.json;
}

async function transaction(entries) {
  const res = await server.post('', { resourceType: 'Bundle', type: 'transaction', entry: entries });
  assert.equal(res.status, 200, res.text.slice(0, 600));
  return res.json;
}

describe('Patient/$everything and compartments count each member once', () => {
  let pid;
  const members = new Set();
  before(async () => {
    const org = await server.create({ resourceType: 'Organization', name: 'Payer' });
    const p = await server.create({ resourceType: 'Patient', name: [{ family: 'Selfinsured' }] });
    pid = p.id;
    members.add(`Patient/${pid}`);
    const ref = { reference: `Patient/${pid}` };
    // Coverage: beneficiary, subscriber and policy-holder are all compartment parameters.
    const cov = await server.create({
      resourceType: 'Coverage', status: 'active', beneficiary: ref, subscriber: ref, policyHolder: ref,
      payor: [{ reference: `Organization/${org.id}` }],
    });
    // AllergyIntolerance: patient, recorder and asserter.
    const ai = await server.create({
      resourceType: 'AllergyIntolerance', patient: ref, recorder: ref, asserter: ref,
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
    });
    // Observation: subject and performer.
    const obs = await server.create({ resourceType: 'Observation', status: 'final', code: { text: 'self-reported' }, subject: ref, performer: [ref] });
    for (const r of [cov, ai, obs]) members.add(`${r.resourceType}/${r.id}`);
  });

  test('$everything: each member once, Bundle.total = members', async () => {
    const b = await ok(await server.get(`Patient/${pid}/$everything`));
    const matches = b.entry.filter((e) => e.search.mode === 'match').map((e) => `${e.resource.resourceType}/${e.resource.id}`);
    assert.deepEqual([...matches].sort(), [...members].sort(), 'no duplicate entries');
    assert.equal(b.total, members.size);
    assert.ok(b.entry.some((e) => e.search.mode === 'include' && e.resource.resourceType === 'Organization'), 'the payer is included');
  });

  test('$everything paged by one: every member exactly once, the same total on every page', async () => {
    const { entries, pages } = await allPages(server, `Patient/${pid}/$everything?_count=1`);
    const matches = entries.filter((e) => e.search.mode === 'match').map((e) => `${e.resource.resourceType}/${e.resource.id}`);
    assert.equal(pages.length, members.size);
    assert.deepEqual([...matches].sort(), [...members].sort());
    for (const p of pages) assert.equal(p.total, members.size);
  });

  test('$everything with _type and _since', async () => {
    const b = await ok(await server.get(`Patient/${pid}/$everything?_type=Coverage,AllergyIntolerance`));
    assert.equal(b.total, 2);
    assert.equal(b.entry.filter((e) => e.search.mode === 'match').length, 2);
    const later = await ok(await server.get(`Patient/${pid}/$everything?_since=2100-01-01T00:00:00Z`));
    assert.equal(later.total, 0);
  });

  test('compartment search: Patient/{id}/* and Patient/{id}/Coverage', async () => {
    const all = await ok(await server.get(`Patient/${pid}/*`));
    assert.equal(all.total, members.size);
    assert.equal(all.entry.length, members.size);
    const cov = await ok(await server.get(`Patient/${pid}/Coverage`));
    assert.equal(cov.total, 1);
    assert.equal(cov.entry.length, 1);
  });
});

describe('Bundle.total on large result sets', () => {
  const tag = randomTag('big');
  const N = 1001;
  before(async () => {
    const entries = [];
    for (let i = 0; i < N; i++) {
      entries.push({ request: { method: 'POST', url: 'Basic' }, resource: { resourceType: 'Basic', meta: { tag: [{ system: TAGS, code: tag }] }, code: { text: `b${i}` } } });
    }
    await transaction(entries);
  });

  test('default: over 100 matches Bundle.total is absent, the pages still go on', async () => {
    const b = await ok(await server.get(`Basic?_tag=${TAGS}|${tag}&_count=500`));
    assert.equal(b.total, undefined);
    assert.equal(b.entry.length, 500);
    const next = b.link.find((l) => l.relation === 'next');
    assert.ok(next, 'a next link');
    const p2 = await ok(await server.get(next.url));
    assert.equal(p2.total, undefined);
    assert.equal(p2.entry.length, 500);
  });

  test('_total=accurate, _total=estimate and _summary=count count them all', async () => {
    assert.equal((await ok(await server.get(`Basic?_tag=${TAGS}|${tag}&_total=accurate`))).total, N);
    assert.equal((await ok(await server.get(`Basic?_tag=${TAGS}|${tag}&_total=estimate`))).total, N);
    assert.equal((await ok(await server.get(`Basic?_tag=${TAGS}|${tag}&_summary=count`))).total, N);
    assert.equal((await ok(await server.get(`Basic?_tag=${TAGS}|${tag}&_count=0`))).total, N);
    assert.equal((await ok(await server.get(`Basic?_tag=${TAGS}|${tag}&_total=none`))).total, undefined);
  });

  test('at or under 100 matches the default total is exact (decisions D78)', async () => {
    const b = await ok(await server.get(`Basic?_tag=${TAGS}|${tag}&code:text=b10`));
    // b10, b100..b109, b1000: 1 + 10 + 1 = 12
    assert.equal(b.total, 12);
    // b1, b10..b19, b100..b199, b1000: 1 + 10 + 100 + 1 = 112, over the default cap
    const over = await ok(await server.get(`Basic?_tag=${TAGS}|${tag}&code:text=b1`));
    assert.equal(over.total, undefined);
    assert.equal(over.entry.length, 20);
    assert.equal((await ok(await server.get(`Basic?_tag=${TAGS}|${tag}&code:text=b1&_total=accurate`))).total, 112);
  });

  test('later pages report the total the first page counted (carried in _page)', async () => {
    const { pages, entries } = await allPages(server, `Basic?_tag=${TAGS}|${tag}&_total=accurate&_count=400`);
    assert.equal(pages.length, 3);
    assert.equal(entries.length, N);
    for (const p of pages) assert.equal(p.total, N);
  });
});

describe('run-time SearchParameters', () => {
  const code = `shoe-size-${randomTag('x').replace(/[^a-z0-9]/gi, '').toLowerCase()}`;
  test('written in a transaction: indexes what is written after it; listed in the CapabilityStatement at once', async () => {
    const sp = {
      resourceType: 'SearchParameter', url: `https://example.org/sp/${code}`, name: code, status: 'active',
      description: 'shoe size', code, base: ['Patient'], type: 'string',
      expression: "Patient.extension.where(url = 'https://example.org/shoe').value",
    };
    const shoe = (v) => ({ resourceType: 'Patient', extension: [{ url: 'https://example.org/shoe', valueString: v }] });
    const bundle = await transaction([
      { request: { method: 'POST', url: 'SearchParameter' }, resource: sp },
      { request: { method: 'POST', url: 'Patient' }, resource: shoe('44 wide') },
    ]);
    assert.equal(bundle.entry.length, 2);
    // The Patient comes after the SearchParameter in the Bundle: it is indexed for it at once
    // (docs/search.md: a SearchParameter applies to the entries after it in the Bundle).
    const sameTxnId = bundle.entry[1].response.location.match(/Patient\/([^/]+)/)[1];
    const meta = await ok(await server.get('metadata'));
    const patient = meta.rest[0].resource.find((r) => r.type === 'Patient');
    assert.ok(patient.searchParam.some((p) => p.name === code && p.type === 'string'), `${code} listed in the CapabilityStatement`);
    const later = await server.create(shoe('44 narrow'));
    const b = await ok(await server.get(`Patient?${code}=44`));
    const ids = b.entry.map((e) => e.resource.id);
    assert.ok(ids.includes(later.id), 'a Patient written after the transaction is found');
    assert.ok(ids.includes(sameTxnId), 'the Patient after it in the same transaction is found');
    assert.equal(b.total, ids.length);
  });

  test('a transaction that fails leaves no run-time parameter behind', async () => {
    const other = `${code}-rolled-back`;
    const res = await server.post('', {
      resourceType: 'Bundle', type: 'transaction', entry: [
        { request: { method: 'POST', url: 'SearchParameter' }, resource: { resourceType: 'SearchParameter', url: `https://example.org/sp/${other}`, name: other, status: 'active', description: 'x', code: other, base: ['Patient'], type: 'string', expression: 'Patient.name.family' } },
        { request: { method: 'PUT', url: 'Patient/does-not-fit' }, resource: { resourceType: 'Patient', id: 'another-id' } },
      ],
    });
    assert.equal(res.status >= 400, true, `the transaction must fail: ${res.status}`);
    const q = await server.get(`Patient?${other}=x`);
    assert.equal(q.status, 400, `${other} must be unknown after the rollback: ${q.text.slice(0, 300)}`);
    const meta = await ok(await server.get('metadata'));
    const patient = meta.rest[0].resource.find((r) => r.type === 'Patient');
    assert.ok(!patient.searchParam.some((p) => p.name === other));
  });
});
