// The round trip: the 48 Synthea/Inferno Bundles of ../shared/data/synthea-r4 are imported
// (`carechart import`, the two provider Bundles first), the server exports everything
// ($export), the export is compared with what the server serves resource by resource, then it is
// loaded into a fresh server through $import and exported again: same ids, same content apart
// from the meta fields a server sets (versionId, lastUpdated, its facility/recorded-by tags).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { allPages, backendArgs, binaryPath, makeTempDir, removeTempDir, sharedDataDir, startServer } from '../conformance/server.mjs';
import { ASYNC, download, downloadAll, kickoff, manifestOf, waitForJob } from './bulk-helpers.mjs';

const SYNTHEA = path.join(sharedDataDir(), 'synthea-r4');
const present = existsSync(SYNTHEA);
const dir = makeTempDir('carechart-bulk-roundtrip-');
const servers = [];
after(async () => {
  for (const s of servers) await s.cleanup().catch(() => {});
  removeTempDir(dir);
});

function bundleFiles() {
  const folders = readdirSync(SYNTHEA, { withFileTypes: true }).filter((d) => d.isDirectory() && d.name !== 'licenses').map((d) => d.name).sort();
  const files = [];
  for (const f of folders) for (const n of readdirSync(path.join(SYNTHEA, f)).filter((x) => x.endsWith('.json')).sort()) files.push(`${f}/${n}`);
  const providers = files.filter((f) => /\/0-(hospital|practitioner)Information.*\.json$/.test(f));
  // v2.7 first: the v2.4 Bundles create Organizations again under the same identifiers, after
  // which v2.7's conditional references would match several.
  const patients = files
    .filter((f) => !providers.includes(f))
    .sort((a, b) => Number(!a.startsWith('synthea-v2.7')) - Number(!b.startsWith('synthea-v2.7')) || a.localeCompare(b));
  return [...providers, ...patients];
}

const SERVER_TAGS = ['https://carechart.dev/fhir/CodeSystem/facility', 'https://carechart.dev/fhir/CodeSystem/recorded-by'];
// The resource without what a server sets on every write.
function comparable(r) {
  const c = structuredClone(r);
  if (c.meta) {
    delete c.meta.versionId;
    delete c.meta.lastUpdated;
    if (c.meta.tag) {
      c.meta.tag = c.meta.tag.filter((t) => !SERVER_TAGS.includes(t.system));
      if (c.meta.tag.length === 0) delete c.meta.tag;
    }
    if (Object.keys(c.meta).length === 0) delete c.meta;
  }
  return c;
}

test('round trip: Synthea in, $export, $import into a fresh server, $export again', { skip: present ? false : `shared data absent: ${SYNTHEA} (set CARECHART_SHARED_DATA)`, timeout: 300000 }, async () => {
  const files = bundleFiles();
  assert.equal(files.length, 48, `48 Bundles expected, found ${files.length}`);
  const db = path.join(dir, 'source.db');
  const imported = spawnSync(binaryPath(), backendArgs(['import', '--db', db, '--log-level', 'error', ...files.map((f) => path.join(SYNTHEA, f))]), { encoding: 'utf8', timeout: 240000 });
  // Exit 3: some entries were rejected (two Inferno Bundles are invalid R4, rejected whole).
  assert.ok([0, 3].includes(imported.status), `carechart import: ${imported.status} ${imported.stderr.slice(-2000)}`);
  console.log(imported.stdout.trim());

  const a = await startServer({ db, args: ['--no-access-log', '--max-body-bytes', String(512 << 20)] });
  servers.push(a);
  const m = await manifestOf(a, await kickoff(a, '$export'), { timeoutMs: 120000 });
  const exported = await downloadAll(a, m);
  let count = 0;
  for (const ids of exported.values()) count += ids.size;

  // 1. The export is exactly what the server serves: same set, same JSON.
  const served = (await allPages(a, '?_count=1000', { maxPages: 10000 })).entries.map((e) => e.resource);
  assert.equal(count, served.length, `${count} exported, ${served.length} served`);
  let identical = 0;
  for (const r of served) {
    const e = exported.get(r.resourceType)?.get(r.id);
    assert.ok(e, `${r.resourceType}/${r.id} missing from the export`);
    assert.deepEqual(e, r, `${r.resourceType}/${r.id} differs`);
    identical++;
  }

  // 2. Through $import into a fresh server and out again.
  const b = await startServer({ args: ['--no-access-log', '--max-body-bytes', String(512 << 20)] });
  servers.push(b);
  for (const f of m.output) {
    const { raw } = await download(a, f);
    const url = await kickoff(b, '$import', { method: 'POST', body: raw.join('\n'), headers: { ...ASYNC, 'content-type': 'application/fhir+ndjson' } });
    const res = await waitForJob(b, url, { timeoutMs: 120000 });
    assert.equal(res.status, 200, `$import of ${f.url}: ${res.text.slice(0, 500)}`);
    assert.equal(res.json.extension.rejected, 0, `${f.url}: rejected lines`);
  }
  const m2 = await manifestOf(b, await kickoff(b, '$export'), { timeoutMs: 120000 });
  const again = await downloadAll(b, m2);
  let compared = 0;
  const differences = [];
  for (const [type, ids] of exported) {
    for (const [id, r] of ids) {
      const r2 = again.get(type)?.get(id);
      if (!r2) {
        differences.push(`${type}/${id} missing after the round trip`);
        continue;
      }
      try {
        assert.deepEqual(comparable(r2), comparable(r));
        compared++;
      } catch {
        differences.push(`${type}/${id} differs`);
      }
    }
  }
  // b holds its own facility Organization in addition (created at start-up).
  let extra = 0;
  for (const [type, ids] of again) for (const id of ids.keys()) if (!exported.get(type)?.has(id)) extra++;
  const line = `round trip: ${count} resources of ${exported.size} types exported (${identical} identical to the served JSON); ${compared} identical after $import + $export, ${differences.length} different, ${extra} extra`;
  console.log(line);
  assert.deepEqual(differences.slice(0, 20), []);
  assert.ok(extra <= 1, line);
});
