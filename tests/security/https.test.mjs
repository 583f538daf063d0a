// HTTPS in the server itself: `carechart serve --tls-cert --tls-key` with a self-signed
// certificate made by `openssl` here. TLS 1.2 and 1.3 work; TLS 1.1 and non-forward-secret or
// CBC suites are refused; plain HTTP sent to the HTTPS port is answered 400 and served nothing;
// HSTS and Secure cookies are on; the SMART discovery and CapabilityStatement name https URLs;
// bad certificate options stop the server with a precise message.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, test } from 'node:test';

import { binaryPath, makeTempDir, provisionTestClient, removeTempDir, runCli, startServer } from '../conformance/server.mjs';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
const skip = hasOpenssl ? false : 'openssl CLI not installed (Debian package openssl)';

let dir;
let server;
let ca; // the self-signed certificate, trusted by this test's client only
let token;
let cert;
let key;

function makeCertificate(name) {
  const c = path.join(dir, `${name}.crt`);
  const k = path.join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', k, '-out', c,
    '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  return { cert: c, key: k };
}

// One HTTPS request trusting only `ca`. Resolves { status, headers, text, json }.
function request(method, url, { headers = {}, body, tlsOptions = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers, ca, ...tlsOptions }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, headers: res.headers, text, json, protocol: res.socket?.getProtocol?.() });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// A bare TLS handshake with the given client options: resolves the negotiated protocol or the error.
function handshake(options) {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port: server.port, ca, servername: 'localhost', ...options }, () => {
      const result = { protocol: socket.getProtocol(), cipher: socket.getCipher().name };
      socket.end();
      resolve(result);
    });
    socket.on('error', (error) => resolve({ error }));
  });
}

before(async () => {
  if (!hasOpenssl) return;
  dir = makeTempDir('carechart-https-');
  ({ cert, key } = makeCertificate('server'));
  ca = readFileSync(cert);
  const db = path.join(dir, 'carechart.db');
  provisionTestClient(db);
  server = await startServer({ db, args: ['--facility', 'F1', '--tls-cert', cert, '--tls-key', key], auth: false });
  assert.match(server.origin, /^https:\/\//, 'the listening line names https');
  token = runCli(['token', '--db', db, '--client', 'carechart-tests', '--base-url', `${server.origin}/fhir`]).trim();
});

after(async () => {
  await server?.cleanup();
  if (dir) removeTempDir(dir);
});

test('FHIR over HTTPS: a token works, HSTS is sent, the discovery documents name https URLs', { skip }, async () => {
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' };
  const created = await request('POST', `${server.origin}/fhir/Patient`, { headers: auth, body: JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Tls' }] }) });
  assert.equal(created.status, 201, created.text);
  const read = await request('GET', `${server.origin}/fhir/Patient/${created.json.id}`, { headers: auth });
  assert.equal(read.status, 200, read.text);
  assert.equal(read.json.name[0].family, 'Tls');
  assert.match(read.headers['strict-transport-security'] ?? '', /^max-age=\d{7,}/, 'HSTS on every HTTPS response');
  const unauthenticated = await request('GET', `${server.origin}/fhir/Patient`);
  assert.equal(unauthenticated.status, 401, 'the Bearer gate is unchanged over TLS');

  const smart = await request('GET', `${server.origin}/fhir/.well-known/smart-configuration`);
  assert.equal(smart.status, 200);
  assert.equal(smart.json.token_endpoint, `${server.origin}/auth/token`);
  const cs = await request('GET', `${server.origin}/fhir/metadata`);
  const uris = cs.json.rest[0].security.extension.find((e) => e.url.endsWith('/oauth-uris'));
  assert.equal(uris.extension.find((e) => e.url === 'token').valueUri, `${server.origin}/auth/token`);
});

test('a 2 MB transaction Bundle over HTTPS is read completely and stored (D105)', { skip }, async () => {
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json', prefer: 'return=minimal' };
  const note = 't'.repeat(1000);
  const entry = [];
  for (let i = 0; i < 2000; i++) {
    const id = `tls-${i}`;
    entry.push({ resource: { resourceType: 'Patient', id, name: [{ family: `Tls${i}`, given: [note] }] }, request: { method: 'PUT', url: `Patient/${id}` } });
  }
  const body = JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry });
  assert.ok(body.length > 2 * 1024 * 1024, `body of ${body.length} bytes`);
  const res = await request('POST', `${server.origin}/fhir`, { headers: { ...auth, 'content-length': String(Buffer.byteLength(body)) }, body });
  assert.equal(res.status, 200, res.text.slice(0, 500));
  assert.equal(res.json.entry.length, 2000);
  const last = await request('GET', `${server.origin}/fhir/Patient/tls-1999`, { headers: auth });
  assert.equal(last.status, 200, last.text);
  assert.equal(last.json.name[0].given[0], note);
  const count = await request('GET', `${server.origin}/fhir/Patient?_summary=count`, { headers: auth });
  assert.equal(count.status, 200, count.text);
  assert.ok(count.json.total >= 2000, `${count.json.total} Patients stored`);
});

test('TLS 1.2 and 1.3 with forward-secret AEAD suites; TLS 1.1 and weak suites refused', { skip }, async () => {
  const v13 = await handshake({ minVersion: 'TLSv1.3' });
  assert.equal(v13.protocol, 'TLSv1.3', String(v13.error));
  const v12 = await handshake({ maxVersion: 'TLSv1.2' });
  assert.equal(v12.protocol, 'TLSv1.2', String(v12.error));
  assert.match(v12.cipher, /^ECDHE-.*(GCM|CHACHA20)/, `negotiated ${v12.cipher}`);

  // The client is made willing (security level 0) so that a refusal can only come from the server.
  const v11 = await handshake({ minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
  assert.ok(v11.error, `TLS 1.1 must be refused, got ${v11.protocol}`);
  assert.match(v11.error.code ?? '', /ALERT_PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|WRONG_VERSION/, `server refusal: ${v11.error.code}`);
  for (const cipher of ['AES128-SHA256', 'ECDHE-ECDSA-AES128-SHA256', 'ECDHE-ECDSA-AES128-SHA']) {
    const weak = await handshake({ maxVersion: 'TLSv1.2', ciphers: `${cipher}:@SECLEVEL=0` });
    assert.ok(weak.error, `${cipher} must be refused, got ${weak.cipher}`);
    assert.match(weak.error.code ?? '', /HANDSHAKE_FAILURE|NO_SHARED_CIPHER/, `${cipher}: ${weak.error.code}`);
  }
});

test('plain HTTP on the HTTPS port is answered 400 and nothing is served', { skip }, async () => {
  const answer = await new Promise((resolve, reject) => {
    const socket = net.connect(server.port, '127.0.0.1', () => {
      socket.write(`GET /fhir/metadata HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nAuthorization: Bearer ${token}\r\n\r\n`);
    });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d) => (text += d));
    socket.on('end', () => {
      socket.end();
      resolve(text);
    });
    socket.on('error', reject);
  });
  assert.match(answer, /^HTTP\/1\.1 400 /, answer.slice(0, 200));
  assert.match(answer, /HTTPS only: send the request to https:\/\/127\.0\.0\.1:\d+/);
  assert.doesNotMatch(answer, /CapabilityStatement/, 'the handler did not run');
  assert.doesNotMatch(answer, /location:/i, 'no redirect');
  const again = await request('GET', `${server.origin}/healthz`);
  assert.equal(again.status, 200, 'the HTTPS port still serves TLS clients');
});

test('the sign-in cookie is Secure over HTTPS', { skip }, async () => {
  const redirect = 'https://app.example/callback';
  runCli(['client', 'add', 'tls-app', '--db', server.db, '--kind', 'public', '--redirect-uri', redirect]);
  const q = new URLSearchParams({ response_type: 'code', client_id: 'tls-app', redirect_uri: redirect, scope: 'openid patient/*.rs', state: 's',
    aud: `${server.origin}/fhir`, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' });
  const page = await request('GET', `${server.origin}/auth/authorize?${q}`);
  assert.equal(page.status, 200, page.text.slice(0, 300));
  const cookies = [page.headers['set-cookie'] ?? []].flat();
  assert.ok(cookies.length > 0, 'the sign-in page sets its cookie');
  for (const c of cookies) assert.match(c, /;\s*Secure/i, c);
});

test('bad TLS options stop the server with a precise message', { skip }, async () => {
  const db = path.join(dir, 'other.db');
  const run = (args) => spawnSync(binaryPath(), ['serve', '--db', db, '--host', '127.0.0.1', '--port', '0', ...args], { encoding: 'utf8', timeout: 20000 });
  let r = run(['--tls-cert', cert]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr + r.stdout, /--tls-cert requires --tls-key|tls-key/);
  const other = makeCertificate('other');
  r = run(['--tls-cert', cert, '--tls-key', other.key]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr + r.stdout, /TLS private key .*(does not match the certificate|key values mismatch)/);
  const notPem = path.join(dir, 'not-a-cert.pem');
  writeFileSync(notPem, 'not a certificate\n');
  r = run(['--tls-cert', notPem, '--tls-key', key]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr + r.stdout, /cannot use the TLS certificate .*not-a-cert\.pem/);
});
