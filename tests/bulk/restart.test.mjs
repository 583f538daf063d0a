// A Bulk Data export survives a kill -9 of the server: after a restart on the same database the
// job runs again and completes with every resource exactly once (or reports why it failed). Also:
// a larger generated set exported with bounded memory (peak RSS of the server measured).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { makeTempDir, removeTempDir, startServer } from '../conformance/server.mjs';
import { demoDataInto, downloadAll, kickoff, manifestOf, peakRssMb } from './bulk-helpers.mjs';

const dir = makeTempDir('carechart-bulk-restart-');
let current = null;
const started = []; // every server, so that a failed test leaves none running (node waits on it)
after(async () => {
  for (const s of started) await s.kill9().catch(() => {});
  removeTempDir(dir);
});

async function start(options) {
  const s = await startServer(options);
  started.push(s);
  return s;
}

async function totalResources(s) {
  const res = await s.get('?_summary=count');
  assert.equal(res.status, 200, res.text);
  return res.json.total;
}

// Test timeouts are generous backstops for a loaded CI machine; the waits inside are progress-based
// (waitForJob fails when X-Progress stops moving), never blind sleeps.
test('kill -9 in the middle of an export: the job runs again after the restart and completes', { timeout: 240000 }, async () => {
  const db = path.join(dir, 'restart.db');
  demoDataInto(db, 6);
  // Small read pages make the export slow enough to be caught in the middle.
  const args = ['--bulk-page-size', '3', '--no-access-log'];
  current = await start({ db, args });
  const firstBase = current.fhirBase;
  const total = await totalResources(current);
  const url = await kickoff(current, '$export');
  let progress = '';
  for (let i = 0; i < 400; i++) {
    const res = await current.get(url);
    progress = res.headers.get('x-progress') ?? '';
    if (res.status !== 202 || /[1-9]\d* resources exported/.test(progress)) break;
    await delay(10);
  }
  const caughtRunning = /[1-9]\d* resources exported/.test(progress) && !/^completed/.test(progress);
  console.log(`killing the server with the job at: ${progress || '(already done)'}`);
  await current.kill9();

  current = await start({ db, args });
  const statusUrl = url.replace(firstBase, current.fhirBase);
  const m = await manifestOf(current, statusUrl, { timeoutMs: 30000 });
  // SQLite: the job store is the node's own, the restart finds its job; PostgreSQL: the new node
  // takes the job over once the killed node's lease (--bulk-lease-seconds) has run out.
  // The job may also have finished between the last poll and the kill (a loaded machine): then
  // the restart has nothing to run again, and the counts below still hold it to every resource.
  const ranAgain = /interrupted by a restart; it runs again|left by a node that stopped; it runs again/.test(current.stderr());
  if (caughtRunning && !ranAgain) console.log('the job had completed before the kill: nothing ran again');
  const byType = await downloadAll(current, m);
  let exported = 0;
  for (const ids of byType.values()) exported += ids.size;
  assert.equal(exported, total, `${exported} resources exported, the server holds ${total}`);
  assert.equal(m.output.reduce((n, f) => n + f.count, 0), total);
  console.log(`restart during export: ${total} resources exported after the restart (caught running: ${caughtRunning})`);
  await current.stop();
  current = null;
});

// 30 patients (~30k resources) by default: large enough for several pages and files per type;
// bench/export_bench.sh measures 1,000 patients.
test('a larger generated set: complete, and the server stays under 500 MB', { timeout: 240000 }, async () => {
  const db = path.join(dir, 'large.db');
  const patients = Number(process.env.BULK_TEST_PATIENTS || 30);
  demoDataInto(db, patients);
  current = await start({ db, args: ['--no-access-log'] });
  const total = await totalResources(current);
  const started = Date.now();
  const m = await manifestOf(current, await kickoff(current, '$export'), { timeoutMs: 30000 });
  const seconds = (Date.now() - started) / 1000;
  const rss = peakRssMb(current.pid);
  const byType = await downloadAll(current, m);
  let exported = 0;
  for (const ids of byType.values()) exported += ids.size;
  assert.equal(exported, total);
  const line = `export of ${patients} generated patients: ${total} resources in ${m.output.length} files, ${seconds.toFixed(2)} s to complete; server peak RSS ${rss.toFixed(0)} MB`;
  console.log(line);
  assert.ok(rss < 500, line);
  await current.stop();
  current = null;
});
