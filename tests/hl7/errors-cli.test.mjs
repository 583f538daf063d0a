// The error queue through the CLI, as an operator uses it: a message the mapping cannot apply is
// answered AE and queued by the listener; `carechart hl7 errors` lists it with its reason;
// `carechart hl7 replay ID --hl7-config fixed.json` applies it after the table was fixed (once:
// a second replay is a no-op); the entry is then listed as resolved only with --all; the
// resources are there when the server starts again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Mllp, msa } from './mllp_client.mjs';
import { backendArgs, binaryPath, hl7Port, makeTempDir, removeTempDir, startServer } from '../conformance/server.mjs';

const ORU =
  'MSH|^~\\&|LAB|LABFAC|EHR|EHRFAC|20240101130000||ORU^R01^ORU_R01|ERRCLI1|P|2.5.1\r' +
  'PID|1||PERR1^^^HOSP^MR||DOE^JANE||19800101|F\r' +
  'OBR|1|OERR1|FERR1|2345-7^Glucose^LN|||20240101100000||||||||||||||||||F\r' +
  'OBX|1|NM|2345-7^Glucose^LN||182|mg/dL^mg/dL^UCUM|70-99|ZZ|||F\r';

const cli = (args) => execFileSync(binaryPath(), backendArgs(args), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

test('hl7 errors lists a refused message; hl7 replay applies it once the mapping is fixed', async () => {
  const dir = makeTempDir('carechart-hl7-errors-');
  try {
    const db = path.join(dir, 'carechart.db');
    let server = await startServer({ db, args: ['--hl7-port', '0', '--log-level', 'error'] });
    try {
      const c = await Mllp.connect(await hl7Port(server));
      const ack = await c.send(ORU);
      c.close();
      assert.equal(msa(ack), 'AE', ack);
      assert.match(ack, /\rERR\|/);
      assert.match(ack, /\rERR\|\|OBX\^\d+\^8\|/, 'ERR-2 names OBX-8');
    } finally {
      await server.stop();
    }

    const listed = cli(['hl7', 'errors', '--db', db, '--log-level', 'error']);
    const line = listed.split('\n').find((l) => l.includes('ERRCLI1'));
    assert.ok(line, listed);
    const [id, , status, message, reason] = line.split('\t');
    assert.match(id, /^hl7e-[0-9a-f]{32}$/);
    assert.equal(status, 'error');
    assert.match(message, /ORU\^R01 ERRCLI1 from LAB\|LABFAC/);
    assert.match(reason, /OBX-8/);

    // Replaying with the unchanged mapping fails again (exit 3) and leaves the entry queued.
    const again = spawnSync(binaryPath(), backendArgs(['hl7', 'replay', id, '--db', db, '--log-level', 'error']), { encoding: 'utf8' });
    assert.equal(again.status, 3, again.stderr);
    assert.match(again.stdout, /MSA\|AE/);

    const fixed = path.join(dir, 'fixed.json');
    writeFileSync(fixed, JSON.stringify({ interpretation: { ZZ: 'A' } }));
    const replayed = cli(['hl7', 'replay', id, '--db', db, '--hl7-config', fixed, '--log-level', 'error']);
    assert.match(replayed, /MSA\|AA\|ERRCLI1/);
    assert.match(replayed, /applied: \d+ versions written/);
    assert.match(cli(['hl7', 'replay', id, '--db', db, '--hl7-config', fixed, '--log-level', 'error']), /already applied/);

    assert.doesNotMatch(cli(['hl7', 'errors', '--db', db, '--log-level', 'error']), /ERRCLI1/);
    assert.match(cli(['hl7', 'errors', '--all', '--db', db, '--log-level', 'error']), /\tresolved\tORU\^R01 ERRCLI1/);

    const unknown = spawnSync(binaryPath(), backendArgs(['hl7', 'replay', 'hl7e-0000', '--db', db, '--log-level', 'error']), { encoding: 'utf8' });
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /no queued HL7 message hl7e-0000/);

    server = await startServer({ db, args: ['--log-level', 'error'] });
    try {
      const obs = await server.get('Observation?code=http://loinc.org|2345-7');
      assert.equal(obs.status, 200, JSON.stringify(obs.json));
      assert.equal(obs.json.entry?.length, 1, JSON.stringify(obs.json));
      assert.equal(obs.json.entry[0].resource.interpretation[0].coding[0].code, 'A');
    } finally {
      await server.cleanup();
    }
  } finally {
    removeTempDir(dir);
  }
});
