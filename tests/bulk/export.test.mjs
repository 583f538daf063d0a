// Bulk Data $export (https://hl7.org/fhir/uv/bulkdata/export.html) and $import over HTTP: the
// asynchronous protocol and its errors, _type / _since / _typeFilter / _elements, Patient and
// Group level, cancel, gzip downloads. A small data set is created through the API.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { assertOperationOutcome, backendToken, makeTempDir, removeTempDir, runCli, startServer, testClientKeys } from '../conformance/server.mjs';
import { ASYNC, download, downloadAll, kickoff, manifestOf, waitForJob } from './bulk-helpers.mjs';

let s;
const ids = {};

function obs(patient, code, value) {
  return {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code }] },
    subject: { reference: `Patient/${patient}` },
    valueQuantity: { value, unit: '%', system: 'http://unitsofmeasure.org', code: '%' },
  };
}

before(async () => {
  s = await startServer();
  for (const name of ['alpha', 'beta', 'gamma']) {
    ids[name] = (await s.create({ resourceType: 'Patient', name: [{ family: name }], gender: name === 'beta' ? 'male' : 'female' })).id;
  }
  ids.doctor = (await s.create({ resourceType: 'Practitioner', name: [{ family: 'Doc' }] })).id;
  ids.a1 = (await s.create(obs(ids.alpha, '4548-4', 7.25))).id;
  ids.a2 = (await s.create(obs(ids.alpha, '8867-4', 61))).id;
  ids.b1 = (await s.create(obs(ids.beta, '4548-4', 6.5))).id;
  ids.g1 = (await s.create(obs(ids.gamma, '8867-4', 70))).id;
  ids.gone = (await s.create(obs(ids.gamma, '8867-4', 71))).id;
  assert.equal((await s.request('DELETE', `Observation/${ids.gone}`)).status, 204);
  ids.group = (await s.create({ resourceType: 'Group', type: 'person', actual: true, member: [{ entity: { reference: `Patient/${ids.alpha}` } }, { entity: { reference: `Patient/${ids.beta}` } }] })).id;
});

after(async () => {
  if (s) await s.cleanup();
});

function idsOf(byType, type) {
  return [...(byType.get(type)?.keys() ?? [])].sort();
}

describe('kick-off errors', () => {
  test('without Prefer: respond-async is a 400 saying what to send', async () => {
    const res = await s.get('$export', { headers: { accept: 'application/fhir+json' } });
    assert.equal(res.status, 400);
    const oo = assertOperationOutcome(res);
    assert.match(oo.issue[0].diagnostics, /Prefer: respond-async/);
  });

  test('unknown parameters are named', async () => {
    const res = await s.get('$export?_count=10&frobnicate=1', { headers: ASYNC });
    assert.equal(res.status, 400);
    assert.match(assertOperationOutcome(res).issue[0].diagnostics, /_count, frobnicate/);
  });

  test('an unsupported _outputFormat, a bad _type, _since or _typeFilter is a 400 naming it', async () => {
    for (const [q, name] of [
      ['_outputFormat=text/csv', '_outputFormat'],
      ['_type=Patiant', 'Patiant'],
      ['_since=last-tuesday', '_since'],
      ['_typeFilter=Observation%3Fnosuch%3D1', 'nosuch'],
    ]) {
      const res = await s.get(`$export?${q}`, { headers: ASYNC });
      assert.equal(res.status, 400, q);
      assert.ok(JSON.stringify(assertOperationOutcome(res)).includes(name), `${q}: ${res.text}`);
    }
  });

  test('the abbreviations of the NDJSON format are accepted', async () => {
    for (const f of ['application/fhir+ndjson', 'application/ndjson', 'ndjson']) {
      const url = await kickoff(s, `$export?_type=Practitioner&_outputFormat=${encodeURIComponent(f)}`);
      await manifestOf(s, url);
    }
  });

  test('Patient-level _type outside the compartment, an unknown Group, POST', async () => {
    const res = await s.get('Patient/$export?_type=Practitioner', { headers: ASYNC });
    assert.equal(res.status, 400);
    assert.equal((await s.get('Group/no-such-group/$export', { headers: ASYNC })).status, 404);
    assert.equal((await s.request('PUT', '$export', { headers: ASYNC, body: {} })).status, 405);
    assert.equal((await s.get('_bulk/0123456789abcdef')).status, 404);
  });
});

describe('who may export', () => {
  test('no token: 401; a token without system/*.r: 403 naming the scope unless _type narrows it', async () => {
    const anon = await s.request('GET', '$export', { headers: ASYNC, auth: false });
    assert.equal(anon.status, 401);
    const narrow = await s.tokenFor('system/Patient.rs');
    const all = await s.request('GET', '$export', { headers: ASYNC, token: narrow });
    assert.equal(all.status, 403);
    assertOperationOutcome(all);
    assert.match(all.text, /system\/\*\.r/);
    const some = await s.request('GET', '$export?_type=Patient', { headers: ASYNC, token: narrow });
    assert.equal(some.status, 202);
    const wider = await s.request('GET', '$export?_type=Patient,Observation', { headers: ASYNC, token: narrow });
    assert.equal(wider.status, 403);
  });
});

describe('POST kick-off (Bulk Data v2)', () => {
  const params = (...parameter) => ({ resourceType: 'Parameters', parameter });

  test('a Parameters body carries _type, _typeFilter and _outputFormat like the query', async () => {
    const url = await kickoff(s, '$export', {
      method: 'POST',
      body: params(
        { name: '_outputFormat', valueString: 'application/fhir+ndjson' },
        { name: '_type', valueString: 'Observation' },
        { name: '_typeFilter', valueString: 'Observation?code=http://loinc.org|4548-4' },
      ),
    });
    const m = await manifestOf(s, url);
    const byType = await downloadAll(s, m);
    assert.deepEqual([...byType.keys()], ['Observation']);
    assert.deepEqual(idsOf(byType, 'Observation'), [ids.a1, ids.b1].sort());
  });

  test('patient (valueReference) narrows a Patient-level export to those patients', async () => {
    const url = await kickoff(s, 'Patient/$export', {
      method: 'POST',
      body: params({ name: 'patient', valueReference: { reference: `Patient/${ids.beta}` } }),
    });
    const byType = await downloadAll(s, await manifestOf(s, url));
    assert.deepEqual(idsOf(byType, 'Patient'), [ids.beta]);
    assert.deepEqual(idsOf(byType, 'Observation'), [ids.b1]);
  });

  test('a bad body or parameter is a 400 naming it; patient is refused in a GET', async () => {
    const notParams = await s.post('$export', { resourceType: 'Patient' }, { headers: ASYNC });
    assert.equal(notParams.status, 400);
    assert.match(assertOperationOutcome(notParams).issue[0].diagnostics, /Parameters/);
    const badType = await s.post('$export', params({ name: '_type', valueString: 'Nonsense' }), { headers: ASYNC });
    assert.equal(badType.status, 400);
    assert.match(badType.text, /Nonsense/);
    const noValue = await s.post('$export', params({ name: '_since' }), { headers: ASYNC });
    assert.equal(noValue.status, 400);
    assert.match(noValue.text, /parameter\[0\]/);
    const systemPatient = await s.post('$export', params({ name: 'patient', valueReference: { reference: `Patient/${ids.beta}` } }), { headers: ASYNC });
    assert.equal(systemPatient.status, 400);
    assert.match(systemPatient.text, /Patient level only/);
    const getPatient = await s.get(`Patient/$export?patient=${ids.beta}`, { headers: ASYNC });
    assert.equal(getPatient.status, 400);
  });
});

describe('jobs belong to the client that started them', () => {
  test('another backend client may not poll, download or cancel a job', async () => {
    const dir = makeTempDir('carechart-bulk-other-');
    try {
      const jwks = path.join(dir, 'jwks.json');
      writeFileSync(jwks, JSON.stringify(testClientKeys().jwks));
      runCli(['client', 'add', 'other-backend', '--db', s.db, '--kind', 'backend', '--jwks', jwks, '--scope', 'system/*.cruds', '--name', 'Another backend']);
    } finally {
      removeTempDir(dir);
    }
    const other = (await backendToken(s.origin, { clientId: 'other-backend', scope: 'system/*.rs' })).access_token;
    const url = await kickoff(s, '$export?_type=Patient');
    const m = await manifestOf(s, url);
    const peek = await s.request('GET', url, { token: other });
    assert.equal(peek.status, 403, peek.text);
    assert.match(assertOperationOutcome(peek).issue[0].diagnostics, /another client/);
    assert.equal((await s.request('GET', m.output[0].url, { token: other })).status, 403);
    assert.equal((await s.request('DELETE', url, { token: other })).status, 403);
    // The owner still sees everything; the other client's own job is its own.
    assert.equal((await s.get(url)).status, 200);
    await download(s, m.output[0]);
    const theirs = await s.request('GET', '$export?_type=Patient', { headers: ASYNC, token: other });
    assert.equal(theirs.status, 202);
    assert.equal((await s.get(theirs.headers.get('content-location'))).status, 403);
  });
});

describe('system export', () => {
  test('every current resource, once, as stored; deleted ones left out; files downloadable', async () => {
    const url = await kickoff(s, '$export');
    let polled202 = 0;
    const m = await manifestOf(s, url, { onProgress: () => polled202++ });
    assert.equal(m.request, `${s.fhirBase}/$export`);
    assert.equal(m.requiresAccessToken, true);
    assert.deepEqual(m.error, []);
    const byType = await downloadAll(s, m);
    assert.deepEqual(idsOf(byType, 'Patient'), [ids.alpha, ids.beta, ids.gamma].sort());
    assert.deepEqual(idsOf(byType, 'Observation'), [ids.a1, ids.a2, ids.b1, ids.g1].sort());
    assert.deepEqual(idsOf(byType, 'Practitioner'), [ids.doctor]);
    assert.deepEqual(idsOf(byType, 'Group'), [ids.group]);
    // Content is the stored resource, meta included, byte for byte (decimals as sent).
    const read = await s.get(`Observation/${ids.a1}`);
    const file = m.output.find((f) => f.type === 'Observation');
    const { raw } = await download(s, file);
    assert.ok(raw.includes(read.text), 'the exported line is the stored JSON');
    assert.ok(raw.some((l) => l.includes('"value":7.25')));
    console.log(`system export: ${m.output.length} files, ${polled202} polls answered 202`);
  });

  test('gzip when the client accepts it, identity otherwise', async () => {
    const m = await manifestOf(s, await kickoff(s, '$export?_type=Patient'));
    const gz = await download(s, m.output[0], { 'accept-encoding': 'gzip' });
    assert.equal(gz.res.headers.get('content-encoding'), 'gzip');
    const plain = await download(s, m.output[0], { 'accept-encoding': 'identity' });
    assert.equal(plain.res.headers.get('content-encoding'), null);
    assert.deepEqual(gz.raw, plain.raw);
    // The compressed copy is made once and reused; HEAD gives the file's length and no body.
    const again = await download(s, m.output[0], { 'accept-encoding': 'gzip' });
    assert.deepEqual(again.raw, plain.raw);
    const head = await s.request('HEAD', m.output[0].url, { headers: { 'accept-encoding': 'identity' } });
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    assert.equal(Number(head.headers.get('content-length')), Buffer.byteLength(plain.res.text));
  });

  test('_type, _since and _typeFilter', async () => {
    let m = await manifestOf(s, await kickoff(s, '$export?_type=Observation,Practitioner'));
    assert.deepEqual([...new Set(m.output.map((f) => f.type))].sort(), ['Observation', 'Practitioner']);

    const filter = encodeURIComponent('Observation?code=http://loinc.org|4548-4');
    m = await manifestOf(s, await kickoff(s, `$export?_type=Observation&_typeFilter=${filter}`));
    assert.deepEqual(idsOf(await downloadAll(s, m), 'Observation'), [ids.a1, ids.b1].sort());

    const before = new Date(Date.now() - 1).toISOString();
    await delay(5);
    const fresh = await s.create({ resourceType: 'Practitioner', name: [{ family: 'Late' }] });
    const stamp = new Date(Date.now() + 1000).toISOString();
    m = await manifestOf(s, await kickoff(s, `$export?_since=${encodeURIComponent(before)}`));
    const byType = await downloadAll(s, m);
    assert.deepEqual([...byType.keys()], ['Practitioner']);
    assert.deepEqual(idsOf(byType, 'Practitioner'), [fresh.id]);
    m = await manifestOf(s, await kickoff(s, `$export?_since=${encodeURIComponent(stamp)}`));
    assert.deepEqual(m.output, []);
  });

  test('_elements subsets and marks SUBSETTED', async () => {
    const m = await manifestOf(s, await kickoff(s, '$export?_type=Observation&_elements=status'));
    const { lines } = await download(s, m.output[0]);
    for (const r of lines) {
      assert.equal(r.valueQuantity, undefined);
      assert.equal(r.status, 'final');
      assert.ok(r.meta.tag.some((t) => t.code === 'SUBSETTED'));
    }
  });
});

describe('Patient and Group level', () => {
  test('Patient/$export: every patient compartment, no Practitioner', async () => {
    const m = await manifestOf(s, await kickoff(s, 'Patient/$export'));
    const byType = await downloadAll(s, m);
    assert.deepEqual(idsOf(byType, 'Patient'), [ids.alpha, ids.beta, ids.gamma].sort());
    assert.deepEqual(idsOf(byType, 'Observation'), [ids.a1, ids.a2, ids.b1, ids.g1].sort());
    assert.equal(byType.has('Practitioner'), false);
  });

  test('Group/[id]/$export: only the members\' compartments, with _typeFilter', async () => {
    let m = await manifestOf(s, await kickoff(s, `Group/${ids.group}/$export`));
    let byType = await downloadAll(s, m);
    assert.deepEqual(idsOf(byType, 'Patient'), [ids.alpha, ids.beta].sort());
    assert.deepEqual(idsOf(byType, 'Observation'), [ids.a1, ids.a2, ids.b1].sort());
    const filter = encodeURIComponent('Observation?code=http://loinc.org|8867-4');
    m = await manifestOf(s, await kickoff(s, `Group/${ids.group}/$export?_type=Observation&_typeFilter=${filter}`));
    byType = await downloadAll(s, m);
    assert.deepEqual(idsOf(byType, 'Observation'), [ids.a2]);
  });
});

describe('cancel and expiry of files', () => {
  test('DELETE on the status URL answers 202, then the job and its files are gone', async () => {
    const url = await kickoff(s, '$export');
    const m = await manifestOf(s, url);
    const del = await s.request('DELETE', url);
    assert.equal(del.status, 202);
    assert.equal((await s.get(url)).status, 404);
    assert.equal((await s.get(m.output[0].url)).status, 404);
    assert.equal((await s.request('DELETE', url)).status, 404);
  });

  test('a job cancelled right after kick-off never completes', async () => {
    const url = await kickoff(s, '$export');
    assert.equal((await s.request('DELETE', url)).status, 202);
    await delay(300);
    assert.equal((await s.get(url)).status, 404);
  });
});

describe('$import', () => {
  test('an NDJSON body is imported asynchronously; bad lines are reported in error files', async () => {
    const body = [
      JSON.stringify({ resourceType: 'Patient', id: 'imported-1', name: [{ family: 'Imported' }] }),
      JSON.stringify({ resourceType: 'Observation', id: 'imported-obs', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/imported-1' } }),
      JSON.stringify({ resourceType: 'Patient', id: 'imported-2', gender: 'sometimes' }),
    ].join('\n');
    const headers = { ...ASYNC, 'content-type': 'application/fhir+ndjson' };
    const url = await kickoff(s, '$import', { method: 'POST', body, headers });
    const res = await waitForJob(s, url);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.extension.imported, 2);
    assert.equal(res.json.extension.rejected, 1);
    assert.equal(res.json.error.length, 1);
    const errors = await s.get(res.json.error[0].url);
    assert.match(errors.text, /gender/);
    assert.equal((await s.get('Patient/imported-1')).status, 200);
    assert.equal((await s.get('Observation/imported-obs')).status, 200);
    assert.equal((await s.get('Patient/imported-2')).status, 404);
  });

  test('$import errors: no Prefer, wrong Content-Type, empty body', async () => {
    const nd = { 'content-type': 'application/fhir+ndjson' };
    assert.equal((await s.post('$import', '{"resourceType":"Patient"}', { headers: nd })).status, 400);
    assert.equal((await s.post('$import', '{"resourceType":"Patient"}', { headers: { ...ASYNC, 'content-type': 'text/csv' } })).status, 415);
    assert.equal((await s.post('$import', '\n', { headers: { ...ASYNC, ...nd } })).status, 400);
  });
});
