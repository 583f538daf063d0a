// The signed-in app's FHIR client, session and facility names, shared through React context.
import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useQuery } from '@tanstack/react-query';
import type { Organization } from '@medplum/fhirtypes';
import { FhirClient } from './fhir';
import {
  accessToken,
  dropSession,
  fhirBaseOf,
  getSession,
  onSessionChange,
  refreshSession,
  startSignIn,
  type Session,
  type SmartConfig,
} from './smart';

export interface FhirContextValue {
  client: FhirClient;
  session: Session;
  config: SmartConfig;
  /** Set when the last response said an emergency-access grant enabled it. */
  emergencyHeader: string | null;
}

const Ctx = createContext<FhirContextValue | null>(null);

export function useFhir(): FhirContextValue {
  const v = useContext(Ctx);
  if (!v) throw new Error('useFhir outside <FhirProvider>');
  return v;
}

/** Makes a client for a session: bearer token, refresh on 401, facility header. */
export function makeClient(config: SmartConfig, onEmergency?: (h: string | null) => void): FhirClient {
  return new FhirClient({
    baseUrl: fhirBaseOf(config),
    token: () => accessToken(config),
    onUnauthorized: async () => {
      if (await refreshSession(config)) return true;
      // The session cannot be renewed: sign in again and come back here.
      dropSession(config);
      void startSignIn(config);
      return false;
    },
    facilityId: () => getSession(config.clientId)?.facility?.id,
    onResponse: (r) => onEmergency?.(r.headers.get('X-Carechart-Emergency-Access')),
  });
}

export function FhirProvider({ config, session, children }: { config: SmartConfig; session: Session; children: ReactNode }) {
  const [current, setCurrent] = useState(session);
  const [emergencyHeader, setEmergencyHeader] = useState<string | null>(null);
  useEffect(() => onSessionChange((s) => s && setCurrent(s)), []);
  const client = useMemo(() => makeClient(config, setEmergencyHeader), [config]);
  const value = useMemo(
    () => ({ client, session: current, config, emergencyHeader }),
    [client, current, config, emergencyHeader],
  );
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

/** Organization id → name, for labelling entries by facility. Directory data any role may read. */
export function useFacilityNames(): Map<string, string> {
  const { client, session } = useFhir();
  const q = useQuery({
    queryKey: ['facility-names'],
    queryFn: async () => {
      const orgs = await client.searchAll<Organization>('Organization', { _count: 200, _elements: 'name' }, 5);
      return orgs;
    },
    staleTime: 10 * 60_000,
  });
  return useMemo(() => {
    const m = new Map<string, string>();
    if (session.facility) m.set(session.facility.id, session.facility.name);
    for (const o of q.data ?? []) if (o.id && o.name) m.set(o.id, o.name);
    return m;
  }, [q.data, session.facility]);
}
