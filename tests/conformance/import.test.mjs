// `carechart import` of the whole Synthea set (../shared/data/synthea-r4): provider Bundles
// first, then every patient Bundle, through the parallel import pipeline. Every reference must
// resolve, the two Bundles known to be invalid R4 must be rejected whole (and named), and
// running the same import again must store nothing new.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { allPages, backendArgs, binaryPath, makeTempDir, removeTempDir, sharedDataDir, startServer } from './server.mjs';

const SYNTHEA = path.join(sharedDataDir(), 'synthea-r4');
const present = existsSync(SYNTHEA);
const KNOWN_INVALID = ['us_quality_core_bundle_patient.json', 'uscore_bundle_patient_355.json'];
const KNOWN_DANGLING = new Set(['MedicationRequest/medicationrequest-coded-oral-axid']);

const dir = makeTempDir('carechart-import-');
after(() => removeTempDir(dir));

function importAll(db) {
  const args = ['import', '--db', db, '--log-level', 'warn'];
  // The v2.7 folder holds the provider Bundles (0-hospital..., 0-practitioner... sort first).
  for (const f of ['synthea-v2.7-blaze', 'synthea-v2.4-smart', 'inferno-uscore']) args.push(path.join(SYNTHEA, f));
  const started = Date.now();
  const r = spawnSync(binaryPath(), backendArgs(args), { encoding: 'utf8', timeout: 170000 });
  return { ...r, seconds: (Date.now() - started) / 1000 };
}

function referencesOf(value, out = []) {
  if (Array.isArray(value)) {
    for (const v of value) referencesOf(v, out);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'reference' && typeof v === 'string') out.push(v);
      else referencesOf(v, out);
    }
  }
  return out;
}

test('synthea via carechart import: every reference resolves; a re-run changes nothing', { skip: present ? false : `shared data absent: ${SYNTHEA} (set CARECHART_SHARED_DATA)`, timeout: 240000 }, async (t) => {
  const db = path.join(dir, 'synthea.db');
  const first = importAll(db);
  assert.equal(first.status, 3, `only the known-invalid Bundles are rejected (exit 3)\n${first.stdout}\n${first.stderr}`);
  const summary = /imported (\d+) resources from (\d+) files .*; (\d+) unchanged; (\d+) rejected/.exec(first.stdout);
  assert.ok(summary, first.stdout);
  assert.equal(Number(summary[2]), 48, 'all 48 files read');
  const rejectedFiles = first.stderr.split('\n').filter((l) => l.includes('(transaction: nothing of this file was imported)'));
  assert.equal(rejectedFiles.length, KNOWN_INVALID.length, rejectedFiles.join('\n'));
  for (const f of KNOWN_INVALID) assert.ok(rejectedFiles.some((l) => l.includes(f)), `${f} is reported`);
  assert.match(first.stderr, /Bundle\.entry\[\d+\]/, 'the rejection names the entry');

  let twice = 0;
  let patients = 0;
  const s = await startServer({ db });
  try {
    const all = (await allPages(s, '?_count=1000', { maxPages: 10000 })).entries.map((e) => e.resource);
    const keys = new Set(all.map((r) => `${r.resourceType}/${r.id}`));
    const problems = [];
    let checked = 0;
    for (const r of all) {
      for (const ref of referencesOf(r)) {
        if (ref.startsWith('#')) continue;
        checked++;
        if (ref.startsWith('urn:uuid:') || ref.includes('?')) problems.push(`${r.resourceType}/${r.id}: unresolved ${ref}`);
        else if (!keys.has(ref) && !KNOWN_DANGLING.has(ref)) problems.push(`${r.resourceType}/${r.id}: ${ref} does not exist`);
      }
    }
    assert.deepEqual(problems.slice(0, 20), []);
    // Versions written may exceed resources stored: the v2.4 Bundles update Organizations again.
    assert.ok(all.length > 10000 && all.length <= Number(summary[1]) + 1, `${all.length} stored, ${summary[1]} versions imported`);
    twice = all.filter((r) => r.meta.versionId !== '1').length;
    patients = all.filter((r) => r.resourceType === 'Patient').length;
    const line = `synthea via import: ${summary[1]} resources from 48 files in ${first.seconds.toFixed(1)} s; ${checked} references checked, all resolved`;
    console.log(line);
    t.diagnostic(line);
  } finally {
    await s.stop();
  }

  const second = importAll(db);
  const again = /imported (\d+) resources from (\d+) files .*; (\d+) unchanged; (\d+) rejected/.exec(second.stdout);
  assert.ok(again, second.stdout + second.stderr);
  // Resources present in two files with different content (17 Organizations are in both the
  // v2.7 provider Bundle and v2.4 patient Bundles) are written again by each file, in input order;
  // everything else is unchanged.
  assert.equal(Number(again[1]), 2 * twice, `a re-run rewrites only resources the input holds twice\n${second.stdout}`);
  assert.ok(Number(again[3]) >= Number(summary[1]) - 2 * twice, 'everything else is reported unchanged');
  const s2 = await startServer({ db });
  try {
    assert.equal(await s2.count('Patient'), patients, 'no duplicates');
  } finally {
    await s2.stop();
  }
});
