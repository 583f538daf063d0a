// Secure messages (Communication) grouped into threads, and what is new since the last visit.

export interface Reference {
  reference?: string;
  display?: string;
}
export interface Attachment {
  contentType?: string;
  title?: string;
  data?: string;
  url?: string;
  size?: number;
}
export interface Communication {
  resourceType: 'Communication';
  id?: string;
  status: string;
  subject?: Reference;
  sender?: Reference;
  recipient?: Reference[];
  topic?: { text?: string };
  sent?: string;
  inResponseTo?: Reference[];
  partOf?: Reference[];
  payload?: { contentString?: string; contentAttachment?: Attachment }[];
  meta?: { lastUpdated?: string };
}

export interface Thread {
  id: string; // the first message's id
  topic: string;
  messages: Communication[]; // oldest first
  last: string; // sent time of the newest message
}

const when = (c: Communication) => c.sent ?? c.meta?.lastUpdated ?? '';

/**
 * Threads: a reply (inResponseTo) joins the thread of the message it answers; messages without
 * one start a thread. Newest thread first.
 */
export function threadsOf(messages: Communication[]): Thread[] {
  const byId = new Map(messages.filter((m) => m.id).map((m) => [m.id as string, m]));
  const rootOf = (m: Communication, depth = 0): Communication => {
    const parent = m.inResponseTo?.[0]?.reference?.split('/').pop();
    const p = parent ? byId.get(parent) : undefined;
    return p && depth < 50 ? rootOf(p, depth + 1) : m;
  };
  const threads = new Map<string, Thread>();
  for (const m of [...messages].sort((a, b) => when(a).localeCompare(when(b)))) {
    const root = rootOf(m);
    const key = root.id ?? `t-${threads.size}`;
    let t = threads.get(key);
    if (!t) {
      t = { id: key, topic: root.topic?.text ?? firstLine(root) ?? 'Message', messages: [], last: '' };
      threads.set(key, t);
    }
    t.messages.push(m);
    t.last = when(m) > t.last ? when(m) : t.last;
  }
  return [...threads.values()].sort((a, b) => b.last.localeCompare(a.last));
}

function firstLine(m: Communication): string | undefined {
  const s = m.payload?.find((p) => p.contentString)?.contentString;
  return s ? s.split('\n')[0].slice(0, 60) : undefined;
}

/** True when the message was written by the patient (or their proxy) rather than the care team. */
export function fromPatient(m: Communication, patientRef: string): boolean {
  const s = m.sender?.reference ?? '';
  return s === patientRef || s.startsWith('RelatedPerson/');
}

/** Replies from the care team newer than `seenAt` (ISO time; empty: everything is new). */
export function newReplies(messages: Communication[], patientRef: string, seenAt: string): Communication[] {
  return messages.filter((m) => !fromPatient(m, patientRef) && when(m) > seenAt);
}

/** A new message (or a reply in `thread`) from the patient to the care team. */
export function newMessage(opts: {
  patientRef: string;
  text: string;
  recipient?: Reference;
  topic?: string;
  replyTo?: Communication;
  attachment?: Attachment;
  now?: string;
}): Communication {
  const payload: Communication['payload'] = [{ contentString: opts.text }];
  if (opts.attachment) payload.push({ contentAttachment: opts.attachment });
  const last = opts.replyTo;
  const recipient = opts.recipient ?? (last?.sender && last.sender.reference !== opts.patientRef ? last.sender : undefined);
  return {
    resourceType: 'Communication',
    status: 'completed',
    subject: { reference: opts.patientRef },
    sender: { reference: opts.patientRef },
    ...(recipient ? { recipient: [recipient] } : {}),
    topic: { text: opts.topic ?? last?.topic?.text ?? 'Message' },
    sent: opts.now ?? new Date().toISOString(),
    ...(last?.id ? { inResponseTo: [{ reference: `Communication/${last.id}` }] } : {}),
    payload,
  };
}

/** Reads a File into an Attachment (base64 data), refusing files over `maxBytes`. */
export async function fileToAttachment(file: File, maxBytes = 2_000_000): Promise<Attachment> {
  if (file.size > maxBytes) throw new Error(`The file is too large (${Math.round(file.size / 1000)} kB); the limit is ${maxBytes / 1_000_000} MB.`);
  const buf = new Uint8Array(await file.arrayBuffer());
  let s = '';
  for (const b of buf) s += String.fromCharCode(b);
  return { contentType: file.type || 'application/octet-stream', title: file.name, data: btoa(s), size: file.size };
}
