import type { SmartConfig } from '../shared';

// The clinician app's SMART client (docs/web-apps.md): a first-party public PKCE client whose
// redirect URI is this server's origin + "/".
export const clinicianConfig: SmartConfig = {
  clientId: 'carechart-clinician',
  redirectPath: '/',
  scope: 'openid fhirUser offline_access user/*.cruds',
};

export const SIGNED_OUT_KEY = 'carechart.clinician.signedOut';
