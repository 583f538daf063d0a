// GET /metrics (Prometheus text format) on every node: request counts by area and status class,
// a latency histogram and the store's write counters (docs/deploy.md, "Monitoring"). Runs on
// both backends.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../conformance/server.mjs';

let s;
before(async () => {
  s = await startServer();
});
after(async () => {
  await s?.cleanup();
});

async function scrape() {
  const res = await fetch(`${s.origin}/metrics`);
  const text = await res.text();
  assert.equal(res.status, 200, text.slice(0, 300));
  assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const values = new Map();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+(?:\{[^}]*\})?) ([0-9.e+-]+)$/.exec(line);
    if (m) values.set(m[1], Number(m[2]));
  }
  return { text, values };
}

test('/metrics counts requests, their time and the store\'s writes', async () => {
  const before = await scrape();
  assert.match(before.text, /# TYPE carechart_http_requests_total counter/);
  assert.match(before.text, /# TYPE carechart_http_request_duration_seconds histogram/);
  const ok = 'carechart_http_requests_total{area="fhir",code="2xx"}';
  const notFound = 'carechart_http_requests_total{area="fhir",code="4xx"}';
  const commits = 'carechart_store_commits_total';
  for (let i = 0; i < 3; i++) await s.create({ resourceType: 'Patient', name: [{ family: `Metrics${i}` }] });
  assert.equal((await s.get('Patient/no-such-patient-here')).status, 404);
  const after = await scrape();
  assert.ok(after.values.get(ok) >= before.values.get(ok) + 3, `three 2xx more: ${before.values.get(ok)} → ${after.values.get(ok)}`);
  assert.ok(after.values.get(notFound) >= before.values.get(notFound) + 1, 'one 4xx more');
  assert.ok(after.values.get(commits) >= before.values.get(commits) + 3, `three commits more: ${before.values.get(commits)} → ${after.values.get(commits)}`);
  const count = after.values.get('carechart_http_request_duration_seconds_count{area="fhir"}');
  assert.ok(count >= after.values.get(ok), 'every FHIR request is in the histogram');
  assert.ok(after.values.get('carechart_start_time_seconds') > 1.7e9, 'start time is a Unix time');
});
