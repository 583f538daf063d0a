// `carechart migrate` says what it applied: from which schema version to which (SQLite, or
// PostgreSQL under CARECHART_BACKEND=postgres, where each database path is a fresh database).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { backendName, makeTempDir, removeTempDir, runCli } from './server.mjs';

const dir = makeTempDir('carechart-migrate-');
after(() => removeTempDir(dir));

test(`migrate reports the versions it went through, then that nothing was left (${backendName()})`, () => {
  const db = path.join(dir, 'migrate.db');
  const first = runCli(['migrate', '--db', db]);
  const applied = first.match(/schema 0 -> (\d+) \((\d+) migration\(s\) applied\)/);
  assert.ok(applied, `a new database is migrated from 0: ${first}`);
  const version = Number(applied[1]);
  assert.ok(version >= 6, `at least the schema this test was written for: ${first}`);
  assert.equal(Number(applied[2]), version, 'every migration of a new database is applied');

  const second = runCli(['migrate', '--db', db]);
  assert.match(second, new RegExp(`schema ${version}, up to date \\(no migration applied\\)`));
  assert.doesNotMatch(second, /->/);
});
