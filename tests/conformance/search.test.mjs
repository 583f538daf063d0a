// search: _id, _lastUpdated, identifier and the R4 token/string/date/reference parameters of
// Patient, Encounter, Observation, Condition; searchset Bundles with total, self/next links,
// _count paging, _sort, _summary=count; failure cases.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { allPages, assertOperationOutcome, assertStatus, startServer } from './server.mjs';

const SYS = 'urn:carechart-test:mrn';
const LOINC = 'http://loinc.org';
const SCT = 'http://snomed.info/sct';

let server;
let client;
const P = {}; // name -> id
const O = {};
const C = {};
const E = {};
let tSeedStart;

async function searchIds(query, { expectStatus = 200 } = {}) {
  const res = await server.get(query);
  assert.equal(res.status, expectStatus, `GET ${query}: expected ${expectStatus}, got ${res.status}: ${res.text.slice(0, 400)}`);
  const b = res.json;
  assert.equal(b.resourceType, 'Bundle', `GET ${query}: not a Bundle`);
  assert.equal(b.type, 'searchset', `GET ${query}: Bundle.type must be searchset`);
  return { ids: (b.entry ?? []).map((e) => e.resource.id), bundle: b, res };
}

function names(map, ids) {
  const rev = Object.fromEntries(Object.entries(map).map(([k, v]) => [v, k]));
  return ids.map((id) => rev[id] ?? `?${id}`);
}

async function expectMatch(query, map, expected, { ordered = false } = {}) {
  const { ids, bundle } = await searchIds(query);
  const got = names(map, ids);
  if (ordered) assert.deepEqual(got, expected, `GET ${query}: wrong order/result`);
  else assert.deepEqual([...got].sort(), [...expected].sort(), `GET ${query}: wrong result set`);
  assert.equal(bundle.total, expected.length, `GET ${query}: Bundle.total`);
  return bundle;
}

before(async () => {
  server = await startServer();
  client = server.client();
  tSeedStart = new Date(Date.now() - 1000).toISOString();
  const pat = async (key, body) => {
    P[key] = (await server.create({ resourceType: 'Patient', ...body })).id;
  };
  await pat('A', {
    identifier: [{ system: SYS, value: 'A1' }, { system: 'urn:other', value: 'X9' }],
    name: [{ family: 'Chalmers', given: ['Peter', 'James'] }],
    gender: 'male',
    birthDate: '1974-12-25',
  });
  await pat('B', { identifier: [{ system: SYS, value: 'B2' }], name: [{ family: 'Chalmerson', given: ['Anna'] }], gender: 'female', birthDate: '1990-01-01' });
  await pat('C', { identifier: [{ system: SYS, value: 'C3' }], name: [{ family: 'Windsor', given: ['Peter'] }], gender: 'male', birthDate: '2001-06-15' });
  await pat('D', { identifier: [{ system: SYS, value: 'D4' }], name: [{ family: 'Müller', given: ['Zoë'] }], gender: 'female', birthDate: '1985-03-03' });
  await pat('E', { identifier: [{ system: SYS, value: 'E5' }], name: [{ family: 'Smith' }], gender: 'unknown', birthDate: '1960' });

  const obs = async (key, subject, code, when, value) => {
    O[key] = (
      await server.create({
        resourceType: 'Observation',
        status: 'final',
        code: { coding: [{ system: LOINC, code }] },
        subject: { reference: `Patient/${P[subject]}` },
        effectiveDateTime: when,
        valueQuantity: { value, unit: '%', system: 'http://unitsofmeasure.org', code: '%' },
      })
    ).id;
  };
  await obs('o1', 'A', '4548-4', '2021-03-01T10:00:00Z', 6.3);
  await obs('o2', 'A', '4548-4', '2019-01-01T10:00:00Z', 7.1);
  await obs('o3', 'A', '2345-7', '2022-05-05T10:00:00Z', 5.5);
  await obs('o4', 'B', '4548-4', '2021-06-06T10:00:00Z', 5.9);

  const cond = async (key, subject, code, status) => {
    C[key] = (
      await server.create({
        resourceType: 'Condition',
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: status }] },
        code: { coding: [{ system: SCT, code }] },
        subject: { reference: `Patient/${P[subject]}` },
      })
    ).id;
  };
  await cond('c1', 'A', '44054006', 'active');
  await cond('c2', 'B', '38341003', 'resolved');

  const enc = async (key, subject, status, period) => {
    E[key] = (
      await server.create({
        resourceType: 'Encounter',
        status,
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        subject: { reference: `Patient/${P[subject]}` },
        period,
      })
    ).id;
  };
  await enc('e1', 'A', 'finished', { start: '2020-05-01T10:00:00Z', end: '2020-05-01T11:00:00Z' });
  await enc('e2', 'A', 'finished', { start: '2022-07-01T09:00:00Z', end: '2022-07-03T09:00:00Z' });
  await enc('e3', 'B', 'in-progress', { start: '2021-01-10T08:00:00Z' });
});

after(async () => {
  await server?.cleanup();
});

describe('searchset Bundle shape', () => {
  test('total, self link, fullUrl and search.mode', async () => {
    const { bundle } = await searchIds('Patient');
    assert.equal(bundle.total, 5);
    const self = bundle.link?.find((l) => l.relation === 'self');
    assert.ok(self?.url?.includes('/fhir/Patient'), `self link: ${JSON.stringify(bundle.link)}`);
    for (const e of bundle.entry) {
      assert.match(e.fullUrl ?? '', new RegExp(`/fhir/Patient/${e.resource.id}$`), `fullUrl ${e.fullUrl}`);
      assert.equal(e.search?.mode, 'match');
    }
  });

  test('_count=2 paging: next links reach every match exactly once', async () => {
    const { entries, pages } = await allPages(server, 'Patient?_count=2');
    assert.equal(pages.length, 3, `5 matches at _count=2 → 3 pages, got ${pages.length}`);
    assert.equal(pages[0].entry.length, 2);
    assert.ok(pages[0].link.some((l) => l.relation === 'next'), 'first page needs a next link');
    assert.ok(!pages[2].link.some((l) => l.relation === 'next'), 'last page must not have a next link');
    const ids = entries.map((e) => e.resource.id);
    assert.equal(new Set(ids).size, 5);
    assert.deepEqual([...ids].sort(), Object.values(P).sort());
    for (const p of pages) assert.equal(p.total, 5, 'total on every page');
  });

  test('fhir-kit-client search + nextPage', async () => {
    const first = await client.search({ resourceType: 'Patient', searchParams: { _count: 3 } });
    assert.equal(first.type, 'searchset');
    assert.equal(first.entry.length, 3);
    const second = await client.nextPage({ bundle: first });
    assert.equal(second.entry.length, 2);
    assert.equal(await client.nextPage({ bundle: second }), undefined);
  });

  test('_count=0 → total only', async () => {
    const { bundle } = await searchIds('Patient?_count=0');
    assert.equal((bundle.entry ?? []).length, 0);
    assert.equal(bundle.total, 5);
  });

  test('_summary=count → total only', async () => {
    const { bundle } = await searchIds('Patient?gender=male&_summary=count');
    assert.equal((bundle.entry ?? []).length, 0);
    assert.equal(bundle.total, 2);
  });

  test('no match → 200 empty searchset with total 0', async () => {
    const { bundle } = await searchIds(`Patient?identifier=${SYS}|nobody`);
    assert.equal(bundle.total, 0);
    assert.equal((bundle.entry ?? []).length, 0);
  });
});

describe('Patient parameters', () => {
  test('_id (single and list)', async () => {
    await expectMatch(`Patient?_id=${P.A}`, P, ['A']);
    await expectMatch(`Patient?_id=${P.A},${P.C}`, P, ['A', 'C']);
    await expectMatch('Patient?_id=no-such-id', P, []);
  });

  test('_lastUpdated', async () => {
    await expectMatch(`Patient?_lastUpdated=ge${encodeURIComponent(tSeedStart)}`, P, ['A', 'B', 'C', 'D', 'E']);
    await expectMatch('Patient?_lastUpdated=lt2000-01-01', P, []);
  });

  test('identifier: system|value, value only, other system', async () => {
    await expectMatch(`Patient?identifier=${encodeURIComponent(`${SYS}|A1`)}`, P, ['A']);
    await expectMatch('Patient?identifier=B2', P, ['B']);
    await expectMatch(`Patient?identifier=${encodeURIComponent('urn:other|X9')}`, P, ['A']);
    await expectMatch(`Patient?identifier=${encodeURIComponent(`${SYS}|X9`)}`, P, []);
    await expectMatch(`Patient?identifier=${encodeURIComponent(`${SYS}|`)}`, P, ['A', 'B', 'C', 'D', 'E']);
  });

  test('name (starts-with, case- and accent-insensitive)', async () => {
    await expectMatch('Patient?name=chalm', P, ['A', 'B']);
    await expectMatch('Patient?name=PETER', P, ['A', 'C']);
    await expectMatch('Patient?name=muller', P, ['D']);
    await expectMatch(`Patient?name=${encodeURIComponent('Müller')}`, P, ['D']);
    await expectMatch('Patient?name=eter', P, []);
  });

  test('family, :exact and :contains', async () => {
    await expectMatch('Patient?family=chalmers', P, ['A', 'B']);
    await expectMatch('Patient?family:exact=Chalmers', P, ['A']);
    await expectMatch('Patient?family:exact=chalmers', P, []);
    await expectMatch('Patient?family:contains=alme', P, ['A', 'B']);
    await expectMatch('Patient?given=anna', P, ['B']);
  });

  test('gender (token), :not, comma = OR', async () => {
    await expectMatch('Patient?gender=female', P, ['B', 'D']);
    await expectMatch('Patient?gender=male,unknown', P, ['A', 'C', 'E']);
    await expectMatch('Patient?gender:not=male', P, ['B', 'D', 'E']);
    await expectMatch('Patient?gender=not-a-gender', P, []);
  });

  test('birthdate: eq, prefixes, partial dates, ranges (AND)', async () => {
    await expectMatch('Patient?birthdate=1974-12-25', P, ['A']);
    await expectMatch('Patient?birthdate=1960', P, ['E']);
    await expectMatch('Patient?birthdate=ge1985-01-01', P, ['B', 'C', 'D']);
    await expectMatch('Patient?birthdate=lt1975', P, ['A', 'E']);
    await expectMatch('Patient?birthdate=ge1980&birthdate=lt1995', P, ['B', 'D']);
    await expectMatch('Patient?birthdate=gt2001-06-15', P, []);
    await expectMatch('Patient?birthdate=le2001-06-15&birthdate=ge2001-06-15', P, ['C']);
  });

  test('parameters combine with AND', async () => {
    await expectMatch('Patient?name=peter&gender=male', P, ['A', 'C']);
    await expectMatch('Patient?name=peter&birthdate=ge2000', P, ['C']);
    await expectMatch('Patient?name=peter&gender=female', P, []);
  });

  test('_sort by birthdate ascending and descending, by family', async () => {
    await expectMatch('Patient?_sort=birthdate', P, ['E', 'A', 'D', 'B', 'C'], { ordered: true });
    await expectMatch('Patient?_sort=-birthdate', P, ['C', 'B', 'D', 'A', 'E'], { ordered: true });
    await expectMatch('Patient?_sort=family', P, ['A', 'B', 'D', 'E', 'C'], { ordered: true });
  });

  test('_sort keeps its order across pages', async () => {
    const { entries } = await allPages(server, 'Patient?_sort=birthdate&_count=2');
    assert.deepEqual(names(P, entries.map((e) => e.resource.id)), ['E', 'A', 'D', 'B', 'C']);
  });
});

describe('Observation parameters', () => {
  test('subject + code (system|code) + date=ge', async () => {
    await expectMatch(`Observation?subject=Patient/${P.A}&code=${encodeURIComponent(`${LOINC}|4548-4`)}&date=ge2020`, O, ['o1']);
  });
  test('subject reference forms', async () => {
    await expectMatch(`Observation?subject=Patient/${P.A}`, O, ['o1', 'o2', 'o3']);
    await expectMatch(`Observation?patient=${P.A}`, O, ['o1', 'o2', 'o3']);
    await expectMatch(`Observation?patient=Patient/${P.B}`, O, ['o4']);
    await expectMatch('Observation?subject=Patient/nobody', O, []);
  });
  test('code without system, with wrong system', async () => {
    await expectMatch('Observation?code=4548-4', O, ['o1', 'o2', 'o4']);
    await expectMatch(`Observation?code=${encodeURIComponent('http://example.org|4548-4')}`, O, []);
  });
  test('date prefixes and precision', async () => {
    await expectMatch(`Observation?code=${encodeURIComponent(`${LOINC}|4548-4`)}&date=lt2020`, O, ['o2']);
    await expectMatch('Observation?date=2021', O, ['o1', 'o4']);
    await expectMatch('Observation?date=2021-03-01', O, ['o1']);
    await expectMatch(`Observation?date=ge${encodeURIComponent('2022-05-05T10:00:00Z')}`, O, ['o3']);
  });
  test('_sort=-date', async () => {
    await expectMatch(`Observation?patient=${P.A}&_sort=-date`, O, ['o3', 'o1', 'o2'], { ordered: true });
  });
});

describe('Condition parameters', () => {
  test('patient and subject', async () => {
    await expectMatch(`Condition?patient=${P.A}`, C, ['c1']);
    await expectMatch(`Condition?patient=Patient/${P.B}`, C, ['c2']);
    await expectMatch(`Condition?subject=Patient/${P.A}`, C, ['c1']);
  });
  test('code and clinical-status tokens', async () => {
    await expectMatch(`Condition?code=${encodeURIComponent(`${SCT}|44054006`)}`, C, ['c1']);
    await expectMatch('Condition?clinical-status=active', C, ['c1']);
    await expectMatch('Condition?clinical-status=resolved', C, ['c2']);
  });
});

describe('Encounter parameters', () => {
  test('date against period', async () => {
    await expectMatch('Encounter?date=ge2021', E, ['e2', 'e3']);
    await expectMatch('Encounter?date=2020-05-01', E, ['e1']);
    await expectMatch('Encounter?date=lt2021', E, ['e1']);
  });
  test('patient, status, combined', async () => {
    await expectMatch(`Encounter?patient=${P.A}`, E, ['e1', 'e2']);
    await expectMatch('Encounter?status=finished', E, ['e1', 'e2']);
    await expectMatch(`Encounter?patient=${P.A}&date=ge2022`, E, ['e2']);
    await expectMatch(`Encounter?subject=Patient/${P.A}&_sort=-date`, E, ['e2', 'e1'], { ordered: true });
  });
});

describe('search errors', () => {
  test('malformed date value → 400', async () => {
    const res = await server.get('Patient?birthdate=notadate');
    assertStatus(res, 400);
    assertOperationOutcome(res);
  });
  test('unknown date prefix → 400', async () => {
    const res = await server.get('Observation?date=xx2020');
    assertStatus(res, 400);
    assertOperationOutcome(res);
  });
  test('unknown parameter with Prefer: handling=strict → 400', async () => {
    const res = await server.get('Patient?not-a-param=1', { headers: { prefer: 'handling=strict' } });
    assertStatus(res, 400);
    assertOperationOutcome(res);
  });
  test('unknown parameter with Prefer: handling=lenient → ignored (all 5)', async () => {
    const res = await server.get('Patient?not-a-param=1', { headers: { prefer: 'handling=lenient' } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.total, 5);
  });
  test('unknown modifier → 400', async () => {
    const res = await server.get('Patient?name:frobnicate=x');
    assertStatus(res, 400);
    assertOperationOutcome(res);
  });
  test('_sort on an unknown parameter → 400', async () => {
    const res = await server.get('Patient?_sort=not-a-param');
    assertStatus(res, 400);
    assertOperationOutcome(res);
  });
  test('bad _count → 400', async () => {
    const res = await server.get('Patient?_count=abc');
    assertStatus(res, 400);
    assertOperationOutcome(res);
  });
  test('search on an unknown type → 404/400', async () => {
    const res = await server.get('Frobnicator?name=x');
    assertStatus(res, [400, 404]);
    assertOperationOutcome(res);
  });
  test('fhir-kit-client search error surfaces OperationOutcome', async () => {
    await assert.rejects(
      () => client.search({ resourceType: 'Patient', searchParams: { birthdate: 'ge-what' } }),
      (err) => err.response?.status === 400 && err.response.data?.resourceType === 'OperationOutcome',
    );
  });
});
