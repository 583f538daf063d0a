// The reference ceiling of ingest (BENCHMARKS.md "durable write"): turns a folder of NDJSON files
// into SQL that inserts the same JSON bodies into Carechart's `resource` table (no validation, no
// search-index rows), 10,000 rows per transaction, for the sqlite3 shell to run.
// usage: node bench/raw_sqlite_sql.mjs <ndjson-folder> > load.sql
import { createReadStream, readdirSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

const folder = process.argv[2];
if (!folder) {
  console.error('usage: node bench/raw_sqlite_sql.mjs <ndjson-folder>');
  process.exit(2);
}
const out = process.stdout;
let pending = [];
async function write(s) {
  if (!out.write(s)) await new Promise((r) => out.once('drain', r));
}
await write('PRAGMA journal_mode=WAL;\nPRAGMA synchronous=FULL;\nBEGIN;\n');
let rows = 0;
for (const f of readdirSync(folder).filter((n) => n.endsWith('.ndjson')).sort()) {
  const lines = readline.createInterface({ input: createReadStream(path.join(folder, f)) });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const type = /"resourceType":"([A-Za-z]+)"/.exec(line)?.[1] ?? 'Basic';
    const id = /"id":"([A-Za-z0-9.-]+)"/.exec(line)?.[1] ?? `raw-${rows}`;
    rows++;
    pending.push(`INSERT INTO resource(type,id,version,last_updated,deleted,patient_id,method,seq,body) VALUES('${type}','${id}',1,${rows},0,NULL,'PUT',${rows},'${line.replaceAll("'", "''")}');\n`);
    if (pending.length >= 1000) {
      await write(pending.join(''));
      pending = [];
    }
    if (rows % 10000 === 0) {
      await write(pending.join('') + 'COMMIT;\nBEGIN;\n');
      pending = [];
    }
  }
}
await write(pending.join('') + 'COMMIT;\n');
console.error(`raw_sqlite_sql: ${rows} rows`);
