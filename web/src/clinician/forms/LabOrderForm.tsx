import { useState } from 'react';
import { Button, Group, SegmentedControl, Stack, Text, TextInput } from '@mantine/core';
import type { Coding } from '@medplum/fhirtypes';
import { ErrorBanner } from '../../shared/ErrorBanner';
import { useChart } from '../chart/data';
import { CodeSearch } from '../CodeSearch';
import { labOrder } from './builders';
import { useActor, useWrite } from './common';

export function LabOrderForm({ onDone }: { onDone: () => void }) {
  const { patient } = useChart();
  const actor = useActor();
  const [test, setTest] = useState<Coding>();
  const [priority, setPriority] = useState<'routine' | 'urgent' | 'stat'>('routine');
  const [note, setNote] = useState('');
  const { run, error, busy } = useWrite();
  const submit = async () => {
    if (!test) return;
    if (await run(labOrder(patient.id!, test, priority, note.trim(), actor))) onDone();
  };
  return (
    <form onSubmit={(e) => (e.preventDefault(), void submit())}>
      <Stack>
        <CodeSearch field="lab" label="Test (LOINC)" value={test} onChange={setTest} required testId="lab-code" />
        <div>
          <Text size="sm" fw={500} mb={4} id="lab-priority">
            Priority
          </Text>
          <SegmentedControl aria-labelledby="lab-priority" value={priority} onChange={(v) => setPriority(v as typeof priority)} data={['routine', 'urgent', 'stat']} />
        </div>
        <TextInput label="Note to the lab" value={note} onChange={(e) => setNote(e.currentTarget.value)} />
        <ErrorBanner error={error} title="The lab order was not saved" />
        <Group justify="flex-end">
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
          <Button type="submit" loading={busy} disabled={!test} data-testid="save-lab">
            Order test
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
