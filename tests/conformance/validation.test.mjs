// Validation errors on writes (OperationOutcome with the failing path) and $validate.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertOperationOutcome, assertStatus, issuesMentioning, startServer } from './server.mjs';

let server;
let client;

before(async () => {
  server = await startServer();
  client = server.client();
});

after(async () => {
  await server?.cleanup();
});

const INVALID = [
  { what: 'unknown element', body: { resourceType: 'Patient', favouriteColour: 'blue' }, path: 'Patient.favouriteColour' },
  { what: 'bad date', body: { resourceType: 'Patient', birthDate: '1999-13-45' }, path: 'Patient.birthDate' },
  { what: 'wrong primitive type', body: { resourceType: 'Patient', active: 'yes' }, path: 'Patient.active' },
  { what: 'string where array expected', body: { resourceType: 'Patient', name: { family: 'X' } }, path: 'Patient.name' },
  { what: 'nested wrong type', body: { resourceType: 'Patient', name: [{ family: 42 }] }, path: 'Patient.name[0].family' },
  { what: 'bad code', body: { resourceType: 'Patient', gender: 'sometimes' }, path: 'Patient.gender' },
  { what: 'empty array', body: { resourceType: 'Patient', name: [] }, path: 'Patient.name' },
  { what: 'empty string', body: { resourceType: 'Patient', gender: '' }, path: 'Patient.gender' },
  { what: 'null value', body: { resourceType: 'Patient', gender: null }, path: 'Patient.gender' },
  {
    what: 'missing required element',
    body: { resourceType: 'Observation', code: { text: 'x' } },
    path: 'Observation.status',
    // The HL7 Java validator reports a missing element at its parent ("Observation") with the
    // element named in the message; accept that convention too.
    parent: { path: 'Observation', element: 'status' },
  },
  {
    what: 'bad dateTime in Observation',
    body: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, effectiveDateTime: '2021-02-30T10:00:00Z' },
    path: 'Observation.effective',
  },
  {
    what: 'bad decimal',
    body: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueQuantity: { value: '12.5' } },
    path: 'Observation.value',
  },
  {
    what: 'two choice-type values',
    body: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueString: 'a', valueBoolean: true },
    path: 'Observation.value',
  },
  {
    what: 'bad contained id (65 chars)',
    body: { resourceType: 'Patient', contained: [{ resourceType: 'Organization', id: 'x'.repeat(65) }] },
    path: 'Patient.contained',
  },
  { what: 'missing resourceType', body: { gender: 'male' }, path: null },
];

describe('invalid resources are rejected with the failing path', () => {
  for (const c of INVALID) {
    test(`${c.what} → 400/422 naming ${c.path ?? '(resource)'}; nothing written`, async () => {
      const type = c.body.resourceType ?? 'Patient';
      const before = await server.count(type);
      const res = await server.post(type, c.body);
      assertStatus(res, [400, 422], c.what);
      const oo = assertOperationOutcome(res, c.what);
      assert.ok(oo.issue.some((i) => i.severity === 'error' || i.severity === 'fatal'), `${c.what}: no error-severity issue`);
      if (c.path) {
        const atParent = (i) =>
          c.parent &&
          [...(i.expression ?? []), ...(i.location ?? [])].includes(c.parent.path) &&
          `${i.diagnostics ?? ''} ${i.details?.text ?? ''}`.includes(c.parent.element);
        assert.ok(
          issuesMentioning(oo, c.path).length > 0 || oo.issue.some(atParent),
          `${c.what}: no issue.expression/location mentions ${c.path}: ${JSON.stringify(oo.issue)}`,
        );
      }
      assert.equal(await server.count(type), before, `${c.what}: a rejected create must not write`);
    });
  }

  test('several errors are all reported', async () => {
    const res = await server.post('Patient', { resourceType: 'Patient', birthDate: 'x', gender: 'y', bogus: 1 });
    assertStatus(res, [400, 422]);
    const oo = assertOperationOutcome(res);
    for (const p of ['Patient.birthDate', 'Patient.gender', 'Patient.bogus']) {
      assert.ok(issuesMentioning(oo, p).length > 0, `expected an issue for ${p}: ${JSON.stringify(oo.issue)}`);
    }
  });
});

describe('$validate', () => {
  test('valid resource → 200 OperationOutcome without errors, nothing stored', async () => {
    const before = await server.count('Patient');
    const res = await server.post('Patient/$validate', { resourceType: 'Patient', gender: 'female', birthDate: '1980-02-29' });
    assert.equal(res.status, 200, res.text);
    const oo = assertOperationOutcome(res);
    assert.ok(!oo.issue.some((i) => i.severity === 'error' || i.severity === 'fatal'), `unexpected errors: ${JSON.stringify(oo.issue)}`);
    assert.equal(await server.count('Patient'), before, '$validate must not store');
  });

  test('invalid resource → 200 OperationOutcome listing the error with its path, nothing stored', async () => {
    const before = await server.count('Patient');
    const res = await server.post('Patient/$validate', { resourceType: 'Patient', birthDate: '1999-13-45' });
    assert.equal(res.status, 200, res.text);
    const oo = assertOperationOutcome(res);
    const hits = issuesMentioning(oo, 'Patient.birthDate');
    assert.ok(hits.some((i) => i.severity === 'error'), `expected an error on Patient.birthDate: ${JSON.stringify(oo.issue)}`);
    assert.equal(await server.count('Patient'), before);
  });

  test('Parameters with a resource parameter, via fhir-kit-client operation()', async () => {
    const oo = await client.operation({
      name: '$validate',
      resourceType: 'Patient',
      input: {
        resourceType: 'Parameters',
        parameter: [{ name: 'resource', resource: { resourceType: 'Patient', gender: 'not-a-gender' } }],
      },
    });
    assert.equal(oo.resourceType, 'OperationOutcome');
    assert.ok(issuesMentioning(oo, 'Patient.gender').some((i) => i.severity === 'error'), JSON.stringify(oo.issue));
  });

  test('Parameters wrapping a valid resource → no errors', async () => {
    const oo = await client.operation({
      name: '$validate',
      resourceType: 'Observation',
      input: {
        resourceType: 'Parameters',
        parameter: [{ name: 'resource', resource: { resourceType: 'Observation', status: 'final', code: { text: 'ok' } } }],
      },
    });
    assert.equal(oo.resourceType, 'OperationOutcome');
    assert.ok(!oo.issue.some((i) => i.severity === 'error' || i.severity === 'fatal'), JSON.stringify(oo.issue));
  });

  test('invalid JSON → 400 OperationOutcome', async () => {
    const res = await server.post('Patient/$validate', '{"resourceType": "Patient",');
    assertStatus(res, 400);
    assertOperationOutcome(res);
  });

  test('resource type differing from the URL type is an error', async () => {
    const res = await server.post('Patient/$validate', { resourceType: 'Observation', status: 'final', code: { text: 'x' } });
    if (res.status === 200) {
      const oo = assertOperationOutcome(res);
      assert.ok(oo.issue.some((i) => i.severity === 'error' || i.severity === 'fatal'), `type mismatch must be reported: ${res.text}`);
    } else {
      assertStatus(res, [400, 422]);
      assertOperationOutcome(res);
    }
  });
});
