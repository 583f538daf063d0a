// The authorisation matrix (tests/security/matrix.json) over HTTP: every role with a user token ×
// read / search / $everything / create / update / delete × the four contexts, for the rows about
// vital-signs Observations (the data the world seeds). The same table runs against the policy in
// src/access/policy_test.cc.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { MATRIX, bundleIds, seed, startWorld, vitalSigns } from './world.mjs';

let world;
before(async () => {
  world = await startWorld();
});
after(async () => {
  await world?.server.cleanup();
});

const obsId = (context) => `obs-${context.replaceAll('_', '-')}`;

// Runs one row; resolves to the outcome seen ('allow' | 'deny') and a note.
async function run(row, token) {
  const { server } = world;
  const ctx = MATRIX.contexts[row.context];
  const opts = { token };
  const id = obsId(row.context);
  switch (row.action) {
    case 'read': {
      const r = await server.get(`Observation/${id}`, opts);
      if (r.status === 200) return ['allow', ''];
      if (r.status === 403) return ['deny', ''];
      return ['error', `GET → ${r.status} ${r.text.slice(0, 200)}`];
    }
    case 'search':
    case 'everything': {
      const url = row.action === 'search' ? `Observation?_id=${id}` : `Patient/${ctx.patient}/$everything`;
      const r = await server.get(url, opts);
      if (r.status === 403) return ['deny', ''];
      if (r.status !== 200) return ['error', `GET ${url} → ${r.status} ${r.text.slice(0, 200)}`];
      return [bundleIds(r.json).includes(`Observation/${id}`) ? 'allow' : 'deny', ''];
    }
    case 'create': {
      const r = await server.post('Observation', vitalSigns(undefined, ctx.patient), opts);
      if (r.status === 201) return ['allow', ''];
      if (r.status === 403) return ['deny', ''];
      return ['error', `POST → ${r.status} ${r.text.slice(0, 200)}`];
    }
    case 'update':
    case 'delete': {
      const target = `w-${row.role}-${row.action}-${row.context.replaceAll('_', '-')}`;
      const r =
        row.action === 'update'
          ? await server.put(`Observation/${target}`, vitalSigns(target, ctx.patient), opts)
          : await server.request('DELETE', `Observation/${target}`, opts);
      if ([200, 204].includes(r.status)) return ['allow', ''];
      if (r.status === 403) return ['deny', ''];
      return ['error', `${row.action} → ${r.status} ${r.text.slice(0, 200)}`];
    }
    default:
      return ['error', `unknown action ${row.action}`];
  }
}

test('authorisation matrix over HTTP (vital-signs Observation rows)', async (t) => {
  const rows = MATRIX.cases.filter((r) => r.resource === 'Observation#vital-signs' && world.tokens[r.role]);
  assert.ok(rows.length >= 200, `expected the matrix to cover the user roles, got ${rows.length} rows`);
  // Update and delete act on copies, one per row, stored at the context's facility.
  const copies = { F1: [], F2: [] };
  for (const r of rows.filter((x) => x.action === 'update' || x.action === 'delete')) {
    const ctx = MATRIX.contexts[r.context];
    copies[ctx.facility].push(vitalSigns(`w-${r.role}-${r.action}-${r.context.replaceAll('_', '-')}`, ctx.patient));
  }
  await seed(world.server, 'F1', copies.F1);
  await seed(world.server, 'F2', copies.F2);
  const failures = [];
  // Deletes last: nothing else reads the copies, but keep reads of the shared rows undisturbed.
  const order = { read: 0, search: 1, everything: 2, create: 3, update: 4, delete: 5 };
  rows.sort((a, b) => order[a.action] - order[b.action]);
  for (const row of rows) {
    const [seen, note] = await run(row, world.tokens[row.role]);
    if (seen !== row.expect) failures.push(`${row.role} ${row.action} ${row.context}: expected ${row.expect}, got ${seen} ${note}`);
  }
  const line = `authorisation matrix (HTTP): ${rows.length - failures.length}/${rows.length} cases hold`;
  console.log(line);
  t.diagnostic(line);
  assert.deepEqual(failures, [], failures.slice(0, 30).join('\n'));
});

test('a researcher reads de-identified data', async () => {
  const r = await world.server.get('Patient/p-local', { token: world.tokens.researcher });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.name, undefined, 'name removed');
  assert.equal(r.json.birthDate, '1970', 'birth date cut to the year');
  assert.ok(r.json.meta.security.some((s) => s.code === 'REDACTED'), 'labelled REDACTED');
});

test('X-Carechart-Facility may only name the user\'s own facilities', async () => {
  const r = await world.server.post('Observation', vitalSigns(undefined, 'p-local'), { token: world.tokens.physician, headers: { 'x-carechart-facility': 'F2' } });
  assert.equal(r.status, 403, r.text);
  assert.match(r.text, /not one of the facilities/);
});

test('AuditEvents cannot be changed or deleted through the API', async () => {
  const { server } = world;
  const list = await server.get('AuditEvent?_count=1');
  assert.equal(list.status, 200, list.text);
  const ev = list.json.entry?.[0]?.resource;
  assert.ok(ev, 'requests of signed-in users produced AuditEvents');
  const put = await server.put(`AuditEvent/${ev.id}`, ev);
  assert.equal(put.status, 405, put.text);
  const del = await server.request('DELETE', `AuditEvent/${ev.id}`);
  assert.equal(del.status, 405, del.text);
  const nurse = await server.post('AuditEvent', { ...ev, id: undefined }, { token: world.tokens.nurse });
  assert.equal(nurse.status, 403, `a nurse may not forge AuditEvents: ${nurse.text}`);
});
