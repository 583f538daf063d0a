// The portal's SMART client (created by the server at start: docs/web-apps.md).
import type { SmartConfig } from '../shared/smart';

export const PORTAL: SmartConfig = {
  clientId: 'carechart-portal',
  redirectPath: '/portal/',
  scope: 'openid fhirUser launch/patient offline_access patient/*.cruds',
};
