// CapabilityStatement, /healthz, content negotiation (_format, Accept, _pretty), method and
// resource-type errors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FHIR_JSON_CT, assertOperationOutcome, assertStatus, rawHttp, startServer } from './server.mjs';

let server;
let client;
let patient;

before(async () => {
  server = await startServer();
  client = server.client();
  patient = await server.create({ resourceType: 'Patient', gender: 'female', name: [{ family: 'Metadata' }] });
});

after(async () => {
  await server?.cleanup();
});

describe('GET /metadata', () => {
  test('returns an R4 CapabilityStatement via fhir-kit-client', async () => {
    const cs = await client.capabilityStatement();
    assert.equal(cs.resourceType, 'CapabilityStatement');
    assert.equal(cs.fhirVersion, '4.0.1', 'fhirVersion must be 4.0.1');
    assert.ok(['instance', 'capability'].includes(cs.kind), `kind=${cs.kind}`);
    assert.ok(cs.status, 'CapabilityStatement.status is required');
    assert.ok(cs.date, 'CapabilityStatement.date is required');
    assert.ok(Array.isArray(cs.format) && cs.format.some((f) => /json/.test(f)), `format must list json: ${JSON.stringify(cs.format)}`);
    const rest = cs.rest?.find((r) => r.mode === 'server');
    assert.ok(rest, 'rest[mode=server] missing');
    const byType = Object.fromEntries((rest.resource || []).map((r) => [r.type, r]));
    for (const type of ['Patient', 'Encounter', 'Observation', 'Condition']) {
      assert.ok(byType[type], `CapabilityStatement does not list ${type}`);
      const codes = (byType[type].interaction || []).map((i) => i.code);
      for (const code of ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'history-type', 'create', 'search-type']) {
        assert.ok(codes.includes(code), `${type} must declare interaction ${code}; has ${codes.join(',')}`);
      }
    }
    const pParams = (byType.Patient.searchParam || []).map((p) => p.name);
    for (const name of ['name', 'family', 'gender', 'birthdate', 'identifier']) {
      assert.ok(pParams.includes(name), `Patient searchParam ${name} not declared; has ${pParams.join(',')}`);
    }
  });

  test('has FHIR JSON Content-Type', async () => {
    const res = await server.get('metadata');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', FHIR_JSON_CT);
  });

  test('DELETE /metadata → 405 with OperationOutcome', async () => {
    const res = await server.request('DELETE', 'metadata');
    assertStatus(res, 405);
    assertOperationOutcome(res);
  });

  test('POST /metadata → 405 with OperationOutcome', async () => {
    const res = await server.post('metadata', { resourceType: 'Patient' });
    assertStatus(res, 405);
    assertOperationOutcome(res);
  });
});

describe('/healthz', () => {
  test('returns 200', async () => {
    const res = await server.get('/healthz');
    assert.equal(res.status, 200, res.text);
  });
  test('unknown file outside /fhir → 404; other paths are the web app\'s routes (its page)', async () => {
    const res = await server.get('/no-such-file-here.js');
    assert.equal(res.status, 404, res.text);
    const route = await server.get('/no-such-path-here');
    assert.equal(route.status, 200, route.text);
    assert.match(route.headers.get('content-type') ?? '', /^text\/html/);
  });
});

describe('content negotiation', () => {
  test('_format=json → 200 FHIR JSON', async () => {
    const res = await server.get(`Patient/${patient.id}?_format=json`);
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type') ?? '', FHIR_JSON_CT);
    assert.equal(res.json.id, patient.id);
  });

  test('_format=application/fhir+json → 200', async () => {
    const res = await server.get(`Patient/${patient.id}?_format=${encodeURIComponent('application/fhir+json')}`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.id, patient.id);
  });

  test('Accept: */* → 200 FHIR JSON', async () => {
    const res = await server.get(`Patient/${patient.id}`, { headers: { accept: '*/*' } });
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type') ?? '', FHIR_JSON_CT);
  });

  test('_format=xml → 415 or 406 with a JSON OperationOutcome', async () => {
    const res = await server.get(`Patient/${patient.id}?_format=xml`);
    assertStatus(res, [406, 415]);
    assertOperationOutcome(res);
  });

  test('Accept: application/fhir+xml only → 406 or 415 with a JSON OperationOutcome', async () => {
    const res = await server.get(`Patient/${patient.id}`, { headers: { accept: 'application/fhir+xml' } });
    assertStatus(res, [406, 415]);
    assertOperationOutcome(res);
  });

  test('POST with Content-Type application/fhir+xml → 415, nothing written', async () => {
    const before = await server.count('Patient');
    const res = await server.post('Patient', '<Patient xmlns="http://hl7.org/fhir"/>', {
      headers: { 'content-type': 'application/fhir+xml' },
    });
    assertStatus(res, 415);
    assertOperationOutcome(res);
    assert.equal(await server.count('Patient'), before, 'a rejected XML POST must not create anything');
  });

  test('_pretty=true indents; the content is the same as the compact form', async () => {
    const pretty = await server.get(`Patient/${patient.id}?_pretty=true`);
    const compact = await server.get(`Patient/${patient.id}?_pretty=false`);
    assert.equal(pretty.status, 200);
    assert.equal(compact.status, 200);
    assert.match(pretty.text, /\n\s+"/, `_pretty=true must indent; got ${pretty.text.slice(0, 120)}`);
    assert.doesNotMatch(compact.text.trim(), /\n/, '_pretty=false must not indent');
    assert.deepEqual(pretty.json, compact.json);
  });
});

describe('method and type errors', () => {
  test('TRACE /fhir/Patient → 405 (or 501) with OperationOutcome', async () => {
    const res = await rawHttp(server.url('Patient'), { method: 'TRACE' });
    assertStatus(res, [405, 501]);
    assertOperationOutcome(res);
  });

  test('PUT on a type without id → 400/405 with OperationOutcome', async () => {
    // A PUT /Patient without search parameters is neither update nor conditional update.
    const res = await server.put('Patient', { resourceType: 'Patient' });
    assertStatus(res, [400, 405, 412]);
    assertOperationOutcome(res);
  });

  test('DELETE on the whole type without criteria is refused', async () => {
    const before = await server.count('Patient');
    const res = await server.request('DELETE', 'Patient');
    assertStatus(res, [400, 405, 412]);
    assertOperationOutcome(res);
    assert.equal(await server.count('Patient'), before);
  });

  test('unknown resource type: read → 404/400 with OperationOutcome', async () => {
    const res = await server.get('Foo/1');
    assertStatus(res, [400, 404]);
    assertOperationOutcome(res);
  });

  test('unknown resource type via fhir-kit-client search → error carrying OperationOutcome', async () => {
    await assert.rejects(
      () => client.search({ resourceType: 'NotAType', searchParams: { _id: 'x' } }),
      (err) => {
        assert.ok([400, 404].includes(err.response?.status), `status ${err.response?.status}`);
        assert.equal(err.response.data?.resourceType, 'OperationOutcome');
        return true;
      },
    );
  });

  test('lowercase resource type is not accepted as a type', async () => {
    const res = await server.get(`patient/${patient.id}`);
    assertStatus(res, [400, 404]);
    assertOperationOutcome(res);
  });
});

describe('HEAD', () => {
  // RFC 9110 §9.3.2: the headers of the GET answer, its Content-Length included, and no body.
  for (const path of ['metadata', 'PATIENT_READ']) {
    test(`HEAD ${path === 'PATIENT_READ' ? 'Patient/{id}' : path} → GET's status, ETag and length, no body`, async () => {
      const url = server.url(path === 'PATIENT_READ' ? `Patient/${patient.id}` : path);
      const get = await rawHttp(url);
      const head = await rawHttp(url, { method: 'HEAD' });
      assert.equal(get.status, 200);
      assert.equal(head.status, 200);
      assert.ok(Number(get.headers.get('content-length')) > 0, 'GET has a body');
      assert.equal(head.headers.get('content-length'), get.headers.get('content-length'));
      assert.equal(head.headers.get('etag'), get.headers.get('etag'));
      assert.equal(head.headers.get('content-type'), get.headers.get('content-type'));
      assert.equal(head.text, '', 'a HEAD answer carries no body');
    });
  }
});
