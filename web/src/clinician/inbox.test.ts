import { describe, expect, it } from 'vitest';
import type { Communication, Task } from '@medplum/fhirtypes';
import { awaitingReply, isReferral, isResultReview, replyTo } from './inbox';

const msg = (id: string, sender: string, extra: Partial<Communication> = {}): Communication => ({
  resourceType: 'Communication',
  id,
  status: 'in-progress',
  sender: { reference: sender },
  subject: { reference: 'Patient/maria' },
  ...extra,
});

describe('in basket', () => {
  it('a patient message is waiting until some Communication answers it', () => {
    const q = msg('q1', 'Patient/maria', { status: 'completed' });
    const other = msg('q2', 'Patient/maria');
    const staffNote = msg('n1', 'Practitioner/doc');
    const answer = msg('a1', 'Practitioner/doc', { inResponseTo: [{ reference: 'Communication/q1' }], status: 'completed' });
    expect(awaitingReply([q, other, staffNote]).map((c) => c.id)).toEqual(['q1', 'q2']);
    expect(awaitingReply([q, other, answer]).map((c) => c.id)).toEqual(['q2']);
  });

  it('the reply goes back to the sender in the same thread', () => {
    const r = replyTo(msg('q1', 'Patient/maria', { topic: { text: 'Sugar readings' } }), 'Keep the log', 'Practitioner/doc', new Date('2026-11-01T10:00:00Z'));
    expect(r.inResponseTo).toEqual([{ reference: 'Communication/q1' }]);
    expect(r.recipient).toEqual([{ reference: 'Patient/maria' }]);
    expect(r.sender).toEqual({ reference: 'Practitioner/doc' });
    expect(r.subject).toEqual({ reference: 'Patient/maria' });
    expect(r.topic?.text).toBe('Sugar readings');
    expect(r.payload?.[0].contentString).toBe('Keep the log');
    expect(r.sent).toBe('2026-11-01T10:00:00.000Z');
  });

  it('tells result reviews from referrals', () => {
    const t = (focus: string, status: Task['status'] = 'requested'): Task => ({ resourceType: 'Task', status, intent: 'order', focus: { reference: focus } });
    expect(isResultReview(t('DiagnosticReport/1'))).toBe(true);
    expect(isResultReview(t('DiagnosticReport/1', 'completed'))).toBe(false);
    expect(isResultReview(t('ServiceRequest/1'))).toBe(false);
    expect(isReferral(t('ServiceRequest/1'))).toBe(true);
  });
});
