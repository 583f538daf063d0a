// The search oracle (issue #3, item 6): loads the Synthea/Inferno corpus plus a little demo-data
// into a real server over HTTP, then for every search parameter of every resource type present
// compares the server's result set (all pages, ids) with a brute-force evaluation of the
// SearchParameter's FHIRPath by fhirpath.js (HL7's reference engine, R4 model) over the same
// resources, applying the R4 matching rules written in match.mjs.
//
// Prints: parameters compared, queries, disagreements (query, extra/missing ids, why). Fails on
// any disagreement not listed in KNOWN_DIFFERENCES below.
//
// CARECHART_ORACLE_FULL=1 tries more values per parameter (slower; not run by CI).
// CARECHART_ORACLE_ONLY=Type[,Type] restricts to some types (debugging).
// CARECHART_ORACLE_EVERY=N loads every N-th Synthea patient Bundle and 1 demo-data patient: every
// parameter still compared, on a corpus about 1/N the size (scripts/test-postgres.sh uses 3: the
// queries that match most of the corpus dominate the time, and it grows with the corpus).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fhirpath from 'fhirpath';
import r4model from 'fhirpath/fhir-context/r4/index.js';
import { backendName, makeTempDir, removeTempDir, runSql, startServer } from '../conformance/server.mjs';
import { corpusPresent, loadCorpus, readBack, SYNTHEA } from './corpus.mjs';
import { compositeComponents, loadSearchParameters, paramsForType } from './params.mjs';
import { extract, resourceMatches } from './match.mjs';
import { queriesFor } from './queries.mjs';
import { compositeEntries, compositeQueries, compositeResourceMatches } from './composite.mjs';

const FULL = process.env.CARECHART_ORACLE_FULL === '1';
const ONLY = process.env.CARECHART_ORACLE_ONLY ? new Set(process.env.CARECHART_ORACLE_ONLY.split(',')) : null;
const EVERY = Math.max(1, Number(process.env.CARECHART_ORACLE_EVERY || 1));

// Types the server writes itself while the test runs (one AuditEvent per request): a moving
// target, not part of the corpus.
const NOT_CORPUS = { AuditEvent: 'written by the server for every request while the test runs' };

// Disagreements that are understood and accepted, keyed by "Type?name[:modifier]" → why.
// Keep it empty: a difference is a bug in the server or in the oracle, fix the one that is wrong.
const KNOWN_DIFFERENCES = {};

function evaluator(expression) {
  const fn = fhirpath.compile(expression, r4model, { resolveInternalTypes: false });
  return (resource) => fn(resource);
}

async function serverIds(server, path) {
  const ids = [];
  let url = server.url(path);
  let total;
  for (let page = 0; url; page++) {
    let res;
    try {
      res = await server.get(url);
    } catch (e) {
      // A keep-alive connection the server closed while idle (the evaluation phase takes a
      // while): fetch reports "other side closed"; a GET may be sent again.
      if (e.cause?.code !== 'UND_ERR_SOCKET') throw e;
      res = await server.get(url);
    }
    if (res.status !== 200) return { error: `${res.status}: ${(res.json?.issue ?? []).map((i) => i.diagnostics).join('; ') || res.text.slice(0, 200)}` };
    if (page === 0) total = res.json.total;
    for (const e of res.json.entry ?? []) if ((e.search?.mode ?? 'match') === 'match') ids.push(e.resource.id);
    url = (res.json.link ?? []).find((l) => l.relation === 'next')?.url;
    // Bundle.total is checked on the first page; later pages need not count again.
    if (url) url = url.includes('_total=') ? url.replace(/_total=[a-z]+/, '_total=none') : `${url}&_total=none`;
  }
  return { ids, total };
}

// The token parameters whose queries are also asked as `Patient?_has:<type>:patient:<param>=`:
// the patients that a resource matching the query refers to through its `patient` parameter
// (the store answers these from the token rows' patient column, decisions D60).
const HAS_TOKEN_PARAMS = new Set(['code', 'status', 'category']);

function hasTasks(type, { patientRows, tokenQueries }, patients, nowUs) {
  if (!patientRows || !patients.length) return [];
  const patientIds = new Set(patients.map((p) => p.id));
  return tokenQueries.map(({ name, query, matched }) => {
    const referred = new Set();
    for (const i of matched) {
      for (const e of patientRows[i].entries) {
        const id = e.type === 'Patient' ? e.id : undefined;
        if (id && patientIds.has(id) && resourceMatches('reference', '', [`Patient/${id}`], patientRows[i], nowUs)) referred.add(id);
      }
    }
    return { type: 'Patient', key: `Patient?_has:${type}:patient:${name}`, param: `Patient?_has:${type}:patient:${name}`, composite: false, path: `Patient?_has:${type}:patient:${name}=${query.text}`, expected: [...referred], why: `_has over ${type}.patient and ${type}.${name}` };
  });
}

// The Patient parameters whose queries are also asked as chains, `<type>?patient:Patient.<param>=`
// for every type with a `patient` reference: the resources referring to a Patient that matches.
// Asked in about five pages (at least 7 a page), so that the paging is compared too: the store
// walks a chain's references by target and carries the target in its page token (decisions D75).
const CHAIN_PATIENT_PARAMS = new Set(['name', 'gender']);
const chainPage = (matches) => Math.max(7, Math.ceil(matches / 5));

function chainTasks(chainSources, patientQueries, nowUs) {
  const tasks = [];
  for (const { type, patientRows } of chainSources) {
    for (const { name, query, matchedIds } of patientQueries) {
      const expected = [];
      for (const row of patientRows) {
        const refers = row.entries.some((e) => e.type === 'Patient' && matchedIds.has(e.id) && resourceMatches('reference', '', [`Patient/${e.id}`], row, nowUs));
        if (refers) expected.push(row.id);
      }
      tasks.push({ type, key: `${type}?patient:Patient.${name}`, param: `${type}?patient:Patient.${name}`, composite: false, path: `${type}?patient:Patient.${name}=${query.text}`, expected, count: chainPage(expected.length), why: `chain over ${type}.patient and Patient.${name}` });
    }
  }
  return tasks;
}

async function pool(items, n, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i], i);
      }
    }),
  );
}

test('search oracle: server result sets equal brute-force FHIRPath evaluation for every parameter present', {
  skip: corpusPresent() ? false : `shared data absent: ${SYNTHEA} (set CARECHART_SHARED_DATA)`,
  timeout: 600000,
}, async (t) => {
  const tmp = makeTempDir('carechart-oracle-');
  const server = await startServer();
  try {
    const t0 = Date.now();
    const demoPatients = FULL ? 10 : EVERY > 1 ? 1 : 3;
    const loaded = await loadCorpus(server, { tmpDir: tmp, demoPatients, demoYears: FULL ? 20 : 5, every: EVERY });
    // PostgreSQL plans from statistics that autovacuum gathers within a minute of a load; the
    // queries start within seconds, so gather them now, as a server in use has them (a table
    // never analysed can get a quadratic anti-join for `_has` with `:not`, decisions D69).
    if (backendName() === 'postgres') runSql(server.db, { postgres: 'ANALYZE' });
    const byType = await readBack(server);
    const nowUs = Date.now() * 1000;
    const all = loadSearchParameters();
    const stats = { types: 0, params: 0, queries: 0, skipped: [], evalErrors: [], refused: [], disagreements: [], known: [] };
    const tasks = [];
    const kinds = new Map();
    const chainSources = []; // { type, patientRows (with ids) } of the types with `patient`
    const chainPatientQueries = []; // { name, query, matchedIds } of Patient's queries

    for (const [type, resources] of [...byType.entries()].sort()) {
      if (ONLY && !ONLY.has(type)) continue;
      if (NOT_CORPUS[type]) {
        stats.skipped.push(`${type}.*: ${NOT_CORPUS[type]}`);
        continue;
      }
      stats.types++;
      // Reverse chains (`Patient?_has:<type>:patient:<token>=`): the token queries of this type
      // and the `patient` references of its resources, combined after the loop.
      const hasSources = { patientRows: undefined, tokenQueries: [] };
      for (const param of paramsForType(all, type)) {
        if (param.skip) {
          stats.skipped.push(`${type}.${param.code}: ${param.skip}`);
          continue;
        }
        let rows;
        let queries;
        let matcher;
        try {
          if (param.type === 'composite') {
            const comps = compositeComponents(all, param, type);
            rows = compositeEntries(param, comps, resources, evaluator);
            queries = compositeQueries(comps, rows, { width: FULL ? 5 : 2 });
            matcher = (query, row) => compositeResourceMatches(comps, query, row, nowUs);
          } else {
            const fn = evaluator(param.fhirpath);
            rows = resources.map((r) => {
              const nodes = fn(r);
              const entries = [];
              for (const n of nodes) {
                const { entries: es, kind } = extract(param.type, n);
                entries.push(...es);
                const k = `${param.type}:${kind}`;
                kinds.set(k, (kinds.get(k) ?? 0) + 1);
              }
              return { entries, present: nodes.length > 0 };
            });
            queries = queriesFor(param, rows, { width: FULL ? 6 : 3 });
            matcher = (query, row) => resourceMatches(param.type, query.modifier, query.values, row, nowUs);
          }
        } catch (e) {
          stats.evalErrors.push(`${type}.${param.code} (${param.expression}): ${e.message}`);
          continue;
        }
        if (!rows.some((r) => r.present)) continue; // no value in the corpus: nothing to compare
        stats.params++;
        if (param.code === 'patient' && param.type === 'reference') {
          hasSources.patientRows = rows;
          chainSources.push({ type, patientRows: rows.map((r, i) => ({ ...r, id: resources[i].id })) });
        }
        for (const query of queries) {
          const expected = resources.filter((r, i) => matcher(query, rows[i])).map((r) => r.id);
          const name = query.modifier ? `${param.code}:${query.modifier}` : param.code;
          if (type === 'Patient' && CHAIN_PATIENT_PARAMS.has(param.code) && !query.modifier) {
            chainPatientQueries.push({ name, query, matchedIds: new Set(expected) });
          }
          if (param.type === 'token' && HAS_TOKEN_PARAMS.has(param.code)) {
            hasSources.tokenQueries.push({ name, query, matched: resources.flatMap((r, i) => (matcher(query, rows[i]) ? [i] : [])) });
          }
          tasks.push({ type, key: `${type}?${name}`, param: `${type}.${param.code}`, composite: param.type === 'composite', path: `${type}?${name}=${query.text}`, expected, why: `${param.type} ${param.expression}` });
        }
      }
      tasks.push(...hasTasks(type, hasSources, byType.get('Patient') ?? [], nowUs));
    }
    if (!ONLY || ONLY.has('Patient')) tasks.push(...chainTasks(chainSources, chainPatientQueries, nowUs));

    const tEval = Date.now();
    const slow = [];
    const compositeRefused = new Set();
    await pool(tasks, 4, async (task) => {
      const tq = Date.now();
      let got;
      try {
        got = await serverIds(server, `${task.path}&_count=${task.count ?? 1000}&_elements=id`);
      } catch (e) {
        throw new Error(`GET ${task.path}: ${e.message} (${e.cause?.message ?? ''}); server exit ${JSON.stringify(server.exitStatus)}\n${server.stderr().slice(-2000)}`);
      }
      slow.push([Date.now() - tq, task.path]);
      const known = KNOWN_DIFFERENCES[task.key];
      // A server without composite support says so: those parameters are listed as skipped.
      if (got.error && task.composite && /composite.*not supported/.test(got.error)) {
        compositeRefused.add(task.param);
        return;
      }
      stats.queries++;
      if (got.error) {
        (known ? stats.known : stats.refused).push(`${task.path} → ${got.error}`);
        return;
      }
      const exp = new Set(task.expected);
      const have = new Set(got.ids);
      const extra = got.ids.filter((id) => !exp.has(id));
      const missing = task.expected.filter((id) => !have.has(id));
      const totalWrong = got.total !== undefined && got.total !== got.ids.length;
      if (extra.length || missing.length || totalWrong || have.size !== got.ids.length) {
        const line = `${task.path}: expected ${exp.size}, server ${got.ids.length}${totalWrong ? ` (Bundle.total ${got.total})` : ''}; extra [${extra.slice(0, 5)}${extra.length > 5 ? ` …+${extra.length - 5}` : ''}] missing [${missing.slice(0, 5)}${missing.length > 5 ? ` …+${missing.length - 5}` : ''}] (${task.why})`;
        (known ? stats.known : stats.disagreements).push(known ? `${line} — known: ${known}` : line);
      }
    });

    for (const p of compositeRefused) stats.skipped.push(`${p}: composite, refused by this server build`);
    stats.params -= compositeRefused.size;
    const seconds = ((Date.now() - t0) / 1000).toFixed(1);
    const querySeconds = ((Date.now() - tEval) / 1000).toFixed(1);
    const resources = [...byType.values()].reduce((a, b) => a + b.length, 0);
    const report = [
      `search oracle: corpus ${loaded.bundles} Bundles${EVERY > 1 ? ` (1 in ${EVERY} Synthea patients)` : ''}, ${resources} resources of ${byType.size} types (loaded in ${loaded.seconds.toFixed(1)} s)`,
      `search oracle: ${stats.params} parameters compared over ${stats.types} types, ${stats.queries} queries (${tasks.filter((k) => k.key.includes('?_has:')).length} of them _has, ${tasks.filter((k) => k.key.includes(':Patient.')).length} chains), ${stats.disagreements.length} disagreements, ${stats.refused.length} refused, ${stats.known.length} known differences, ${stats.evalErrors.length} expressions fhirpath.js could not evaluate, ${stats.skipped.length} (type, parameter) pairs skipped; ${seconds} s (queries ${querySeconds} s)`,
    ];
    for (const l of report) {
      console.log(l);
      t.diagnostic(l);
    }
    if (process.env.CARECHART_ORACLE_VERBOSE) {
      console.log(`skipped:\n  ${[...new Set(stats.skipped.map((s) => s.replace(/^\w+\./, '')))].join('\n  ')}`);
      console.log(`value kinds: ${JSON.stringify(Object.fromEntries(kinds))}`);
      console.log(`slowest queries:\n  ${slow.sort((a, b) => b[0] - a[0]).slice(0, 15).map(([ms, p]) => `${ms} ms ${p}`).join('\n  ')}`);
    }
    for (const [label, list] of [['fhirpath.js evaluation errors', stats.evalErrors], ['refused by the server', stats.refused], ['disagreements', stats.disagreements], ['known differences', stats.known]]) {
      if (list.length) console.log(`${label} (${list.length}):\n  ${list.slice(0, 200).join('\n  ')}`);
    }
    assert.ok(stats.params > 100 && stats.queries > 1000, `the corpus should exercise many parameters (got ${stats.params} parameters, ${stats.queries} queries)`);
    assert.deepEqual(stats.evalErrors, [], 'every SearchParameter expression must evaluate in fhirpath.js');
    assert.deepEqual(stats.refused, [], 'the server must answer every generated query');
    assert.deepEqual(stats.disagreements, [], 'server and oracle must agree');
  } finally {
    await server.cleanup();
    removeTempDir(tmp);
  }
});
