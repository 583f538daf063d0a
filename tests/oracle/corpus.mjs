// The oracle's corpus, loaded into a real server over HTTP: the Synthea/Inferno Bundles of
// ../shared/data/synthea-r4 (the two Synthea provider batches first, as in the transaction suite)
// and a little `carechart demo-data` output. Then every stored resource is read back, so the
// brute-force side sees exactly what the server stored (server ids, rewritten references).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { allPages, binaryPath, sharedDataDir } from '../conformance/server.mjs';

export const SYNTHEA = path.join(sharedDataDir(), 'synthea-r4');

// Bundles the server rightly rejects as invalid R4 (see tests/conformance/transaction.test.mjs).
const KNOWN_INVALID = new Set(['inferno-uscore/us_quality_core_bundle_patient.json', 'inferno-uscore/uscore_bundle_patient_355.json']);

export function syntheaFiles() {
  const folders = readdirSync(SYNTHEA, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== 'licenses')
    .map((d) => d.name)
    .sort();
  const files = [];
  for (const f of folders) for (const n of readdirSync(path.join(SYNTHEA, f)).filter((x) => x.endsWith('.json')).sort()) files.push(`${f}/${n}`);
  const providers = files.filter((f) => /\/0-(hospital|practitioner)Information.*\.json$/.test(f));
  // v2.7 Bundles first: their conditional references name the providers' identifiers, which the
  // v2.4 Bundles later POST again (see the transaction suite).
  const patients = files
    .filter((f) => !providers.includes(f) && !KNOWN_INVALID.has(f))
    .sort((a, b) => Number(!a.startsWith('synthea-v2.7')) - Number(!b.startsWith('synthea-v2.7')) || a.localeCompare(b));
  return { providers, patients };
}

async function postBundle(server, label, text) {
  const res = await server.post('', text);
  if (res.status !== 200) throw new Error(`loading ${label}: ${res.status} ${res.text.slice(0, 400)}`);
  return (res.json.entry ?? []).length;
}

/** Loads everything (with `every` > 1: every n-th Synthea patient Bundle, and all of Inferno's
 *  small US Core ones); returns { bundles, resources, seconds }. */
export async function loadCorpus(server, { demoPatients = 3, demoYears = 5, tmpDir, concurrency = 2, every = 1 } = {}) {
  const started = Date.now();
  let resources = 0;
  let bundles = 0;
  const { providers, patients: all } = syntheaFiles();
  const patients = all.filter((f, i) => every <= 1 || i % every === 0 || f.startsWith('inferno-uscore/'));
  for (const f of providers) {
    resources += await postBundle(server, f, readFileSync(path.join(SYNTHEA, f), 'utf8'));
    bundles++;
  }
  const jobs = patients.map((f) => [f, () => readFileSync(path.join(SYNTHEA, f), 'utf8')]);
  if (demoPatients > 0) {
    const out = path.join(tmpDir, 'demo');
    execFileSync(binaryPath(), ['demo-data', '--patients', String(demoPatients), '--years', String(demoYears), '--out', out, '--format', 'bundle', '--log-level', 'warn'], { stdio: 'ignore' });
    const names = readdirSync(out).filter((n) => n.endsWith('.json'));
    // Reference data (organizations, practitioners) before the patients that refer to it.
    const ref = names.filter((n) => n.startsWith('reference'));
    for (const n of ref) {
      resources += await postBundle(server, `demo-data ${n}`, readFileSync(path.join(out, n), 'utf8'));
      bundles++;
    }
    for (const n of names.filter((x) => !ref.includes(x)).sort()) jobs.push([`demo-data ${n}`, () => readFileSync(path.join(out, n), 'utf8')]);
  }
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const [label, read] = jobs[next++];
      resources += await postBundle(server, label, read());
      bundles++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { bundles, resources, seconds: (Date.now() - started) / 1000 };
}

/** Every current resource, grouped by type: Map(type → resource[]). */
export async function readBack(server) {
  const byType = new Map();
  const { entries } = await allPages(server, '?_count=1000', { maxPages: 100000 });
  for (const e of entries) {
    const r = e.resource;
    if (!byType.has(r.resourceType)) byType.set(r.resourceType, []);
    byType.get(r.resourceType).push(r);
  }
  return byType;
}

export const corpusPresent = () => existsSync(SYNTHEA);
