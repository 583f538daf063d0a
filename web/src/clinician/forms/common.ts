import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { useFhir } from '../../shared/context';
import type { Actor } from './builders';

/** The signed-in clinician as a Reference (their Practitioner), when the token names one. */
export function useActor(): Actor | undefined {
  const { session } = useFhir();
  return session.fhirUser?.startsWith('Practitioner/') ? { reference: session.fhirUser, display: session.userName } : undefined;
}

/** Saves a resource or a transaction; keeps the error for the form to show; refreshes the chart. */
export function useWrite() {
  const { client } = useFhir();
  const qc = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const run = async (what: Resource | Bundle): Promise<boolean> => {
    setBusy(true);
    setError(null);
    try {
      if (what.resourceType === 'Bundle' && (what as Bundle).type === 'transaction') await client.transaction(what as Bundle);
      else await client.create(what);
      await qc.invalidateQueries();
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { run, error, busy };
}
