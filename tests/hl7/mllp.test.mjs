// HL7 v2 over MLLP against the real binary: the shared samples, several concurrent senders,
// duplicates, the error queue, and kill -9 in the middle of a stream (no acknowledged message
// lost, none applied twice).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Mllp, adt, msa } from './mllp_client.mjs';
import { backendArgs, binaryPath, hl7Port, makeTempDir, removeTempDir, sharedDataDir, startServer } from '../conformance/server.mjs';

const binaryId = (sender, ctrl) => 'hl7m-' + createHash('sha256').update(`${sender}\x1f${ctrl}`).digest('hex').slice(0, 32);

const dirs = [];
after(() => dirs.forEach(removeTempDir));

test('shared samples over MLLP, concurrent senders, duplicates and the error queue', async () => {
  const server = await startServer({ args: ['--hl7-port', '0', '--log-level', 'error'] });
  try {
    const port = await hl7Port(server);
    // Every shared sample gets an ACK; ADT/ORU samples are applied.
    const dir = path.join(sharedDataDir(), 'hl7v2');
    let applied = 0;
    const conn = await Mllp.connect(port);
    for (const name of readdirSync(dir).filter((f) => f.endsWith('.hl7'))) {
      const ack = await conn.send(readFileSync(path.join(dir, name), 'utf8'));
      assert.ok(['AA', 'AE', 'AR'].includes(msa(ack)), `${name}: ${ack}`);
      if (msa(ack) === 'AA') applied++;
    }
    for (const name of readdirSync(path.join(dir, 'malformed'))) {
      const ack = await conn.send(readFileSync(path.join(dir, 'malformed', name), 'latin1'));
      assert.equal(msa(ack), 'AR', `malformed/${name}: ${ack}`);
      assert.match(ack, /\rERR\|/, `malformed/${name}: no ERR segment`); // rejects use |
    }
    assert.ok(applied >= 15, `only ${applied} samples applied`);
    conn.close();

    // 8 senders x 40 messages at once, each sender on its own connection.
    const SENDERS = 8;
    const EACH = 40;
    await Promise.all(
      Array.from({ length: SENDERS }, async (_, s) => {
        const c = await Mllp.connect(port);
        for (let i = 0; i < EACH; i++) {
          const ack = await c.send(adt(`NODE${s}`, `C${i}`, `V${s}-${i}`, `P${s}-${i % 4}`));
          assert.equal(msa(ack), 'AA', ack);
        }
        // A duplicate is acknowledged and not applied again.
        const dup = await c.send(adt(`NODE${s}`, `C0`, `V${s}-0`, `P${s}-0`));
        assert.equal(msa(dup), 'AA');
        assert.match(dup, /duplicate/);
        c.close();
      }),
    );
    const enc = await server.get(`Encounter?identifier=urn:carechart:hl7v2:id:HOSP|V3-7`);
    assert.equal(enc.json.entry.length, 1);
    assert.equal(enc.json.entry[0].resource.meta.versionId, '1');
    const pats = await server.get(`Patient?identifier=urn:carechart:hl7v2:id:HOSP|P5-1&_summary=count`);
    assert.equal(pats.json.total, 1);
    const tagged = await server.get(`Encounter?_tag=https://carechart.dev/fhir/CodeSystem/facility|hl7-FAC&_summary=count`);
    assert.ok(tagged.json.total >= SENDERS * EACH);

    // The error queue lists what was refused.
    const out = execFileSync(binaryPath(), backendArgs(['hl7', 'errors', '--db', server.db, '--log-level', 'error']), { encoding: 'utf8' });
    assert.match(out, /hl7e-/);
  } finally {
    await server.cleanup();
  }
});

test('kill -9 mid-stream: no acknowledged message lost, none applied twice', async () => {
  const dir = makeTempDir('carechart-hl7-crash-');
  dirs.push(dir);
  const db = path.join(dir, 'crash.db');
  const SENDERS = 6;
  const acked = new Set();
  const sent = [];
  let server = await startServer({ db, args: ['--hl7-port', '0', '--log-level', 'error'] });
  let port = await hl7Port(server);
  let stop = false;
  const senders = Array.from({ length: SENDERS }, async (_, s) => {
    const c = await Mllp.connect(port);
    for (let i = 0; !stop; i++) {
      const m = { sender: `K${s}`, ctrl: `K${s}-${i}`, visit: `KV${s}-${i}` };
      sent.push(m);
      try {
        const ack = await c.send(adt(m.sender, m.ctrl, m.visit, `KP${s}-${i % 3}`));
        if (msa(ack) === 'AA') acked.add(m.ctrl);
      } catch {
        return; // killed
      }
    }
  });
  await new Promise((r) => setTimeout(r, 1500));
  await server.kill9();
  stop = true;
  await Promise.all(senders);
  assert.ok(acked.size > 20, `only ${acked.size} messages acknowledged before the kill`);

  server = await startServer({ db, args: ['--hl7-port', '0', '--log-level', 'error'] });
  try {
    port = await hl7Port(server);
    // Every acknowledged message was committed (its raw Binary and its Encounter).
    for (const m of sent.filter((x) => acked.has(x.ctrl))) {
      const b = await server.get(`Binary/${binaryId(`${m.sender}|FAC`, m.ctrl)}`);
      assert.equal(b.status, 200, `acknowledged ${m.ctrl} lost`);
    }
    // Everything is sent again: acknowledged ones are duplicates; nothing is applied twice.
    const c = await Mllp.connect(port);
    for (const m of sent) {
      const ack = await c.send(adt(m.sender, m.ctrl, m.visit, `KP${m.sender.slice(1)}-${Number(m.ctrl.split('-')[1]) % 3}`));
      assert.equal(msa(ack), 'AA', ack);
      if (acked.has(m.ctrl)) assert.match(ack, /duplicate/, `${m.ctrl} applied twice`);
    }
    c.close();
    const count = await server.get('Encounter?_summary=count');
    assert.equal(count.json.total, sent.length);
    const versions = await server.get(`Encounter?_count=1000&_elements=id`);
    for (const e of versions.json.entry ?? []) assert.equal(e.resource.meta.versionId, '1', `Encounter ${e.resource.id} written twice`);
  } finally {
    await server.cleanup();
  }
});
