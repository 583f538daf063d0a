// PostgreSQL plans searches from statistics that ANALYZE gathers; a server whose data arrived by
// $import must not plan without them until autovacuum's next round (decisions D69, D79,
// docs/postgres.md). An $import job reads as completed only once the planner's statistics are
// gathered: `last_analyze` (set by an ANALYZE command, never by autovacuum, which sets
// `last_autoanalyze`) is there when the job's manifest is. A few resources only, so the store's
// own keeper (which analyses a table once 1,000 of its rows changed) has no part in it.
// PostgreSQL only (skipped on SQLite, said why).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { backendName, runSql, startServer } from '../conformance/server.mjs';
import { ASYNC, kickoff, waitForJob } from './bulk-helpers.mjs';

const onPostgres = backendName() === 'postgres';
const skip = onPostgres ? false : 'needs CARECHART_BACKEND=postgres (scripts/test-postgres.sh runs it)';
if (!onPostgres) console.log(`# import-statistics: skipped: ${skip}`);

const servers = [];
after(async () => {
  for (const s of servers) await s.cleanup();
});

// The search tables whose statistics an ANALYZE command gathered, sorted, comma-separated.
function analysedTables(server) {
  return runSql(server.db, {
    postgres: "SELECT coalesce(string_agg(relname::text, ',' ORDER BY relname), '') FROM pg_stat_user_tables " +
      "WHERE schemaname = current_schema() AND last_analyze IS NOT NULL AND (relname = 'resource' OR relname LIKE 'sp\\_%')",
  }).trim();
}

test('an $import job is completed only with the planner\'s statistics gathered', { skip }, async () => {
  const server = await startServer({ args: ['--no-access-log'] });
  servers.push(server);
  assert.equal(analysedTables(server), '', 'a new database has no statistics gathered by a command');
  const lines = [{ resourceType: 'Patient', id: 'stats-p1', name: [{ family: 'Statistics' }] }];
  for (let i = 0; i < 20; i++) {
    lines.push({
      resourceType: 'Observation', id: `stats-o${i}`, status: 'final', subject: { reference: 'Patient/stats-p1' },
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
      valueQuantity: { value: 60 + i, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
    });
  }
  const url = await kickoff(server, '$import', {
    method: 'POST', body: lines.map((l) => JSON.stringify(l)).join('\n'), headers: { ...ASYNC, 'content-type': 'application/fhir+ndjson' },
  });
  const res = await waitForJob(server, url);
  assert.equal(res.status, 200, res.text.slice(0, 500));
  assert.equal(res.json.extension.imported, 21);
  const analysed = analysedTables(server).split(',');
  for (const table of ['resource', 'sp_reference', 'sp_token']) {
    assert.ok(analysed.includes(table), `${table} analysed when the job completed (got ${analysed})`);
  }
  // At least the imported resources (audit events of the requests since may add a few); -1
  // for a table never analysed.
  const estimated = Number(runSql(server.db, { postgres: "SELECT reltuples::int8 FROM pg_class WHERE relname = 'resource'" }).trim());
  assert.ok(estimated >= 21, `the planner knows how many resources there are (estimate ${estimated})`);
});
