// HTTP transaction ingest: starts carechart on a fresh database, POSTs every transaction Bundle
// of a folder with C concurrent clients, and prints one line of figures:
//   resources=N seconds=S rate=R start_rate=A end_rate=B hwm_mb=M db_mb=D cpu_s=C
//   cpu_us_per_res=U write_kb_per_res=W read_kb_per_res=R errors=E
//   (C: the server's user+sys CPU seconds; W, R: bytes the server made the kernel write to and
//   read from storage, WAL and checkpoints included, per resource: like CPU per resource, a
//   figure that other work on the machine does not change)
// start/end rate: resources/s over the first and the last fifth of the Bundles (by completion).
// usage: node bench/ingest_http.mjs <bundle-folder> <clients> <work-dir>
import { readdirSync, readFileSync, statSync, rmSync } from 'node:fs';
import path from 'node:path';
import { startServer } from '../tests/conformance/server.mjs';

const [folder, clientsArg, workDir] = process.argv.slice(2);
if (!folder || !clientsArg || !workDir) {
  console.error('usage: node bench/ingest_http.mjs <bundle-folder> <clients> <work-dir>');
  process.exit(2);
}
const clients = Number(clientsArg);
const files = readdirSync(folder)
  .filter((f) => f.endsWith('.json'))
  .sort((a, b) => Number(b === 'reference-data.json') - Number(a === 'reference-data.json') || a.localeCompare(b));

const db = path.join(workDir, `http-${clients}.db`);
const server = await startServer({ db, args: ['--no-access-log'] });

// Read each Bundle just before sending it: the whole set may not fit in memory. The bytes go
// out as read, and entries are counted by a byte search: decoding each ~1.2 MB Bundle to a string,
// a regular expression over it and encoding it again cost this client ~20 µs per resource, CPU
// taken from the server on the same two cores (measured 23 November: 4.4 s against 0.5 s for
// 200 Bundles).
const entryMark = Buffer.from('"request":{"method"');
function countEntries(bytes) {
  let n = 0;
  for (let at = bytes.indexOf(entryMark); at >= 0; at = bytes.indexOf(entryMark, at + 1)) n++;
  return n;
}
let next = 0;
const done = []; // [time ms, resources]
let errors = 0;
let firstError = '';
const t0 = performance.now();
async function client() {
  while (next < files.length) {
    const file = files[next++];
    const bytes = readFileSync(path.join(folder, file));
    const entries = countEntries(bytes);
    const res = await server.post('', bytes, { headers: { prefer: 'return=minimal' } });
    if (res.status !== 200) {
      errors++;
      if (!firstError) firstError = `${file}: ${res.status} ${res.text.slice(0, 300)}`;
      continue;
    }
    done.push([performance.now() - t0, entries]);
  }
}
await Promise.all(Array.from({ length: clients }, client));
const seconds = (performance.now() - t0) / 1000;

function rateOf(slice) {
  if (slice.length < 2) return 0;
  const n = slice.reduce((s, [, k]) => s + k, 0);
  const ms = slice[slice.length - 1][0] - slice[0][0];
  return ms > 0 ? (n / ms) * 1000 : 0;
}
done.sort((a, b) => a[0] - b[0]);
const fifth = Math.max(2, Math.floor(done.length / 5));
const resources = done.reduce((s, [, k]) => s + k, 0);
const status = readFileSync(`/proc/${server.pid}/status`, 'utf8');
const hwmKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
// utime + stime of the server in clock ticks (fields 14 and 15 after the command's parenthesis):
// CPU per resource is the figure that stays comparable while other work shares the machine.
const statFields = readFileSync(`/proc/${server.pid}/stat`, 'utf8').split(') ')[1].split(' ');
const cpuSeconds = (Number(statFields[11]) + Number(statFields[12])) / 100;
const io = readFileSync(`/proc/${server.pid}/io`, 'utf8');
const ioKbPerRes = (name) =>
  resources ? (Number(new RegExp(`^${name}: (\\d+)`, 'm').exec(io)?.[1] ?? 0) / 1024 / resources).toFixed(1) : 0;
await server.stop();
let dbBytes = 0;
for (const suffix of ['', '-wal']) {
  try {
    dbBytes += statSync(db + suffix).size;
  } catch {}
}
// The database goes once measured: at 1,000 patients each run's is ~3.5 GB.
for (const suffix of ['', '-wal', '-shm']) rmSync(db + suffix, { force: true });
console.log(
  `resources=${resources} seconds=${seconds.toFixed(2)} rate=${(resources / seconds).toFixed(0)} ` +
    `start_rate=${rateOf(done.slice(0, fifth)).toFixed(0)} end_rate=${rateOf(done.slice(-fifth)).toFixed(0)} ` +
    `hwm_mb=${(hwmKb / 1024).toFixed(0)} db_mb=${(dbBytes / 1e6).toFixed(0)} ` +
    `cpu_s=${cpuSeconds.toFixed(1)} cpu_us_per_res=${resources ? ((cpuSeconds * 1e6) / resources).toFixed(0) : 0} ` +
    `write_kb_per_res=${ioKbPerRes('write_bytes')} read_kb_per_res=${ioKbPerRes('read_bytes')} ` +
    `errors=${errors}`,
);
if (firstError) console.error(`first error: ${firstError}`);
