#!/usr/bin/env node
// Writes the request paths of each search-benchmark scenario, one file per scenario (one path a
// line), with values drawn from the corpus itself, before the server starts, so that no HTTP
// request disturbs the measurement: keys and counts by sqlite3 read-only, the sampled patients'
// resources by `carechart export` (bodies may be zstd-compressed, D101, so SQL cannot read them).
// Many values per scenario, so that the figures are not those of one cached row.
// usage: node bench/search_paths.mjs --db FILE --out DIR [--variants N] [--bin CARECHART]
// Prints one line of facts: the $everything patient and its resource count.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    db: { type: 'string' },
    out: { type: 'string' },
    variants: { type: 'string', default: '200' },
    bin: { type: 'string', default: process.env.CARECHART_BIN ?? new URL('../build/src/app/carechart', import.meta.url).pathname },
  },
});
if (!values.db || !values.out) {
  console.error('usage: search_paths.mjs --db FILE --out DIR [--variants N] [--bin CARECHART]');
  process.exit(2);
}
const variants = Number(values.variants);
mkdirSync(values.out, { recursive: true });

function sql(query) {
  const out = execFileSync('sqlite3', ['-readonly', '-json', values.db, query], { encoding: 'utf8', maxBuffer: 1 << 28 });
  return out.trim() ? JSON.parse(out) : [];
}
const enc = encodeURIComponent;

// Patients spread over the whole table (every k-th row), not just the first ones.
const [{ n }] = sql("SELECT count(*) AS n FROM resource WHERE type = 'Patient' AND deleted = 0");
const step = Math.max(1, Math.floor(n / variants));
const sampled = sql(`SELECT id FROM resource WHERE type = 'Patient' AND deleted = 0 AND pk % ${step} = 0 LIMIT ${variants}`);
if (!sampled.length) throw new Error('no Patient in the database');

// The sampled patients and their Observations, as the server would return them.
const exportDir = mkdtempSync(path.join(os.tmpdir(), 'search-paths-'));
// Export writes each type as a series of files, Type-1.ndjson, Type-2.ndjson, ...
function exported(type) {
  return readdirSync(exportDir)
    .filter((f) => f.startsWith(`${type}-`) && f.endsWith('.ndjson'))
    .flatMap((f) => readFileSync(path.join(exportDir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)));
}
let patientBodies;
let obsBodies;
try {
  execFileSync(values.bin, ['export', '--db', values.db, '--out', exportDir, '--type', 'Patient,Observation',
    '--patient', sampled.map((p) => p.id).join(','), '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
  patientBodies = exported('Patient');
  obsBodies = exported('Observation');
} finally {
  rmSync(exportDir, { recursive: true, force: true });
}
const patients = patientBodies.map((b) => ({
  id: b.id,
  family: b.name?.[0]?.family,
  given: b.name?.[0]?.given?.[0],
  isys: b.identifier?.[0]?.system,
  ival: b.identifier?.[0]?.value,
  birth: b.birthDate,
  gender: b.gender,
}));
if (!patients.length) throw new Error('carechart export gave none of the sampled Patients');

// Observations of those patients with a LOINC code and a quantity, a few per patient.
const obs = obsBodies
  .filter((b) => b.valueQuantity?.value !== undefined && b.effectiveDateTime && b.subject?.reference?.startsWith('Patient/'))
  .map((b) => ({
    pid: b.subject.reference.slice('Patient/'.length),
    sys: b.code?.coding?.[0]?.system,
    code: b.code?.coding?.[0]?.code,
    eff: b.effectiveDateTime,
    v: b.valueQuantity.value,
  }));
if (!obs.length) throw new Error('no Observation with a quantity for the sampled patients');
// Codes by how many of the sampled patients have them: common for code+value, rare for _has.
const byCode = new Map();
for (const o of obs) {
  const k = `${o.sys}|${o.code}`;
  if (!byCode.has(k)) byCode.set(k, new Set());
  byCode.get(k).add(o.pid);
}
const codes = [...byCode.entries()].sort((a, b) => b[1].size - a[1].size).map(([k]) => k);
const rare = codes.slice(Math.floor(codes.length / 2));
const pick = (list, i) => list[i % list.length];

// The patient whose compartment is closest to 2,000 resources, not counting AuditEvents: the
// benchmark's own reads add them, and $everything leaves them out (decisions D21).
const [big] = sql(`SELECT patient_id AS pid, count(*) AS c FROM resource WHERE patient_id IS NOT NULL AND deleted = 0 AND type <> 'AuditEvent'
  GROUP BY patient_id ORDER BY abs(count(*) - 2000) LIMIT 1`);

// Common codes since a recent day (the corpus's latest effective date less 30, 90 or 365 days):
// a range of a few thousand rows against a code of a hundred thousand (decisions D111).
const latest = Date.parse(obs.reduce((m, o) => (o.eff > m ? o.eff : m), ''));
const since = [30, 90, 365].map((d) => new Date(latest - d * 864e5).toISOString().slice(0, 10));
const common = codes.slice(0, 10);

const scenarios = {
  read: patients.map((p) => `/fhir/Patient/${enc(p.id)}`),
  name: patients.map((p) => `/fhir/Patient?name=${enc(p.family)}`),
  identifier: patients.map((p) => `/fhir/Patient?identifier=${enc(`${p.isys}|${p.ival}`)}`),
  birthdate_gender: patients.map((p) => `/fhir/Patient?birthdate=ge${p.birth}&gender=${p.gender}`),
  obs_patient_code_date: obs
    .filter((_, i) => i % Math.max(1, Math.floor(obs.length / variants)) === 0)
    .map((o) => `/fhir/Observation?patient=${enc(o.pid)}&code=${enc(`${o.sys}|${o.code}`)}&date=ge${o.eff.slice(0, 10)}`),
  obs_code_value: obs
    .filter((_, i) => i % Math.max(1, Math.floor(obs.length / variants)) === 0)
    .map((o) => `/fhir/Observation?code=${enc(`${o.sys}|${o.code}`)}&value-quantity=gt${o.v}`),
  obs_code_recent_date: Array.from({ length: variants }, (_, i) =>
    `/fhir/Observation?code=${enc(pick(common, Math.floor(i / since.length)))}&date=ge${pick(since, i)}`),
  encounter_revinclude: patients.map((p) => `/fhir/Encounter?patient=${enc(p.id)}&_revinclude=Observation:encounter`),
  chain_subject_name: patients.map((p) => `/fhir/Observation?subject:Patient.name=${enc(p.family)}`),
  has_observation_code: patients.map((_, i) => `/fhir/Patient?_has:Observation:patient:code=${enc(pick(rare, i))}`),
  sort_date: patients.map((p) => `/fhir/Observation?patient=${enc(p.id)}&_sort=-date`),
  everything: [`/fhir/Patient/${enc(big.pid)}/$everything`],
};
for (const [name, list] of Object.entries(scenarios)) writeFileSync(path.join(values.out, `${name}.paths`), `${list.join('\n')}\n`);
console.log(`paths: ${Object.keys(scenarios).length} scenarios, ${patients.length} patients sampled, ${codes.length} codes; $everything patient ${big.pid} (${big.c} resources in its compartment)`);
