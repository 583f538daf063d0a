// End-to-end HL7 v2 throughput: MLLP in -> resources committed -> ACK out, against the real
// binary on a fresh database. ORU^R01 with 10 OBX and ADT^A08, with 1 and 8 senders.
// Reference measured in the same run: the same senders against a Node MLLP receiver that answers
// every frame at once without applying it (the ceiling of the client, loopback and framing on
// this machine). Prints figures and the ratio; never asserts speed.
// usage: node bench/hl7_bench.mjs [seconds per case]  (default 5)
import net from 'node:net';
import { hl7Port, startServer } from '../tests/conformance/server.mjs';

const SECONDS = Number(process.argv[2] ?? 5);

function oru(s, i) {
  const obx = Array.from({ length: 10 }, (_, k) =>
    `OBX|${k + 1}|NM|${2000 + k}-${k}^Analyte ${k}^LN||${(4 + k * 0.7).toFixed(1)}|mmol/L^mmol/L^UCUM|3.5-9.0|${k % 3 === 0 ? 'H' : 'N'}|||F|||20240101100000\r`,
  ).join('');
  return (
    `MSH|^~\\&|LAB${s}|LABFAC|EHR|EHRFAC|20240101120000||ORU^R01^ORU_R01|O${s}-${i}|P|2.5.1\r` +
    `PID|1||BP${s}-${i % 500}^^^HOSP^MR||DOE^JANE||19800101|F\r` +
    `PV1|1|O|LAB^1||||||||||||||||BV${s}-${i % 500}^^^HOSP^VN\r` +
    `ORC|RE|PL${s}-${i}|FL${s}-${i}||CM\r` +
    `OBR|1|PL${s}-${i}|FL${s}-${i}|24323-8^Metabolic panel^LN|||20240101100000|||||||||1234^ORDER^OLIVIA||||||20240101120000||CH|F\r` +
    obx
  );
}
function a08(s, i) {
  return (
    `MSH|^~\\&|ADT${s}|HOSP|EHR|EHRFAC|20240101120000||ADT^A08^ADT_A01|A${s}-${i}|P|2.5\r` +
    `EVN|A08|20240101120000\r` +
    `PID|1||AP${s}-${i % 500}^^^HOSP^MR||DOE^JOHN^${i}||19800101|M|||1 MAIN ST^^TOWN^ST^12345\r` +
    `PV1|1|I|W1^${i % 20}^1||||1234^ATTEND^ANN|||MED||||||||||AV${s}-${i % 500}^^^HOSP^VN|||||||||||||||||||||||||20240101110000\r`
  );
}

const END = Buffer.from([0x1c, 0x0d]);

/** The reference receiver: answers each frame with a fixed AA, applies nothing. */
function echoReceiver() {
  const ack = Buffer.from('\x0bMSH|^~\\&|EHR|EHRFAC|LAB|LABFAC|20240101120000||ACK|1|P|2.5\rMSA|AA|1\r\x1c\r');
  const srv = net.createServer((sock) => {
    sock.setNoDelay(true);
    let buf = Buffer.alloc(0);
    sock.on('data', (d) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      let e;
      while ((e = buf.indexOf(END)) >= 0) {
        buf = buf.subarray(e + 2);
        sock.write(ack);
      }
    });
    sock.on('error', () => {});
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv)));
}

function connect(port) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port }, () => resolve(sock));
    sock.setNoDelay(true);
    sock.once('error', reject);
  });
}

// One sender: sends a message, waits for its ACK (as MLLP senders do), repeats until the deadline.
async function sender(port, make, s, deadline) {
  const sock = await connect(port);
  let buf = Buffer.alloc(0);
  let waiting = null;
  sock.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    const e = buf.indexOf(END);
    if (e >= 0) {
      const ack = buf.subarray(1, e).toString();
      buf = buf.subarray(e + 2);
      waiting?.(ack);
    }
  });
  let n = 0;
  let failed = 0;
  for (let i = 0; Date.now() < deadline; i++) {
    const ack = await new Promise((resolve) => {
      waiting = resolve;
      sock.write(Buffer.concat([Buffer.from([0x0b]), Buffer.from(make(s, i)), END]));
    });
    if (/\rMSA\|AA\|/.test(ack)) n++;
    else failed++;
  }
  sock.destroy();
  return { n, failed };
}

async function measure(port, make, senders, base) {
  const deadline = Date.now() + SECONDS * 1000;
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: senders }, (_, s) => sender(port, make, base + s, deadline)));
  const secs = (performance.now() - t0) / 1000;
  const ok = results.reduce((a, r) => a + r.n, 0);
  const bad = results.reduce((a, r) => a + r.failed, 0);
  return { rate: ok / secs, ok, bad, secs };
}

const echo = await echoReceiver();
const server = await startServer({ args: ['--hl7-port', '0', '--log-level', 'error', '--no-access-log'] });
try {
  const port = await hl7Port(server);
  console.log(`hl7 bench: ${SECONDS} s per case, carechart pid ${server.pid}; reference: a Node MLLP receiver that acknowledges without applying`);
  console.log(`${'case'.padEnd(28)} ${'carechart'.padStart(10)} ${'reference'.padStart(10)} ${'ratio'.padStart(6)}`);
  let offset = 0;
  for (const [name, make] of [['ORU^R01 (10 OBX)', oru], ['ADT^A08', a08]]) {
    for (const senders of [1, 8]) {
      const cc = await measure(port, make, senders, offset);
      const ref = await measure(echo.address().port, make, senders, offset);
      offset += 100;
      console.log(
        `${`${name} senders=${senders}`.padEnd(28)} ${cc.rate.toFixed(0).padStart(6)} msg/s ${ref.rate.toFixed(0).padStart(6)} msg/s ${(cc.rate / ref.rate).toFixed(3).padStart(6)}` +
          `  (${cc.ok} AA, ${cc.bad} not AA)`,
      );
    }
  }
  console.log('target (BENCHMARKS.md, informational): >= 5,000 ORU^R01 msg/s committed before the ACK');
} finally {
  echo.close();
  await server.cleanup();
}
