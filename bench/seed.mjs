#!/usr/bin/env node
// Seed N Patients into a running carechart over HTTP, then read each back and save its exact
// response body as a static file (for the nginx reference) and its id (for the wrk scripts).
// usage: node bench/seed.mjs --base http://127.0.0.1:PORT/fhir --count N --ids FILE --www DIR
// The access token is taken from CARECHART_BEARER (bench/run.sh gets one with `carechart token`).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    count: { type: 'string', default: '1000' },
    ids: { type: 'string' },
    www: { type: 'string' },
    concurrency: { type: 'string', default: '16' },
  },
});
if (!values.base || !values.ids || !values.www) {
  console.error('usage: seed.mjs --base URL --count N --ids FILE --www DIR');
  process.exit(2);
}
const auth = process.env.CARECHART_BEARER ? { authorization: `Bearer ${process.env.CARECHART_BEARER}` } : {};
const count = Number(values.count);
const concurrency = Number(values.concurrency);
const outDir = path.join(values.www, 'fhir', 'Patient');
mkdirSync(outDir, { recursive: true });

const given = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken'];
const family = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson'];

function patient(i) {
  return {
    resourceType: 'Patient',
    active: true,
    identifier: [{ system: 'urn:carechart-bench:mrn', value: `MRN${String(i).padStart(8, '0')}` }],
    name: [{ use: 'official', family: family[i % family.length], given: [given[(i * 7) % given.length], 'Bench'] }],
    telecom: [{ system: 'phone', value: `555-01${String(i % 100).padStart(2, '0')}`, use: 'home' }],
    gender: ['male', 'female', 'other', 'unknown'][i % 4],
    birthDate: `19${String(40 + (i % 60)).padStart(2, '0')}-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}`,
    address: [{ line: [`${i} Main Street`], city: 'Springfield', state: 'IL', postalCode: '62701', country: 'US' }],
  };
}

const ids = new Array(count);
let next = 0;
let failures = 0;
async function worker() {
  while (next < count) {
    const i = next++;
    const res = await fetch(`${values.base}/Patient`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', ...auth },
      body: JSON.stringify(patient(i)),
    });
    const text = await res.text();
    if (res.status !== 201) {
      failures++;
      if (failures <= 5) console.error(`seed: POST → ${res.status}: ${text.slice(0, 200)}`);
      continue;
    }
    const id = JSON.parse(text).id;
    const read = await fetch(`${values.base}/Patient/${id}`, { headers: auth });
    const body = await read.text();
    if (read.status !== 200) {
      failures++;
      console.error(`seed: GET Patient/${id} → ${read.status}`);
      continue;
    }
    writeFileSync(path.join(outDir, id), body);
    ids[i] = id;
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
const good = ids.filter(Boolean);
writeFileSync(values.ids, `${good.join('\n')}\n`);
console.log(`seeded ${good.length}/${count} patients`);
process.exit(good.length === count ? 0 : 1);
