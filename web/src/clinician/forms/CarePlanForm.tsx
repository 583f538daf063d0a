import { useState } from 'react';
import { Button, Group, Stack, TextInput, Textarea } from '@mantine/core';
import { ErrorBanner } from '../../shared/ErrorBanner';
import { useChart } from '../chart/data';
import { carePlanTransaction } from './builders';
import { useActor, useWrite } from './common';

export function CarePlanForm({ onDone }: { onDone: () => void }) {
  const { patient } = useChart();
  const actor = useActor();
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [goals, setGoals] = useState(['']);
  const { run, error, busy } = useWrite();
  const submit = async () => {
    if (!title.trim()) return;
    if (await run(carePlanTransaction(patient.id!, title.trim(), description.trim(), goals, actor))) onDone();
  };
  return (
    <form onSubmit={(e) => (e.preventDefault(), void submit())}>
      <Stack>
        <TextInput label="Title" required value={title} onChange={(e) => setTitle(e.currentTarget.value)} placeholder="e.g. Diabetes management" data-testid="careplan-title" />
        <Textarea label="Plan" value={description} onChange={(e) => setDescription(e.currentTarget.value)} minRows={3} autosize />
        {goals.map((g, i) => (
          <TextInput
            key={i}
            label={`Goal ${i + 1}`}
            value={g}
            placeholder="e.g. HbA1c below 7% within 6 months"
            onChange={(e) => setGoals(goals.map((x, j) => (j === i ? e.currentTarget.value : x)))}
            data-testid={`careplan-goal-${i}`}
          />
        ))}
        <Button variant="subtle" size="xs" onClick={() => setGoals([...goals, ''])} w="fit-content">
          Add a goal
        </Button>
        <ErrorBanner error={error} title="The care plan was not saved" />
        <Group justify="flex-end">
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
          <Button type="submit" loading={busy} disabled={!title.trim()} data-testid="save-careplan">
            Create care plan
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
