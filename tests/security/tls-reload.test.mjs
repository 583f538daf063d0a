// A renewed TLS certificate is served without a restart (decisions D67, docs/security.md): the
// certificate and key files are replaced and the server is sent SIGHUP. New connections get the
// new certificate; the connection opened before keeps working; a renewal whose key does not
// match is refused (the previous certificate stays, the error is logged, the server stays up).
// The same signal reloads the MLLP listener's --hl7-tls-cert/--hl7-tls-key (D80, docs/hl7v2.md).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import { copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, test } from 'node:test';

import { hl7Port, makeTempDir, provisionTestClient, removeTempDir, startServer } from '../conformance/server.mjs';
import { adt, Mllp, msa } from '../hl7/mllp_client.mjs';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
const skip = hasOpenssl ? false : 'openssl CLI not installed (Debian package openssl)';

let dir;
let server;
let served; // the files the server was started with: { cert, key }
let mllpServed; // the MLLP listener's: { cert, key }

// A self-signed certificate for 127.0.0.1 with its own key pair, named `name` (its CN).
function makeCertificate(name) {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  return { cert, key };
}

// Opens a TLS connection trusting any certificate; resolves { socket, cn, fingerprint }.
function connect() {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: server.port, rejectUnauthorized: false }, () => {
      const peer = socket.getPeerCertificate();
      resolve({ socket, cn: peer.subject.CN, fingerprint: peer.fingerprint256 });
    });
    socket.on('error', reject);
  });
}

// One HTTP/1.1 request on an open TLS socket (keep-alive); resolves the status code.
function statusOn(socket) {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (d) => {
      text += d;
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (m && text.includes('\r\n\r\n')) {
        socket.off('data', onData);
        resolve(Number(m[1]));
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write('GET /fhir/metadata HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
  });
}

function fingerprintOf(certFile) {
  return new crypto.X509Certificate(readFileSync(certFile)).fingerprint256;
}

// Replaces the served files (`to`, HTTPS's by default) with `from`'s (as certbot or an operator
// would) and sends SIGHUP.
async function renew(from, to = served) {
  copyFileSync(from.cert, to.cert);
  copyFileSync(from.key, to.key);
  process.kill(server.pid, 'SIGHUP');
}

// How many lines of the server's stderr match `pattern`.
function logCount(pattern) {
  return server.stderr().split('\n').filter((line) => pattern.test(line)).length;
}

// Waits until more than `seen` lines of the server's stderr match `pattern`.
async function waitForLog(pattern, timeoutMs = 5000, seen = 0) {
  for (let waited = 0; waited < timeoutMs; waited += 50) {
    if (logCount(pattern) > seen) return;
    await delay(50);
  }
  assert.fail(`no log line ${pattern} within ${timeoutMs} ms:\n${server.stderr()}`);
}

// Opens a TLS MLLP connection to the server trusting any certificate; resolves { mllp, cn }.
async function connectMllp() {
  const mllp = await Mllp.connect(await hl7Port(server), { tls: { rejectUnauthorized: false } });
  return { mllp, cn: mllp.sock.getPeerCertificate().subject.CN };
}

let visits = 0;
// Sends an ADT^A01 on `mllp`; resolves its MSA-1 (AA when applied).
async function admit(mllp) {
  visits += 1;
  return msa(await mllp.send(adt('RELOAD', `R${visits}`, `VR${visits}`, 'PRELOAD')));
}

before(async () => {
  if (!hasOpenssl) return;
  dir = makeTempDir('carechart-tls-reload-');
  const first = makeCertificate('first');
  served = { cert: path.join(dir, 'served.crt'), key: path.join(dir, 'served.key') };
  copyFileSync(first.cert, served.cert);
  copyFileSync(first.key, served.key);
  const firstMllp = makeCertificate('mllp-first');
  mllpServed = { cert: path.join(dir, 'mllp.crt'), key: path.join(dir, 'mllp.key') };
  copyFileSync(firstMllp.cert, mllpServed.cert);
  copyFileSync(firstMllp.key, mllpServed.key);
  const db = path.join(dir, 'carechart.db');
  provisionTestClient(db);
  server = await startServer({
    db,
    args: ['--facility', 'F1', '--tls-cert', served.cert, '--tls-key', served.key,
      '--hl7-port', '0', '--hl7-tls-cert', mllpServed.cert, '--hl7-tls-key', mllpServed.key],
    auth: false,
  });
});

after(async () => {
  await server?.cleanup();
  if (dir) removeTempDir(dir);
});

test('SIGHUP serves a renewed certificate to new connections; open ones go on', { skip }, async () => {
  const before = await connect();
  assert.equal(before.cn, 'first');
  assert.equal(before.fingerprint, fingerprintOf(served.cert));
  assert.equal(await statusOn(before.socket), 200);

  const second = makeCertificate('second');
  await renew(second);
  await waitForLog(/TLS certificate .*served\.crt reloaded \(valid until /);
  const after = await connect();
  assert.equal(after.cn, 'second', 'a new connection gets the renewed certificate');
  assert.equal(after.fingerprint, fingerprintOf(second.cert));
  assert.equal(await statusOn(after.socket), 200);
  assert.equal(await statusOn(before.socket), 200, 'the connection opened before the reload still works');
  before.socket.destroy();
  after.socket.destroy();
});

test('a renewal whose key does not match is refused: the previous certificate stays served', { skip }, async () => {
  const current = await connect();
  current.socket.destroy();
  const third = makeCertificate('third');
  const other = makeCertificate('other');
  await renew({ cert: third.cert, key: other.key });
  await waitForLog(/TLS certificate not reloaded, the previous one is still served: .*(does not match|mismatch)/);
  const still = await connect();
  assert.equal(still.cn, current.cn, 'the certificate served before the bad renewal');
  assert.equal(await statusOn(still.socket), 200);
  still.socket.destroy();
  assert.equal(server.child.exitCode, null, 'the server is still running');
});

test('SIGHUP reloads the MLLP listener\'s certificate too; an open MLLP connection goes on', { skip }, async () => {
  const before = await connectMllp();
  assert.equal(before.cn, 'mllp-first');
  assert.equal(await admit(before.mllp), 'AA');

  const reloaded = /hl7: SIGHUP: TLS certificate .*mllp\.crt reloaded \(valid until /;
  const seen = logCount(reloaded); // the HTTPS tests' signals reloaded it unchanged
  const second = makeCertificate('mllp-second');
  await renew(second, mllpServed);
  await waitForLog(reloaded, 5000, seen);
  const after = await connectMllp();
  assert.equal(after.cn, 'mllp-second', 'a new MLLP connection gets the renewed certificate');
  assert.equal(await admit(after.mllp), 'AA');
  assert.equal(await admit(before.mllp), 'AA', 'the MLLP connection opened before the reload still works');
  before.mllp.close();
  after.mllp.close();

  const third = makeCertificate('mllp-third');
  const other = makeCertificate('mllp-other');
  await renew({ cert: third.cert, key: other.key }, mllpServed);
  await waitForLog(/hl7: SIGHUP: TLS certificate not reloaded, the previous one is still served: .*(does not match|mismatch)/);
  const still = await connectMllp();
  assert.equal(still.cn, 'mllp-second', 'the MLLP certificate served before the bad renewal');
  assert.equal(await admit(still.mllp), 'AA');
  still.mllp.close();
  assert.equal(server.child.exitCode, null, 'the server is still running');
});
