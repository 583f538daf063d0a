// ValueSet/$expand, ValueSet/$validate-code and CodeSystem/$lookup over stored terminology
// (src/rest/terminology_ops.cc): type and instance level, GET and POST, filter/count/offset,
// concept lists, whole CodeSystems, hierarchy and property filters, imports and excludes, and
// precise OperationOutcomes for bad input.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertOperationOutcome, startServer } from './server.mjs';

let server;
const SYS = 'http://example.org/fhir/CodeSystem/drugs';
const VS = 'http://example.org/fhir/ValueSet/';

before(async () => {
  server = await startServer();
  const cs = {
    resourceType: 'CodeSystem', id: 'drugs', url: SYS, name: 'Drugs', status: 'active', content: 'complete',
    property: [{ code: 'tty', type: 'code' }],
    concept: [
      { code: 'abx', display: 'Antibiotics', concept: [
        { code: 'pen', display: 'Penicillins', concept: [
          { code: 'amox500', display: 'Amoxicillin 500 mg tablet', property: [{ code: 'tty', valueCode: 'SCD' }] },
          { code: 'amoxclav', display: 'Amoxicillin / clavulanate 875 mg tablet', property: [{ code: 'tty', valueCode: 'SCD' }] },
        ] },
        { code: 'doxy', display: 'Doxycycline 100 mg tablet', property: [{ code: 'tty', valueCode: 'SCD' }] },
      ] },
      { code: 'metformin', display: 'Metformin', property: [{ code: 'tty', valueCode: 'IN' }] },
    ],
  };
  const sets = [
    { id: 'all-drugs', compose: { include: [{ system: SYS }] } },
    { id: 'penicillins', compose: { include: [{ system: SYS, filter: [{ property: 'concept', op: 'is-a', value: 'pen' }] }] } },
    { id: 'clinical-drugs', compose: { include: [{ system: SYS, filter: [{ property: 'tty', op: '=', value: 'SCD' }] }], exclude: [{ system: SYS, concept: [{ code: 'doxy' }] }] } },
    { id: 'listed', compose: { include: [{ system: SYS, concept: [{ code: 'metformin' }, { code: 'doxy', display: 'Doxy (local name)' }] }] } },
    { id: 'imports', compose: { include: [{ valueSet: [`${VS}all-drugs`, `${VS}clinical-drugs`] }] } },
    { id: 'unknown-system', compose: { include: [{ system: 'http://example.org/not-stored' }] } },
  ];
  assert.equal((await server.put('CodeSystem/drugs', cs)).status, 201);
  for (const s of sets) {
    const res = await server.put(`ValueSet/${s.id}`, { resourceType: 'ValueSet', url: VS + s.id, status: 'active', ...s });
    assert.equal(res.status, 201, res.text);
  }
});
after(() => server?.stop());

const codes = (vs) => (vs.expansion.contains ?? []).map((c) => c.code);

test('$expand at type level by url lists every concept with its display', async () => {
  const res = await server.get(`ValueSet/$expand?url=${encodeURIComponent(`${VS}all-drugs`)}`);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.resourceType, 'ValueSet');
  assert.equal(res.json.expansion.total, 6);
  assert.deepEqual(codes(res.json), ['abx', 'pen', 'amox500', 'amoxclav', 'doxy', 'metformin']);
  assert.equal(res.json.expansion.contains[2].display, 'Amoxicillin 500 mg tablet');
  assert.equal(res.json.expansion.contains[2].system, SYS);
});

test('$expand at instance level, with filter on display and code, count and offset', async () => {
  let res = await server.get('ValueSet/all-drugs/$expand?filter=amox');
  assert.deepEqual(codes(res.json), ['amox500', 'amoxclav']);
  res = await server.get('ValueSet/all-drugs/$expand?filter=AMOX%20clav&displayLanguage=es');
  assert.equal(res.status, 200, 'displayLanguage is ignored without an error');
  assert.deepEqual(codes(res.json), ['amoxclav']);
  res = await server.get('ValueSet/all-drugs/$expand?filter=metf');
  assert.deepEqual(codes(res.json), ['metformin'], 'the code matches too');
  res = await server.get('ValueSet/all-drugs/$expand?count=2&offset=1');
  assert.equal(res.json.expansion.total, 6);
  assert.equal(res.json.expansion.offset, 1);
  assert.deepEqual(codes(res.json), ['pen', 'amox500']);
});

test('$expand evaluates is-a and property filters, excludes, listed concepts and imports', async () => {
  assert.deepEqual(codes((await server.get('ValueSet/penicillins/$expand')).json), ['pen', 'amox500', 'amoxclav']);
  assert.deepEqual(codes((await server.get('ValueSet/clinical-drugs/$expand')).json), ['amox500', 'amoxclav']);
  const listed = (await server.get('ValueSet/listed/$expand')).json.expansion.contains;
  assert.deepEqual(listed.map((c) => [c.code, c.display]), [['metformin', 'Metformin'], ['doxy', 'Doxy (local name)']]);
  assert.deepEqual(codes((await server.get('ValueSet/imports/$expand')).json), ['amox500', 'amoxclav'], 'imported ValueSets intersect');
});

test('$expand by POST with a Parameters body, also with the ValueSet inline', async () => {
  let res = await server.post('ValueSet/$expand', {
    resourceType: 'Parameters',
    parameter: [{ name: 'url', valueUri: `${VS}all-drugs` }, { name: 'filter', valueString: 'doxy' }, { name: 'count', valueInteger: 5 }],
  });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(codes(res.json), ['doxy']);
  res = await server.post('ValueSet/$expand', {
    resourceType: 'Parameters',
    parameter: [{ name: 'valueSet', resource: { resourceType: 'ValueSet', status: 'active', compose: { include: [{ system: SYS, concept: [{ code: 'pen' }] }] } } }],
  });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json.expansion.contains, [{ system: SYS, code: 'pen', display: 'Penicillins' }]);
});

test('$expand errors are OperationOutcomes naming the parameter', async () => {
  let res = await server.get('ValueSet/$expand');
  assert.equal(res.status, 400);
  assertOperationOutcome(res);
  assert.match(res.text, /url/);
  res = await server.get(`ValueSet/$expand?url=${encodeURIComponent(`${VS}nope`)}`);
  assert.equal(res.status, 404);
  assert.match(res.text, /no ValueSet with url/);
  res = await server.get('ValueSet/all-drugs/$expand?count=-3');
  assert.equal(res.status, 400);
  assert.match(res.text, /count/);
  res = await server.get('ValueSet/unknown-system/$expand');
  assert.equal(res.status, 501);
  assert.match(res.text, /not stored on this server/);
  res = await server.get('ValueSet/missing-id/$expand');
  assert.equal(res.status, 404);
  res = await server.post('ValueSet/$expand', { resourceType: 'Patient' });
  assert.equal(res.status, 400);
  assert.match(res.text, /Parameters/);
});

test('CodeSystem/$lookup gives the display and properties; unknown codes are 404', async () => {
  let res = await server.get(`CodeSystem/$lookup?system=${encodeURIComponent(SYS)}&code=amox500`);
  assert.equal(res.status, 200, res.text);
  const p = Object.fromEntries(res.json.parameter.filter((x) => x.name !== 'property').map((x) => [x.name, x.valueString]));
  assert.equal(p.display, 'Amoxicillin 500 mg tablet');
  assert.equal(p.name, 'Drugs');
  const prop = res.json.parameter.find((x) => x.name === 'property');
  assert.deepEqual(prop.part, [{ name: 'code', valueCode: 'tty' }, { name: 'value', valueCode: 'SCD' }]);
  res = await server.get('CodeSystem/drugs/$lookup?code=zzz');
  assert.equal(res.status, 404);
  assert.match(res.text, /zzz/);
  res = await server.get('CodeSystem/$lookup?code=amox500');
  assert.equal(res.status, 400);
  assert.match(res.text, /system/);
});

test('ValueSet/$validate-code says whether a code is in the ValueSet', async () => {
  let res = await server.get(`ValueSet/$validate-code?url=${encodeURIComponent(`${VS}penicillins`)}&system=${encodeURIComponent(SYS)}&code=amoxclav`);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.parameter.find((x) => x.name === 'result').valueBoolean, true);
  res = await server.get('ValueSet/penicillins/$validate-code?code=doxy');
  assert.equal(res.json.parameter.find((x) => x.name === 'result').valueBoolean, false);
  assert.match(res.json.parameter.find((x) => x.name === 'message').valueString, /not in the ValueSet/);
});

test('the CapabilityStatement lists $expand, $validate-code and $lookup', async () => {
  const cs = (await server.get('metadata')).json;
  const ops = (type) => cs.rest[0].resource.find((r) => r.type === type)?.operation?.map((o) => o.name) ?? [];
  for (const name of ['expand', 'validate-code']) assert.ok(ops('ValueSet').includes(name), `ValueSet ${name}: ${ops('ValueSet')}`);
  assert.ok(ops('CodeSystem').includes('lookup'), `CodeSystem lookup: ${ops('CodeSystem')}`);
});
