import { describe, expect, it } from 'vitest';
import { codeChallenge, isValidVerifier, randomString } from './pkce';
import { jwtClaims, sessionFromTokenResponse } from './smart';

describe('PKCE', () => {
  it('S256 of the RFC 7636 appendix B verifier', async () => {
    expect(await codeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  it('random verifiers are valid and differ', () => {
    const a = randomString(48);
    const b = randomString(48);
    expect(isValidVerifier(a)).toBe(true);
    expect(a).not.toBe(b);
    expect(isValidVerifier('short')).toBe(false);
  });
});

describe('token response', () => {
  const b64 = (o: object) => btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  const idToken = `${b64({ alg: 'ES256' })}.${b64({ fhirUser: 'http://x/fhir/Practitioner/pr-1', name: 'Dr Ana' })}.sig`;

  it('reads fhirUser, name, facility and expiry', () => {
    const s = sessionFromTokenResponse(
      { access_token: 'a', refresh_token: 'r', expires_in: 3600, scope: 'openid', id_token: idToken, facility: { id: 'riverside', name: 'Riverside' } },
      'carechart-clinician',
      1000,
    );
    expect(s.fhirUser).toBe('Practitioner/pr-1');
    expect(s.userName).toBe('Dr Ana');
    expect(s.facility).toEqual({ id: 'riverside', name: 'Riverside' });
    expect(s.expiresAt).toBe(1000 + 3600_000);
  });

  it('a refresh keeps what the new response does not repeat', () => {
    const first = sessionFromTokenResponse({ access_token: 'a', refresh_token: 'r1', id_token: idToken, facility: { id: 'f', name: 'F' } }, 'c');
    const next = sessionFromTokenResponse({ access_token: 'b', expires_in: 60 }, 'c', 0, first);
    expect(next.refreshToken).toBe('r1');
    expect(next.facility?.id).toBe('f');
    expect(next.fhirUser).toBe('Practitioner/pr-1');
  });

  it('bad JWTs give no claims rather than throwing', () => {
    expect(jwtClaims('nonsense')).toEqual({});
  });
});
