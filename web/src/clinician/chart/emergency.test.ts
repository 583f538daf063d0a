import { describe, expect, it } from 'vitest';
import type { Basic } from '@medplum/fhirtypes';
import { EMERGENCY_EXTENSION, grantOf, openGrant } from './emergency';

const grant = (id: string, user: string, end: string): Basic => ({
  resourceType: 'Basic',
  id,
  code: { text: 'emergency-access' },
  extension: [
    {
      url: EMERGENCY_EXTENSION,
      extension: [
        { url: 'user', valueString: user },
        { url: 'reason', valueString: 'unconscious' },
        { url: 'start', valueDateTime: '2026-11-01T08:00:00Z' },
        { url: 'end', valueDateTime: end },
      ],
    },
  ],
});

describe('emergency-access grants', () => {
  it('reads reason and end', () => {
    const g = grantOf(grant('g', 'u1', '2026-11-01T12:00:00Z'));
    expect(g.reason).toBe('unconscious');
    expect(g.end).toBe(Date.parse('2026-11-01T12:00:00Z'));
  });

  it('the open grant of this user that ends last', () => {
    const now = Date.parse('2026-11-01T10:00:00Z');
    const grants = [grant('old', 'u1', '2026-11-01T09:00:00Z'), grant('a', 'u1', '2026-11-01T11:00:00Z'), grant('b', 'u1', '2026-11-01T12:00:00Z'), grant('c', 'u2', '2026-11-01T13:00:00Z')];
    expect(openGrant(grants, now, 'u1')?.id).toBe('b');
    expect(openGrant([grants[0]], now)).toBeUndefined();
  });
});
