import { useState } from 'react';
import { Button, Group, Stack, TextInput } from '@mantine/core';
import type { Coding } from '@medplum/fhirtypes';
import { ErrorBanner } from '../../shared/ErrorBanner';
import { useChart } from '../chart/data';
import { CodeSearch } from '../CodeSearch';
import { conditionResource } from './builders';
import { useActor, useWrite } from './common';

export function DiagnosisForm({ onDone }: { onDone: () => void }) {
  const { patient } = useChart();
  const actor = useActor();
  const [code, setCode] = useState<Coding>();
  const [text, setText] = useState('');
  const [onset, setOnset] = useState('');
  const { run, error, busy } = useWrite();
  const submit = async () => {
    if (!code && !text.trim()) return;
    if (await run(conditionResource(patient.id!, code, text.trim(), onset, actor))) onDone();
  };
  return (
    <form onSubmit={(e) => (e.preventDefault(), void submit())}>
      <Stack>
        <CodeSearch field="condition" label="Diagnosis (ICD-10-CM / SNOMED CT)" value={code} onChange={setCode} onTextChange={setText} required testId="diagnosis-code" />
        <TextInput type="date" label="Onset" value={onset} onChange={(e) => setOnset(e.currentTarget.value)} max={new Date().toISOString().slice(0, 10)} />
        <ErrorBanner error={error} title="The diagnosis was not saved" />
        <Group justify="flex-end">
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
          <Button type="submit" loading={busy} disabled={!code && !text.trim()} data-testid="save-diagnosis">
            Add diagnosis
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
