// The audit trail over HTTP, and `carechart audit verify` after tampering with the database
// through the sqlite3 CLI (psql on PostgreSQL, CARECHART_BACKEND=postgres): an edited, a removed
// and an inserted entry are each reported with their position, and the command exits non-zero.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { REPO_ROOT, backendArgs, backendName, binaryPath, copyDatabase, makeTempDir, removeTempDir, runSql, startServer } from '../conformance/server.mjs';
import { USER_IDS, userToken, vitalSigns } from './world.mjs';

const onPostgres = backendName() === 'postgres';
// The tool that edits the database behind the server's back.
const hasSqlite = onPostgres ? spawnSync('psql', ['--version']).status === 0 : spawnSync('sqlite3', ['-version']).status === 0;
const noTool = onPostgres ? 'psql not installed (Debian package postgresql-client-15)' : 'sqlite3 CLI not installed (Debian package sqlite3)';
const hasPython = spawnSync('python3', ['-c', 'import sqlite3, hashlib']).status === 0;
const OUTSIDE_VERIFIER = path.join(REPO_ROOT, 'tools/verify-audit-chain.py');
let server;
let dir;
let physician;
before(async () => {
  server = await startServer({ args: ['--facility', 'F1'] });
  dir = makeTempDir('carechart-audit-');
  physician = userToken(server, 'u-doc', 'physician', { practitioner: 'pr-1' });
});
after(async () => {
  await server?.cleanup();
  if (dir) removeTempDir(dir);
});

function verify(db) {
  const r = spawnSync(binaryPath(), backendArgs(['audit', 'verify', '--db', db]), { encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
}

// Tampering: `sql` on SQLite; on PostgreSQL the same edit with the trigger disabled instead of
// dropped (its one trigger is audit_log_no_change).
function sqlite(db, sql) {
  const postgres = sql.replace(/DROP TRIGGER audit_log_no_(update|delete);/g, 'ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change;');
  runSql(db, { sqlite: sql, postgres });
}

// tools/verify-audit-chain.py: the chain recomputed from docs/audit-chain.md alone.
function outsideVerify(db) {
  const r = spawnSync('python3', [OUTSIDE_VERIFIER, db], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
}

// A copy of the (stopped) server's database, WAL included, to tamper with.
function copyDb(name) {
  return copyDatabase(server.db, path.join(dir, name));
}

test('every access is audited: who, on whose record, what, from where; searchable by patient, user, action', async () => {
  const p = await server.put('Patient/pa-1', { resourceType: 'Patient', id: 'pa-1', name: [{ family: 'Audit' }] });
  assert.ok([200, 201].includes(p.status), p.text);
  const created = await server.post('Observation', vitalSigns(undefined, 'pa-1'), { token: physician });
  assert.equal(created.status, 201, created.text);
  const read = await server.get(`Observation/${created.json.id}`, { token: physician });
  assert.equal(read.status, 200);
  const search = await server.get('Observation?patient=Patient/pa-1', { token: physician });
  assert.equal(search.status, 200);
  const denied = await server.get('AuditEvent', { token: physician });
  assert.equal(denied.status, 403, 'physicians do not read the audit trail');

  let events = [];
  for (let i = 0; i < 50 && events.length < 4; i++) {
    const r = await server.get(`AuditEvent?altid=${USER_IDS['u-doc']}&_count=100`);
    assert.equal(r.status, 200, r.text);
    events = (r.json.entry ?? []).map((e) => e.resource);
    if (events.length < 4) await new Promise((res) => setTimeout(res, 100));
  }
  const bySubtype = (code) => events.find((e) => e.subtype?.[0]?.code === code);
  const create = bySubtype('create');
  assert.ok(create, `a create event: ${JSON.stringify(events.map((e) => e.subtype))}`);
  assert.equal(create.action, 'C');
  assert.ok(create.entity.some((x) => x.what?.reference === 'Patient/pa-1'), 'names the patient');
  assert.ok(create.entity.some((x) => x.what?.reference?.startsWith(`Observation/${created.json.id}/_history/1`)));
  assert.equal(create.agent[0].who.reference, 'Practitioner/pr-1');
  assert.ok(create.agent[0].network?.address, 'from which address');
  assert.ok(bySubtype('read'), 'a read event');
  assert.ok(bySubtype('search-type'), 'a search event');
  const deniedEvent = events.find((e) => e.outcome === '4');
  assert.ok(deniedEvent, 'the denied request is audited');
  assert.match(deniedEvent.outcomeDesc, /denied/);

  const byPatient = await server.get('AuditEvent?patient=Patient/pa-1&action=C');
  assert.equal(byPatient.status, 200);
  assert.ok(byPatient.json.entry?.length >= 1, 'searchable by patient and action');
  const byDate = await server.get(`AuditEvent?date=ge${new Date(Date.now() - 3600e3).toISOString()}&agent=Practitioner/pr-1`);
  assert.ok(byDate.json.entry?.length >= 4, 'searchable by time');
});

test('audit verify: intact, then edited, removed and inserted entries are reported by position', { skip: hasSqlite ? false : noTool }, async () => {
  const db = server.db;
  const stopped = await server.stop();
  assert.equal(stopped.code, 0, 'graceful stop flushes the audit queue');
  const clean = verify(db);
  assert.equal(clean.code, 0, clean.out);
  assert.match(clean.out, /entries, head [0-9a-f]{64}: intact/);
  const entries = Number(/audit log: (\d+) entries/.exec(clean.out)[1]);
  assert.ok(entries >= 5, `expected several entries, got ${entries}`);

  const copy = copyDb;
  const edited = copy('edited.db');
  sqlite(edited, "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET body = replace(body, '127.0.0.1', '10.6.6.6') WHERE seq = 3;");
  let r = verify(edited);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /position 3: edited/);

  const removed = copy('removed.db');
  sqlite(removed, 'DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = 2;');
  r = verify(removed);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /position 3: removed: entries 2\.\.2 are missing/);

  const inserted = copy('inserted.db');
  sqlite(inserted, `INSERT INTO audit_log(seq, recorded, event_id, body, prev_hash, hash) SELECT ${entries + 1}, recorded, 'forged', body, hash, 'f00d' FROM audit_log WHERE seq = ${entries};`);
  r = verify(inserted);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, new RegExp(`position ${entries + 1}: inserted`));

  let refused = '';
  try {
    runSql(copy('guarded.db'), { sqlite: 'UPDATE audit_log SET body = 1;', postgres: "UPDATE audit_log SET body = '1';" });
  } catch (e) {
    refused = String(e.stderr);
  }
  assert.match(refused, /append-only/, 'without dropping the triggers the log refuses edits');
});

test('an outside verifier (docs/audit-chain.md, 19 lines of Python) agrees with audit verify', { skip: onPostgres ? 'the outside verifier reads a SQLite file (tools/verify-audit-chain.py)' : !hasSqlite ? noTool : !hasPython ? 'python3 not installed (Debian package python3)' : false }, async () => {
  await server.stop();
  const db = copyDb('outside.db');
  const ours = verify(db);
  const theirs = outsideVerify(db);
  assert.equal(ours.code, 0, ours.out);
  assert.equal(theirs.code, 0, theirs.out);
  const head = (out) => /audit log: (\d+) entries, head ([0-9a-f]{64}): intact/.exec(out)?.slice(1, 3);
  assert.deepEqual(head(theirs.out), head(ours.out), `same entry count and head hash:\n${ours.out}\n${theirs.out}`);
  const entries = Number(head(ours.out)[0]);
  assert.ok(entries >= 5, `several entries: ${entries}`);
  const middle = Math.ceil(entries / 2);

  // Each tampering: both verifiers fail, and name the same position.
  const cases = [
    ['edited in the middle', `DROP TRIGGER audit_log_no_update; UPDATE audit_log SET body = body || ' ' WHERE seq = ${middle};`, middle, /edited/],
    ['edited at the end', `DROP TRIGGER audit_log_no_update; UPDATE audit_log SET recorded = recorded + 1 WHERE seq = ${entries};`, entries, /edited/],
    ['time of the first entry changed', 'DROP TRIGGER audit_log_no_update; UPDATE audit_log SET recorded = recorded - 1000000 WHERE seq = 1;', 1, /edited/],
    ['a row deleted in the middle', `DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = ${middle};`, middle + 1, /removed/],
    ['the last row deleted', `DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = ${entries};`, entries, /removed/],
  ];
  for (const [what, sql, position, kind] of cases) {
    const f = copyDb(`outside-${position}-${what.replace(/\W+/g, '-')}.db`);
    sqlite(f, sql);
    const a = verify(f);
    const b = outsideVerify(f);
    assert.equal(a.code, 1, `${what}: audit verify must fail\n${a.out}`);
    assert.notEqual(b.code, 0, `${what}: the outside verifier must fail\n${b.out}`);
    assert.match(a.out, new RegExp(`position ${position}: `), `${what}: audit verify names position ${position}\n${a.out}`);
    assert.match(a.out, kind, `${what}\n${a.out}`);
    assert.match(b.out, new RegExp(`position ${position}: `), `${what}: the outside verifier names position ${position}\n${b.out}`);
  }
});
