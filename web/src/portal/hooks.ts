// react-query hooks over the portal's FHIR client, keyed by the open record.
import { useQuery } from '@tanstack/react-query';
import type { Resource } from '@medplum/fhirtypes';
import type { SearchParams } from '../shared/fhir';
import { usePortal } from './PortalContext';

/** Every match of a search in the open record (the patient compartment). */
export function useRecordSearch<T extends Resource>(type: string, params: SearchParams = {}, enabled = true) {
  const { client, patientId } = usePortal();
  return useQuery({
    queryKey: ['search', patientId, type, params],
    enabled: enabled && !!patientId,
    queryFn: () => client.searchAll<T>(`Patient/${encodeURIComponent(patientId)}/${type}`, { _count: 200, ...params }, 10),
  });
}

/** Names of the facilities (Organizations) that recorded entries, for "from …" labels. */
export function useFacilityNames(ids: string[]) {
  const { client } = usePortal();
  const key = [...new Set(ids)].sort();
  return useQuery({
    queryKey: ['facilities', key.join(',')],
    enabled: key.length > 0,
    staleTime: 10 * 60_000,
    queryFn: async () => {
      const names = new Map<string, string>();
      for (const id of key) {
        try {
          const org = await client.read<{ resourceType: 'Organization'; name?: string } & Resource>('Organization', id);
          names.set(id, org.name ?? id);
        } catch {
          names.set(id, id);
        }
      }
      return names;
    },
  });
}
