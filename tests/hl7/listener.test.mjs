// The MLLP listener's transport behaviour against the real binary: idle timeouts, oversized
// frames (AR and close, configurable limit), frames split across packets and several frames in
// one packet, abrupt disconnects (nothing applied twice, nothing half-applied), many concurrent
// senders, and MLLP over TLS with a self-signed certificate made by the openssl CLI.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { Mllp, adt, msa } from './mllp_client.mjs';
import { hl7Port, makeTempDir, removeTempDir, startServer } from '../conformance/server.mjs';

const VT = Buffer.from([0x0b]);
const END = Buffer.from([0x1c, 0x0d]);
const frame = (text) => Buffer.concat([VT, Buffer.from(text), END]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves when the socket closes (true) or after `ms` (false). */
const closedWithin = (sock, ms) =>
  new Promise((resolve) => {
    if (sock.destroyed) return resolve(true);
    const t = setTimeout(() => resolve(false), ms);
    sock.once('close', () => {
      clearTimeout(t);
      resolve(true);
    });
  });

/** A raw socket collecting everything it receives. */
function rawConnect(port) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port }, () => resolve(sock));
    sock.received = '';
    sock.on('data', (d) => (sock.received += d.toString('latin1')));
    sock.on('error', () => {});
    sock.once('error', reject);
  });
}

async function count(server, query) {
  const res = await server.get(`${query}${query.includes('?') ? '&' : '?'}_summary=count`);
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return res.json.total;
}

let server;
let port;
before(async () => {
  server = await startServer({
    args: ['--hl7-port', '0', '--hl7-idle-timeout', '1', '--hl7-max-frame', '4096', '--log-level', 'error'],
  });
  port = await hl7Port(server);
});
after(async () => server?.cleanup());

test('an idle connection is closed after --hl7-idle-timeout', async () => {
  const sock = await rawConnect(port);
  assert.equal(await closedWithin(sock, 4000), true, 'idle connection still open after 4 s');
  // Traffic keeps a connection open past the timeout.
  const c = await Mllp.connect(port);
  for (let i = 0; i < 3; i++) {
    assert.equal(msa(await c.send(adt('IDLE', `I${i}`, 'VI1', 'PI1'))), 'AA');
    await sleep(600);
  }
  c.close();
});

test('an oversized frame is answered AR and the connection closed', async () => {
  // Complete frame over the limit in one packet.
  const big = adt('BIG', 'B1', 'VB1', 'PB1') + `NTE|1||${'x'.repeat(6000)}\r`;
  let sock = await rawConnect(port);
  sock.write(frame(big));
  assert.equal(await closedWithin(sock, 5000), true, 'connection not closed');
  assert.match(sock.received, /MSA\|AR\|/);
  assert.match(sock.received, /larger than 4096 bytes/);
  // A frame that never ends: the server stops buffering at the limit, answers and closes before
  // the sender is done.
  sock = await rawConnect(port);
  sock.write(Buffer.concat([VT, Buffer.from('MSH|^~\\&|BIG|FAC|EHR|EHRFAC|20240101||ADT^A04|B2|P|2.5\r')]));
  let closed = false;
  for (let i = 0; i < 20 && !closed; i++) {
    sock.write(Buffer.from('NTE|1||' + 'y'.repeat(1000) + '\r'));
    closed = await closedWithin(sock, 100);
  }
  assert.ok(closed, 'server kept buffering an endless frame past the limit');
  assert.match(sock.received, /MSA\|AR\|/);
  assert.equal(await count(server, 'Patient?identifier=urn:carechart:hl7v2:id:HOSP|PB1'), 0);
});

test('frames split across packets and several frames in one packet', async () => {
  const sock = await rawConnect(port);
  const m1 = frame(adt('SPLIT', 'S1', 'VS1', 'PS1'));
  for (let i = 0; i < m1.length; i += 7) {
    sock.write(m1.subarray(i, i + 7)); // the end marker (FS CR) is split too
    await sleep(2);
  }
  // Noise outside frames is ignored; two frames in one write are applied in order.
  sock.write(Buffer.concat([Buffer.from('noise\r\n'), frame(adt('SPLIT', 'S2', 'VS2', 'PS1')), frame(adt('SPLIT', 'S3', 'VS3', 'PS1'))]));
  for (let i = 0; i < 100 && (sock.received.match(/MSA\|/g) ?? []).length < 3; i++) await sleep(50);
  const acks = [...sock.received.matchAll(/MSA\|(\w+)\|(\w+)/g)].map((m) => `${m[1]} ${m[2]}`);
  assert.deepEqual(acks, ['AA S1', 'AA S2', 'AA S3']);
  sock.destroy();
  assert.equal(await count(server, 'Encounter?identifier=urn:carechart:hl7v2:id:HOSP|VS3'), 1);
});

test('abrupt disconnects: a half frame is dropped, a resent message is applied once', async () => {
  // Half a frame, then the connection is reset.
  let sock = await rawConnect(port);
  const m = frame(adt('CUT', 'X1', 'VX1', 'PX1'));
  sock.write(m.subarray(0, m.length - 10));
  await sleep(100);
  sock.resetAndDestroy();
  await sleep(200);
  assert.equal(await count(server, 'Encounter?identifier=urn:carechart:hl7v2:id:HOSP|VX1'), 0);
  // A whole frame, and the sender vanishes before its ACK: applied or not, never twice.
  sock = await rawConnect(port);
  sock.write(frame(adt('CUT', 'X2', 'VX2', 'PX2')));
  sock.destroy();
  const c = await Mllp.connect(port);
  assert.equal(msa(await c.send(adt('CUT', 'X2', 'VX2', 'PX2'))), 'AA');
  assert.equal(msa(await c.send(adt('CUT', 'X1', 'VX1', 'PX1'))), 'AA');
  c.close();
  assert.equal(await count(server, 'Encounter?identifier=urn:carechart:hl7v2:id:HOSP|VX2'), 1);
  assert.equal(await count(server, 'Patient?identifier=urn:carechart:hl7v2:id:HOSP|PX2'), 1);
  // The server still serves.
  await server.assertHealthy('after abrupt disconnects');
});

test('60 concurrent senders, each in order', async () => {
  const SENDERS = 60;
  const EACH = 5;
  await Promise.all(
    Array.from({ length: SENDERS }, async (_, s) => {
      const c = await Mllp.connect(port);
      for (let i = 0; i < EACH; i++) {
        const ack = await c.send(adt(`MANY${s}`, `M${i}`, `VM${s}-${i}`, `PM${s}`));
        assert.equal(msa(ack), 'AA', ack);
        assert.match(ack, new RegExp(`MSA\\|AA\\|M${i}\\b`));
      }
      c.close();
    }),
  );
  assert.equal(await count(server, 'Encounter?identifier=urn:carechart:hl7v2:id:HOSP|VM0-0'), 1);
  assert.equal(await count(server, 'Patient?identifier=urn:carechart:hl7v2:id:HOSP|PM42'), 1);
  assert.equal(await count(server, 'Encounter?identifier=urn:carechart:hl7v2:id:HOSP|VM59-4'), 1);
});

test('MLLP over TLS with a self-signed certificate', async (t) => {
  const dir = makeTempDir('carechart-hl7-tls-');
  try {
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
        '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    } catch (e) {
      t.skip(`openssl CLI not available: ${e.message}`);
      return;
    }
    const tlsServer = await startServer({
      args: ['--hl7-port', '0', '--hl7-tls-cert', cert, '--hl7-tls-key', key, '--log-level', 'error'],
    });
    try {
      const tlsPort = await hl7Port(tlsServer);
      const { readFileSync } = await import('node:fs');
      const c = await Mllp.connect(tlsPort, { tls: { ca: readFileSync(cert) } });
      assert.equal(c.sock.authorized, true, `certificate not verified: ${c.sock.authorizationError}`);
      assert.equal(msa(await c.send(adt('TLS', 'T1', 'VT1', 'PT1'))), 'AA');
      assert.match(await c.send(adt('TLS', 'T1', 'VT1', 'PT1')), /duplicate/);
      c.close();
      // Plain MLLP to the TLS port is not accepted: no ACK, the connection is closed.
      const plain = await rawConnect(tlsPort);
      plain.write(frame(adt('TLS', 'T2', 'VT2', 'PT2')));
      assert.equal(await closedWithin(plain, 5000), true);
      assert.doesNotMatch(plain.received, /MSA/);
      assert.equal(await count(tlsServer, 'Encounter?identifier=urn:carechart:hl7v2:id:HOSP|VT1'), 1);
      assert.equal(await count(tlsServer, 'Encounter?identifier=urn:carechart:hl7v2:id:HOSP|VT2'), 0);
    } finally {
      await tlsServer.cleanup();
    }
  } finally {
    removeTempDir(dir);
  }
});
