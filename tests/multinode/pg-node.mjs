// `carechart serve` on a PostgreSQL database the test names itself (a primary and its replicas
// made with scripts/pg-temp.sh), for the replica and failover tests: the harness's startServer()
// maps --db to the suite's one server, which these tests must be able to stop.
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import assert from 'node:assert/strict';
import { backendToken, binaryPath, clientAssertion, parseJsonText, REPO_ROOT, TEST_CLIENT_ID, TEST_SCOPE } from '../conformance/server.mjs';

const PG_TEMP = path.join(REPO_ROOT, 'scripts/pg-temp.sh');

/** Runs scripts/pg-temp.sh ACTION ARGS...; returns its output (a URI for start/replica). */
export function pgTemp(...args) {
  return execFileSync('bash', [PG_TEMP, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

export function psql(uri, sql) {
  return execFileSync('psql', [uri, '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' }).trim();
}

/**
 * Holds the resource table locked (ACCESS EXCLUSIVE, in an open psql transaction) so that a
 * Bulk Data export, once claimed, waits at its first read while statements on bulk_job (claim,
 * lease renewals) go on. Resolves { release() }; release() may be called more than once.
 */
export async function lockResourceTable(uri) {
  const locker = spawn('psql', [uri, '-XAtq', '-v', 'ON_ERROR_STOP=1'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  locker.stdout.on('data', (d) => (out += d));
  locker.stdin.write("BEGIN; LOCK TABLE resource IN ACCESS EXCLUSIVE MODE; SELECT 'locked';\n");
  for (let i = 0; i < 100 && !out.includes('locked'); i++) await delay(50);
  if (!out.includes('locked')) throw new Error(`could not lock the resource table: ${out}`);
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      locker.stdin.write('ROLLBACK;\n');
      locker.stdin.end();
    },
  };
}

/**
 * Waits until Bulk Data job `jobId` runs under a lease; resolves { owner, holder }, holder being
 * the node of `nodes` whose pid the lease owner names.
 */
export async function waitJobHolder(uri, jobId, nodes) {
  let owner = '';
  for (let i = 0; i < 100 && !owner; i++) {
    owner = psql(uri, `SELECT lease_owner FROM bulk_job WHERE id = '${jobId}' AND state = 'running'`);
    if (!owner) await delay(100);
  }
  if (!owner) throw new Error(`job ${jobId} was not started by any node`);
  const holder = nodes.find((n) => owner.includes(`:${n.pid}:`));
  if (!holder) throw new Error(`the lease owner ${owner} is none of the nodes`);
  return { owner, holder };
}

/** carechart CLI with explicit arguments (no --db mapping). */
export function carechart(args, { input } = {}) {
  return execFileSync(binaryPath(), args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Starts serve with `args`; resolves { origin, child, stderr(), stop(), kill9(), token }. */
export async function startNode(args, { timeoutMs = 30000, withToken = true } = {}) {
  const child = spawn(binaryPath(), ['serve', '--host', '127.0.0.1', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-65536)));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const origin = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no listening line within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    let buf = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      buf += d;
      const m = /carechart: listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`carechart exited (${code ?? signal}) before listening\n${stderr}`));
    });
  });
  const node = {
    origin,
    child,
    stderr: () => stderr,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(timer);
    },
    token: null,
  };
  if (withToken) node.token = (await backendToken(origin)).access_token;
  return node;
}

/** fetch() on a node with its token; resolves { status, json, text, ms }. */
export async function call(node, method, p, { body, headers = {}, token = node.token, timeoutMs = 30000 } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  if (body !== undefined) h['content-type'] = 'application/fhir+json';
  const started = Date.now();
  const res = await fetch(`${node.origin}/fhir/${p}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  const json = parseJsonText(text);
  return { status: res.status, json, text, ms: Date.now() - started };
}

/**
 * Requests to nodes of the harness (startServer) that share one public origin (their
 * --public-base-url without /fhir), as behind a load balancer: URLs the server builds name that
 * origin and are sent to the node asked; other paths are FHIR paths (node.url). `bearer()` gives
 * the default token. Returns { onNode, call, tokenFrom }:
 *   call(node, method, path, { body, headers, bearer }) resolves { status, headers, text, json };
 *   tokenFrom(node, scope) resolves a client-credentials access token of the test client.
 */
export function sharedOriginClient(publicOrigin, bearer = () => null) {
  const onNode = (node, url) => (url.startsWith(publicOrigin) ? node.origin + url.slice(publicOrigin.length) : node.url(url));
  async function call(node, method, p, { body, headers = {}, bearer: token = bearer() } = {}) {
    const h = { ...headers };
    if (token) h.authorization = `Bearer ${token}`;
    if (body !== undefined && !h['content-type']) h['content-type'] = 'application/fhir+json';
    const res = await fetch(onNode(node, p), { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), redirect: 'manual' });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: parseJsonText(text) };
  }
  async function tokenFrom(node, scope = TEST_SCOPE) {
    const res = await fetch(`${node.origin}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        scope,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: clientAssertion(`${publicOrigin}/auth/token`, { clientId: TEST_CLIENT_ID }),
      }),
    });
    const json = await res.json();
    assert.equal(res.status, 200, `token from ${node.origin}: ${JSON.stringify(json)}`);
    return json.access_token;
  }
  return { onNode, call, tokenFrom };
}
