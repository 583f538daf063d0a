// react-query hooks over the FHIR client. Query keys start with the resource type so that a
// write can invalidate everything of that type.
import { useMutation, useQuery, useQueryClient, type UseQueryOptions } from '@tanstack/react-query';
import type { Resource, ResourceType } from '@medplum/fhirtypes';
import { useFhir } from './context';
import type { FhirError, SearchParams } from './fhir';

export function useSearch<T extends Resource>(
  type: string,
  params: SearchParams,
  options: Partial<UseQueryOptions<T[], FhirError>> & { maxPages?: number } = {},
) {
  const { client } = useFhir();
  const { maxPages = 5, ...rest } = options;
  return useQuery<T[], FhirError>({
    queryKey: [type.split('/')[0], 'search', type, params],
    queryFn: () => client.searchAll<T>(type, params, maxPages),
    ...rest,
  });
}

export function useRead<T extends Resource>(type: ResourceType, id: string | undefined, options: Partial<UseQueryOptions<T, FhirError>> = {}) {
  const { client } = useFhir();
  return useQuery<T, FhirError>({
    queryKey: [type, 'read', id],
    queryFn: () => client.read<T>(type, id!),
    enabled: !!id,
    ...options,
  });
}

/** Create (no id) or update (id, with If-Match) a resource; invalidates queries of its type. */
export function useSave<T extends Resource>() {
  const { client } = useFhir();
  const qc = useQueryClient();
  return useMutation<T, FhirError, T>({
    mutationFn: (r: T) => (r.id ? client.update<T>(r) : client.create<T>(r)),
    onSuccess: (saved) => {
      void qc.invalidateQueries({ queryKey: [saved.resourceType] });
    },
  });
}
