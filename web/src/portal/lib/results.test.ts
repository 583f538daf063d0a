import type { Observation } from '@medplum/fhirtypes';
import { bloodPressure, latestByTest, seriesOf } from './results';

const obs = (id: string, code: string, date: string, value?: number, extra: Partial<Observation> = {}): Observation => ({
  resourceType: 'Observation', id, status: 'final', code: { coding: [{ system: 'http://loinc.org', code }] }, effectiveDateTime: date,
  ...(value !== undefined ? { valueQuantity: { value, unit: '%' } } : {}), ...extra,
});

test('series: one test, oldest first, without entered-in-error', () => {
  const s = seriesOf([obs('b', '4548-4', '2026-06-01', 7.5), obs('a', '4548-4', '2026-01-01', 8.1), obs('x', '4548-4', '2026-07-01', 9, { status: 'entered-in-error' }), obs('g', '2339-0', '2026-02-01', 110)], ['4548-4']);
  expect(s.map((o) => o.id)).toEqual(['a', 'b']);
});

test('blood pressure from panel components', () => {
  const bp = obs('bp', '85354-9', '2026-03-01', undefined, {
    component: [
      { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: 138 } },
      { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: { value: 86 } },
    ],
  });
  expect(bloodPressure([bp])).toEqual([{ date: '2026-03-01', systolic: 138, diastolic: 86, facility: undefined }]);
});

test('latest result per test, newest test first', () => {
  const groups = latestByTest([obs('a', '4548-4', '2026-01-01', 8.1), obs('b', '4548-4', '2026-06-01', 7.5), obs('g', '2339-0', '2026-02-01', 110)]);
  expect(groups.map((g) => g.latest.id)).toEqual(['b', 'g']);
  expect(groups[0].history.map((o) => o.id)).toEqual(['a']);
});
