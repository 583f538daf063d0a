// A small MLLP client for the HL7 tests and the benchmark: one connection, send(message)
// resolves to the ACK text (frames are matched to sends in order); plain TCP or TLS.
import net from 'node:net';
import tls from 'node:tls';

const VT = 0x0b;
const FS = 0x1c;
const CR = 0x0d;

/** One MLLP connection: send(message) resolves to the ACK text. */
export class Mllp {
  static connect(port, { tls: tlsOptions } = {}) {
    return new Promise((resolve, reject) => {
      const sock = tlsOptions
        ? tls.connect({ host: '127.0.0.1', port, ...tlsOptions }, () => resolve(new Mllp(sock)))
        : net.connect({ host: '127.0.0.1', port }, () => resolve(new Mllp(sock)));
      sock.once('error', reject);
    });
  }
  constructor(sock) {
    this.sock = sock;
    this.buf = Buffer.alloc(0);
    this.waiters = [];
    this.closed = null;
    sock.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      for (;;) {
        const s = this.buf.indexOf(VT);
        const e = this.buf.indexOf(Buffer.from([FS, CR]), s + 1);
        if (s < 0 || e < 0) break;
        const frame = this.buf.subarray(s + 1, e).toString('utf8');
        this.buf = this.buf.subarray(e + 2);
        this.waiters.shift()?.resolve(frame);
      }
    });
    const fail = (err) => {
      this.closed = err ?? new Error('connection closed');
      for (const w of this.waiters.splice(0)) w.reject(this.closed);
    };
    sock.on('error', fail);
    sock.on('close', () => fail());
  }
  send(message) {
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.sock.write(Buffer.concat([Buffer.from([VT]), Buffer.from(message, 'utf8'), Buffer.from([FS, CR])]));
    });
  }
  close() {
    this.sock.destroy();
  }
}

// MSA-1 of an ACK, whatever its field separator (MSH-1).
export const msa = (ack) => {
  const sep = ack[3];
  const line = ack.split('\r').find((l) => l.startsWith(`MSA${sep}`));
  return line?.split(sep)[1];
};
export function adt(sender, ctrl, visit, patient) {
  return (
    `MSH|^~\\&|${sender}|FAC|EHR|EHRFAC|20240101120000||ADT^A04^ADT_A01|${ctrl}|P|2.5\r` +
    `EVN|A04|20240101120000\r` +
    `PID|1||${patient}^^^HOSP^MR||DOE^JOHN||19800101|M\r` +
    `PV1|1|O|CLINIC^1||||||||||||||||${visit}^^^HOSP^VN\r`
  );
}

