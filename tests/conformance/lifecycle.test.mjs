// The process contract: --help, database creation, persistence across a graceful restart,
// SIGTERM with in-flight and idle keep-alive connections, --max-body-bytes, --threads.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { assertOperationOutcome, assertStatus, backendName, binaryPath, makeTempDir, removeTempDir, startServer } from './server.mjs';

// CARECHART_BACKEND=postgres: the data lives in a PostgreSQL database, not in the --db file.
const onSqlite = backendName() === 'sqlite';

const servers = [];
const dirs = [];

after(async () => {
  for (const s of servers) await s.cleanup().catch(() => {});
  for (const d of dirs) removeTempDir(d);
});

async function start(opts) {
  const s = await startServer(opts);
  servers.push(s);
  return s;
}

function tempDir() {
  const d = makeTempDir('carechart-life-');
  dirs.push(d);
  return d;
}

describe('command line', () => {
  test('carechart --help exits 0 and describes serve', () => {
    const r = spawnSync(binaryPath(), ['--help'], { encoding: 'utf8', timeout: 10000 });
    assert.equal(r.status, 0, `--help exit status ${r.status}: ${r.stderr}`);
    assert.match(r.stdout + r.stderr, /serve/, '--help must mention the serve command');
  });

  test('carechart serve --help lists its options', () => {
    const r = spawnSync(binaryPath(), ['serve', '--help'], { encoding: 'utf8', timeout: 10000 });
    assert.equal(r.status, 0, `serve --help exit status ${r.status}: ${r.stderr}`);
    for (const opt of ['--db', '--host', '--port', '--threads', '--facility', '--max-body-bytes']) {
      assert.ok((r.stdout + r.stderr).includes(opt), `serve --help must list ${opt}`);
    }
  });

  test('an invalid option value exits non-zero with a message', () => {
    const dir = tempDir();
    const r = spawnSync(binaryPath(), ['serve', '--db', path.join(dir, 'x.db'), '--port', 'not-a-port'], { encoding: 'utf8', timeout: 10000 });
    assert.notEqual(r.status, 0, 'bad --port must fail');
    assert.equal(r.signal, null, `must exit, not be killed by ${r.signal}`);
    assert.ok(r.stderr.length > 0, 'an error message is expected on stderr');
  });

  test('an unknown subcommand exits non-zero', () => {
    const r = spawnSync(binaryPath(), ['frobnicate'], { encoding: 'utf8', timeout: 10000 });
    assert.notEqual(r.status, 0);
  });
});

describe('database and persistence', () => {
  test('the database file is created if absent; data survives a SIGTERM restart', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'new.db');
    assert.equal(existsSync(db), false);
    const s1 = await start({ db });
    if (onSqlite) assert.ok(existsSync(db), 'database file must exist once the server listens');
    const p = await s1.create({ resourceType: 'Patient', gender: 'female', birthDate: '1961-07-08' });
    const upd = await s1.put(`Patient/${p.id}`, { resourceType: 'Patient', id: p.id, gender: 'male' });
    assert.equal(upd.status, 200, upd.text);
    const exit = await s1.stop();
    assert.deepEqual(exit, { code: 0, signal: null }, 'SIGTERM must exit with code 0');

    const s2 = await start({ db });
    const r = await s2.get(`Patient/${p.id}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.meta.versionId, '2');
    assert.equal(r.json.gender, 'male');
    const v1 = await s2.get(`Patient/${p.id}/_history/1`);
    assert.equal(v1.json.gender, 'female');
    assert.equal(await s2.count('Patient'), 1);
    const exit2 = await s2.stop();
    assert.equal(exit2.code, 0);
  });

  test('a database path in a missing directory fails cleanly (no hang)', () => {
    const r = spawnSync(binaryPath(), ['serve', '--db', '/nonexistent-dir-xyz/sub/c.db', '--host', '127.0.0.1', '--port', '0'], {
      encoding: 'utf8',
      timeout: 15000,
    });
    assert.equal(r.error, undefined, `server hung or failed to spawn: ${r.error}`);
    assert.notEqual(r.status, 0, 'must exit non-zero');
  });
});

describe('graceful shutdown', () => {
  test('SIGTERM lets an in-flight request finish, then exits 0', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'g.db');
    const s = await start({ db });
    const body = Buffer.from(JSON.stringify({ resourceType: 'Patient', gender: 'female', name: [{ family: 'InFlight' }] }));
    const half = Math.floor(body.length / 2);
    const responseP = new Promise((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: s.port, path: '/fhir/Patient', method: 'POST', agent: false, headers: { 'content-type': 'application/fhir+json', 'content-length': body.length, authorization: `Bearer ${s.token}` } },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode, text, location: res.headers.location }));
        },
      );
      req.on('error', reject);
      req.write(body.subarray(0, half));
      // No observable event tells us the server has parsed the headers: give it a moment.
      delay(300)
        .then(() => {
          s.child.kill('SIGTERM');
          return delay(300);
        })
        .then(() => req.end(body.subarray(half)));
    });
    const res = await responseP;
    assert.equal(res.status, 201, `in-flight request must complete after SIGTERM: ${res.status} ${res.text}`);
    const exit = await Promise.race([s.exited, delay(15000).then(() => 'timeout')]);
    assert.notEqual(exit, 'timeout', 'server did not exit within 15 s of SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null });

    const s2 = await start({ db });
    const id = JSON.parse(res.text).id;
    const r = await s2.get(`Patient/${id}`);
    assert.equal(r.status, 200, 'the request acknowledged during shutdown must be durable');
    await s2.stop();
  });

  test('SIGTERM with an idle keep-alive connection open exits promptly', async () => {
    const s = await start();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    await new Promise((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: s.port, path: '/healthz', agent }, (res) => {
          res.resume();
          res.on('end', resolve);
        })
        .on('error', reject);
    });
    const t0 = Date.now();
    s.child.kill('SIGTERM');
    const exit = await Promise.race([s.exited, delay(10000).then(() => 'timeout')]);
    agent.destroy();
    assert.notEqual(exit, 'timeout', 'an idle keep-alive connection must not block shutdown for 10 s');
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(Date.now() - t0 < 10000);
  });

  test('new connections are refused after shutdown', async () => {
    const s = await start();
    const port = s.port;
    await s.stop();
    await assert.rejects(() => fetch(`http://127.0.0.1:${port}/healthz`), 'nothing may listen after exit');
  });
});

describe('options', () => {
  test('--max-body-bytes 4096: 5,000-byte body → 413, 1,000-byte body → 201', async () => {
    const s = await start({ args: ['--max-body-bytes', '4096'] });
    const small = { resourceType: 'Patient', name: [{ family: 'x'.repeat(900) }] };
    const big = { resourceType: 'Patient', name: [{ family: 'y'.repeat(4900) }] };
    assert.ok(JSON.stringify(big).length > 4096 && JSON.stringify(small).length < 4096);
    const r1 = await s.post('Patient', big);
    assertStatus(r1, 413);
    assertOperationOutcome(r1);
    assert.equal(await s.count('Patient'), 0, 'a 413 must not write');
    const r2 = await s.post('Patient', small);
    assert.equal(r2.status, 201, r2.text);
    await s.assertHealthy();
  });

  test('--threads 1 and --threads 4 serve concurrent requests', async () => {
    for (const n of ['1', '4']) {
      const s = await start({ args: ['--threads', n] });
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => s.post('Patient', { resourceType: 'Patient', name: [{ family: `T${n}-${i}` }] })),
      );
      assert.ok(results.every((r) => r.status === 201), `--threads ${n}: ${results.map((r) => r.status)}`);
      assert.equal(await s.count('Patient'), 20);
      assert.equal((await s.stop()).code, 0);
    }
  });

  test('port 0 gives distinct ports; a port in use makes serve fail (not hang)', async () => {
    const a = await start();
    const b = await start();
    assert.notEqual(a.port, b.port);
    const dir = tempDir();
    const r = spawnSync(binaryPath(), ['serve', '--db', path.join(dir, 'busy.db'), '--host', '127.0.0.1', '--port', String(a.port)], {
      encoding: 'utf8',
      timeout: 15000,
    });
    assert.equal(r.error, undefined, `serve on a busy port hung: ${r.error}`);
    assert.notEqual(r.status, 0, 'serve on a busy port must exit non-zero');
    await a.assertHealthy('after a second server tried its port');
  });
});
