// Read replicas and a failing primary (issue #7, docs/deploy.md, decisions D40). The test makes
// its own primary and a streaming replica of it (scripts/pg-temp.sh start / replica, which runs
// pg_basebackup) and runs `carechart serve --postgres PRIMARY --postgres-replica REPLICA`:
//   - reads go to the replica: a second node that wrote nothing sees the replica's (paused) state;
//   - read-your-writes: the node that wrote reads its write at once although the replica has not
//     replayed it (its reads go to the primary until the replica catches up);
//   - a stopped primary gives a quick 503 OperationOutcome for writes (no hang) while reads go on
//     from the replica, and writes resume when the primary comes back;
//   - failover: the replica promoted and the node restarted with its URI serves reads and writes.
// PostgreSQL only (skipped on SQLite, said why).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { backendName, makeTempDir, removeTempDir, TEST_CLIENT_ID, TEST_SCOPE, testClientKeys } from '../conformance/server.mjs';
import { call, carechart, pgTemp, psql, startNode } from './pg-node.mjs';

const onPostgres = backendName() === 'postgres';
const skip = onPostgres ? false : 'needs CARECHART_BACKEND=postgres (scripts/test-postgres.sh runs it)';
if (!onPostgres) console.log(`# replica: skipped: ${skip}`);

let dir;
let pgDir;
let replicaDir;
let primary;
let replica;
const nodes = [];

function nodeArgs(postgres, replicas = []) {
  return ['--db', path.join(dir, 'unused.db'), '--bulk-dir', path.join(dir, 'bulk'), '--postgres', postgres, ...replicas.flatMap((r) => ['--postgres-replica', r]), '--max-query-ms', '5000'];
}
async function start(postgres, replicas) {
  const n = await startNode(nodeArgs(postgres, replicas));
  nodes.push(n);
  return n;
}

before(async () => {
  if (!onPostgres) return;
  dir = makeTempDir('carechart-replica-');
  // The servers' folders must be reachable by the postgres user: under /tmp, not the test dir.
  pgDir = `${dir.replace(/\/$/, '')}-primary`;
  replicaDir = `${dir.replace(/\/$/, '')}-standby`;
  primary = pgTemp('start', pgDir);
  carechart(['migrate', '--postgres', primary]);
  const jwks = path.join(dir, 'jwks.json');
  writeFileSync(jwks, JSON.stringify(testClientKeys().jwks));
  carechart(['client', 'add', TEST_CLIENT_ID, '--db', path.join(dir, 'unused.db'), '--postgres', primary, '--kind', 'backend', '--jwks', jwks, '--scope', TEST_SCOPE, '--name', 'Carechart tests']);
  replica = pgTemp('replica', pgDir, replicaDir);
});

after(async () => {
  for (const n of nodes) await n.stop().catch(() => {});
  if (replicaDir) pgTemp('stop', replicaDir);
  if (pgDir) pgTemp('stop', pgDir);
  removeTempDir(dir);
});

async function waitFor(what, fn, timeoutMs = 15000) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last.ok) return last;
    await delay(200);
  }
  assert.fail(`${what}: not within ${timeoutMs} ms (last: ${JSON.stringify(last).slice(0, 400)})`);
}

test('reads go to the replica, writes to the primary; the writing node reads its own writes', { skip }, async () => {
  const writer = await start(primary, [replica]);
  const reader = await start(primary, [replica]);
  const created = await call(writer, 'POST', 'Patient', { body: { resourceType: 'Patient', name: [{ family: 'Replica1' }] } });
  assert.equal(created.status, 201, created.text);
  const id = created.json.id;
  const first = await call(writer, 'GET', `Patient/${id}`);
  assert.equal(first.status, 200, 'read-your-writes right after the create');
  await waitFor('the replica replays the create', async () => ({ ok: psql(replica, `SELECT count(*) FROM resource WHERE id = '${id}'`) === '1' }));

  psql(replica, 'SELECT pg_wal_replay_pause()');
  try {
    const up = await call(writer, 'PUT', `Patient/${id}`, { body: { resourceType: 'Patient', id, name: [{ family: 'Replica2' }] } });
    assert.equal(up.status, 200, up.text);
    assert.equal(psql(replica, `SELECT version FROM resource WHERE id = '${id}'`), '1', 'the paused replica has not replayed the update');
    const own = await call(writer, 'GET', `Patient/${id}`);
    assert.equal(own.json.meta.versionId, '2', 'the writing node reads its own write (from the primary)');
    const ownSearch = await call(writer, 'GET', `Patient?family=Replica2`);
    assert.equal(ownSearch.json.entry?.length, 1, 'and finds it by search');
    // The other node wrote nothing: its reads are served by the replica, which is behind.
    const other = await call(reader, 'GET', `Patient/${id}`);
    assert.equal(other.status, 200);
    assert.equal(other.json.meta.versionId, '1', 'a node that did not write reads from the replica');
  } finally {
    psql(replica, 'SELECT pg_wal_replay_resume()');
  }
  await waitFor('the other node sees version 2 once the replica replays it', async () => {
    const r = await call(reader, 'GET', `Patient/${id}`);
    return { ok: r.json?.meta?.versionId === '2', status: r.status };
  });
});

test('a stopped primary: writes fail fast with a 503 OperationOutcome, reads go on, writes resume', { skip }, async () => {
  const node = nodes[0];
  const seed = await call(node, 'POST', 'Patient', { body: { resourceType: 'Patient', name: [{ family: 'BeforeHalt' }] } });
  assert.equal(seed.status, 201);
  await waitFor('replayed', async () => ({ ok: psql(replica, `SELECT count(*) FROM resource WHERE id = '${seed.json.id}'`) === '1' }));
  pgTemp('halt', pgDir);
  try {
    const w = await call(node, 'POST', 'Patient', { body: { resourceType: 'Patient', name: [{ family: 'DuringHalt' }] } });
    assert.equal(w.status, 503, `a write without a primary: ${w.status} ${w.text.slice(0, 300)}`);
    assert.equal(w.json?.resourceType, 'OperationOutcome', w.text.slice(0, 300));
    assert.ok(w.ms < 6000, `the 503 came quickly (${w.ms} ms)`);
    const r = await call(node, 'GET', `Patient/${seed.json.id}`);
    assert.equal(r.status, 200, `reads go on from the replica: ${r.text.slice(0, 300)}`);
    const s = await call(node, 'GET', 'Patient?family=BeforeHalt');
    assert.equal(s.status, 200, s.text.slice(0, 300));
  } finally {
    pgTemp('resume', pgDir);
  }
  await waitFor('writes resume when the primary is back', async () => {
    const w = await call(node, 'POST', 'Patient', { body: { resourceType: 'Patient', name: [{ family: 'AfterHalt' }] } });
    return { ok: w.status === 201, status: w.status, text: w.text.slice(0, 200) };
  });
});

test('failover: with a multi-host URI a node finds the promoted standby without a restart', { skip }, async () => {
  for (const n of nodes) await n.stop();
  // Both servers in one URI; target_session_attrs picks whichever accepts writes now.
  const hostOf = (u) => new URL(u).host;
  const multi = primary.replace(hostOf(primary), `${hostOf(primary)},${hostOf(replica)}`) + '?target_session_attrs=read-write';
  const node = await start(multi);
  const before = await call(node, 'GET', 'Patient?_summary=count');
  assert.equal(before.status, 200, before.text.slice(0, 300));
  const count = before.json.total;
  await waitFor('the standby has every write', async () => ({ ok: Number(psql(replica, "SELECT count(*) FROM resource WHERE type = 'Patient'")) === count }));
  pgTemp('halt', pgDir);
  const down = await call(node, 'POST', 'Patient', { body: { resourceType: 'Patient', name: [{ family: 'NoPrimary' }] } });
  assert.equal(down.status, 503, `no primary: ${down.status} ${down.text.slice(0, 300)}`);
  assert.ok(down.ms < 6000, `quickly (${down.ms} ms)`);
  pgTemp('promote', replicaDir);
  await waitFor('writes go to the promoted standby', async () => {
    const w = await call(node, 'POST', 'Patient', { body: { resourceType: 'Patient', name: [{ family: 'AfterFailover' }] } });
    return { ok: w.status === 201, status: w.status, text: w.text.slice(0, 200) };
  });
  const after = await call(node, 'GET', 'Patient?_summary=count');
  assert.equal(after.json.total, count + 1, 'the new primary has every patient and the new one');
});
