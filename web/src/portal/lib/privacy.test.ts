import { AuditEvent, accessRow, denyConsent, describeConsent, isSomeoneElse } from './privacy';

test('an emergency access shows who, why and that it was an emergency', () => {
  const e: AuditEvent = {
    resourceType: 'AuditEvent', id: 'e1', recorded: '2026-11-20T10:00:00Z', action: 'R', outcome: '0',
    outcomeDesc: 'emergency access: unconscious in the ED', subtype: [{ code: 'read' }],
    agent: [{ name: 'Dr Ana Ruiz', altId: 'u1', role: [{ text: 'physician' }], requestor: true }],
    source: { site: 'riverside' }, purposeOfEvent: [{ coding: [{ code: 'ETREAT' }] }],
    entity: [{ what: { reference: 'Patient/maria' } }, { what: { reference: 'Condition/c1' } }],
  };
  const row = accessRow(e);
  expect(row.who).toBe('Dr Ana Ruiz');
  expect(row.emergency).toBe(true);
  expect(row.reason).toMatch(/unconscious/);
  expect(row.what).toBe('looked at your record (Condition)');
  expect(isSomeoneElse(e, 'u2')).toBe(true);
  expect(isSomeoneElse(e, 'u1')).toBe(false);
});

test('consents the server enforces, described in plain words', () => {
  const c = denyConsent('Patient/maria', ['PSY'], false, '2026-11-20T00:00:00Z');
  expect(c.provision?.provision?.[0].securityLabel?.[0].code).toBe('PSY');
  expect(describeConsent(c)).toBe('Mental health records stay with the facility that recorded them; other facilities do not see them (except in an emergency).');
  const strict = denyConsent('Patient/maria', [], true);
  expect(describeConsent(strict)).toMatch(/^Your whole record stays with/);
  expect(describeConsent(strict)).toMatch(/not even in an emergency/);
});
