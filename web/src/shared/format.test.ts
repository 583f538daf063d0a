import { describe, expect, it } from 'vitest';
import { formatAge, formatCodeable, formatDate, formatDuration, formatName, formatQuantity, mrnOf } from './format';

describe('format', () => {
  it('names: official name, given before family, or family first', () => {
    const names = [
      { use: 'old' as const, family: 'García', given: ['María'] },
      { use: 'official' as const, family: 'López', given: ['María', 'Elena'], prefix: ['Mrs.'] },
    ];
    expect(formatName(names)).toBe('Mrs. María Elena López');
    expect(formatName(names, 'family-first')).toBe('López, María Elena');
    expect(formatName(undefined)).toBe('Unnamed');
    expect(formatName([{ text: 'Baby Doe' }])).toBe('Baby Doe');
  });

  it('ages count a birthday only once it has passed', () => {
    const now = new Date(2026, 3, 16); // 16 Apr 2026
    expect(formatAge('1962-04-17', now)).toBe('63 y');
    expect(formatAge('1962-04-16', now)).toBe('64 y');
    expect(formatAge('2026-01-10', now)).toBe('3 mo');
    expect(formatAge('2026-04-06', now)).toBe('10 d');
    expect(formatAge(undefined, now)).toBe('age unknown');
  });

  it('dates keep their precision', () => {
    expect(formatDate('1962-04-17')).toBe('17 Apr 1962');
    expect(formatDate('1962-04')).toBe('Apr 1962');
    expect(formatDate('1962')).toBe('1962');
    expect(formatDate(undefined)).toBe('—');
  });

  it('quantities with comparator and unit', () => {
    expect(formatQuantity({ value: 7.8, unit: '%' })).toBe('7.8%');
    expect(formatQuantity({ value: 182.456, unit: 'mg/dL' })).toBe('182.46 mg/dL');
    expect(formatQuantity({ value: 60, comparator: '>', unit: 'mL/min' })).toBe('>60 mL/min');
    expect(formatQuantity(undefined)).toBe('—');
    expect(formatQuantity({ value: 38.4, unit: 'Cel' })).toBe('38.4 °C');
  });

  it('codeable concepts prefer text, then a display, then a code', () => {
    expect(formatCodeable({ text: 'Diabetes', coding: [{ display: 'x' }] })).toBe('Diabetes');
    expect(formatCodeable({ coding: [{ code: 'E11.9' }, { code: '44054006', display: 'Type 2 diabetes' }] })).toBe('Type 2 diabetes');
    expect(formatCodeable({ coding: [{ code: 'E11.9' }] })).toBe('E11.9');
  });

  it('MRN is the identifier of type MR', () => {
    expect(mrnOf([{ value: 'SSN1' }, { type: { coding: [{ code: 'MR' }] }, value: 'MRN42' }])).toBe('MRN42');
    expect(mrnOf([{ value: 'only' }])).toBe('only');
  });

  it('durations', () => {
    expect(formatDuration(3 * 3600_000 + 5 * 60_000 + 10)).toBe('3 h 05 min');
    expect(formatDuration(59 * 60_000)).toBe('59 min');
    expect(formatDuration(-1)).toBe('expired');
  });
});
