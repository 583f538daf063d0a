// The command line beyond `serve` basics: `import` (NDJSON and Bundles, bad entries, bad files),
// configuration from a TOML file and from CARECHART_* variables, facilities, the demo data, and
// many concurrent connections.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  FACILITY_SYSTEM,
  backendArgs,
  backendName,
  binaryPath,
  makeTempDir,
  removeTempDir,
  startServer,
} from './server.mjs';

const dirs = [];
after(() => dirs.forEach(removeTempDir));
function tempDir() {
  const d = makeTempDir('carechart-cli-');
  dirs.push(d);
  return d;
}

function run(args, env = {}) {
  return spawnSync(binaryPath(), backendArgs(args), {
    encoding: 'utf8',
    timeout: 60000,
    env: { ...process.env, ...env },
  });
}

const patient = (id, family) => ({
  resourceType: 'Patient',
  id,
  name: [{ family, given: ['Ann'] }],
  birthDate: '1970-01-01',
});

describe('carechart import', () => {
  test('--help describes the command and its files argument', () => {
    const r = run(['import', '--help']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /files/i);
    assert.match(r.stdout, /--db/);
  });

  test('a missing file is refused before anything is written', () => {
    const dir = tempDir();
    const r = run(['import', '--db', path.join(dir, 'x.db'), path.join(dir, 'nope.ndjson')]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr + r.stdout, /nope\.ndjson/);
  });

  test('NDJSON and a transaction Bundle with urn:uuid references import; the server serves them', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'c.db');
    const ndjson = path.join(dir, 'patients.ndjson');
    writeFileSync(ndjson, [patient('imp-1', 'Alpha'), patient('imp-2', 'Beta')].map((p) => JSON.stringify(p)).join('\n') + '\n');
    const bundle = path.join(dir, 'bundle.json');
    // JSON.stringify would write 5.5: put the decimal in as text to check it survives as 5.50.
    const bundleText = (b) => JSON.stringify(b).replace('"value":"5.50"', '"value":5.50');
    writeFileSync(
      bundle,
      bundleText({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            fullUrl: 'urn:uuid:7f3c1a6e-2d7b-4f7e-9a52-0c1b2a3d4e5f',
            resource: { resourceType: 'Patient', name: [{ family: 'Gamma' }] },
            request: { method: 'POST', url: 'Patient' },
          },
          {
            fullUrl: 'urn:uuid:0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
            resource: {
              resourceType: 'Observation',
              status: 'final',
              code: { coding: [{ system: 'http://loinc.org', code: '2339-0' }] },
              subject: { reference: 'urn:uuid:7f3c1a6e-2d7b-4f7e-9a52-0c1b2a3d4e5f' },
              valueQuantity: { value: '5.50', unit: 'mmol/L' },
            },
            request: { method: 'POST', url: 'Observation' },
          },
        ],
      }),
    );
    const r = run(['import', '--db', db, '--facility', 'import-clinic', ndjson, bundle]);
    assert.equal(r.status, 0, `import failed: ${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /imported 4 resources from 2 files/);

    const s = await startServer({ db });
    try {
      const p = await s.get('Patient/imp-2');
      assert.equal(p.status, 200);
      assert.equal(p.json.name[0].family, 'Beta');
      const tag = p.json.meta.tag.find((t) => t.system === FACILITY_SYSTEM);
      assert.equal(tag?.code, 'import-clinic', 'imports are stamped with the --facility');
      const obs = await s.get('Observation?code=http://loinc.org|2339-0');
      assert.equal(obs.json.total, 1);
      const ref = obs.json.entry[0].resource.subject.reference;
      assert.match(ref, /^Patient\/[0-9a-f-]{36}$/, `urn:uuid reference must be rewritten, got ${ref}`);
      const target = await s.get(ref);
      assert.equal(target.status, 200);
      assert.equal(target.json.name[0].family, 'Gamma');
      assert.match(obs.text, /"value":5\.50/, 'decimals keep their precision through import');
    } finally {
      await s.cleanup();
    }
  });

  test('invalid entries are reported with file, entry and path; valid ones still import (exit 3)', () => {
    const dir = tempDir();
    const db = path.join(dir, 'c.db');
    const f = path.join(dir, 'mixed.ndjson');
    writeFileSync(
      f,
      [
        JSON.stringify(patient('ok-1', 'Fine')),
        JSON.stringify({ resourceType: 'Patient', id: 'bad-1', birthDate: 'yesterday' }),
        '{"resourceType": "Patient", "id": ',
        JSON.stringify(patient('ok-2', 'Fine')),
      ].join('\n'),
    );
    const r = run(['import', '--db', db, f]);
    assert.equal(r.status, 3, `partial import exits 3: ${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /imported 2 resources .* 2 rejected/);
    assert.match(r.stderr, /mixed\.ndjson:2 \(Patient\): Patient\.birthDate/);
    assert.match(r.stderr, /mixed\.ndjson:3/);
  });

  test('--progress-interval prints progress lines, then the search indexes as they are built', () => {
    const dir = tempDir();
    const f = path.join(dir, 'many.ndjson');
    const lines = [];
    for (let i = 0; i < 3000; i++) lines.push(JSON.stringify(patient(`p-${i}`, `Family${i % 97}`)));
    writeFileSync(f, lines.join('\n'));
    const r = run(['import', '--db', path.join(dir, 'p.db'), '--progress-interval', '0.05', f]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /imported 3000 resources/);
    const progress = r.stderr.split('\n').filter((l) => l.startsWith('progress: '));
    const counts = progress
      .map((l) => /^progress: [0-9.]+ s, [0-9.]+%, (\d+) resources, \d+\/s, ETA \S+, 0 rejected$/.exec(l))
      .filter(Boolean)
      .map((m) => Number(m[1]));
    assert.ok(counts.length >= 1, `no progress line in:\n${r.stderr}`);
    assert.deepEqual(counts, [...counts].sort((a, b) => a - b), 'resources only grow');
    assert.ok(counts.every((n) => n > 0 && n <= 3000), counts.join(' '));
    const built = progress
      .map((l) => /^progress: [0-9.]+ s, 3000 resources stored; search indexes (\d+)\/(\d+) built$/.exec(l))
      .filter(Boolean);
    if (backendName() === 'postgres') {
      assert.equal(built.length, 0, 'PostgreSQL keeps its indexes through a load');
    } else {
      // A load into a new SQLite file defers the value indexes: each is announced, then the end.
      assert.ok(built.length >= 2, r.stderr);
      const total = Number(built[0][2]);
      assert.deepEqual(built.map((m) => Number(m[1])), [...Array(total + 1).keys()]);
    }
    const bad = run(['import', '--db', path.join(dir, 'q.db'), '--progress-interval', 'soon', f]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /--progress-interval/);
  });

  test('a file that is neither a Bundle nor NDJSON fails with a clear message', () => {
    const dir = tempDir();
    const f = path.join(dir, 'notes.txt');
    writeFileSync(f, 'hello, this is not FHIR\n');
    const r = run(['import', '--db', path.join(dir, 'c.db'), f]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /neither a FHIR Bundle nor NDJSON/);
  });
});

describe('configuration', () => {
  test('a TOML config file sets serve options; flags override it', async () => {
    const dir = tempDir();
    const cfg = path.join(dir, 'carechart.toml');
    writeFileSync(cfg, '[serve]\nfacility = "toml-clinic"\nfacility-name = "TOML Clinic"\nmax-body-bytes = 2048\nport = 1\n');
    // startServer passes --port 0 on the command line: the flag must win over the file's port.
    process.env.CARECHART_CONFIG = cfg;
    let s;
    try {
      s = await startServer({ db: path.join(dir, 'a.db') });
    } finally {
      delete process.env.CARECHART_CONFIG;
    }
    try {
      assert.notEqual(s.port, 1);
      const org = await s.get('Organization/toml-clinic');
      assert.equal(org.status, 200, 'the configured facility Organization is created at start-up');
      assert.equal(org.json.name, 'TOML Clinic');
      const big = await s.post('Patient', { resourceType: 'Patient', name: [{ family: 'x'.repeat(3000) }] });
      assert.equal(big.status, 413, 'max-body-bytes from the config file applies');
    } finally {
      await s.cleanup();
    }
  });

  test('CARECHART_* environment variables configure serve', () => {
    const dir = tempDir();
    const r = run(['serve', '--help'], { CARECHART_PORT: '1' });
    assert.equal(r.status, 0);
    assert.match(r.stdout, /CARECHART_PORT/, '--help names the environment variables');
    const bad = run(['serve', '--db', path.join(dir, 'e.db')], { CARECHART_PORT: '99999' });
    assert.notEqual(bad.status, 0, 'an out-of-range CARECHART_PORT is refused');
    assert.match(bad.stderr + bad.stdout, /port/i);
  });

  test('an invalid facility id fails at start-up naming the setting', () => {
    const dir = tempDir();
    const r = run(['serve', '--db', path.join(dir, 'f.db'), '--port', '0', '--facility', 'bad id!']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /facility/);
  });

  test('an unknown --log-level is refused', () => {
    const r = run(['serve', '--log-level', 'loud']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /log-level/);
  });
});

describe('facilities and demo data', () => {
  test('X-Carechart-Facility records another existing facility; an unknown one is refused', async () => {
    const s = await startServer({ args: ['--facility', 'main-clinic'] });
    try {
      const other = await s.put('Organization/podiatry', { resourceType: 'Organization', id: 'podiatry', name: 'Podiatry' });
      assert.equal(other.status, 201);
      const created = await s.post('Patient', { resourceType: 'Patient' }, { headers: { 'x-carechart-facility': 'podiatry' } });
      assert.equal(created.status, 201);
      assert.equal(created.json.meta.tag.find((t) => t.system === FACILITY_SYSTEM).code, 'podiatry');
      const plain = await s.post('Patient', { resourceType: 'Patient' });
      assert.equal(plain.json.meta.tag.find((t) => t.system === FACILITY_SYSTEM).code, 'main-clinic');
      const before = await s.count('Patient');
      const refused = await s.post('Patient', { resourceType: 'Patient' }, { headers: { 'x-carechart-facility': 'nowhere' } });
      assert.equal(refused.status, 400);
      assert.match(refused.json.issue[0].diagnostics, /nowhere/);
      assert.equal(await s.count('Patient'), before, 'nothing written for a refused facility');
    } finally {
      await s.cleanup();
    }
  });

  test('--demo loads facilities and a diabetic patient with glucose, HbA1c and metformin, once', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'demo.db');
    let s = await startServer({ db, args: ['--demo'] });
    let total;
    try {
      // The story patient (src/synth/story.cc): HbA1c followed at primary care and endocrinology,
      // the last one in hospital after the emergency visit for an infected foot ulcer.
      const hba1c = await s.get('Observation?patient=demo-maria-lopez&code=http://loinc.org|4548-4&_sort=date&_count=100');
      // 14 in the story, plus the recent result awaiting review (src/synth/web_story.cc).
      assert.equal(hba1c.json.total, 15);
      assert.equal(hba1c.json.entry[0].resource.valueQuantity.value, 7.8);
      assert.equal(hba1c.json.entry[13].resource.valueQuantity.value, 8.4);
      // Each result is labelled by the facility that recorded it, not by the importing server.
      const facilities = new Set(hba1c.json.entry.map((e) =>
        e.resource.meta.tag.find((t) => t.system === 'https://carechart.dev/fhir/CodeSystem/facility')?.code));
      for (const f of ['riverside-primary-care', 'lakeside-endocrinology', 'mercy-hospital']) {
        assert.ok(facilities.has(f), `HbA1c recorded at ${f}; facilities seen: ${[...facilities]}`);
      }
      const glucose = await s.get('Observation?patient=demo-maria-lopez&code=http://loinc.org|2339-0');
      assert.ok(glucose.json.total >= 10);
      const meds = await s.get('MedicationRequest?patient=demo-maria-lopez&_count=100');
      const codes = meds.json.entry.map((e) => e.resource.medicationCodeableConcept.coding[0].code);
      for (const rxnorm of ['860975', '847232', '562508']) {
        assert.ok(codes.includes(rxnorm), `metformin, insulin glargine, amoxicillin-clavulanate: ${codes}`);
      }
      const allergy = await s.get('AllergyIntolerance?patient=demo-maria-lopez');
      assert.equal(allergy.json.entry[0].resource.code.coding[0].code, '764146007');
      for (const org of ['riverside-primary-care', 'lakeside-endocrinology', 'northgate-podiatry', 'mercy-emergency', 'mercy-hospital']) {
        assert.equal((await s.get(`Organization/${org}`)).status, 200, org);
      }
      assert.ok((await s.count('Patient')) >= 25);
      total = (await s.get('_history?_count=0')).json.total;
    } finally {
      await s.stop();
    }
    s = await startServer({ db, args: ['--demo'] });
    try {
      assert.equal((await s.get('_history?_count=0')).json.total, total, 'a second start does not load the demo again');
    } finally {
      await s.stop();
    }
  });
});

describe('many connections', () => {
  test('300 concurrent keep-alive connections are all served', async () => {
    const s = await startServer();
    try {
      const p = await s.create({ resourceType: 'Patient', name: [{ family: 'Crowd' }] });
      const { Agent } = await import('node:http');
      const agent = new Agent({ keepAlive: true, maxSockets: 300 });
      const http = await import('node:http');
      const one = () =>
        new Promise((resolve, reject) => {
          http
            .get({ host: '127.0.0.1', port: s.port, path: `/fhir/Patient/${p.id}`, agent, headers: { authorization: `Bearer ${s.token}` } }, (res) => {
              let body = '';
              res.setEncoding('utf8');
              res.on('data', (d) => (body += d));
              res.on('end', () => resolve({ status: res.statusCode, body }));
            })
            .on('error', reject);
        });
      for (let round = 0; round < 3; round++) {
        const results = await Promise.all(Array.from({ length: 300 }, one));
        assert.equal(results.filter((r) => r.status === 200).length, 300);
        assert.ok(results.every((r) => JSON.parse(r.body).id === p.id));
      }
      agent.destroy();
      await s.assertHealthy('after 900 concurrent reads');
    } finally {
      await s.cleanup();
    }
  });
});

// `carechart storage` reads a SQLite file (PostgreSQL has its own tools for sizes).
describe('carechart storage', { skip: process.env.CARECHART_BACKEND === 'postgres' ? 'reads SQLite files; PostgreSQL has its own size tools' : false }, () => {
  const sqliteRun = (args, env = {}) =>
    spawnSync(binaryPath(), args, { encoding: 'utf8', timeout: 120000, env: { ...process.env, ...env } });

  test('reports the bodies as stored and as JSON, and the JSON is what export writes', () => {
    const dir = tempDir();
    const db = path.join(dir, 's.db');
    // A low threshold so that a dictionary is trained and most bodies are compressed.
    const gen = sqliteRun(['demo-data', '--patients', '12', '--db', db, '--log-level', 'warn'], {
      CARECHART_COMPRESS_BODIES_AFTER: '500',
    });
    assert.equal(gen.status, 0, gen.stderr);
    const r = sqliteRun(['storage', '--db', db, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.ok(s.resources > 5000, `resources: ${s.resources}`);
    assert.equal(s.bodiesDamaged, 0);
    assert.ok(s.dictionaries >= 1, 'a body dictionary was trained');
    // How many bodies the trainer's thread was in time for depends on the machine's speed; some are.
    assert.ok(s.bodiesCompressed > 0 && s.bodiesCompressed <= s.resources + s.earlierVersions,
      `compressed ${s.bodiesCompressed} of ${s.resources}`);
    assert.ok(s.bodyBytesStored < s.bodyBytesJson, `${s.bodyBytesStored} stored of ${s.bodyBytesJson}`);
    assert.ok(s.searchIndexBytes > 0 && s.fileBytes > s.bodyBytesStored);
    // The JSON size comes from the frames' headers: export decodes every body, and its lines
    // (one resource each, as stored) must add up to the same number of bytes.
    const out = path.join(dir, 'export');
    const ex = sqliteRun(['export', '--db', db, '--out', out, '--log-level', 'warn']);
    assert.equal(ex.status, 0, ex.stderr);
    let lines = 0;
    let bytes = 0;
    for (const f of readdirSync(out).filter((n) => n.endsWith('.ndjson'))) {
      for (const line of readFileSync(path.join(out, f), 'utf8').split('\n')) {
        if (!line) continue;
        lines++;
        bytes += Buffer.byteLength(line);
      }
    }
    assert.equal(lines, s.resources);
    assert.equal(bytes, s.bodyBytesJson);
    const table = sqliteRun(['storage', '--db', db]);
    assert.equal(table.status, 0);
    assert.match(table.stdout, /bodies as stored .*x smaller; \d+ of \d+ compressed/);
    assert.match(table.stdout, /search index .*x the JSON/);
  });

  test('a missing file or a file that is not a database is a clear error', () => {
    const dir = tempDir();
    const missing = sqliteRun(['storage', '--db', path.join(dir, 'none.db')]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /does not exist \(give the database with --db\)/);
    const junk = path.join(dir, 'junk.db');
    writeFileSync(junk, 'this is not SQLite');
    const bad = sqliteRun(['storage', '--db', junk]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /carechart storage: cannot (open|read)/);
  });
});
