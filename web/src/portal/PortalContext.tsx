// Who is signed in, whose record is open (own or, for a proxy, a ward's), and the FHIR client.
import { createContext, ReactNode, useContext, useEffect, useMemo, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import type { Patient } from '@medplum/fhirtypes';
import type { FhirClient } from '../shared/fhir';
import type { Session } from '../shared/smart';
import { fetchMe, Me, portalClient } from './api';

export interface PortalState {
  session: Session;
  client: FhirClient;
  me?: Me;
  /** The Patient id whose record is shown. */
  patientId: string;
  patientRef: string;
  setPatientId: (id: string) => void;
  /** Records this account may open: id, display name, relationship. */
  records: { id: string; name: string; relationship: 'self' | 'proxy' }[];
}

const Ctx = createContext<PortalState | null>(null);

export function usePortal(): PortalState {
  const v = useContext(Ctx);
  if (!v) throw new Error('usePortal outside PortalProvider');
  return v;
}

const ACTIVE_KEY = 'carechart.portal.patient';

export function PortalProvider({ session, children }: { session: Session; children: ReactNode }) {
  const client = useMemo(() => portalClient(), []);
  const me = useQuery({ queryKey: ['me'], queryFn: fetchMe });
  const ids = me.data?.patients.map((p) => p.patient.replace(/^Patient\//, '')) ?? (session.patient ? [session.patient] : []);
  const [patientId, setPatientIdState] = useState<string>(() => sessionStorage.getItem(ACTIVE_KEY) ?? session.patient ?? '');
  useEffect(() => {
    if (ids.length && !ids.includes(patientId)) setPatientIdState(ids[0]);
  }, [ids.join(','), patientId]); // eslint-disable-line react-hooks/exhaustive-deps
  const names = useQuery({
    queryKey: ['record-names', ids.join(',')],
    enabled: ids.length > 0,
    queryFn: async () => {
      const out: Record<string, string> = {};
      for (const id of ids) {
        try {
          const p = await client.read<Patient>('Patient', id);
          const n = p.name?.[0];
          out[id] = n?.text ?? [...(n?.given ?? []), n?.family ?? ''].join(' ').trim() ?? id;
        } catch {
          out[id] = id;
        }
      }
      return out;
    },
  });
  const records = (me.data?.patients ?? []).map((p) => {
    const id = p.patient.replace(/^Patient\//, '');
    return { id, name: names.data?.[id] ?? id, relationship: p.relationship };
  });
  const setPatientId = (id: string) => {
    sessionStorage.setItem(ACTIVE_KEY, id);
    setPatientIdState(id);
  };
  const value: PortalState = {
    session,
    client,
    me: me.data,
    patientId,
    patientRef: `Patient/${patientId}`,
    setPatientId,
    records,
  };
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}
