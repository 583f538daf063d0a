// Shared helper for the black-box suites: starts the real `carechart` binary on a temporary
// database and a free port, and always stops it (after() hooks + a process 'exit' handler).
//
// Environment:
//   CARECHART_BIN          path to the binary (default <repo>/build/src/app/carechart)
//   CARECHART_SHARED_DATA  shared test data folder (default <repo>/../shared/data)
//   CARECHART_TEST_KEEP=1  keep temp dirs (for debugging)
//   CARECHART_BACKEND=postgres with CARECHART_TEST_POSTGRES_URI (a server's URI, e.g. from
//                          scripts/pg-temp.sh): every database path a test uses is mapped to a
//                          fresh PostgreSQL database of that server, and `--db PATH` of the
//                          servers and of runCli() gains `--postgres URI` (docs/postgres.md)
//
// Authentication: every FHIR request needs an OAuth access token. startServer() registers a SMART
// backend client ("carechart-tests", an ES384 key made here with node:crypto) in the database,
// then gets a system/*.cruds token through client_credentials with a signed client assertion
// (private_key_jwt), exactly as a real backend service would. server.request/get/post/put/...,
// server.client() and rawHttp() attach it unless told { auth: false }, or another { token }.

import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { Client } from 'fhir-kit-client';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(HERE, '../..');

export const FACILITY_SYSTEM = 'https://carechart.dev/fhir/CodeSystem/facility';
export const FHIR_JSON_CT = /^application\/fhir\+json;\s*charset=utf-8$/i;

export function binaryPath() {
  return process.env.CARECHART_BIN
    ? path.resolve(process.env.CARECHART_BIN)
    : path.resolve(HERE, '../../build/src/app/carechart');
}

export function sharedDataDir() {
  return process.env.CARECHART_SHARED_DATA
    ? path.resolve(process.env.CARECHART_SHARED_DATA)
    : path.resolve(REPO_ROOT, '../shared/data');
}

export function makeTempDir(prefix = 'carechart-test-') {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

// PostgreSQL backend: database path -> URI of the database made for it (the same path gets the
// same database, so a restarted server finds its data).
const PG_SERVER = process.env.CARECHART_BACKEND === 'postgres' ? process.env.CARECHART_TEST_POSTGRES_URI : '';
if (process.env.CARECHART_BACKEND === 'postgres' && !PG_SERVER) {
  throw new Error('CARECHART_BACKEND=postgres needs CARECHART_TEST_POSTGRES_URI (scripts/pg-temp.sh start DIR prints one)');
}
const pgDatabases = new Map();

export function backendName() {
  return PG_SERVER ? 'postgres' : 'sqlite';
}

/** The PostgreSQL URI standing for database file `db` (made on first use), or null on SQLite. */
export function postgresUriFor(db) {
  if (!PG_SERVER) return null;
  const key = path.resolve(db);
  if (!pgDatabases.has(key)) {
    const name = `n${crypto.createHash('sha256').update(`${process.pid}:${key}`).digest('hex').slice(0, 20)}`;
    execFileSync('createdb', [`--maintenance-db=${PG_SERVER}`, name], { stdio: ['ignore', 'pipe', 'pipe'] });
    const u = new URL(PG_SERVER);
    u.pathname = `/${name}`;
    pgDatabases.set(key, u.toString());
  }
  return pgDatabases.get(key);
}

/** `args` with `--postgres URI` after every `--db PATH` on the PostgreSQL backend. */
export function backendArgs(args) {
  if (!PG_SERVER) return args;
  const out = [];
  for (let i = 0; i < args.length; i++) {
    // --db stays: files kept beside the database (Bulk Data jobs) still go to its folder.
    if (args[i] === '--db' && i + 1 < args.length) {
      out.push('--db', args[i + 1], '--postgres', postgresUriFor(args[++i]));
    } else if (args[i].startsWith('--db=')) {
      out.push(args[i], '--postgres', postgresUriFor(args[i].slice(5)));
    } else {
      out.push(args[i]);
    }
  }
  return out;
}

/**
 * A copy of database `from` (a stopped server's) under the path `to`: the file with its WAL on
 * SQLite, a new database made from it as a template on PostgreSQL. Returns `to`.
 */
export function copyDatabase(from, to) {
  if (!PG_SERVER) {
    copyFileSync(from, to);
    for (const ext of ['-wal', '-shm']) if (existsSync(from + ext)) copyFileSync(from + ext, to + ext);
    return to;
  }
  const source = new URL(postgresUriFor(from)).pathname.slice(1);
  const name = `n${crypto.createHash('sha256').update(`${process.pid}:${path.resolve(to)}`).digest('hex').slice(0, 20)}`;
  execFileSync('createdb', [`--maintenance-db=${PG_SERVER}`, '-T', source, name], { stdio: ['ignore', 'pipe', 'pipe'] });
  const u = new URL(PG_SERVER);
  u.pathname = `/${name}`;
  pgDatabases.set(path.resolve(to), u.toString());
  return to;
}

/** Runs SQL on database `db` outside the server: `sqlite3` on SQLite, `psql` on PostgreSQL. */
export function runSql(db, { sqlite, postgres }) {
  if (!PG_SERVER) return execFileSync('sqlite3', [db, sqlite], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-At', '-d', postgresUriFor(db), '-c', postgres], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function removeTempDir(dir) {
  if (dir && !process.env.CARECHART_TEST_KEEP) rmSync(dir, { recursive: true, force: true });
}

// Every child we start, so that a crashing test run never leaves a server behind.
const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

const LISTEN_RE = /^carechart: listening on (https?:\/\/127\.0\.0\.1:(\d+))\s*$/; // https: --tls-cert

// ---- credentials ----

export const TEST_CLIENT_ID = 'carechart-tests';
export const TEST_SCOPE = 'system/*.cruds';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

// One ES384 key pair per test process: the backend client's private key and its JWKS.
let testKeys = null;
export function testClientKeys() {
  if (!testKeys) {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'carechart-tests-1', alg: 'ES384', use: 'sig' };
    testKeys = { privateKey, jwks: { keys: [jwk] }, kid: jwk.kid };
  }
  return testKeys;
}

const b64url = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** A compact JWS signed with `privateKey` (ES384/ES256 as IEEE P1363 r||s, RS* as PKCS#1 v1.5). */
export function signJwt(claims, { privateKey, kid, alg = 'ES384', header = {} }) {
  const input = `${b64url({ alg, typ: 'JWT', kid, ...header })}.${b64url(claims)}`;
  const hash = alg.endsWith('384') ? 'sha384' : 'sha256';
  const sig = crypto.sign(hash, Buffer.from(input), alg.startsWith('ES') ? { key: privateKey, dsaEncoding: 'ieee-p1363' } : privateKey);
  return `${input}.${sig.toString('base64url')}`;
}

/** A client assertion (SMART Backend Services) for `clientId` at `tokenUrl`. */
export function clientAssertion(tokenUrl, { clientId = TEST_CLIENT_ID, keys = testClientKeys(), jti = crypto.randomUUID(), exp, alg = 'ES384' } = {}) {
  const now = Math.floor(Date.now() / 1000);
  return signJwt({ iss: clientId, sub: clientId, aud: tokenUrl, exp: exp ?? now + 240, jti }, { privateKey: keys.privateKey, kid: keys.kid, alg });
}

/** Runs `carechart ARGS...` to completion and returns its stdout (throws on a non-zero exit). */
export function runCli(args, { input } = {}) {
  return execFileSync(binaryPath(), backendArgs(args), { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Registers the test backend client in `db` (the file is created when absent). */
export function provisionTestClient(db) {
  const dir = makeTempDir('carechart-keys-');
  try {
    const file = path.join(dir, 'jwks.json');
    writeFileSync(file, JSON.stringify(testClientKeys().jwks));
    runCli(['client', 'add', TEST_CLIENT_ID, '--db', db, '--kind', 'backend', '--jwks', file, '--scope', TEST_SCOPE, '--name', 'Carechart tests']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Access token per server origin, for rawHttp() calls that name only a URL.
const originTokens = new Map();

/** client_credentials with a signed assertion; resolves the token response JSON (throws otherwise). */
export async function backendToken(origin, { scope = TEST_SCOPE, clientId = TEST_CLIENT_ID, keys } = {}) {
  const tokenUrl = `${origin}/auth/token`;
  const body = new URLSearchParams({
    grant_type: 'client_credentials',
    scope,
    client_assertion_type: JWT_BEARER,
    client_assertion: clientAssertion(tokenUrl, { clientId, keys }),
  });
  const res = await fetch(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`token request failed (${res.status}): ${text}`);
  return JSON.parse(text);
}

function withAuth(headers, origin, { auth = true, token } = {}) {
  const out = { ...headers };
  if (auth === false) return out;
  if (Object.keys(out).some((h) => h.toLowerCase() === 'authorization')) return out;
  const t = token ?? originTokens.get(origin);
  if (t) out.authorization = `Bearer ${t}`;
  return out;
}

/**
 * Start `carechart serve`. Options:
 *   db        database file (default: <fresh temp dir>/carechart.db; the temp dir is removed by cleanup())
 *   args      extra CLI arguments, e.g. ['--facility', 'org-1', '--max-body-bytes', '4096']
 *   timeoutMs how long to wait for the listening line (default 30 s)
 *   auth      false: do not register the test client nor fetch a token (server.token stays null)
 */
export async function startServer({ db, args = [], timeoutMs = 30000, auth = true } = {}) {
  const bin = binaryPath();
  if (!existsSync(bin)) {
    throw new Error(`carechart binary not found at ${bin}: build it (ninja -C build) or set CARECHART_BIN`);
  }
  let tmpDir = null;
  if (!db) {
    tmpDir = makeTempDir();
    db = path.join(tmpDir, 'carechart.db');
  }
  if (auth) provisionTestClient(db);
  const argv = backendArgs(['serve', '--db', db, '--host', '127.0.0.1', '--port', '0', ...args]);
  const child = spawn(bin, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);

  let stderr = '';
  let stdout = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-65536);
  });

  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });

  const origin = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`carechart did not print its listening line within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    let buf = '';
    let found = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      stdout = (stdout + d).slice(-65536);
      if (found) return;
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = LISTEN_RE.exec(line);
        if (m) {
          found = true;
          clearTimeout(timer);
          resolve(m[1]);
          return;
        }
      }
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    exited.then(({ code, signal }) => {
      if (!found) {
        clearTimeout(timer);
        reject(new Error(`carechart exited (code ${code}, signal ${signal}) before listening\nargs: ${argv.join(' ')}\nstdout: ${stdout}\nstderr: ${stderr}`));
      }
    });
  });

  const server = new Server({ child, origin, db, tmpDir, exited, stderr: () => stderr, stdout: () => stdout });
  if (auth) {
    try {
      server.token = (await backendToken(origin)).access_token;
    } catch (e) {
      child.kill('SIGKILL');
      throw new Error(`${e.message}\nstderr: ${stderr}`);
    }
    originTokens.set(origin, server.token);
  }
  return server;
}

export class Server {
  constructor({ child, origin, db, tmpDir, exited, stderr, stdout }) {
    this.child = child;
    this.pid = child.pid;
    this.origin = origin;
    this.port = Number(new URL(origin).port);
    this.fhirBase = `${origin}/fhir`;
    this.db = db;
    this.tmpDir = tmpDir;
    this.exited = exited;
    this.stderr = stderr;
    this.stdout = stdout;
    this.exitStatus = null;
    this.token = null; // the test client's system/*.cruds access token (set by startServer)
    exited.then((s) => {
      this.exitStatus = s;
    });
  }

  client(options = {}) {
    const { auth = true, token, ...rest } = options;
    const bearerToken = auth === false ? undefined : token ?? this.token ?? undefined;
    return new Client({ baseUrl: this.fhirBase, ...(bearerToken ? { bearerToken } : {}), ...rest });
  }

  /** Another access token for the test client, e.g. with narrower scopes. */
  async tokenFor(scope) {
    return (await backendToken(this.origin, { scope })).access_token;
  }

  // '/x' is relative to the origin, 'Patient/1' to the FHIR base; absolute URLs pass through.
  url(p) {
    if (/^https?:/i.test(p)) return p;
    if (p.startsWith('/')) return this.origin + p;
    return `${this.fhirBase}/${p}`;
  }

  /** fetch() with the body read and parsed. Returns { status, headers, text, json }. */
  async request(method, p, { headers = {}, body, auth = true, token } = {}) {
    const init = { method, headers: withAuth(headers, this.origin, { auth, token: token ?? this.token ?? undefined }) };
    if (body !== undefined) {
      init.body = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
      const hasCt = Object.keys(init.headers).some((h) => h.toLowerCase() === 'content-type');
      if (!hasCt) init.headers['content-type'] = 'application/fhir+json';
    }
    const res = await fetch(this.url(p), init);
    const text = await res.text();
    const json = parseJsonText(text);
    return { status: res.status, headers: res.headers, text, json, url: this.url(p), method };
  }

  get(p, opts) {
    return this.request('GET', p, opts);
  }
  post(p, body, opts = {}) {
    return this.request('POST', p, { ...opts, body });
  }
  put(p, body, opts = {}) {
    return this.request('PUT', p, { ...opts, body });
  }

  /** Create via raw HTTP and return the created resource (asserting 201). */
  async create(resource) {
    const res = await this.post(resource.resourceType, resource);
    assert.equal(res.status, 201, `create ${resource.resourceType}: expected 201, got ${res.status}: ${res.text.slice(0, 500)}`);
    assert.ok(res.json && res.json.id, `create ${resource.resourceType}: response body has no id: ${res.text.slice(0, 300)}`);
    return res.json;
  }

  /** Number of resources of a type, via `?_summary=count`. */
  async count(type) {
    const res = await this.get(`${type}?_summary=count`);
    assert.equal(res.status, 200, `GET ${type}?_summary=count: expected 200, got ${res.status}: ${res.text.slice(0, 300)}`);
    assert.equal(res.json?.resourceType, 'Bundle', `${type}?_summary=count must return a Bundle`);
    assert.equal(typeof res.json.total, 'number', `${type}?_summary=count must carry Bundle.total: ${res.text.slice(0, 300)}`);
    return res.json.total;
  }

  async assertHealthy(context = '') {
    const res = await fetch(`${this.origin}/healthz`);
    await res.arrayBuffer();
    assert.equal(res.status, 200, `server not healthy ${context}: /healthz returned ${res.status}`);
    assert.equal(this.exitStatus, null, `server exited ${context}: ${JSON.stringify(this.exitStatus)}\n${this.stderr()}`);
  }

  /** Graceful stop (SIGTERM). Resolves to { code, signal }. SIGKILLs after timeoutMs. */
  async stop({ timeoutMs = 15000 } = {}) {
    if (this.exitStatus) return this.exitStatus;
    this.child.kill('SIGTERM');
    let timer;
    const timedOut = new Promise((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const r = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (r === 'timeout') {
      this.child.kill('SIGKILL');
      await this.exited;
      throw new Error(`carechart did not exit within ${timeoutMs} ms of SIGTERM (killed)\n${this.stderr()}`);
    }
    return r;
  }

  async kill9() {
    if (this.exitStatus) return this.exitStatus;
    this.child.kill('SIGKILL');
    return this.exited;
  }

  /** Stop (if needed) and remove the temp dir this server created. */
  async cleanup() {
    try {
      if (!this.exitStatus) await this.stop();
    } finally {
      removeTempDir(this.tmpDir);
    }
  }
}

/**
 * Raw HTTP/1.1 over a plain socket, for what fetch() cannot do: forbidden methods (TRACE), huge
 * headers/URLs, and streaming huge bodies while watching for an early response. `body` may be a
 * Buffer/string or an (async) iterable of chunks; without a content-length header an iterable is
 * sent chunked. Writing stops as soon as a response starts to arrive or a write fails (the server
 * may answer 413 and close early); the response is still read. Resolves
 * { status, headers (a Headers), text, json, writeError, method, url }; rejects only when the
 * connection closes without any response. The server's access token is sent (Authorization)
 * unless { auth: false }, or { token } names another.
 */
/** The body as JSON, or undefined when it is empty or not JSON. */
export function parseJsonText(text) {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

export function rawHttp(urlStr, { method = 'GET', headers = {}, body, timeoutMs = 120000, auth = true, token } = {}) {
  const u = new URL(urlStr);
  const hdrs = { host: u.host, connection: 'close', ...withAuth(headers, u.origin, { auth, token }) };
  const names = Object.keys(hdrs).map((h) => h.toLowerCase());
  const isBuffer = typeof body === 'string' || body instanceof Uint8Array;
  const chunked = body !== undefined && !isBuffer && !names.includes('content-length');
  if (isBuffer && !names.includes('content-length')) hdrs['content-length'] = String(Buffer.byteLength(body));
  if (chunked) hdrs['transfer-encoding'] = 'chunked';
  const head = `${method} ${u.pathname}${u.search} HTTP/1.1\r\n${Object.entries(hdrs)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;

  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: u.hostname, port: Number(u.port) });
    let buf = Buffer.alloc(0);
    let responseStarted = false;
    let writeError = null;
    let done = false;
    const timer = setTimeout(() => finish(new Error(`${method} ${urlStr}: no complete response within ${timeoutMs} ms`)), timeoutMs);

    function finish(err, value) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(value);
    }

    function tryParse(final) {
      const sep = buf.indexOf('\r\n\r\n');
      if (sep < 0) return final ? finish(new Error(`${method} ${urlStr}: connection closed without a response${writeError ? ` (write error ${writeError.code})` : ''}`)) : undefined;
      const lines = buf.subarray(0, sep).toString('latin1').split('\r\n');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
      if (!m) return finish(new Error(`bad status line: ${lines[0]}`));
      const h = new Headers();
      for (const line of lines.slice(1)) {
        const i = line.indexOf(':');
        if (i > 0) h.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
      }
      let rest = buf.subarray(sep + 4);
      let bodyBuf;
      if (/chunked/i.test(h.get('transfer-encoding') ?? '')) {
        const parts = [];
        let off = 0;
        for (;;) {
          const nl = rest.indexOf('\r\n', off);
          if (nl < 0) break;
          const size = parseInt(rest.subarray(off, nl).toString('latin1'), 16);
          if (size === 0) {
            bodyBuf = Buffer.concat(parts);
            break;
          }
          if (rest.length < nl + 2 + size + 2) break;
          parts.push(rest.subarray(nl + 2, nl + 2 + size));
          off = nl + 2 + size + 2;
        }
        if (!bodyBuf && final) bodyBuf = Buffer.concat(parts);
      } else if (h.has('content-length')) {
        const len = Number(h.get('content-length'));
        if (rest.length >= len) bodyBuf = rest.subarray(0, len);
        else if (final) bodyBuf = rest;
      } else if (final || method === 'HEAD' || /^(1\d\d|204|304)$/.test(m[1])) {
        bodyBuf = rest;
      }
      if (!bodyBuf) return undefined;
      const text = bodyBuf.toString('utf8');
      const json = parseJsonText(text);
      return finish(null, { status: Number(m[1]), headers: h, text, json, writeError, method, url: urlStr });
    }

    sock.on('data', (d) => {
      responseStarted = true;
      buf = Buffer.concat([buf, d]);
      tryParse(false);
    });
    sock.on('end', () => tryParse(true));
    sock.on('close', () => tryParse(true));
    sock.on('error', (e) => {
      // EPIPE/ECONNRESET while we are still sending: keep whatever response already arrived.
      writeError = writeError ?? e;
      tryParse(true);
    });

    const write = (chunk) =>
      new Promise((res) => {
        if (done || responseStarted || writeError || sock.destroyed) return res(false);
        const ok = sock.write(chunk, (err) => {
          if (err) writeError = writeError ?? err;
        });
        // Yield to the event loop between writes so that an early response is seen promptly.
        if (ok) return setImmediate(() => res(!done && !responseStarted && !writeError));
        const cont = () => {
          sock.off('drain', cont);
          sock.off('close', cont);
          res(!done && !responseStarted && !writeError);
        };
        sock.on('drain', cont);
        sock.on('close', cont);
      });

    sock.on('connect', async () => {
      if (!(await write(head))) return;
      if (body === undefined) return;
      if (isBuffer) {
        await write(body);
        return;
      }
      try {
        for await (const chunk of body) {
          const c = Buffer.from(chunk);
          const ok = chunked ? await write(Buffer.concat([Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n')])) : await write(c);
          if (!ok) return;
        }
        if (chunked) await write('0\r\n\r\n');
      } catch (e) {
        writeError = writeError ?? e;
      }
    });
  });
}

/** Assert a response is an error carrying a well-formed OperationOutcome JSON body. */
export function assertOperationOutcome(res, context = '') {
  const where = `${res.method || ''} ${res.url || ''} ${context}`.trim();
  assert.ok(res.json, `${where}: expected an OperationOutcome JSON body, got (${res.status}) ${String(res.text).slice(0, 300)}`);
  assert.equal(res.json.resourceType, 'OperationOutcome', `${where}: body is not an OperationOutcome: ${String(res.text).slice(0, 300)}`);
  assert.ok(Array.isArray(res.json.issue) && res.json.issue.length > 0, `${where}: OperationOutcome without issues`);
  for (const issue of res.json.issue) {
    assert.ok(['fatal', 'error', 'warning', 'information'].includes(issue.severity), `${where}: issue.severity invalid: ${JSON.stringify(issue)}`);
    assert.equal(typeof issue.code, 'string', `${where}: issue.code missing: ${JSON.stringify(issue)}`);
  }
  const ct = res.headers.get('content-type');
  assert.match(String(ct), /^application\/(fhir\+)?json/i, `${where}: OperationOutcome Content-Type is ${ct}`);
  return res.json;
}

/** Assert status is one of `allowed` with a helpful message. */
export function assertStatus(res, allowed, context = '') {
  const list = Array.isArray(allowed) ? allowed : [allowed];
  assert.ok(
    list.includes(res.status),
    `${res.method || ''} ${res.url || ''} ${context}: expected status ${list.join(' or ')}, got ${res.status}: ${String(res.text).slice(0, 500)}`,
  );
}

/** Issues of an OperationOutcome whose expression or location mentions `pathText`. */
export function issuesMentioning(oo, pathText) {
  return (oo.issue || []).filter((i) =>
    [...(i.expression || []), ...(i.location || [])].some((e) => String(e).includes(pathText)),
  );
}

/** Fetch every page of a Bundle (following `next` links) and return all entries. */
export async function allPages(server, firstPath, { maxPages = 1000 } = {}) {
  const entries = [];
  const pages = [];
  let url = server.url(firstPath);
  for (let i = 0; url && i < maxPages; i++) {
    const res = await server.get(url);
    assert.equal(res.status, 200, `GET ${url}: expected 200, got ${res.status}: ${res.text.slice(0, 300)}`);
    assert.equal(res.json?.resourceType, 'Bundle', `GET ${url}: not a Bundle`);
    pages.push(res.json);
    entries.push(...(res.json.entry || []));
    url = (res.json.link || []).find((l) => l.relation === 'next')?.url;
  }
  return { entries, pages };
}

export function randomTag(prefix = 't') {
  return `${prefix}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * The MLLP port of a server started with args ['--hl7-port', '0']: parsed from its second
 * stdout line `carechart: hl7 listening on mllp://127.0.0.1:PORT`.
 */
export async function hl7Port(server, { timeoutMs = 10000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = /^carechart: hl7 listening on mllp:\/\/[^\s]*:(\d+)\s*$/m.exec(server.stdout());
    if (m) return Number(m[1]);
    if (Date.now() > deadline) throw new Error(`no hl7 listening line in stdout: ${server.stdout()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
