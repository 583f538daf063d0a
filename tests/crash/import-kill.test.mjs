// Crash safety of bulk ingest: SIGKILL during HTTP transactions from several clients and during
// `carechart import`. Every transaction Bundle carries a marker tag on each of its resources; after
// the kill, each marker's count must be all of the Bundle or nothing (no partial transaction),
// every acknowledged Bundle must be complete, and a re-run of the import must complete the data
// without duplicates.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { backendArgs, backendName, binaryPath, makeTempDir, runSql, removeTempDir, startServer } from '../conformance/server.mjs';

const MARKER = 'https://carechart.dev/test/bundle-marker';
const CLIENTS = 6;
const OBS_PER_BUNDLE = 12; // + 1 Patient per Bundle
const HTTP_KILL_AFTER_MS = 2000;

const dir = makeTempDir('carechart-ingest-crash-');
let live = null;
after(async () => {
  if (live) await live.kill9().catch(() => {});
  removeTempDir(dir);
});

function uuid(n, k) {
  const hex = (n * 1000 + k).toString(16).padStart(12, '0');
  return `7e1c0000-0000-4000-8000-${hex}`;
}

// A transaction of one Patient and its Observations, all tagged with `marker`.
function markedBundle(marker, n, { method = 'POST' } = {}) {
  const meta = { tag: [{ system: MARKER, code: marker }] };
  const pid = uuid(n, 0);
  const entry = [
    {
      fullUrl: `urn:uuid:${pid}`,
      resource: { resourceType: 'Patient', meta, name: [{ family: `Marker${n}` }], birthDate: '1980-02-03' },
      request: method === 'PUT' ? { method: 'PUT', url: `Patient/${pid}` } : { method: 'POST', url: 'Patient' },
    },
  ];
  if (method === 'PUT') entry[0].resource.id = pid;
  for (let k = 1; k <= OBS_PER_BUNDLE; k++) {
    entry.push({
      fullUrl: `urn:uuid:${uuid(n, k)}`,
      resource: {
        resourceType: 'Observation',
        meta,
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
        subject: { reference: `urn:uuid:${pid}` },
        effectiveDateTime: '2024-01-01T10:00:00Z',
        valueQuantity: { value: 60 + k, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
      },
      request: { method: 'POST', url: 'Observation' },
    });
  }
  return { resourceType: 'Bundle', type: 'transaction', entry };
}

// marker → number of resources carrying it (Patients and Observations).
async function countByMarker(server) {
  const counts = new Map();
  for (const type of ['Patient', 'Observation']) {
    let url = `${type}?_tag=${encodeURIComponent(MARKER + '|')}&_count=1000&_elements=meta`;
    while (url) {
      const res = await server.get(url);
      assert.equal(res.status, 200, `${url}: ${res.text.slice(0, 300)}`);
      for (const e of res.json.entry ?? []) {
        const tag = e.resource.meta.tag.find((t) => t.system === MARKER);
        counts.set(tag.code, (counts.get(tag.code) ?? 0) + 1);
      }
      url = res.json.link?.find((l) => l.relation === 'next')?.url ?? null;
    }
  }
  return counts;
}

function checkAllOrNothing(counts, markers, acked, what) {
  const size = OBS_PER_BUNDLE + 1;
  const partial = [];
  for (const m of markers) {
    const n = counts.get(m) ?? 0;
    if (n !== 0 && n !== size) partial.push(`${m}: ${n} of ${size}`);
  }
  assert.deepEqual(partial, [], `${what}: partially stored transactions`);
  const lost = [...acked].filter((m) => counts.get(m) !== size);
  assert.deepEqual(lost, [], `${what}: acknowledged transactions missing after the kill`);
}

test('SIGKILL during HTTP transactions from several clients: no partial Bundle, none acknowledged lost', { timeout: 120000 }, async () => {
  const db = path.join(dir, 'http.db');
  const server = await startServer({ db });
  live = server;
  const sent = new Set();
  const acked = new Set();
  const problems = [];
  let stop = false;
  let killed = false;
  const client = async (c) => {
    for (let i = 0; !stop; i++) {
      const marker = `c${c}-${i}`;
      sent.add(marker);
      try {
        const res = await server.post('', markedBundle(marker, c * 100000 + i));
        if (res.status === 200) acked.add(marker);
        else if (!killed) problems.push(`${marker}: ${res.status} ${res.text.slice(0, 200)}`);
      } catch (e) {
        if (!killed) problems.push(`${marker}: ${e.cause?.code ?? e.message}`);
        return;
      }
    }
  };
  const running = Array.from({ length: CLIENTS }, (_, c) => client(c));
  await delay(HTTP_KILL_AFTER_MS);
  killed = true;
  await server.kill9();
  stop = true;
  await Promise.all(running);
  assert.deepEqual(problems, [], 'errors before the kill');
  assert.ok(acked.size > 0, 'some transactions were acknowledged before the kill');

  const again = await startServer({ db });
  live = again;
  const counts = await countByMarker(again);
  checkAllOrNothing(counts, sent, acked, 'HTTP');
  const complete = [...sent].filter((m) => counts.get(m) === OBS_PER_BUNDLE + 1).length;
  console.log(`kill -9 during HTTP transactions: ${sent.size} sent, ${acked.size} acknowledged, ${complete} stored, none partial`);
  await again.stop();
  live = null;
});

function runImport(args) {
  const child = spawn(binaryPath(), backendArgs(['import', ...args]), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, out })));
  return { child, exited };
}

test('SIGKILL during carechart import: each transaction file all or nothing; a re-run completes it without duplicates', { timeout: 180000 }, async () => {
  const input = path.join(dir, 'bundles');
  mkdirSync(input);
  const files = 800;
  const markers = [];
  for (let n = 0; n < files; n++) {
    const marker = `f${n}`;
    markers.push(marker);
    // Half POST (ids from the urn:uuid fullUrls), half PUT: both must be idempotent.
    const bundle = markedBundle(marker, 500000 + n, { method: n % 2 ? 'PUT' : 'POST' });
    writeFileSync(path.join(input, `b${String(n).padStart(4, '0')}.json`), JSON.stringify(bundle));
  }
  const db = path.join(dir, 'import.db');
  const first = runImport(['--db', db, '--log-level', 'warn', input]);
  // Kill once some files are in (the import prints nothing until it ends: watch the WAL grow, or
  // on PostgreSQL the committed resources).
  const started = Date.now();
  const { statSync } = await import('node:fs');
  const onPostgres = backendName() === 'postgres';
  while (Date.now() - started < 20000) {
    await delay(50);
    if (onPostgres) {
      let stored = 0;
      try {
        stored = Number(runSql(db, { postgres: 'SELECT count(*) FROM resource' }));
      } catch {} // the schema is not there yet
      if (stored > 2000) break;
      continue;
    }
    let size = 0;
    try {
      size = statSync(`${db}-wal`).size;
    } catch {}
    if (size > 4_000_000) break;
  }
  first.child.kill('SIGKILL');
  const r1 = await first.exited;
  assert.equal(r1.signal, 'SIGKILL', `the import finished before the kill; make the input larger\n${r1.out}`);

  const server = await startServer({ db });
  live = server;
  const counts = await countByMarker(server);
  checkAllOrNothing(counts, markers, new Set(), 'import');
  const complete = markers.filter((m) => counts.get(m) === OBS_PER_BUNDLE + 1).length;
  assert.ok(complete < files, 'the kill left part of the input unimported');
  await server.stop();
  live = null;

  const second = runImport(['--db', db, '--log-level', 'warn', input]);
  const r2 = await second.exited;
  assert.equal(r2.code, 0, r2.out);
  assert.match(r2.out, new RegExp(`imported (\\d+) resources .* (\\d+) unchanged; 0 rejected`));
  const after = await startServer({ db });
  live = after;
  const final = await countByMarker(after);
  checkAllOrNothing(final, markers, new Set(markers), 're-run');
  assert.equal(await after.count('Patient'), files, 'one Patient per file: no duplicates');
  console.log(`kill -9 during import: ${complete} of ${files} files stored before the kill, none partial; re-run completed them`);
  await after.stop();
  live = null;
});
