// Hostile and malformed input. After every case: the error status and OperationOutcome are as
// expected, nothing was written (resource counts unchanged) and the server is still healthy.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertOperationOutcome, assertStatus, rawHttp, startServer } from './server.mjs';

const MiB = 1024 * 1024;
let server;

before(async () => {
  server = await startServer();
  await server.create({ resourceType: 'Patient', gender: 'male' });
  await server.create({ resourceType: 'Observation', status: 'final', code: { text: 'seed' } });
});

after(async () => {
  await server?.cleanup();
});

async function counts() {
  return { Patient: await server.count('Patient'), Observation: await server.count('Observation') };
}

function rawPost(p, body, headers = {}) {
  return rawHttp(server.url(p), {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json', ...headers },
    body,
  });
}

async function* hugeBody(totalBytes) {
  const head = Buffer.from('{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\\"http://www.w3.org/1999/xhtml\\">');
  const tail = Buffer.from('</div>"}}');
  const chunk = Buffer.alloc(MiB, 'a');
  yield head;
  let sent = head.length;
  while (sent + tail.length < totalBytes) {
    const n = Math.min(chunk.length, totalBytes - tail.length - sent);
    yield n === chunk.length ? chunk : chunk.subarray(0, n);
    sent += n;
  }
  yield tail;
}

/** Run one bad request; check status, OperationOutcome, counts and health. */
async function expectRejected(name, send, allowed, { oo = true } = {}) {
  const before = await counts();
  const res = await send();
  assertStatus(res, allowed, name);
  if (oo) assertOperationOutcome(res, name);
  await server.assertHealthy(`after ${name}`);
  assert.deepEqual(await counts(), before, `${name}: resource counts changed`);
  return res;
}

describe('malformed JSON', () => {
  test('truncated JSON → 400', () => expectRejected('truncated', () => server.post('Patient', '{"resourceType":"Patient","gender":'), 400));
  test('trailing garbage → 400', () => expectRejected('trailing', () => server.post('Patient', '{"resourceType":"Patient"} x'), 400));
  test('comments in JSON → 400', () => expectRejected('comment', () => server.post('Patient', '{"resourceType":"Patient" /* hi */}'), 400));
  test('single quotes → 400', () => expectRejected('single quotes', () => server.post('Patient', "{'resourceType':'Patient'}"), 400));
  test('empty body → 400', () => expectRejected('empty body', () => server.post('Patient', ''), 400));
  test('JSON array instead of object → 400', () => expectRejected('array', () => server.post('Patient', '[]'), [400, 422]));
  test('JSON null → 400', () => expectRejected('null', () => server.post('Patient', 'null'), [400, 422]));
  test('raw control character inside a string → 400', () =>
    expectRejected('control char', () => server.post('Patient', '{"resourceType":"Patient","gender":"ma\u0001le"}'), 400));
  test('invalid UTF-8 → 400', () =>
    expectRejected(
      'invalid utf-8',
      () =>
        server.post(
          'Patient',
          Buffer.concat([Buffer.from('{"resourceType":"Patient","name":[{"family":"'), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from('"}]}')]),
        ),
      400,
    ));
  test('overlong UTF-8 encoding of "/" → 400', () =>
    expectRejected(
      'overlong utf-8',
      () =>
        server.post(
          'Patient',
          Buffer.concat([Buffer.from('{"resourceType":"Patient","name":[{"family":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}]}')]),
        ),
      400,
    ));
  test('duplicate key → 400/422', () =>
    expectRejected('duplicate key', () => server.post('Patient', '{"resourceType":"Patient","gender":"male","gender":"female"}'), [400, 422]));
  test('duplicate resourceType key → 400/422', () =>
    expectRejected('duplicate resourceType', () => server.post('Patient', '{"resourceType":"Patient","resourceType":"Observation"}'), [400, 422]));
});

describe('nesting bombs', () => {
  test('100,000 nested arrays → 400/422', () =>
    expectRejected(
      'array bomb',
      () => server.post('Patient', `{"resourceType":"Patient","extension":${'['.repeat(100000)}${']'.repeat(100000)}}`),
      [400, 422],
    ));
  test('100,000 nested objects → 400/422', () =>
    expectRejected(
      'object bomb',
      () => server.post('Patient', `{"resourceType":"Patient","x":${'{"a":'.repeat(100000)}1${'}'.repeat(100000)}}`),
      [400, 422],
    ));
  test('100,000 unclosed arrays → 400', () =>
    expectRejected('unclosed bomb', () => server.post('Patient', `{"resourceType":"Patient","extension":${'['.repeat(100000)}`), [400, 422]));
});

describe('huge bodies', () => {
  test('100 MB streamed chunked body → 413, server still healthy', async () => {
    const res = await expectRejected('100 MB chunked', () => rawPost('Patient', hugeBody(100 * MiB)), 413);
    assert.equal(res.status, 413);
  });
  test('100 MB body with Content-Length → 413, server still healthy', async () => {
    const res = await expectRejected('100 MB content-length', () => rawPost('Patient', hugeBody(100 * MiB), { 'content-length': String(100 * MiB) }), 413);
    assert.equal(res.status, 413);
  });
  test('Content-Length larger than the limit with no body sent yet → 413', async () => {
    // Send only the headers: the server must answer from the declared length, without waiting.
    await expectRejected(
      'declared 1 GiB',
      () =>
        rawPost(
          'Patient',
          (async function* () {
            yield Buffer.from('{');
            await new Promise((r) => setTimeout(r, 10000).unref()); // the server must answer before this
          })(),
          { 'content-length': String(1024 * MiB) },
        ),
      413,
    );
  });
  test('17 MiB body (just over the 16 MiB default) → 413', () => expectRejected('17 MiB', () => rawPost('Patient', hugeBody(17 * MiB)), 413));
});

describe('wrong content type', () => {
  test('text/plain → 415', () =>
    expectRejected('text/plain', () => server.post('Patient', '{"resourceType":"Patient"}', { headers: { 'content-type': 'text/plain' } }), 415));
  test('application/x-www-form-urlencoded on create → 415', () =>
    expectRejected(
      'form',
      () => server.post('Patient', 'resourceType=Patient', { headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
      [400, 415],
    ));
  test('application/json-patch+json on create → 415/400', () =>
    expectRejected(
      'json-patch on POST',
      () => server.post('Patient', '[{"op":"add","path":"/gender","value":"male"}]', { headers: { 'content-type': 'application/json-patch+json' } }),
      [400, 415],
    ));
  test('PATCH with application/fhir+json JSON Patch array → 415/400', async () => {
    const p = await server.create({ resourceType: 'Patient', gender: 'male' });
    await expectRejected(
      'patch wrong ct',
      () => server.request('PATCH', `Patient/${p.id}`, { headers: { 'content-type': 'text/plain' }, body: '[{"op":"replace","path":"/gender","value":"female"}]' }),
      [400, 415],
    );
    assert.equal((await server.get(`Patient/${p.id}`)).json.gender, 'male');
  });
});

describe('unknown type, bad id, method, mismatch', () => {
  test('POST unknown resource type → 404/400', () => expectRejected('unknown type', () => server.post('Foo', '{"resourceType":"Foo"}'), [400, 404]));
  test('GET /Patient/bad_id! → 400', () => expectRejected('bad id read', () => server.get('Patient/bad_id!'), 400));
  test('PUT /Patient/bad_id! → 400', () =>
    expectRejected('bad id update', () => server.put('Patient/bad_id!', { resourceType: 'Patient', id: 'bad_id!' }), 400));
  test('PUT with a 65-character id → 400', () => {
    const id = 'a'.repeat(65);
    return expectRejected('long id', () => server.put(`Patient/${id}`, { resourceType: 'Patient', id }), 400);
  });
  test('TRACE → 405', () =>
    expectRejected(
      'TRACE',
      () => rawHttp(server.url('Patient'), { method: 'TRACE' }),
      [405, 501],
    ));
  test('DELETE /metadata → 405', () => expectRejected('DELETE /metadata', () => server.request('DELETE', 'metadata'), 405));
  test('PATCH on a type → 405/400', () =>
    expectRejected(
      'PATCH type',
      () => server.request('PATCH', 'Patient', { headers: { 'content-type': 'application/json-patch+json' }, body: '[]' }),
      [400, 405],
    ));
  test('POST /Patient with an Observation body → 400', () =>
    expectRejected('type mismatch create', () => server.post('Patient', { resourceType: 'Observation', status: 'final', code: { text: 'x' } }), 400));
  test('PUT /Patient/x with an Observation body → 400', () =>
    expectRejected('type mismatch update', () => server.put('Patient/mismatch-1', { resourceType: 'Observation', id: 'mismatch-1', status: 'final', code: { text: 'x' } }), 400));
  test('POST to an instance URL → 405/400', async () => {
    const p = await server.create({ resourceType: 'Patient' });
    await expectRejected('POST instance', () => server.post(`Patient/${p.id}`, { resourceType: 'Patient' }), [400, 405]);
  });
});

describe('hostile URLs and headers', () => {
  test('invalid percent-encoding in the query → 400', () => expectRejected('bad %', () => server.get('Patient?name=%ZZ'), 400));
  test('100 KB URL → 414/400/431', () =>
    expectRejected(
      'long URL',
      () => rawHttp(server.url(`Patient?name=${'a'.repeat(100 * 1024)}`)),
      [400, 414, 431],
      { oo: false },
    ));
  test('100 KB header → 431/400', () =>
    expectRejected(
      'huge header',
      () => rawHttp(server.url('Patient'), { headers: { 'x-junk': 'b'.repeat(100 * 1024) } }),
      [400, 413, 431],
      { oo: false },
    ));
  test('path traversal does not escape /fhir', () => expectRejected('traversal', () => server.get('Patient/..%2F..%2Fetc%2Fpasswd'), [400, 404]));
});

describe('still serving after all of the above', () => {
  test('normal create and read work', async () => {
    const p = await server.create({ resourceType: 'Patient', gender: 'female' });
    const r = await server.get(`Patient/${p.id}`);
    assert.equal(r.status, 200);
    assert.equal(r.json.gender, 'female');
  });
});
