// `carechart hl7 send --tls` against the TLS MLLP listener that requires client certificates
// (--hl7-tls-client-ca): the receiver's certificate is verified against --ca-file and must name
// --host; the client certificate is presented with --cert/--key. Certificates are made here with
// the openssl CLI (a test CA issuing the server and client certificates, and a stranger CA).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { adt } from './mllp_client.mjs';
import { binaryPath, hl7Port, makeTempDir, removeTempDir, startServer } from '../conformance/server.mjs';

function openssl(dir, args) {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

/** A CA (name.pem/name.key) in `dir`. */
function makeCa(dir, name) {
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`,
    '-days', '1', '-subj', `/CN=${name}`]);
}

/** A certificate for `cn` issued by `ca`, with the given subjectAltName (or none). */
function issue(dir, ca, name, cn, san) {
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
  const ext = path.join(dir, `${name}.ext`);
  writeFileSync(ext, san ? `subjectAltName=${san}\n` : 'basicConstraints=CA:FALSE\n');
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial',
    '-out', `${name}.pem`, '-days', '1', '-extfile', ext]);
}

/** Runs `carechart hl7 send`; resolves { status, stdout, stderr }. */
function send(args) {
  const r = spawnSync(binaryPath(), ['hl7', 'send', ...args], { encoding: 'utf8', timeout: 30000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('hl7 send over TLS: server verified by CA and host name, client certificate required', async (t) => {
  const dir = makeTempDir('carechart-hl7-send-tls-');
  try {
    try {
      makeCa(dir, 'ca');
      makeCa(dir, 'stranger');
      issue(dir, 'ca', 'server', 'ehr.test', 'IP:127.0.0.1');
      issue(dir, 'ca', 'client', 'lab-sender', null);
      issue(dir, 'stranger', 'intruder', 'lab-sender', null);
    } catch (e) {
      t.skip(`openssl CLI not available: ${e.message}`);
      return;
    }
    const f = (n) => path.join(dir, n);
    const server = await startServer({
      args: ['--hl7-port', '0', '--hl7-tls-cert', f('server.pem'), '--hl7-tls-key', f('server.key'),
        '--hl7-tls-client-ca', f('ca.pem'), '--log-level', 'error'],
    });
    try {
      const port = String(await hl7Port(server));
      const msg = (ctrl, visit) => {
        const file = f(`${ctrl}.hl7`);
        writeFileSync(file, adt('TLSSEND', ctrl, visit, 'PTLS1'));
        return file;
      };
      const base = ['--host', '127.0.0.1', '--port', port, '--timeout', '10'];
      const good = ['--tls', '--ca-file', f('ca.pem'), '--cert', f('client.pem'), '--key', f('client.key')];

      // Everything right: AA, exit 0.
      let r = send([msg('S1', 'VS1'), ...base, ...good]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /MSA\|AA\|S1/);

      // The receiver's certificate is not trusted by the given CA file.
      r = send([msg('S2', 'VS2'), ...base, '--tls', '--ca-file', f('stranger.pem'), '--cert', f('client.pem'), '--key', f('client.key')]);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /TLS with 127\.0\.0\.1 failed: .*certificate/i);

      // The certificate names 127.0.0.1, not the host we asked for (localhost resolves to loopback).
      r = send([msg('S3', 'VS3'), '--host', 'localhost', '--port', port, '--timeout', '10', ...good]);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /TLS with localhost failed: .*(hostname mismatch|certificate)/i);

      // No client certificate, or one from another CA: the listener refuses; nothing is applied.
      r = send([msg('S4', 'VS4'), ...base, '--tls', '--ca-file', f('ca.pem')]);
      assert.notEqual(r.status, 0);
      assert.doesNotMatch(r.stdout, /MSA/);
      r = send([msg('S5', 'VS5'), ...base, '--tls', '--ca-file', f('ca.pem'), '--cert', f('intruder.pem'), '--key', f('intruder.key')]);
      assert.notEqual(r.status, 0);
      assert.doesNotMatch(r.stdout, /MSA/);

      // Plain MLLP to the TLS port gets no ACK.
      r = send([msg('S6', 'VS6'), ...base]);
      assert.notEqual(r.status, 0);
      assert.doesNotMatch(r.stdout, /MSA/);

      // --ca-file without --tls is a usage error naming the option.
      r = send([msg('S7', 'VS7'), ...base, '--ca-file', f('ca.pem')]);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /need --tls/);

      // Only S1 was applied.
      const ids = ['VS1', 'VS4', 'VS5', 'VS6'].map((v) => `urn:carechart:hl7v2:id:HOSP|${v}`).join(',');
      const res = await server.get(`Encounter?identifier=${ids}&_summary=count`);
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.equal(res.json.total, 1);
    } finally {
      await server.cleanup();
    }
  } finally {
    removeTempDir(dir);
  }
});
