import { appointmentStatusText, levelOf, levelText, plainName, rangeBar, rangeText } from './plain';

const a1c = { coding: [{ system: 'http://loinc.org', code: '4548-4', display: 'Hemoglobin A1c/Hemoglobin.total in Blood' }] };
const range = { low: { value: 4, unit: '%' }, high: { value: 5.6, unit: '%' } };

test('plain names for known tests, the coded display otherwise', () => {
  expect(plainName(a1c)).toMatch(/HbA1c/);
  expect(plainName({ coding: [{ system: 'x', code: '1', display: 'Special test' }] })).toBe('Special test');
  expect(plainName({ text: 'Free text' })).toBe('Free text');
});

test('level: the lab flag wins, else the value against the range', () => {
  expect(levelOf(7.2, range)).toBe('high');
  expect(levelOf(3.1, range)).toBe('low');
  expect(levelOf(5, range)).toBe('normal');
  expect(levelOf(5, range, [{ coding: [{ code: 'HH' }] }])).toBe('critical-high');
  expect(levelOf(5, undefined)).toBe('unknown');
  expect(levelText('high')).toMatch(/Above/);
});

test('range text and bar positions', () => {
  expect(rangeText(range)).toBe('4 to 5.6 %');
  expect(rangeText({ high: { value: 130, unit: 'mmHg' } })).toBe('up to 130 mmHg');
  const bar = rangeBar(5, range)!;
  expect(bar.start).toBeCloseTo(33.33, 1);
  expect(bar.end).toBeCloseTo(66.67, 1);
  expect(bar.pos).toBeGreaterThan(bar.start);
  expect(bar.pos).toBeLessThan(bar.end);
  expect(rangeBar(100, range)!.pos).toBe(100);
  expect(rangeBar(5, { high: { value: 5 } })).toBeUndefined();
});

test('appointment statuses in words', () => {
  expect(appointmentStatusText('proposed')).toMatch(/Requested/);
  expect(appointmentStatusText('proposed', 'needs-action')).toMatch(/proposes/);
  expect(appointmentStatusText('booked')).toBe('Confirmed');
});
