// Crash safety: 8 concurrent writers create/update as fast as they can; after ~2 s the server gets
// SIGKILL mid-stream. After a restart on the same database every acknowledged write must be
// readable with the same content, and nothing partial may be visible: every stored version parses,
// is one of the bodies we sent, and each resource's history is complete and contiguous.
// Three kill/restart cycles on the same database, acknowledged writes accumulating.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { makeTempDir, removeTempDir, startServer } from '../conformance/server.mjs';
import { parseRaw, stringifyCanonical, without } from '../conformance/rawjson.mjs';

const WRITERS = 8;
const CYCLES = 3;
const KILL_AFTER_MS = 2000;
const VERIFY_CONCURRENCY = 8;

const dir = makeTempDir('carechart-crash-');
const db = path.join(dir, 'crash.db');
let current = null;

after(async () => {
  if (current) await current.kill9().catch(() => {});
  removeTempDir(dir);
});

function contentHash(resource) {
  return createHash('sha256').update(stringifyCanonical(without(resource, 'id', 'meta'))).digest('hex');
}

// Request bodies are written as text so that decimals such as 17.50 are sent exactly.
function patientText(writer, seq, id) {
  return `{"resourceType":"Patient",${id ? `"id":"${id}",` : ''}"active":${seq % 2 === 0},"name":[{"family":"Crash","given":["w${writer}","s${seq}"]}],"gender":"${['male', 'female', 'other', 'unknown'][seq % 4]}","birthDate":"19${String(50 + (seq % 50)).padStart(2, '0')}-0${1 + (seq % 9)}-1${seq % 10}","extension":[{"url":"https://carechart.dev/test/seq","valueDecimal":${seq}.50}]}`;
}

function observationText(writer, seq, id) {
  return `{"resourceType":"Observation",${id ? `"id":"${id}",` : ''}"status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}],"text":"w${writer} s${seq}"},"effectiveDateTime":"2021-01-01T00:00:${String(seq % 60).padStart(2, '0')}Z","valueQuantity":{"value":${60 + (seq % 40)}.10,"unit":"/min","system":"http://unitsofmeasure.org","code":"/min"}}`;
}

class Ledger {
  constructor() {
    this.acked = new Map(); // "Type/id" -> Map(versionId -> hash)
    this.attempted = new Set(); // hashes of every body ever sent
    this.ids = []; // "Type/id" acknowledged, for updates in later cycles
  }
  ack(key, version, hash) {
    if (!this.acked.has(key)) {
      this.acked.set(key, new Map());
      this.ids.push(key);
    }
    const versions = this.acked.get(key);
    assert.ok(!versions.has(version) || versions.get(version) === hash, `${key}: version ${version} acknowledged twice with different content`);
    versions.set(version, hash);
  }
  ackCount() {
    let n = 0;
    for (const v of this.acked.values()) n += v.size;
    return n;
  }
}

async function writeLoad(server, ledger, cycle) {
  let stop = false;
  const preKillProblems = [];
  let killed = false;
  let acks = 0;
  const writer = async (w) => {
    const mine = ledger.ids.filter((_, i) => i % WRITERS === w);
    let seq = cycle * 1_000_000 + w * 100_000;
    while (!stop) {
      seq++;
      const update = mine.length >= 3 && seq % 5 < 2;
      let key = null;
      let type;
      let text;
      if (update) {
        key = mine[seq % mine.length];
        const [t, id] = key.split('/');
        type = t;
        text = t === 'Patient' ? patientText(w, seq, id) : observationText(w, seq, id);
      } else {
        type = seq % 3 === 0 ? 'Observation' : 'Patient';
        text = type === 'Patient' ? patientText(w, seq) : observationText(w, seq);
      }
      const hash = contentHash(parseRaw(text));
      ledger.attempted.add(hash);
      let res;
      let body;
      try {
        res = await fetch(`${server.fhirBase}/${key ?? type}`, {
          method: update ? 'PUT' : 'POST',
          headers: { 'content-type': 'application/fhir+json', prefer: 'return=representation', authorization: `Bearer ${server.token}` },
          body: text,
        });
        body = await res.text();
      } catch (e) {
        if (!killed) preKillProblems.push(`${update ? 'PUT' : 'POST'} ${key ?? type}: connection error before the kill: ${e.cause?.code ?? e.message}`);
        continue; // not acknowledged
      }
      if (res.status !== (update ? 200 : 201)) {
        preKillProblems.push(`${update ? 'PUT' : 'POST'} ${key ?? type} → ${res.status}: ${body.slice(0, 200)}`);
        continue;
      }
      let stored;
      try {
        stored = parseRaw(body);
      } catch (e) {
        preKillProblems.push(`acknowledged response is not JSON: ${e.message}`);
        continue;
      }
      const ackKey = `${type}/${stored.id}`;
      const version = stored.meta?.versionId;
      if (!stored.id || !version) {
        preKillProblems.push(`acknowledged response without id/versionId: ${body.slice(0, 200)}`);
        continue;
      }
      if (contentHash(stored) !== hash) preKillProblems.push(`${ackKey}: response content differs from the body sent`);
      ledger.ack(ackKey, version, hash);
      acks++;
      if (!update) mine.push(ackKey);
    }
  };
  const running = Array.from({ length: WRITERS }, (_, w) => writer(w));
  await delay(KILL_AFTER_MS);
  killed = true;
  const exit = await server.kill9();
  stop = true;
  await Promise.all(running);
  return { preKillProblems, exit, acks };
}

// Like allPages() but parsing with parseRaw, so decimals keep their written form for hashing.
async function allPagesRaw(server, firstPath) {
  const entries = [];
  const pages = [];
  let url = server.url(firstPath);
  while (url) {
    const res = await server.get(url);
    if (res.status !== 200) throw new Error(`GET ${url} → ${res.status}: ${res.text.slice(0, 200)}`);
    const b = parseRaw(res.text);
    pages.push(b);
    entries.push(...(b.entry ?? []));
    url = (b.link ?? []).find((l) => l.relation === 'next')?.url;
    if (pages.length > 10000) throw new Error(`${firstPath}: more than 10000 pages`);
  }
  return { entries, pages, total: pages[0].total === undefined ? undefined : Number(String(pages[0].total)) };
}

async function pool(items, fn) {
  let i = 0;
  const problems = [];
  await Promise.all(
    Array.from({ length: VERIFY_CONCURRENCY }, async () => {
      while (i < items.length) {
        const item = items[i++];
        try {
          const p = await fn(item);
          if (p) problems.push(...[].concat(p));
        } catch (e) {
          problems.push(`${item}: ${e.message}`);
        }
      }
    }),
  );
  return problems;
}

async function verify(server, ledger) {
  const problems = [];
  // 1. every acknowledged version is readable with the same content (vread), and history is whole
  problems.push(
    ...(await pool([...ledger.acked.keys()], async (key) => {
      const out = [];
      const versions = ledger.acked.get(key);
      const cur = await server.get(key);
      if (cur.status !== 200) return `${key}: read → ${cur.status} after restart`;
      const curRes = parseRaw(cur.text);
      const curV = Number(curRes.meta?.versionId);
      const maxAcked = Math.max(...[...versions.keys()].map(Number));
      if (!(curV >= maxAcked)) out.push(`${key}: current version ${curV} older than acknowledged ${maxAcked} (lost write)`);
      if (!ledger.attempted.has(contentHash(curRes))) out.push(`${key}: current content was never sent (partial/corrupt)`);
      for (const [v, hash] of versions) {
        const vr = await server.get(`${key}/_history/${v}`);
        if (vr.status !== 200) {
          out.push(`${key}/_history/${v}: → ${vr.status} (acknowledged write lost)`);
          continue;
        }
        if (contentHash(parseRaw(vr.text)) !== hash) out.push(`${key}/_history/${v}: content differs from the acknowledged write`);
      }
      const { entries } = await allPagesRaw(server, `${key}/_history`);
      const hv = entries.map((e) => Number(e.resource?.meta?.versionId ?? /_history\/(\d+)/.exec(e.request?.url ?? '')?.[1]));
      const expected = Array.from({ length: curV }, (_, k) => curV - k);
      if (JSON.stringify(hv) !== JSON.stringify(expected)) out.push(`${key}: history versions ${JSON.stringify(hv)} != ${JSON.stringify(expected)}`);
      for (const e of entries) {
        if (e.resource && !ledger.attempted.has(contentHash(e.resource))) out.push(`${key}: history version ${e.resource.meta?.versionId} was never sent`);
      }
      return out;
    })),
  );
  // 2. everything stored (acknowledged or not) is complete and is one of the bodies we sent
  for (const type of ['Patient', 'Observation']) {
    const { entries, total } = await allPagesRaw(server, `${type}?_count=1000`);
    if (typeof total === 'number' && total !== entries.length) problems.push(`${type}: total ${total} but ${entries.length} entries across pages`);
    const ackedOfType = [...ledger.acked.keys()].filter((k) => k.startsWith(`${type}/`)).length;
    if (entries.length < ackedOfType) problems.push(`${type}: ${entries.length} stored < ${ackedOfType} acknowledged`);
    for (const e of entries) {
      const r = e.resource;
      if (!r?.id || !r.meta?.versionId || !r.meta?.lastUpdated) problems.push(`${type}: incomplete stored resource ${JSON.stringify(r).slice(0, 200)}`);
      else if (!ledger.attempted.has(contentHash(r))) problems.push(`${type}/${r.id}: stored content was never sent (partial/corrupt)`);
    }
  }
  return problems;
}

test(`kill -9 during ${WRITERS} concurrent writers, ${CYCLES} cycles: every acknowledged write survives`, async (t) => {
  const ledger = new Ledger();
  for (let cycle = 1; cycle <= CYCLES; cycle++) {
    current = await startServer({ db });
    const { preKillProblems, exit, acks } = await writeLoad(current, ledger, cycle);
    assert.equal(exit.signal, 'SIGKILL', `cycle ${cycle}: server should have died of SIGKILL, got ${JSON.stringify(exit)}`);
    assert.ok(acks > 0, `cycle ${cycle}: no write was acknowledged in ${KILL_AFTER_MS} ms`);
    assert.deepEqual(preKillProblems.slice(0, 10), [], `cycle ${cycle}: errors while the server was up`);

    current = await startServer({ db });
    const problems = await verify(current, ledger);
    t.diagnostic(`cycle ${cycle}: ${acks} writes acknowledged this cycle, ${ledger.ackCount()} in total over ${ledger.acked.size} resources; ${problems.length} problems`);
    assert.deepEqual(problems.slice(0, 20), [], `cycle ${cycle}: ${problems.length} durability/consistency problems after kill -9`);
    const stop = await current.stop();
    assert.equal(stop.code, 0, `cycle ${cycle}: graceful stop after verification`);
    current = null;
  }
});
