// Large request bodies (decisions D105): a body with a Content-Length of 64 KiB or more is read
// straight into the request. A multi-megabyte transaction is stored completely, also twice on one
// keep-alive connection and when its bytes arrive in slow pieces; bodies just below and at the
// 64 KiB threshold work; a body over --max-body-bytes gets 413 with an OperationOutcome and
// nothing is written; a connection closed before the declared Content-Length was sent writes
// nothing and leaves the server healthy.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';

import { assertOperationOutcome, rawHttp, startServer } from './server.mjs';

const KiB = 1024;
const MiB = 1024 * KiB;
const LIMIT = 8 * MiB;
let server;

before(async () => {
  server = await startServer({ args: ['--max-body-bytes', String(LIMIT)] });
});

after(async () => {
  await server?.cleanup();
});

// A transaction Bundle of `count` Patient PUTs with ids `${prefix}-${i}`, each carrying a note of
// `noteBytes` characters, padded with spaces to exactly `totalBytes` when given.
function transaction(prefix, count, { noteBytes = 0, totalBytes } = {}) {
  const note = 'n'.repeat(noteBytes);
  const entries = [];
  for (let i = 0; i < count; i++) {
    const id = `${prefix}-${i}`;
    const resource = { resourceType: 'Patient', id, name: [{ family: `Family${i}`, given: [note || 'x'] }] };
    entries.push(JSON.stringify({ fullUrl: `Patient/${id}`, resource, request: { method: 'PUT', url: `Patient/${id}` } }));
  }
  let text = `{"resourceType":"Bundle","type":"transaction","entry":[${entries.join(',')}]}`;
  if (totalBytes !== undefined) {
    assert.ok(Buffer.byteLength(text) <= totalBytes, `the Bundle is already larger than ${totalBytes} bytes`);
    text += ' '.repeat(totalBytes - Buffer.byteLength(text));
  }
  return text;
}

async function patientCount() {
  return server.count('Patient');
}

function post(body) {
  return server.post('', body, { headers: { prefer: 'return=minimal' } });
}

test('a 3 MB transaction Bundle is stored completely, twice on one connection', async () => {
  const before = await patientCount();
  const body = transaction('big', 3000, { noteBytes: 900 });
  assert.ok(body.length > 3 * MiB, `body of ${body.length} bytes`);
  const first = await post(body);
  assert.equal(first.status, 200, first.text.slice(0, 500));
  assert.equal(first.json.entry.length, 3000);
  assert.equal(await patientCount(), before + 3000);
  // The last resource of the body came through byte for byte.
  const last = await server.get('Patient/big-2999');
  assert.equal(last.status, 200);
  assert.equal(last.json.name[0].family, 'Family2999');
  assert.equal(last.json.name[0].given[0], 'n'.repeat(900));
  // The same Bundle again (keep-alive: fetch reuses the connection): every entry an update.
  const second = await post(body);
  assert.equal(second.status, 200, second.text.slice(0, 500));
  assert.ok(second.json.entry.every((e) => e.response.status.startsWith('200')), 'all updated');
  assert.equal(await patientCount(), before + 3000);
});

test('bodies just under, at and over the 64 KiB threshold all work', async () => {
  const before = await patientCount();
  for (const [prefix, total] of [['under', 64 * KiB - 1], ['at', 64 * KiB], ['over', 64 * KiB + 1]]) {
    const res = await post(transaction(prefix, 20, { noteBytes: 100, totalBytes: total }));
    assert.equal(res.status, 200, `${total} bytes: ${res.text.slice(0, 300)}`);
  }
  assert.equal(await patientCount(), before + 60);
});

test('a body sent in slow pieces is read completely', async () => {
  const before = await patientCount();
  const bytes = Buffer.from(transaction('slow', 300, { noteBytes: 1000 }));
  async function* pieces() {
    for (let at = 0; at < bytes.length; at += 50 * KiB) {
      yield bytes.subarray(at, Math.min(bytes.length, at + 50 * KiB));
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const res = await rawHttp(server.url(''), {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json', 'content-length': String(bytes.length), prefer: 'return=minimal' },
    body: pieces(),
  });
  assert.equal(res.status, 200, res.text.slice(0, 300));
  assert.equal(await patientCount(), before + 300);
});

test('a body over --max-body-bytes gets 413 with an OperationOutcome and nothing is written', async () => {
  const before = await patientCount();
  const body = transaction('toolarge', 9000, { noteBytes: 900 });
  assert.ok(body.length > LIMIT, `body of ${body.length} bytes`);
  const res = await rawHttp(server.url(''), { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body });
  assert.equal(res.status, 413, res.text.slice(0, 300));
  assertOperationOutcome(res, 'body over the limit');
  assert.match(res.text, /larger than the limit of 8388608 bytes/);
  await server.assertHealthy('after the 413');
  assert.equal(await patientCount(), before);
});

// Sends the header of a request declaring `declared` bytes, then `sent` (fewer), then closes.
function postAndHangUp(declared, sent, { halfClose }) {
  return new Promise((resolve, reject) => {
    const u = new URL(server.url(''));
    const socket = net.connect({ host: u.hostname, port: Number(u.port) }, () => {
      socket.write(
        `POST ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nAuthorization: Bearer ${server.token}\r\n` +
          `Content-Type: application/fhir+json\r\nContent-Length: ${declared}\r\n\r\n`,
      );
      socket.write(sent, () => {
        setTimeout(() => (halfClose ? socket.end() : socket.destroy()), 100);
      });
    });
    let answer = '';
    socket.on('data', (d) => (answer += d));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

test('a connection closed before the declared Content-Length was sent writes nothing', async () => {
  const before = await patientCount();
  const body = Buffer.from(transaction('cut', 1000, { noteBytes: 500 }));
  // Everything but the last byte (the Bundle's closing brace), then a half-close; then half the
  // body and a reset.
  const answer = await postAndHangUp(body.length, body.subarray(0, body.length - 1), { halfClose: true });
  assert.doesNotMatch(answer, /^HTTP\/1\.1 200/, 'no transaction ran');
  await postAndHangUp(body.length, body.subarray(0, body.length >> 1), { halfClose: false });
  await server.assertHealthy('after the cut bodies');
  assert.equal(await patientCount(), before);
  const whole = await post(body.toString());
  assert.equal(whole.status, 200, whole.text.slice(0, 300));
  assert.equal(await patientCount(), before + 1000);
});
