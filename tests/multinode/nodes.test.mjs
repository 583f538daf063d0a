// Several stateless API nodes on one PostgreSQL database (issue #7, docs/deploy.md, decisions
// D39): three `carechart serve --postgres` processes on loopback share one database, as they would
// behind nginx (same --public-base-url, so tokens name one issuer and audience).
//   - the same If-Match update sent to two nodes at once: exactly one wins;
//   - a token issued by one node is accepted by the others (the signing key is in the database:
//     every node publishes the same JWKS);
//   - a browser sign-in started on one node is finished on another and its code exchanged on a
//     third (the sign-in session and codes are rows, not node memory);
//   - a write on one node is read at once on another (no node-local cache);
//   - Bulk Data jobs: each run by exactly one node under a lease, its files downloadable from any
//     node (a shared --bulk-dir), and taken over by another node when its holder is killed (-9).
// PostgreSQL only: on SQLite one file has one server, so there is nothing to test (skipped, said).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import path from 'node:path';
import { backendName, makeTempDir, postgresUriFor, provisionTestClient, removeTempDir, runCli, startServer } from '../conformance/server.mjs';
import { lockResourceTable, psql, sharedOriginClient, waitJobHolder } from './pg-node.mjs';

const onPostgres = backendName() === 'postgres';
const skip = onPostgres ? false : 'needs CARECHART_BACKEND=postgres (scripts/test-postgres.sh runs it)';
if (!onPostgres) console.log(`# multinode: skipped: ${skip}`);

const PUBLIC = 'http://carechart.multinode.test'; // the origin; --public-base-url is PUBLIC/fhir
const LEASE_SECONDS = 2;
const PASSWORD = 'multinode sign-in passphrase 7';
let dir;
let db;
let uri;
const nodes = [];
let token;
// Requests go to a node directly; URLs the server builds name the public base, mapped here.
const { onNode, call, tokenFrom } = sharedOriginClient(PUBLIC, () => token);

// A node: the test harness's server with this test's shared settings. The first one provisions
// the test client; every node gets the same database, public URL and Bulk Data folder.
async function startNode() {
  const args = ['--facility', 'F1', '--public-base-url', `${PUBLIC}/fhir`, '--bulk-dir', path.join(dir, 'bulk'), '--bulk-lease-seconds', String(LEASE_SECONDS), '--bulk-page-size', '1'];
  const node = await startServer({ db, args, auth: false });
  nodes.push(node);
  return node;
}

before(async () => {
  if (!onPostgres) return;
  dir = makeTempDir('carechart-multinode-');
  db = path.join(dir, 'carechart.db');
  uri = postgresUriFor(db);
  provisionTestClient(db);
  runCli(['user', 'add', 'dr-multi', '--db', db, '--role', 'physician', '--facility', 'F1', '--practitioner', 'pr-multi', '--password-stdin'], { input: `${PASSWORD}\n` });
  // Three nodes starting at once: migrations and the signing key are made exactly once.
  await Promise.all([startNode(), startNode(), startNode()]);
  token = await tokenFrom(nodes[0]);
});

after(async () => {
  for (const n of nodes) await n.cleanup().catch(() => {});
  removeTempDir(dir);
});

test('every node publishes the one signing key, and accepts tokens issued by the others', { skip }, async () => {
  assert.equal(Number(psql(uri, 'SELECT count(*) FROM auth_signing_key')), 1, 'three nodes started together stored one key');
  const jwks = await Promise.all(nodes.map(async (n) => (await call(n, 'GET', '/auth/jwks', { bearer: null })).text));
  assert.ok(jwks[0].includes('"kty"'), jwks[0]);
  assert.equal(jwks[1], jwks[0]);
  assert.equal(jwks[2], jwks[0]);
  for (const issuer of nodes) {
    const t = await tokenFrom(issuer, 'system/Patient.rs');
    for (const n of nodes) {
      const res = await call(n, 'GET', 'Patient?_count=1', { bearer: t });
      assert.equal(res.status, 200, `token of ${issuer.origin} on ${n.origin}: ${res.text.slice(0, 300)}`);
    }
  }
  // A revocation on one node reaches the others (within their revocation poll).
  const t = await tokenFrom(nodes[0], 'system/Patient.rs');
  const rev = await fetch(`${nodes[1].origin}/auth/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: t }),
  });
  assert.equal(rev.status, 200, await rev.text());
  let refused = false;
  for (let i = 0; i < 40 && !refused; i++) {
    refused = (await call(nodes[2], 'GET', 'Patient?_count=1', { bearer: t })).status === 401;
    if (!refused) await delay(250);
  }
  assert.ok(refused, 'a token revoked on node 2 is refused by node 3 within 10 s');
});

test('the same If-Match update sent to two nodes at once: exactly one wins', { skip }, async () => {
  for (let round = 0; round < 5; round++) {
    const created = await call(nodes[0], 'POST', 'Patient', { body: { resourceType: 'Patient', name: [{ family: `Race${round}` }] } });
    assert.equal(created.status, 201, created.text);
    const id = created.json.id;
    const put = (n, family) => call(n, 'PUT', `Patient/${id}`, { body: { resourceType: 'Patient', id, name: [{ family }] }, headers: { 'if-match': 'W/"1"' } });
    const results = await Promise.all([put(nodes[1], 'FromB'), put(nodes[2], 'FromC')]);
    const statuses = results.map((r) => r.status).sort();
    assert.equal(statuses.filter((s) => s === 200).length, 1, `round ${round}: exactly one 200, got ${statuses}: ${results.map((r) => r.text.slice(0, 200)).join(' | ')}`);
    assert.ok([409, 412].includes(statuses.find((s) => s !== 200)), `round ${round}: the loser gets 409/412, got ${statuses}`);
    const winner = results.find((r) => r.status === 200).json.name[0].family;
    const read = await call(nodes[0], 'GET', `Patient/${id}`);
    assert.equal(read.json.meta.versionId, '2');
    assert.equal(read.json.name[0].family, winner, 'the stored version is the winner\'s');
  }
});

test('updates without If-Match sent to two nodes at once all apply, one version each', { skip }, async () => {
  const created = await call(nodes[0], 'POST', 'Patient', { body: { resourceType: 'Patient', name: [{ family: 'Busy' }] } });
  const id = created.json.id;
  // Six writers: a loser reruns its write (up to 8 attempts) and can lose at most five times.
  const results = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => call(nodes[i % 2], 'PUT', `Patient/${id}`, { body: { resourceType: 'Patient', id, name: [{ family: `Busy${i}` }] } })));
  for (const r of results) assert.equal(r.status, 200, r.text.slice(0, 300));
  assert.deepEqual(results.map((r) => Number(r.json.meta.versionId)).sort((a, b) => a - b), [2, 3, 4, 5, 6, 7]);
  const hist = await call(nodes[2], 'GET', `Patient/${id}/_history`);
  assert.equal(hist.json.entry.length, 7);
});

test('a write on one node is read at once on the others (reads, searches, history)', { skip }, async () => {
  const tag = crypto.randomBytes(4).toString('hex');
  const created = await call(nodes[0], 'POST', 'Patient', { body: { resourceType: 'Patient', name: [{ family: `Fresh${tag}` }] } });
  const id = created.json.id;
  for (let v = 2; v <= 11; v++) {
    const writer = nodes[v % 3];
    const reader = nodes[(v + 1) % 3];
    const family = `Fresh${tag}v${v}`;
    const up = await call(writer, 'PUT', `Patient/${id}`, { body: { resourceType: 'Patient', id, name: [{ family }] } });
    assert.equal(up.status, 200, up.text);
    const read = await call(reader, 'GET', `Patient/${id}`);
    assert.equal(read.json.meta.versionId, String(v), `version ${v} written on ${writer.origin}, read on ${reader.origin}`);
    const found = await call(reader, 'GET', `Patient?family=${family}`);
    assert.equal(found.json.total ?? found.json.entry?.length, 1, `search on another node finds ${family}`);
  }
  const hist = await call(nodes[1], 'GET', `Patient/${id}/_history`);
  assert.equal(hist.json.entry.length, 11);
  const del = await call(nodes[2], 'DELETE', `Patient/${id}`);
  assert.equal(del.status, 204);
  assert.equal((await call(nodes[0], 'GET', `Patient/${id}`)).status, 410);
});

test('a browser sign-in begun on one node finishes on another; the code is exchanged on a third', { skip }, async () => {
  const app = http.createServer((req, res) => res.end('app'));
  await new Promise((r) => app.listen(0, '127.0.0.1', r));
  try {
    const redirectUri = `http://127.0.0.1:${app.address().port}/cb`;
    runCli(['client', 'add', 'multi-app', '--db', db, '--kind', 'public', '--redirect-uri', redirectUri, '--name', 'Multinode app']);
    const verifier = crypto.randomBytes(32).toString('base64url');
    const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
    const q = new URLSearchParams({ response_type: 'code', client_id: 'multi-app', redirect_uri: redirectUri, scope: 'openid fhirUser user/Patient.rs', state: 'st', aud: `${PUBLIC}/fhir`, code_challenge: challenge, code_challenge_method: 'S256' });
    const cookies = new Map();
    const browse = async (node, url, init = {}) => {
      const headers = { ...(init.headers ?? {}), cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
      const res = await fetch(onNode(node, url), { ...init, headers, redirect: 'manual' });
      for (const c of res.headers.getSetCookie()) {
        const [k, v] = c.split(';')[0].split('=');
        cookies.set(k, v);
      }
      return { res, text: await res.text() };
    };
    let page = await browse(nodes[0], `/auth/authorize?${q}`);
    for (let i = 0; i < 3 && [302, 303].includes(page.res.status); i++) page = await browse(nodes[0], page.res.headers.get('location'));
    assert.equal(page.res.status, 200, page.text.slice(0, 300));
    const csrf = /name=csrf value='([^']+)'/.exec(page.text)?.[1];
    assert.ok(csrf, 'the sign-in page (node 1) has a CSRF token');
    // The form is posted to node 2: it must know the session node 1 began.
    let done = await browse(nodes[1], '/auth/authorize', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf, username: 'dr-multi', password: PASSWORD }).toString() });
    assert.ok([302, 303].includes(done.res.status), `node 2 accepts node 1's sign-in session: ${done.res.status} ${done.text.slice(0, 300)}`);
    const location = new URL(done.res.headers.get('location'), PUBLIC);
    assert.equal(location.origin + location.pathname, redirectUri, `redirected to the app: ${location}`);
    const code = location.searchParams.get('code');
    assert.ok(code, `a code: ${location}`);
    const tok = await fetch(`${nodes[2].origin}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, client_id: 'multi-app', redirect_uri: redirectUri }),
    });
    const tj = await tok.json();
    assert.equal(tok.status, 200, `node 3 exchanges node 2's code: ${JSON.stringify(tj)}`);
    const again = await fetch(`${nodes[0].origin}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, client_id: 'multi-app', redirect_uri: redirectUri }),
    });
    await again.arrayBuffer();
    assert.equal(again.status, 400, 'the code is single-use across nodes');
    const read = await call(nodes[0], 'GET', 'Patient?_count=1', { bearer: tj.access_token });
    assert.equal(read.status, 200, read.text.slice(0, 300));
  } finally {
    app.close();
  }
});

// Bulk Data: kick-off on one node, status and files on the others.
async function kickoff(node, query = '_type=Patient') {
  const res = await call(node, 'GET', `$export?${query}`, { headers: { accept: 'application/fhir+json', prefer: 'respond-async' } });
  assert.equal(res.status, 202, res.text.slice(0, 300));
  return res.headers.get('content-location');
}
async function waitDone(node, statusUrl, timeoutMs = 40000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const res = await call(node, 'GET', statusUrl);
    if (res.status === 200) return res.json;
    assert.equal(res.status, 202, `status: ${res.text.slice(0, 300)}`);
    await delay(200);
  }
  throw new Error(`the job ${statusUrl} did not finish within ${timeoutMs} ms`);
}
async function patientIdsOf(node, manifest) {
  const ids = [];
  for (const f of manifest.output.filter((o) => o.type === 'Patient')) {
    const res = await call(node, 'GET', f.url, { headers: { accept: 'application/fhir+ndjson' } });
    assert.equal(res.status, 200, `file ${f.url} from ${node.origin}: ${res.text.slice(0, 200)}`);
    for (const line of res.text.split('\n').filter(Boolean)) ids.push(JSON.parse(line).id);
  }
  return ids.sort();
}

test('Bulk Data jobs: each claimed by exactly one node; files served by every node', { skip }, async () => {
  const want = JSON.parse((await call(nodes[0], 'GET', 'Patient?_count=500&_elements=id')).text).entry.map((e) => e.resource.id).sort();
  const urls = [];
  for (let i = 0; i < 6; i++) urls.push(await kickoff(nodes[i % 3]));
  for (let i = 0; i < urls.length; i++) {
    const manifest = await waitDone(nodes[(i + 1) % 3], urls[i]);
    assert.deepEqual(await patientIdsOf(nodes[(i + 2) % 3], manifest), want, 'every Patient, from a third node');
  }
  const rows = psql(uri, "SELECT attempts || ' ' || state || ' ' || lease_owner FROM bulk_job ORDER BY created_us").split('\n');
  assert.equal(rows.length, 6);
  for (const r of rows) assert.match(r, /^1 completed \S+$/, `one run by one node: ${r}`);
});

test('Bulk Data: a job whose node is killed (-9) is taken over by another node', { skip }, async () => {
  // Hold the resource table so that the export, once claimed, stops at its first read; then kill
  // the node holding it. Statements on bulk_job (claim, lease renewals) are not blocked.
  const lock = await lockResourceTable(uri);
  try {
    const statusUrl = await kickoff(nodes[0]);
    const jobId = statusUrl.split('/').pop();
    const { owner, holder } = await waitJobHolder(uri, jobId, nodes);
    await holder.kill9();
    lock.release();
    const survivor = nodes.find((n) => n !== holder && !n.exitStatus);
    const manifest = await waitDone(survivor, statusUrl, 30000);
    const row = psql(uri, `SELECT attempts || ' ' || state || ' ' || lease_owner FROM bulk_job WHERE id = '${jobId}'`);
    const [attempts, state, newOwner] = row.split(' ');
    assert.equal(state, 'completed');
    assert.equal(attempts, '2', 'run once by the killed node, once by the one that took it over');
    assert.notEqual(newOwner, owner, 'another node finished it');
    const want = JSON.parse((await call(survivor, 'GET', 'Patient?_count=500&_elements=id')).text).entry.map((e) => e.resource.id).sort();
    assert.deepEqual(await patientIdsOf(survivor, manifest), want);
  } finally {
    lock.release();
  }
});
