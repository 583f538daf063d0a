import { describe, expect, it } from 'vitest';
import { duplicateNames, parseBirthDate, patientQuery } from './searchQuery';

describe('patient search input', () => {
  it('a date searches by birth date, in ISO or day/month/year', () => {
    expect(patientQuery('1962-04-17')).toEqual({ kind: 'birthdate', searches: [{ birthdate: '1962-04-17', _count: 20 }] });
    expect(parseBirthDate('17/04/1962')).toBe('1962-04-17');
    expect(parseBirthDate('04/17/1962')).toBe('1962-04-17');
    expect(parseBirthDate('31/31/1962')).toBeUndefined();
  });

  it('a word with digits searches identifiers; words search names (all must match)', () => {
    expect(patientQuery('MRN-1234')?.kind).toBe('identifier');
    expect(patientQuery('López, María')).toEqual({ kind: 'name', searches: [{ name: ['López', 'María'], _count: 20 }] });
    expect(patientQuery('MRN-demo')?.searches).toEqual([{ name: ['MRN-demo'], _count: 20 }, { identifier: 'MRN-demo', _count: 20 }]);
  });

  it('too short: no search', () => {
    expect(patientQuery(' l ')).toBeNull();
  });

  it('marks patients sharing a name', () => {
    const p = (id: string, family: string, given: string) => ({ resourceType: 'Patient' as const, id, name: [{ family, given: [given] }] });
    const d = duplicateNames([p('1', 'López', 'María'), p('2', 'Lopez', 'Ana'), p('3', 'López', 'maría')]);
    expect([...d].sort()).toEqual(['1', '3']);
  });
});
