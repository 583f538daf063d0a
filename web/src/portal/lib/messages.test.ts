import { Communication, newMessage, newReplies, threadsOf } from './messages';

const me = 'Patient/maria';
const msg = (id: string, sent: string, extra: Partial<Communication> = {}): Communication => ({
  resourceType: 'Communication', id, status: 'completed', sent, subject: { reference: me }, sender: { reference: me }, payload: [{ contentString: `text ${id}` }], ...extra,
});

test('replies join the thread of the message they answer; newest thread first', () => {
  const a = msg('a', '2026-11-01T10:00:00Z', { topic: { text: 'HbA1c' } });
  const b = msg('b', '2026-11-01T12:00:00Z', { sender: { reference: 'Practitioner/ana' }, inResponseTo: [{ reference: 'Communication/a' }] });
  const c = msg('c', '2026-11-02T09:00:00Z', { inResponseTo: [{ reference: 'Communication/b' }] });
  const d = msg('d', '2026-11-01T11:00:00Z', { topic: { text: 'Prescription' } });
  const threads = threadsOf([c, d, b, a]);
  expect(threads.map((t) => t.topic)).toEqual(['HbA1c', 'Prescription']);
  expect(threads[0].messages.map((m) => m.id)).toEqual(['a', 'b', 'c']);
});

test('new replies are the care team\'s messages after the last visit', () => {
  const a = msg('a', '2026-11-01T10:00:00Z');
  const b = msg('b', '2026-11-01T12:00:00Z', { sender: { reference: 'Practitioner/ana' } });
  expect(newReplies([a, b], me, '').map((m) => m.id)).toEqual(['b']);
  expect(newReplies([a, b], me, '2026-11-01T13:00:00Z')).toEqual([]);
});

test('a reply goes to the clinician who wrote last, in the same thread', () => {
  const b = msg('b', '2026-11-01T12:00:00Z', { sender: { reference: 'Practitioner/ana' }, topic: { text: 'HbA1c' } });
  const r = newMessage({ patientRef: me, text: 'Thanks', replyTo: b, now: '2026-11-03T00:00:00Z' });
  expect(r.recipient).toEqual([{ reference: 'Practitioner/ana' }]);
  expect(r.inResponseTo).toEqual([{ reference: 'Communication/b' }]);
  expect(r.topic?.text).toBe('HbA1c');
  expect(r.subject?.reference).toBe(me);
});
