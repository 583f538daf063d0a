import { useState } from 'react';
import { Button, Group, SegmentedControl, Select, Stack, Text, TextInput } from '@mantine/core';
import type { Coding } from '@medplum/fhirtypes';
import { ErrorBanner } from '../../shared/ErrorBanner';
import { useChart } from '../chart/data';
import { CodeSearch } from '../CodeSearch';
import { allergyResource } from './builders';
import { useActor, useWrite } from './common';

export function AllergyForm({ onDone }: { onDone: () => void }) {
  const { patient } = useChart();
  const actor = useActor();
  const [code, setCode] = useState<Coding>();
  const [text, setText] = useState('');
  const [category, setCategory] = useState<'medication' | 'food' | 'environment' | 'biologic'>('medication');
  const [criticality, setCriticality] = useState<'low' | 'high' | 'unable-to-assess'>('high');
  const [reaction, setReaction] = useState('');
  const { run, error, busy } = useWrite();
  const submit = async () => {
    if (!code && !text.trim()) return;
    if (await run(allergyResource(patient.id!, code, text.trim(), category, criticality, reaction.trim(), actor))) onDone();
  };
  return (
    <form onSubmit={(e) => (e.preventDefault(), void submit())}>
      <Stack>
        <CodeSearch field="allergy" label="Substance" value={code} onChange={setCode} onTextChange={setText} required testId="allergy-code" />
        <div>
          <Text size="sm" fw={500} mb={4} id="allergy-category">
            Category
          </Text>
          <SegmentedControl
            aria-labelledby="allergy-category"
            value={category}
            onChange={(v) => setCategory(v as typeof category)}
            data={['medication', 'food', 'environment', 'biologic']}
          />
        </div>
        <Select
          label="Criticality"
          value={criticality}
          onChange={(v) => setCriticality((v ?? 'high') as typeof criticality)}
          data={[
            { value: 'high', label: 'High (life-threatening reaction possible)' },
            { value: 'low', label: 'Low' },
            { value: 'unable-to-assess', label: 'Unable to assess' },
          ]}
        />
        <TextInput label="Reaction" placeholder="e.g. hives, anaphylaxis" value={reaction} onChange={(e) => setReaction(e.currentTarget.value)} />
        <ErrorBanner error={error} title="The allergy was not saved" />
        <Group justify="flex-end">
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
          <Button type="submit" loading={busy} disabled={!code && !text.trim()} data-testid="save-allergy">
            Record allergy
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
