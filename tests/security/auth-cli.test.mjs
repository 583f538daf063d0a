// The user, client and token commands, the first administrator, and what must never leak into
// the log (passwords, tokens).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { backendArgs, binaryPath, makeTempDir, removeTempDir, runCli, runSql, startServer, testClientKeys } from '../conformance/server.mjs';

let dir;
let db;
const cli = (args, input) => spawnSync(binaryPath(), backendArgs(args), { encoding: 'utf8', input });

before(() => {
  dir = makeTempDir('carechart-authcli-');
  db = path.join(dir, 'auth.db');
});
after(() => removeTempDir(dir));

test('every auth command has --help', () => {
  for (const args of [['user'], ['user', 'add'], ['user', 'list'], ['user', 'disable'], ['user', 'enable'], ['user', 'reset-password'], ['user', 'invite'], ['client'], ['client', 'add'], ['client', 'list'], ['client', 'remove'], ['token']]) {
    const out = execFileSync(binaryPath(), [...args, '--help'], { encoding: 'utf8' });
    assert.match(out, /Usage|Options/, `${args.join(' ')} --help`);
  }
});

test('user add / list / disable / enable / reset-password / invite', () => {
  const added = runCli(['user', 'add', 'ana', '--db', db, '--role', 'physician', '--display', 'Dr Ana Ruiz', '--facility', 'F1', '--practitioner', 'pr-ana']);
  const oneTime = /one-time password: (\S+)/.exec(added)?.[1];
  assert.ok(oneTime && oneTime.length >= 20, added);
  const list = runCli(['user', 'list', '--db', db]);
  assert.match(list, /^ana\tphysician\tDr Ana Ruiz\tF1\tactive,must-change-password$/m);
  // The hash, not the password, is stored.
  const query = "SELECT password_hash FROM auth_user WHERE username='ana'";
  const stored = runSql(db, { sqlite: query, postgres: query });
  assert.match(stored, /^\$argon2id\$/);
  assert.ok(!stored.includes(oneTime));

  const dup = cli(['user', 'add', 'ana', '--db', db, '--role', 'nurse']);
  assert.notEqual(dup.status, 0);
  assert.match(dup.stderr, /already exists/);
  const badRole = cli(['user', 'add', 'x', '--db', db, '--role', 'wizard']);
  assert.notEqual(badRole.status, 0);
  assert.match(badRole.stderr, /not a user role.*physician/);
  const patientWithout = cli(['user', 'add', 'p', '--db', db, '--role', 'patient']);
  assert.match(patientWithout.stderr, /--patient/);
  const weak = cli(['user', 'add', 'w', '--db', db, '--role', 'nurse', '--password-stdin'], 'short\n');
  assert.match(weak.stderr, /at least 12/);

  runCli(['user', 'disable', 'ana', '--db', db]);
  assert.match(runCli(['user', 'list', '--db', db]), /^ana\t.*\tdisabled/m);
  assert.notEqual(cli(['token', '--db', db, '--user', 'ana']).status, 0, 'no token for a disabled user');
  runCli(['user', 'enable', 'ana', '--db', db]);
  const reset = runCli(['user', 'reset-password', 'ana', '--db', db]);
  const newOne = /one-time password: (\S+)/.exec(reset)?.[1];
  assert.ok(newOne && newOne !== oneTime);
  const invite = runCli(['user', 'invite', 'bo', '--db', db, '--role', 'nurse', '--base-url', 'https://ehr.example.org/fhir']);
  assert.match(invite, /invitation: sign in at https:\/\/ehr\.example\.org\/auth\/authorize .* bo with the one-time password \S+/);
  const missing = cli(['user', 'disable', 'nobody', '--db', db]);
  assert.match(missing.stderr, /no user named 'nobody'/);
});

test('client add / list / remove, with precise errors', () => {
  const jwks = path.join(dir, 'jwks.json');
  writeFileSync(jwks, JSON.stringify(testClientKeys().jwks));
  runCli(['client', 'add', 'lab-feed', '--db', db, '--kind', 'backend', '--jwks', jwks, '--scope', 'system/Observation.cruds']);
  const conf = runCli(['client', 'add', 'portal', '--db', db, '--kind', 'confidential', '--redirect-uri', 'https://portal.example/cb']);
  assert.match(conf, /client secret: \S{40,}/);
  runCli(['client', 'add', 'growth', '--db', db, '--redirect-uri', 'https://apps.example/cb', '--scope', 'launch/patient patient/*.rs']);
  const list = runCli(['client', 'list', '--db', db]);
  assert.match(list, /^lab-feed\tbackend\t.*system\/Observation\.cruds$/m);
  assert.match(list, /^portal\tconfidential\t/m);
  assert.match(list, /^growth\tpublic\t.*https:\/\/apps\.example\/cb\tlaunch\/patient patient\/\*\.rs$/m);
  assert.match(cli(['client', 'add', 'x', '--db', db, '--kind', 'public']).stderr, /--redirect-uri/);
  assert.match(cli(['client', 'add', 'x', '--db', db, '--kind', 'backend', '--jwks', jwks, '--scope', 'user/*.rs']).stderr, /system\//);
  assert.match(cli(['client', 'add', 'x', '--db', db, '--redirect-uri', 'https://a/cb', '--scope', 'patient/Observation.sr']).stderr, /order/);
  writeFileSync(path.join(dir, 'bad.json'), '{"keys":[{"kty":"oct","k":"AAAA"}]}');
  assert.match(cli(['client', 'add', 'x', '--db', db, '--kind', 'backend', '--jwks', path.join(dir, 'bad.json')]).stderr, /no usable key/);
  runCli(['client', 'remove', 'portal', '--db', db]);
  assert.doesNotMatch(runCli(['client', 'list', '--db', db]), /^portal/m);
  assert.match(cli(['client', 'remove', 'portal', '--db', db]).stderr, /no client 'portal'/);
});

test('first start creates the administrator once; the log never shows passwords or tokens', async () => {
  const fresh = path.join(dir, 'fresh.db');
  const server = await startServer({ db: fresh });
  try {
    const line = /created the administrator 'admin' with the one-time password (\S+)/.exec(server.stdout());
    assert.ok(line, `first start prints the admin password: ${server.stdout()}`);
    assert.ok(!server.stderr().includes(line[1]), 'the password is not in the log');
    await server.get('Patient');
    await server.get('Patient', { token: 'eyJhbGciOiJFUzI1NiJ9.eyJ4IjoxfQ.c2ln' });
    assert.ok(!server.stderr().includes(server.token), 'the access token is not in the log');
    assert.match(runCli(['user', 'list', '--db', fresh]), /^admin\tadministrator\t.*must-change-password/m);
  } finally {
    await server.stop();
  }
  const again = await startServer({ db: fresh });
  try {
    assert.doesNotMatch(again.stdout(), /one-time password/, 'only the first start creates it');
  } finally {
    await again.stop();
  }
});

test('a disabled user\'s token stops working', async () => {
  const server = await startServer({ db: path.join(dir, 'disable.db') });
  try {
    runCli(['user', 'add', 'lab1', '--db', server.db, '--role', 'lab', '--facility', 'carechart-facility']);
    const token = runCli(['token', '--db', server.db, '--user', 'lab1', '--base-url', server.fhirBase]).trim();
    assert.notEqual((await server.get('metadata', { token })).status, 401);
    assert.notEqual((await server.get('Patient', { token })).status, 401);
    runCli(['user', 'disable', 'lab1', '--db', server.db]);
    let status;
    for (let i = 0; i < 30; i++) {
      status = (await server.get('Patient', { token })).status;
      if (status === 401) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, 401, 'within a few seconds of disable');
  } finally {
    await server.stop();
  }
});
