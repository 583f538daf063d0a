// Data-driven round trip: POST every official R4 example (shared/data/fhir-examples/r4-spec-examples,
// Bundles included, as plain resources), read each back, and compare with what was sent apart from
// `id` and `meta`. Numbers are compared as the exact text written (1.50 must stay 1.50).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { FHIR_JSON_CT, sharedDataDir, startServer } from './server.mjs';
import { diffRaw, parseRaw, without } from './rawjson.mjs';

const EXAMPLES = path.join(sharedDataDir(), 'fhir-examples', 'r4-spec-examples');
const present = existsSync(EXAMPLES);
const CONCURRENCY = 4;

// Official examples that are themselves invalid R4: the server must reject them (400/422) with an
// issue naming the offending path, and that counts as the correct outcome.
const KNOWN_INVALID = {
  'Questionnaire-qs1.json': {
    why: 'nested display items have no linkId (Questionnaire.item.linkId is 1..1 in R4)',
    path: 'Questionnaire.item[0].item[0]',
  },
};

let server;

before(async () => {
  if (present) server = await startServer();
});

after(async () => {
  await server?.cleanup();
});

async function roundTrip(file) {
  const text = readFileSync(path.join(EXAMPLES, file), 'utf8');
  const sent = parseRaw(text);
  const type = sent.resourceType;
  const created = await server.post(type, text);
  const known = KNOWN_INVALID[file];
  if (known) {
    if (![400, 422].includes(created.status)) return `known-invalid example (${known.why}) accepted: POST /${type} → ${created.status}`;
    const named = created.json?.issue?.some((i) => [...(i.expression ?? []), ...(i.location ?? [])].some((e) => e.includes(known.path)));
    return named ? null : `known-invalid example rejected without an issue naming ${known.path}: ${created.text.slice(0, 300)}`;
  }
  if (created.status !== 201) {
    const why = created.json?.issue?.map((i) => `${i.severity}: ${(i.expression ?? i.location ?? []).join(',')} ${i.diagnostics ?? i.details?.text ?? ''}`).join(' | ');
    return `POST /${type} → ${created.status} ${why ?? created.text.slice(0, 300)}`;
  }
  if (!FHIR_JSON_CT.test(created.headers.get('content-type') ?? '')) {
    return `POST /${type}: Content-Type ${created.headers.get('content-type')}`;
  }
  const loc = created.headers.get('location') ?? '';
  const m = new RegExp(`/${type}/([A-Za-z0-9\\-.]{1,64})(/_history/\\d+)?$`).exec(loc);
  const id = m?.[1] ?? created.json?.id;
  if (!id) return `POST /${type}: no id in Location (${loc}) or body`;
  const read = await server.get(`${type}/${id}`);
  if (read.status !== 200) return `GET /${type}/${id} → ${read.status} ${read.text.slice(0, 200)}`;
  let got;
  try {
    got = parseRaw(read.text);
  } catch (e) {
    return `GET /${type}/${id}: response is not valid JSON: ${e.message}`;
  }
  if (got.id !== id) return `GET /${type}/${id}: body id is ${got.id}`;
  if (got.meta?.versionId !== '1') return `GET /${type}/${id}: meta.versionId is ${got.meta?.versionId}`;
  const d = diffRaw(without(sent, 'id', 'meta'), without(got, 'id', 'meta'));
  return d ? `content differs: ${d}` : null;
}

test('r4-examples over HTTP: every example round-trips exactly', { skip: present ? false : `examples folder absent: ${EXAMPLES} (set CARECHART_SHARED_DATA)` }, async (t) => {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.json')).sort();
  assert.ok(files.length > 0, `no examples in ${EXAMPLES}`);
  const failures = [];
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++];
      let problem;
      try {
        problem = await roundTrip(file);
      } catch (e) {
        problem = `exception: ${e.message}`;
      }
      if (problem) failures.push({ file, problem });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  failures.sort((a, b) => a.file.localeCompare(b.file));
  const passed = files.length - failures.length;
  const nKnown = files.filter((f) => KNOWN_INVALID[f]).length;
  const line = `r4-examples over HTTP: ${passed - nKnown}/${files.length} round-tripped (+${nKnown} known-invalid example(s) checked for correct rejection); ${failures.length} failure(s)`;
  console.log(line);
  t.diagnostic(line);
  for (const f of failures.slice(0, 40)) t.diagnostic(`  ${f.file}: ${f.problem}`);
  if (failures.length > 40) t.diagnostic(`  ... and ${failures.length - 40} more`);
  await server.assertHealthy('after the examples');
  assert.equal(
    passed,
    files.length,
    `${failures.length} example(s) did not round-trip:\n${failures
      .slice(0, 25)
      .map((f) => `  ${f.file}: ${f.problem}`)
      .join('\n')}`,
  );
});
