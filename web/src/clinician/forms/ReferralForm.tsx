// Referral to another facility: a ServiceRequest (performer = that Organization) and a Task
// owned by it, which the receiving facility moves through accepted → in-progress → completed.
import { useState } from 'react';
import { Button, Group, SegmentedControl, Select, Stack, Text, TextInput, Textarea } from '@mantine/core';
import type { Organization } from '@medplum/fhirtypes';
import { useFhir } from '../../shared/context';
import { useSearch } from '../../shared/hooks';
import { ErrorBanner } from '../../shared/ErrorBanner';
import { useChart } from '../chart/data';
import { referralTransaction } from './builders';
import { useActor, useWrite } from './common';

export function ReferralForm({ onDone }: { onDone: () => void }) {
  const { patient } = useChart();
  const { session } = useFhir();
  const actor = useActor();
  const orgs = useSearch<Organization>('Organization', { _count: 200, active: 'true' });
  const [to, setTo] = useState<string | null>(null);
  const [specialty, setSpecialty] = useState('');
  const [reason, setReason] = useState('');
  const [priority, setPriority] = useState<'routine' | 'urgent'>('routine');
  const { run, error, busy } = useWrite();
  const options = (orgs.data ?? []).filter((o) => o.id !== session.facility?.id && o.name).map((o) => ({ value: o.id!, label: o.name! }));
  const submit = async () => {
    const org = orgs.data?.find((o) => o.id === to);
    if (!org || !reason.trim()) return;
    if (await run(referralTransaction(patient.id!, { id: org.id!, name: org.name! }, specialty.trim(), reason.trim(), priority, actor))) onDone();
  };
  return (
    <form onSubmit={(e) => (e.preventDefault(), void submit())}>
      <Stack>
        <ErrorBanner error={orgs.error} title="Facilities could not be loaded" onRetry={() => orgs.refetch()} />
        <Select label="Refer to facility" placeholder="Choose a facility" searchable data={options} value={to} onChange={setTo} required data-testid="referral-to" />
        <TextInput label="Specialty or service" placeholder="e.g. Endocrinology" value={specialty} onChange={(e) => setSpecialty(e.currentTarget.value)} />
        <Textarea label="Reason for referral" required value={reason} onChange={(e) => setReason(e.currentTarget.value)} minRows={3} data-testid="referral-reason" />
        <div>
          <Text size="sm" fw={500} mb={4} id="referral-priority">
            Priority
          </Text>
          <SegmentedControl aria-labelledby="referral-priority" value={priority} onChange={(v) => setPriority(v as typeof priority)} data={['routine', 'urgent']} />
        </div>
        <ErrorBanner error={error} title="The referral was not sent" />
        <Group justify="flex-end">
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
          <Button type="submit" loading={busy} disabled={!to || !reason.trim()} data-testid="save-referral">
            Send referral
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
