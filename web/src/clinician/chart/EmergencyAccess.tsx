// Break-the-glass: offered when the API refuses the chart (403) because the user has no care
// relationship. A reason is required; the grant is audited and reviewed by privacy officers.
import { useState } from 'react';
import { Alert, Button, Card, Select, Stack, Text, Textarea, Title } from '@mantine/core';
import { useQueryClient } from '@tanstack/react-query';
import type { Basic } from '@medplum/fhirtypes';
import { useFhir } from '../../shared/context';
import { ErrorBanner } from '../../shared/ErrorBanner';
import type { FhirError } from '../../shared/fhir';
import { grantOf, rememberGrantEnd } from './emergency';

const REASONS = [
  'Patient unconscious or unable to consent in an emergency',
  'Emergency treatment: record needed now, care team unreachable',
  'Covering clinician for an urgent problem',
  'Other (describe below)',
];

export function EmergencyAccess({ patientId, refusal, onGranted }: { patientId: string; refusal: FhirError; onGranted: () => void }) {
  const { client } = useFhir();
  const qc = useQueryClient();
  const [choice, setChoice] = useState<string | null>(null);
  const [detail, setDetail] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const reason = [choice && !choice.startsWith('Other') ? choice : '', detail.trim()].filter(Boolean).join(': ');

  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      const { body } = await client.operation<Basic>(`Patient/${encodeURIComponent(patientId)}/$emergency-access`, {
        resourceType: 'Parameters',
        parameter: [{ name: 'reason', valueString: reason }],
      });
      const g = grantOf(body);
      rememberGrantEnd(patientId, g.end ?? Date.now() + 4 * 3600_000);
      await qc.invalidateQueries();
      onGranted();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card withBorder maw={640} mx="auto" mt="lg" data-testid="emergency-access">
      <Stack>
        <Title order={1} size="h3">
          No care relationship with this patient
        </Title>
        <Alert color="orange" title="Access was refused">
          <Text size="sm">{refusal.issues[0]?.text ?? refusal.message}</Text>
        </Alert>
        <Text size="sm">
          In an emergency you may open the whole record (“break the glass”) for a limited time. Your reason is recorded, the patient can see
          this access, and a privacy officer reviews it.
        </Text>
        <Select label="Reason" placeholder="Choose a reason" data={REASONS} value={choice} onChange={setChoice} required data-testid="emergency-reason-choice" />
        <Textarea
          label="Details"
          description={choice?.startsWith('Other') ? 'Required: describe the emergency.' : 'Optional: add what makes this urgent.'}
          value={detail}
          onChange={(e) => setDetail(e.currentTarget.value)}
          required={!!choice?.startsWith('Other')}
          minRows={2}
          data-testid="emergency-reason"
        />
        <ErrorBanner error={error} title="Emergency access was not granted" />
        <Button color="red" onClick={submit} loading={busy} disabled={!reason} data-testid="break-glass">
          Break the glass and open the chart
        </Button>
      </Stack>
    </Card>
  );
}
