// Helpers of the Bulk Data suites: the asynchronous kick-off / poll / download protocol, always
// through the conformance helpers' server.request (so authentication is added in one place).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { backendArgs, binaryPath } from '../conformance/server.mjs';

export const ASYNC = { prefer: 'respond-async', accept: 'application/fhir+json' };

/** Kick off an export (or $import); asserts 202 and returns the status URL. */
export async function kickoff(server, path, { headers = ASYNC, method = 'GET', body } = {}) {
  const res = await server.request(method, path, { headers, body });
  assert.equal(res.status, 202, `${method} ${path}: expected 202, got ${res.status}: ${res.text.slice(0, 400)}`);
  const location = res.headers.get('content-location');
  assert.ok(location && /\/fhir\/_bulk\/[0-9a-f]+$/.test(location), `Content-Location: ${location}`);
  return location;
}

/**
 * Polls a status URL until it stops answering 202; returns the final response. Every 202 must
 * carry X-Progress and Retry-After. `onProgress(res)` sees each 202. The wait fails when the job
 * makes no progress (X-Progress unchanged) for `timeoutMs`, not after a fixed total: a loaded
 * machine may be slow, but a stuck job is caught.
 */
export async function waitForJob(server, statusUrl, { timeoutMs = 60000, intervalMs = 50, onProgress } = {}) {
  let lastProgress = null;
  let deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await server.get(statusUrl);
    if (res.status !== 202) return res;
    const progress = res.headers.get('x-progress');
    assert.ok(progress, '202 without X-Progress');
    assert.match(String(res.headers.get('retry-after')), /^\d+$/, '202 without a numeric Retry-After');
    if (onProgress) await onProgress(res);
    if (progress !== lastProgress) {
      lastProgress = progress;
      deadline = Date.now() + timeoutMs;
    }
    assert.ok(Date.now() < deadline, `job at ${statusUrl} made no progress for ${timeoutMs} ms (${progress})`);
    await delay(intervalMs);
  }
}

/** Polls until complete; asserts a well-formed manifest and returns it. */
export async function manifestOf(server, statusUrl, options) {
  const res = await waitForJob(server, statusUrl, options);
  assert.equal(res.status, 200, `job status: expected 200, got ${res.status}: ${res.text.slice(0, 400)}`);
  const m = res.json;
  assert.ok(m, 'manifest is JSON');
  assert.match(m.transactionTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
  assert.equal(typeof m.request, 'string');
  assert.equal(typeof m.requiresAccessToken, 'boolean');
  assert.ok(Array.isArray(m.output) && Array.isArray(m.error));
  for (const f of m.output) {
    assert.equal(typeof f.type, 'string');
    assert.match(f.url, /^https?:\/\/.+\/fhir\/_bulk\/[0-9a-f]+\/.+\.ndjson$/);
    assert.equal(typeof f.count, 'number');
  }
  return m;
}

/** Downloads one output file; returns its parsed lines (checking count when given). */
export async function download(server, file, headers = {}) {
  const res = await server.get(file.url, { headers: { accept: 'application/fhir+ndjson', ...headers } });
  assert.equal(res.status, 200, `GET ${file.url}: ${res.status} ${res.text.slice(0, 200)}`);
  assert.match(String(res.headers.get('content-type')), /^application\/fhir\+ndjson/);
  const lines = res.text.split('\n').filter((l) => l.length > 0);
  if (typeof file.count === 'number') assert.equal(lines.length, file.count, `${file.url}: ${lines.length} lines, manifest says ${file.count}`);
  return { lines: lines.map((l) => JSON.parse(l)), raw: lines, res };
}

/** Every resource of a manifest's output, as { type -> Map(id -> resource) }. */
export async function downloadAll(server, manifest) {
  const byType = new Map();
  for (const f of manifest.output) {
    const { lines } = await download(server, f);
    if (!byType.has(f.type)) byType.set(f.type, new Map());
    for (const r of lines) {
      assert.equal(r.resourceType, f.type, `${f.url} holds a ${r.resourceType}`);
      assert.ok(!byType.get(f.type).has(r.id), `${f.type}/${r.id} exported twice`);
      byType.get(f.type).set(r.id, r);
    }
  }
  return byType;
}

/** Generates `patients` synthetic patients straight into a database (carechart demo-data --db). */
export function demoDataInto(db, patients) {
  const r = spawnSync(binaryPath(), backendArgs(['demo-data', '--patients', String(patients), '--db', db, '--log-level', 'warn']), { encoding: 'utf8', timeout: 300000 });
  assert.equal(r.status, 0, `demo-data failed: ${r.stderr}`);
  const m = /(\d+) resources/.exec(r.stdout + r.stderr);
  return m ? Number(m[1]) : null;
}

/** Peak resident memory (VmHWM) of a process in MB, from /proc. */
export function peakRssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmHWM:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : NaN;
}
