// Advanced search through the real fhir-kit-client: chaining, _has, _include/_revinclude
// (:iterate), :identifier, :of-type, uri :above/:below, keyset paging while data changes,
// _total, system search with _type, compartment search, Patient/$everything; each with its
// failure cases (400 naming the parameter, lenient handling reported in the Bundle).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertOperationOutcome, assertStatus, startServer } from './server.mjs';

const SYS = 'urn:carechart-test:mrn';
const LOINC = 'http://loinc.org';
const V2 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
const TAGS = 'urn:carechart-test:tags';

let server;
let client;
const R = {}; // key -> "Type/id"
const key = {}; // "Type/id" -> key

async function make(k, resource) {
  const created = await server.create(resource);
  R[k] = `${resource.resourceType}/${created.id}`;
  key[R[k]] = k;
  return created.id;
}
const id = (k) => R[k].split('/')[1];

// Keys of a Bundle's entries by search mode.
function keysOf(bundle, mode = 'match') {
  return (bundle.entry ?? [])
    .filter((e) => e.search?.mode === mode)
    .map((e) => key[`${e.resource.resourceType}/${e.resource.id}`] ?? `?${e.resource.resourceType}/${e.resource.id}`)
    .sort();
}

async function search(resourceType, searchParams, options) {
  return client.search({ resourceType, searchParams, options });
}

async function expectKeys(resourceType, searchParams, expected, { included } = {}) {
  const b = await search(resourceType, searchParams);
  assert.equal(b.resourceType, 'Bundle');
  const what = `${resourceType}?${new URLSearchParams(searchParams)}`;
  assert.deepEqual(keysOf(b), [...expected].sort(), `${what}: matches`);
  assert.equal(b.total, expected.length, `${what}: total counts matches only`);
  if (included) assert.deepEqual(keysOf(b, 'include'), [...included].sort(), `${what}: includes`);
  return b;
}

// A client error's response, asserting status and an OperationOutcome naming `mention`.
async function expectError(fn, status, mention) {
  let err;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err?.response, `expected HTTP ${status}, got success or ${err}`);
  assert.equal(err.response.status, status, JSON.stringify(err.response.data));
  const oo = err.response.data;
  assert.equal(oo?.resourceType, 'OperationOutcome');
  const text = JSON.stringify(oo);
  if (mention) assert.ok(text.includes(mention), `OperationOutcome should name '${mention}': ${text}`);
  return oo;
}

before(async () => {
  server = await startServer();
  client = server.client();
  await make('org1', { resourceType: 'Organization', name: 'Acme Clinic' });
  await make('loc1', { resourceType: 'Location', name: 'Ward 7' });
  await make('med1', { resourceType: 'Medication', code: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '1049502' }] } });
  await make('pr1', { resourceType: 'Practitioner', name: [{ family: 'House', given: ['Gregory'] }] });
  await make('pr2', { resourceType: 'Practitioner', name: [{ family: 'Wilson' }] });
  await make('A', {
    resourceType: 'Patient',
    meta: { tag: [{ system: TAGS, code: 'vip' }] },
    identifier: [{ type: { coding: [{ system: V2, code: 'MR' }] }, system: SYS, value: 'A1' }],
    name: [{ family: 'Chalmers', given: ['Peter'] }],
    gender: 'male',
    birthDate: '1974-12-25',
    generalPractitioner: [{ reference: R.pr1 }],
    managingOrganization: { reference: R.org1 },
  });
  await make('B', {
    resourceType: 'Patient',
    identifier: [{ system: SYS, value: 'B2' }],
    name: [{ family: 'Baker' }],
    gender: 'female',
    generalPractitioner: [{ reference: R.pr2 }],
  });
  await make('C', { resourceType: 'Patient', identifier: [{ system: SYS, value: 'C3' }], name: [{ family: 'Carter' }] });
  const obs = (k, body) => make(k, { resourceType: 'Observation', status: 'final', ...body });
  const code = (c) => ({ coding: [{ system: LOINC, code: c }] });
  await obs('oA1', { meta: { tag: [{ system: TAGS, code: 'vip' }] }, code: code('4548-4'), subject: { reference: R.A }, performer: [{ reference: R.pr1 }], effectiveDateTime: '2021-03-01' });
  await obs('oA2', { code: code('2345-7'), subject: { reference: R.A }, effectiveDateTime: '2022-05-05' });
  await obs('oB1', { code: code('4548-4'), subject: { reference: R.B }, performer: [{ reference: R.pr2 }], effectiveDateTime: '2020-01-01' });
  await obs('oC1', { code: code('8867-4'), subject: { identifier: { system: SYS, value: 'C3' } } });
  await make('eA', {
    resourceType: 'Encounter',
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    subject: { reference: R.A },
    participant: [{ individual: { reference: R.pr1 } }],
    serviceProvider: { reference: R.org1 },
    location: [{ location: { reference: R.loc1 } }],
  });
  await make('mA', {
    resourceType: 'MedicationRequest',
    status: 'active',
    intent: 'order',
    medicationReference: { reference: R.med1 },
    subject: { reference: R.A },
  });
  await make('vs1', { resourceType: 'ValueSet', status: 'active', url: 'http://example.org/fhir/ValueSet/vs1' });
  await make('vs2', { resourceType: 'ValueSet', status: 'active', url: 'http://example.org/fhir/ValueSet/vs1/sub' });
  await make('vs3', { resourceType: 'ValueSet', status: 'active', url: 'http://other.org/ValueSet/x' });
});

after(async () => {
  await server?.cleanup();
});

describe('chained parameters', () => {
  test('subject:Patient.name, subject.name (targets resolved), two levels', async () => {
    await expectKeys('Observation', { 'subject:Patient.name': 'chalmers' }, ['oA1', 'oA2']);
    await expectKeys('Observation', { 'subject.name': 'baker' }, ['oB1']);
    await expectKeys('Observation', { 'subject.birthdate': 'lt1980' }, ['oA1', 'oA2']);
    await expectKeys('Observation', { 'subject:Patient.general-practitioner:Practitioner.name': 'house' }, ['oA1', 'oA2']);
    await expectKeys('Observation', { 'subject:Patient.organization.name': 'acme' }, ['oA1', 'oA2']);
    await expectKeys('Observation', { 'subject:Patient.name': 'chalmers', code: `${LOINC}|2345-7` }, ['oA2']);
    await expectKeys('Encounter', { 'service-provider.name': 'nobody' }, []);
  });
  test('POST _search with a chain', async () => {
    const b = await search('Observation', { 'subject:Patient.name': 'baker' }, { postSearch: true });
    assert.deepEqual(keysOf(b), ['oB1']);
  });
  test('unknown chain target, unknown type, non-reference → 400 naming it', async () => {
    await expectError(() => search('Observation', { 'subject.nonexistent': 'x' }), 400, 'nonexistent');
    await expectError(() => search('Observation', { 'subject:Frob.name': 'x' }), 400, 'Frob');
    await expectError(() => search('Observation', { 'subject:Medication.code': 'x' }), 400, 'Medication');
    await expectError(() => search('Observation', { 'code.name': 'x' }), 400, 'code');
  });
  test('lenient handling: ignored, reported in an outcome entry and left out of the self link', async () => {
    const b = await search('Observation', { 'subject.nonexistent': 'x', code: '4548-4' }, { headers: { Prefer: 'handling=lenient' } });
    assert.deepEqual(keysOf(b), ['oA1', 'oB1']);
    const outcome = b.entry.find((e) => e.search?.mode === 'outcome');
    assert.ok(outcome && JSON.stringify(outcome.resource).includes('subject.nonexistent'), JSON.stringify(b.entry));
    const self = b.link.find((l) => l.relation === 'self').url;
    assert.ok(!self.includes('nonexistent') && self.includes('code=4548-4'), self);
  });
});

describe('reverse chaining (_has)', () => {
  test('_has, nested _has, _has with a chain', async () => {
    await expectKeys('Patient', { '_has:Observation:patient:code': '4548-4' }, ['A', 'B']);
    await expectKeys('Patient', { '_has:Observation:patient:code': '2345-7' }, ['A']);
    await expectKeys('Patient', { '_has:Observation:patient:code': '2345-7', gender: 'female' }, []);
    await expectKeys('Practitioner', { '_has:Patient:general-practitioner:_has:Observation:patient:code': '2345-7' }, ['pr1']);
    await expectKeys('Patient', { '_has:Observation:patient:performer:Practitioner.name': 'wilson' }, ['B']);
    await expectKeys('Patient', { '_has:Encounter:subject:service-provider': R.org1 }, ['A']);
  });
  test('malformed _has → 400 naming the part', async () => {
    await expectError(() => search('Patient', { '_has:Observation:code:code': 'x' }), 400, 'code');
    await expectError(() => search('Patient', { '_has:Observation': 'x' }), 400, '_has');
    await expectError(() => search('Patient', { '_has:Frob:patient:code': 'x' }), 400, 'Frob');
    await expectError(() => search('Organization', { '_has:Observation:patient:code': 'x' }), 400, 'Organization');
  });
});

describe('_include and _revinclude', () => {
  test('_include Type:param, with a target, and *', async () => {
    await expectKeys('Observation', { code: '4548-4', _include: 'Observation:subject' }, ['oA1', 'oB1'], { included: ['A', 'B'] });
    await expectKeys('Observation', { code: '4548-4', _include: 'Observation:subject:Group' }, ['oA1', 'oB1'], { included: [] });
    await expectKeys('Observation', { _id: id('oA1'), _include: '*' }, ['oA1'], { included: ['A', 'pr1'] });
  });
  test('_revinclude and :iterate', async () => {
    await expectKeys('Patient', { _id: id('A'), _revinclude: 'Observation:subject' }, ['A'], { included: ['oA1', 'oA2'] });
    await expectKeys('Observation', { _id: id('oA1'), _include: 'Observation:subject', '_include:iterate': 'Patient:general-practitioner' }, ['oA1'], {
      included: ['A', 'pr1'],
    });
    await expectKeys('Practitioner', { _id: id('pr1'), _revinclude: 'Patient:general-practitioner', '_revinclude:iterate': 'Observation:subject' }, ['pr1'], {
      included: ['A', 'oA1', 'oA2'],
    });
  });
  test('bad includes → 400 naming them', async () => {
    await expectError(() => search('Observation', { _include: 'Observation:code' }), 400, 'Observation:code');
    await expectError(() => search('Observation', { _include: 'Patient:organization' }), 400, '_include');
    await expectError(() => search('Patient', { _revinclude: '*' }), 400, '_revinclude');
  });
});

describe('modifiers', () => {
  test(':identifier on a reference', async () => {
    await expectKeys('Observation', { 'subject:identifier': `${SYS}|C3` }, ['oC1']);
    await expectKeys('Observation', { 'subject:identifier': `${SYS}|A1` }, []);
  });
  test(':of-type on identifier', async () => {
    await expectKeys('Patient', { 'identifier:of-type': `${V2}|MR|A1` }, ['A']);
    await expectKeys('Patient', { 'identifier:of-type': `${V2}|MR|B2` }, []);
    await expectError(() => search('Patient', { 'identifier:of-type': 'MR|A1' }), 400, 'identifier:of-type');
  });
  test('uri :below and :above', async () => {
    await expectKeys('ValueSet', { 'url:below': 'http://example.org/fhir/ValueSet' }, ['vs1', 'vs2']);
    await expectKeys('ValueSet', { 'url:above': 'http://example.org/fhir/ValueSet/vs1/sub/deeper' }, ['vs1', 'vs2']);
    await expectKeys('ValueSet', { 'url:above': 'http://example.org/fhir/ValueSet/vs1' }, ['vs1']);
    await expectKeys('ValueSet', { url: 'http://example.org/fhir/ValueSet/vs1' }, ['vs1']);
  });
  test('terminology modifiers need stored terminology; composites need all components', async () => {
    // Full coverage of both lives in search-composite.test.mjs.
    await expectError(() => search('Observation', { 'code:in': 'http://example.org/vs' }), 400, 'no ValueSet with url');
    await expectError(() => search('Observation', { 'code:below': `${LOINC}|4548-4` }), 400, 'no code hierarchy');
    await expectError(() => search('Observation', { 'code-value-quantity': `${LOINC}|4548-4` }), 400, 'code-value-quantity');
  });
});

describe('paging and _total', () => {
  test('keyset next links stay correct while data changes', async () => {
    const first = await search('Patient', { _sort: 'family', _count: 1 });
    assert.deepEqual(keysOf(first), ['B']);
    const next = first.link.find((l) => l.relation === 'next').url;
    assert.match(next, /_page=/);
    assert.doesNotMatch(next, /_offset=/);
    // A patient sorting before every page already served appears meanwhile.
    await make('Z', { resourceType: 'Patient', name: [{ family: 'Aaronson' }] });
    const seen = keysOf(first);
    for (let page = await client.nextPage({ bundle: first }); page; page = await client.nextPage({ bundle: page })) {
      seen.push(...keysOf(page));
      assert.ok(seen.length < 10);
    }
    assert.deepEqual(seen, ['B', 'C', 'A']);
    const all = await search('Patient', { _sort: 'family' });
    assert.deepEqual(all.entry.map((e) => key[`Patient/${e.resource.id}`]), ['Z', 'B', 'C', 'A']);
  });
  test('descending multi-key sort pages', async () => {
    const ids = [];
    let page = await search('Observation', { _sort: '-date,_id', _count: 2 });
    for (; page; page = await client.nextPage({ bundle: page })) ids.push(...page.entry.filter((e) => e.search.mode === 'match').map((e) => key[`Observation/${e.resource.id}`]));
    assert.deepEqual(ids, ['oA2', 'oA1', 'oB1', 'oC1']);
  });
  test('a tampered _page or one of another _sort → 400', async () => {
    await expectError(() => search('Patient', { _page: 'not-a-token' }), 400, '_page');
    const first = await search('Patient', { _sort: 'family', _count: 1 });
    const token = new URL(first.link.find((l) => l.relation === 'next').url).searchParams.get('_page');
    await expectError(() => search('Patient', { _sort: '-family', _page: token }), 400, '_page');
  });
  test('_total none, estimate, accurate', async () => {
    assert.equal((await search('Observation', { _total: 'none' })).total, undefined);
    assert.equal((await search('Observation', { _total: 'estimate' })).total, 4);
    assert.equal((await search('Observation', { _total: 'accurate' })).total, 4);
    await expectError(() => search('Observation', { _total: 'all' }), 400, '_total');
  });
});

describe('system search', () => {
  test('_type with _tag, _id and _lastUpdated', async () => {
    let b = await client.systemSearch({ searchParams: { _type: 'Patient,Observation', _tag: `${TAGS}|vip` } });
    assert.deepEqual(keysOf(b), ['A', 'oA1']);
    b = await client.systemSearch({ searchParams: { _tag: `${TAGS}|vip` } });
    assert.deepEqual(keysOf(b), ['A', 'oA1']);
    b = await client.systemSearch({ searchParams: { _type: 'Patient', _tag: `${TAGS}|vip` } });
    assert.deepEqual(keysOf(b), ['A']);
    b = await client.systemSearch({ searchParams: { _id: `${id('A')},${id('oB1')}` } });
    assert.deepEqual(keysOf(b), ['A', 'oB1']);
    b = await client.systemSearch({ searchParams: { _type: 'Observation,Encounter', patient: R.A } });
    assert.deepEqual(keysOf(b), ['eA', 'oA1', 'oA2']);
  });
  test('a parameter not common to every _type → 400 naming it', async () => {
    await expectError(() => client.systemSearch({ searchParams: { _type: 'Patient,Observation', gender: 'male' } }), 400, 'gender');
    await expectError(() => client.systemSearch({ searchParams: { _type: 'Frob' } }), 400, 'Frob');
  });
});

describe('compartment search', () => {
  test('Patient/{id}/Observation with parameters, Patient/{id}/*', async () => {
    const comp = { resourceType: 'Patient', id: id('A') };
    let b = await client.compartmentSearch({ resourceType: 'Observation', compartment: comp });
    assert.deepEqual(keysOf(b), ['oA1', 'oA2']);
    b = await client.compartmentSearch({ resourceType: 'Observation', compartment: comp, searchParams: { code: '4548-4' } });
    assert.deepEqual(keysOf(b), ['oA1']);
    b = await client.compartmentSearch({ resourceType: 'Observation', compartment: comp, searchParams: { code: '4548-4' }, options: { postSearch: true } });
    assert.deepEqual(keysOf(b), ['oA1']);
    b = await client.compartmentSearch({ resourceType: 'Encounter', compartment: { resourceType: 'Patient', id: id('B') } });
    assert.deepEqual(keysOf(b), []);
    const all = await server.get(`Patient/${id('A')}/*`);
    assert.equal(all.status, 200, all.text);
    assert.deepEqual(keysOf(all.json), ['A', 'eA', 'mA', 'oA1', 'oA2']);
    const some = await server.get(`Patient/${id('A')}/*?_type=Observation,Encounter&_count=2`);
    assert.deepEqual(keysOf(some.json), ['oA1', 'oA2']);  // key order: the oldest first
    assert.equal(some.json.total, 3);
  });
  test('unknown patient → 404; type outside the compartment → 400; bad parameter → 400', async () => {
    const missing = await server.get('Patient/nobody/Observation');
    assertStatus(missing, 404);
    assertOperationOutcome(missing);
    const outside = await server.get(`Patient/${id('A')}/Practitioner`);
    assertStatus(outside, 400);
    assert.ok(outside.text.includes('Practitioner'));
    await expectError(() => client.compartmentSearch({ resourceType: 'Observation', compartment: { resourceType: 'Patient', id: id('A') }, searchParams: { nope: '1' } }), 400, 'nope');
  });
});

describe('Patient/$everything', () => {
  test('the patient, its compartment and the resources they refer to', async () => {
    const b = await client.operation({ name: 'everything', resourceType: 'Patient', id: id('A'), method: 'get' });
    assert.equal(b.type, 'searchset');
    assert.deepEqual(keysOf(b), ['A', 'eA', 'mA', 'oA1', 'oA2']);
    assert.deepEqual(keysOf(b, 'include'), ['loc1', 'med1', 'org1', 'pr1']);
    assert.equal(b.total, 5);
  });
  test('_type, _since and _count paging', async () => {
    let b = await client.operation({ name: 'everything', resourceType: 'Patient', id: id('A'), method: 'get', input: { _type: 'Observation' } });
    assert.deepEqual(keysOf(b), ['oA1', 'oA2']);
    assert.deepEqual(keysOf(b, 'include'), ['pr1']);
    b = await client.operation({ name: 'everything', resourceType: 'Patient', id: id('A'), method: 'get', input: { _since: '2100-01-01T00:00:00Z' } });
    assert.deepEqual(keysOf(b), []);
    const seen = [];
    let pages = 0;
    for (let p = await client.operation({ name: 'everything', resourceType: 'Patient', id: id('A'), method: 'get', input: { _count: 2 } }); p; p = await client.nextPage({ bundle: p })) {
      seen.push(...keysOf(p));
      pages++;
    }
    assert.equal(pages, 3);
    assert.deepEqual(seen.sort(), ['A', 'eA', 'mA', 'oA1', 'oA2']);
  });
  test('errors: unknown patient 404, unknown parameter 400 (or ignored when lenient), bad _since', async () => {
    await expectError(() => client.operation({ name: 'everything', resourceType: 'Patient', id: 'nobody', method: 'get' }), 404);
    await expectError(() => client.operation({ name: 'everything', resourceType: 'Patient', id: id('A'), method: 'get', input: { code: 'x' } }), 400, 'code');
    await expectError(() => client.operation({ name: 'everything', resourceType: 'Patient', id: id('A'), method: 'get', input: { _since: 'yesterday' } }), 400, '_since');
    const b = await client.operation({ name: 'everything', resourceType: 'Patient', id: id('B'), method: 'get', input: { code: 'x' }, options: { headers: { Prefer: 'handling=lenient' } } });
    assert.deepEqual(keysOf(b), ['B', 'oB1']);
    assert.ok(b.entry.some((e) => e.search?.mode === 'outcome'));
  });
});

describe('CapabilityStatement', () => {
  test('searchInclude, searchRevInclude, everything, compartment', async () => {
    const cs = await client.capabilityStatement();
    const patient = cs.rest[0].resource.find((r) => r.type === 'Patient');
    assert.ok(patient.searchInclude.includes('Patient:general-practitioner'));
    assert.ok(patient.searchRevInclude.includes('Observation:subject'));
    assert.ok(patient.operation.some((o) => o.name === 'everything'));
    assert.ok(cs.rest[0].compartment.includes('http://hl7.org/fhir/CompartmentDefinition/patient'));
  });
});
