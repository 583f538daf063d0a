// The chart of one patient: banner, then snapshot, results, chart review and orders.
import { useEffect, useMemo, useState } from 'react';
import { useNavigate, useParams, useSearchParams } from 'react-router-dom';
import { Button, Center, Group, Loader, Tabs } from '@mantine/core';
import type { Basic, Patient } from '@medplum/fhirtypes';
import { useFhir } from '../../shared/context';
import { useRead, useSearch } from '../../shared/hooks';
import { ErrorBanner } from '../../shared/ErrorBanner';
import { FhirError } from '../../shared/fhir';
import { rememberPatient } from '../recent';
import { ChartContext, type View } from './data';
import { Banner } from './Banner';
import { EmergencyAccess } from './EmergencyAccess';
import { EMERGENCY_CODE, openGrant, rememberedGrantEnd } from './emergency';
import { Snapshot } from './Snapshot';
import { Results } from './Results';
import { Review } from './Review';
import { Orders } from './Orders';
import { ChartingActions } from '../forms/ChartingActions';

export default function Chart() {
  const { id = '' } = useParams();
  const { session } = useFhir();
  const patient = useRead<Patient>('Patient', id);
  const [granted, setGranted] = useState(0);

  useEffect(() => {
    if (patient.data?.id) rememberPatient(session.fhirUser ?? session.userName ?? 'me', patient.data.id);
  }, [patient.data?.id, session.fhirUser, session.userName]);

  if (patient.isLoading) {
    return (
      <Center p="xl">
        <Loader aria-label="Loading the chart" />
      </Center>
    );
  }
  if (patient.error instanceof FhirError && patient.error.status === 403) {
    return (
      <EmergencyAccess
        patientId={id}
        refusal={patient.error}
        onGranted={() => {
          setGranted(granted + 1);
          void patient.refetch();
        }}
      />
    );
  }
  if (patient.error || !patient.data) {
    return <ErrorBanner error={patient.error} title="The chart could not be opened" onRetry={() => patient.refetch()} />;
  }
  return <ChartBody patient={patient.data} />;
}

function ChartBody({ patient }: { patient: Patient }) {
  const { session, emergencyHeader } = useFhir();
  const [view, setView] = useState<View>('ehr');
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const tab = params.get('tab') ?? 'snapshot';
  // An open grant of this user: from the server when it lets us read it, else remembered from the POST.
  const grants = useSearch<Basic>('Basic', { subject: `Patient/${patient.id}`, code: EMERGENCY_CODE, _count: 20 }, { enabled: !!emergencyHeader });
  const emergencyEnd = useMemo(
    () => openGrant(grants.data ?? [])?.end ?? rememberedGrantEnd(patient.id!),
    [grants.data, patient.id],
  );
  const ctx = useMemo(() => ({ patient, view, facilityId: session.facility?.id, emergencyEnd }), [patient, view, session.facility?.id, emergencyEnd]);
  return (
    <ChartContext.Provider value={ctx}>
      <Banner view={view} onView={setView} />
      <ErrorBanner error={grants.error} title="The emergency-access grant could not be read (time left unknown)" />
      <Group justify="space-between" mb="xs" wrap="wrap">
        <ChartingActions />
        <Button variant="subtle" size="xs" onClick={() => navigate('/')}>
          Close chart
        </Button>
      </Group>
      <Tabs value={tab} onChange={(t) => setParams({ tab: t ?? 'snapshot' }, { replace: true })} keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="snapshot">Snapshot</Tabs.Tab>
          <Tabs.Tab value="results" data-testid="tab-results">
            Results
          </Tabs.Tab>
          <Tabs.Tab value="review" data-testid="tab-review">
            Chart review
          </Tabs.Tab>
          <Tabs.Tab value="orders" data-testid="tab-orders">
            Orders &amp; referrals
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="snapshot" pt="md">
          <Snapshot />
        </Tabs.Panel>
        <Tabs.Panel value="results" pt="md">
          <Results />
        </Tabs.Panel>
        <Tabs.Panel value="review" pt="md">
          <Review />
        </Tabs.Panel>
        <Tabs.Panel value="orders" pt="md">
          <Orders />
        </Tabs.Panel>
      </Tabs>
    </ChartContext.Provider>
  );
}
