// `carechart export` on the command line: the same export as $export, written to a folder.
// Checked against the database it reads (counts per type from a search, and the stored JSON).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { backendArgs, binaryPath, makeTempDir, removeTempDir } from '../conformance/server.mjs';
import { demoDataInto } from './bulk-helpers.mjs';

const dir = makeTempDir('carechart-export-cli-');
const db = path.join(dir, 'cli.db');
let byType; // type -> count, from the full export

before(() => {
  demoDataInto(db, 3);
});
after(() => removeTempDir(dir));

function exportTo(name, args) {
  const out = path.join(dir, name);
  const r = spawnSync(binaryPath(), backendArgs(['export', '--db', db, '--out', out, '--log-level', 'warn', ...args]), { encoding: 'utf8' });
  return { ...r, out };
}

/** Reads every file of an export folder: type -> Map(id -> parsed resource). */
function readExport(out) {
  const types = new Map();
  for (const name of readdirSync(out).filter((n) => /\.ndjson(\.gz)?$/.test(n))) {
    const raw = readFileSync(path.join(out, name));
    const text = name.endsWith('.gz') ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
    for (const line of text.split('\n').filter(Boolean)) {
      const r = JSON.parse(line);
      assert.ok(name.startsWith(`${r.resourceType}-`), `${r.resourceType} in ${name}`);
      if (!types.has(r.resourceType)) types.set(r.resourceType, new Map());
      assert.ok(!types.get(r.resourceType).has(r.id), `${r.resourceType}/${r.id} twice`);
      types.get(r.resourceType).set(r.id, r);
    }
  }
  return types;
}

test('system export: every resource once, a summary line, exit 0', () => {
  const r = exportTo('all', []);
  assert.equal(r.status, 0, r.stderr);
  const m = /(\d+) resources/.exec(r.stdout + r.stderr);
  assert.ok(m, `summary line: ${r.stdout}${r.stderr}`);
  const types = readExport(r.out);
  let total = 0;
  byType = new Map();
  for (const [t, ids] of types) {
    byType.set(t, ids.size);
    total += ids.size;
  }
  assert.equal(total, Number(m[1]));
  assert.ok(types.has('Patient') && types.get('Patient').size >= 3);
  assert.ok(types.has('Observation') && types.get('Observation').size > 10);
});

test('--type and --gzip: only that type, compressed, the same resources', () => {
  const r = exportTo('obs', ['--type', 'Observation', '--gzip']);
  assert.equal(r.status, 0, r.stderr);
  const names = readdirSync(r.out).filter((n) => n.endsWith('.ndjson.gz'));
  assert.ok(names.length >= 1 && names.every((n) => n.startsWith('Observation-')), names.join(','));
  const types = readExport(r.out);
  assert.deepEqual([...types.keys()], ['Observation']);
  assert.equal(types.get('Observation').size, byType.get('Observation'));
});

test('--type-filter keeps only matching resources', () => {
  const all = readExport(exportTo('obs-all', ['--type', 'Observation']).out).get('Observation');
  const code = [...all.values()].map((o) => o.code?.coding?.[0]).find((c) => c?.system === 'http://loinc.org');
  assert.ok(code, 'a LOINC-coded Observation exists');
  const r = exportTo('obs-filtered', ['--type', 'Observation', '--type-filter', `Observation?code=http://loinc.org|${code.code}`]);
  assert.equal(r.status, 0, r.stderr);
  const got = readExport(r.out).get('Observation');
  const expected = [...all.values()].filter((o) => o.code.coding.some((c) => c.system === 'http://loinc.org' && c.code === code.code));
  assert.equal(got.size, expected.length);
  assert.ok(got.size > 0 && got.size < all.size);
});

test('bad options exit 2 with a message; a non-empty --out is refused', () => {
  const badType = exportTo('bad-type', ['--type', 'Nonsense']);
  assert.equal(badType.status, 2);
  assert.match(badType.stderr, /Nonsense/);
  const badSince = exportTo('bad-since', ['--since', 'yesterday']);
  assert.equal(badSince.status, 2);
  assert.match(badSince.stderr, /--since/);
  const full = path.join(dir, 'full');
  mkdirSync(full);
  writeFileSync(path.join(full, 'x'), 'x');
  const r = spawnSync(binaryPath(), backendArgs(['export', '--db', db, '--out', full]), { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /must be an empty/);
  const help = spawnSync(binaryPath(), ['export', '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--type-filter/);
});
