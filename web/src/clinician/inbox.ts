// The in-basket: patient messages awaiting a reply, results awaiting review, referrals.
import { useQuery } from '@tanstack/react-query';
import type { Communication, Task } from '@medplum/fhirtypes';
import { useFhir } from '../shared/context';
import type { FhirError } from '../shared/fhir';

const OPEN_TASK = ['requested', 'received', 'accepted', 'ready', 'in-progress'];

/**
 * Messages sent by a patient (or proxy) that no Communication answers yet. A sent message is
 * `completed` in FHIR terms, so the status says nothing about whether it was answered.
 */
export function awaitingReply(comms: Communication[]): Communication[] {
  const answered = new Set(
    comms.flatMap((c) => (c.inResponseTo ?? []).map((r) => r.reference?.replace(/^.*\/(Communication\/)/, '$1'))),
  );
  return comms.filter((c) => {
    const sender = c.sender?.reference ?? '';
    const fromPatient = sender.startsWith('Patient/') || sender.startsWith('RelatedPerson/');
    return fromPatient && c.status !== 'entered-in-error' && !answered.has(`Communication/${c.id}`);
  });
}

/** The reply to a message: same subject and thread, from the clinician to the sender. */
export function replyTo(msg: Communication, text: string, author: string | undefined, now = new Date()): Communication {
  return {
    resourceType: 'Communication',
    status: 'completed',
    subject: msg.subject,
    inResponseTo: [{ reference: `Communication/${msg.id}` }],
    topic: msg.topic,
    category: msg.category,
    sender: author ? { reference: author } : undefined,
    recipient: msg.sender ? [msg.sender] : undefined,
    sent: now.toISOString(),
    payload: [{ contentString: text }],
  };
}

export function isResultReview(t: Task): boolean {
  const focus = t.focus?.reference ?? '';
  return OPEN_TASK.includes(t.status) && (focus.startsWith('DiagnosticReport/') || focus.startsWith('Observation/'));
}

/** Open Tasks asking for a reply to this message (the demo's `reply-message`), to close on reply. */
export function replyTasks(tasks: Task[], messageId: string): Task[] {
  return tasks.filter((t) => OPEN_TASK.includes(t.status) && t.focus?.reference === `Communication/${messageId}`);
}

export function isReferral(t: Task): boolean {
  const focus = t.focus?.reference ?? '';
  return focus.startsWith('ServiceRequest/') || (t.basedOn ?? []).some((b) => b.reference?.startsWith('ServiceRequest/'));
}

export interface InboxData {
  messages: number;
  results: number;
  referrals: number;
  communications: Communication[];
  tasks: Task[];
}

export function useInboxData() {
  const { client } = useFhir();
  return useQuery<InboxData, FhirError>({
    queryKey: ['inbox'],
    queryFn: async () => {
      const [communications, tasks] = await Promise.all([
        client.searchAll<Communication>('Communication', { _count: 100, _sort: '-sent' }, 3),
        client.searchAll<Task>('Task', { status: OPEN_TASK.join(','), _count: 100 }, 3),
      ]);
      return {
        communications,
        tasks,
        messages: awaitingReply(communications).length,
        results: tasks.filter(isResultReview).length,
        referrals: tasks.filter((t) => isReferral(t) && OPEN_TASK.includes(t.status)).length,
      };
    },
    staleTime: 30_000,
  });
}

export const useInboxCounts = useInboxData;
