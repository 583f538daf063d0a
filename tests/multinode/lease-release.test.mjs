// A node that stops gracefully (SIGTERM) gives its Bulk Data job's lease back, so another node
// takes the job over at once instead of after --bulk-lease-seconds (decisions D39; kill -9
// takeover after the lease is tested in nodes.test.mjs). Two nodes with a 60-second lease on one
// PostgreSQL database: the job must be finished by the other node well within those 60 s.
// PostgreSQL only: on SQLite one file has one server, so there is nothing to test (skipped, said).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import path from 'node:path';
import { backendName, makeTempDir, postgresUriFor, provisionTestClient, removeTempDir, startServer } from '../conformance/server.mjs';
import { lockResourceTable, psql, sharedOriginClient, waitJobHolder } from './pg-node.mjs';

const onPostgres = backendName() === 'postgres';
const skip = onPostgres ? false : 'needs CARECHART_BACKEND=postgres (scripts/test-postgres.sh runs it)';
if (!onPostgres) console.log(`# lease-release: skipped: ${skip}`);

const PUBLIC = 'http://carechart.lease.test';
const LEASE_SECONDS = 60;
let dir;
let db;
let uri;
const nodes = [];
let token;

const { call, tokenFrom } = sharedOriginClient(PUBLIC, () => token);

before(async () => {
  if (!onPostgres) return;
  dir = makeTempDir('carechart-lease-');
  db = path.join(dir, 'carechart.db');
  uri = postgresUriFor(db);
  provisionTestClient(db);
  const args = ['--facility', 'F1', '--public-base-url', `${PUBLIC}/fhir`, '--bulk-dir', path.join(dir, 'bulk'), '--bulk-lease-seconds', String(LEASE_SECONDS), '--bulk-page-size', '1'];
  // Both at once on an empty database: they race to create the first administrator, and both
  // must come up.
  nodes.push(...(await Promise.all([startServer({ db, args, auth: false }), startServer({ db, args, auth: false })])));
  token = await tokenFrom(nodes[0]);
  for (let i = 0; i < 3; i++) {
    const created = await call(nodes[i % 2], 'POST', 'Patient', { body: { resourceType: 'Patient', name: [{ family: `Lease${i}` }] } });
    assert.equal(created.status, 201, created.text.slice(0, 300));
  }
});

after(async () => {
  for (const n of nodes) await n.cleanup().catch(() => {});
  removeTempDir(dir);
});

test('a node stopped with SIGTERM gives its job back: another node finishes it well within the lease', { skip }, async () => {
  // Hold the resource table so that the export, once claimed, waits at its first read.
  const lock = await lockResourceTable(uri);
  try {
    const kick = await call(nodes[0], 'GET', '$export?_type=Patient', { headers: { accept: 'application/fhir+json', prefer: 'respond-async' } });
    assert.equal(kick.status, 202, kick.text.slice(0, 300));
    const statusUrl = kick.headers.get('content-location');
    const jobId = statusUrl.split('/').pop();
    const { holder } = await waitJobHolder(uri, jobId, nodes);
    const survivor = nodes.find((n) => n !== holder);
    const stopped = Date.now();
    const stopping = holder.stop();
    await delay(300); // SIGTERM first, so that the job sees the stop when its read returns
    lock.release();
    const exit = await stopping;
    assert.equal(exit.code, 0, `the holder stopped cleanly: ${JSON.stringify(exit)}\n${holder.stderr()}`);
    assert.match(holder.stderr(), /another node takes it over/, 'the holder says it gave the job back');
    let manifest = null;
    while (!manifest && Date.now() - stopped < LEASE_SECONDS * 1000) {
      const res = await call(survivor, 'GET', statusUrl);
      if (res.status === 200) manifest = res.json;
      else {
        assert.equal(res.status, 202, `status: ${res.text.slice(0, 300)}`);
        await delay(200);
      }
    }
    const tookMs = Date.now() - stopped;
    assert.ok(manifest, `the job was not finished within the lease (${LEASE_SECONDS} s)`);
    assert.ok(tookMs < (LEASE_SECONDS * 1000) / 3, `taken over at once, not after the lease ran out: ${tookMs} ms`);
    const [attempts, state, newOwner] = psql(uri, `SELECT attempts || ' ' || state || ' ' || lease_owner FROM bulk_job WHERE id = '${jobId}'`).split(' ');
    assert.equal(state, 'completed');
    assert.equal(attempts, '1', 'the run the stop interrupted is not counted against max attempts');
    assert.ok(newOwner.includes(`:${survivor.pid}:`), `the other node finished it (${newOwner})`);
    let exported = 0;
    for (const f of manifest.output.filter((o) => o.type === 'Patient')) {
      const file = await call(survivor, 'GET', f.url, { headers: { accept: 'application/fhir+ndjson' } });
      assert.equal(file.status, 200, file.text.slice(0, 200));
      exported += file.text.split('\n').filter(Boolean).length;
    }
    assert.equal(exported, 3, 'every Patient exported');
  } finally {
    lock.release();
  }
});
