import { describe, expect, it } from 'vitest';
import { localDay, localMidnight } from './Home';

describe('the clinic day', () => {
  it('local midnight carries the local offset', () => {
    const d = new Date(2026, 10, 21, 15, 30);
    expect(localMidnight(d).startsWith(`${localDay(d)}T00:00:00`)).toBe(true);
    expect(localMidnight(d)).toMatch(/[+-]\d\d:\d\d$/);
    const back = new Date(localMidnight(d));
    expect(back.getHours()).toBe(0);
    expect(back.getDate()).toBe(21);
  });
});
