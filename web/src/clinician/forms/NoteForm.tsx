import { useState } from 'react';
import { Button, Group, Select, Stack, TextInput, Textarea } from '@mantine/core';
import { ErrorBanner } from '../../shared/ErrorBanner';
import { useChart } from '../chart/data';
import { NOTE_TYPES, noteResource } from './builders';
import { useActor, useWrite } from './common';

export function NoteForm({ onDone }: { onDone: () => void }) {
  const { patient } = useChart();
  const actor = useActor();
  const [type, setType] = useState<keyof typeof NOTE_TYPES>('progress');
  const [title, setTitle] = useState('');
  const [text, setText] = useState(NOTE_TYPES.progress.template);
  const { run, error, busy } = useWrite();
  const submit = async () => {
    if (!text.trim()) return;
    if (await run(noteResource(patient.id!, type, title.trim(), text, actor))) onDone();
  };
  return (
    <form onSubmit={(e) => (e.preventDefault(), void submit())}>
      <Stack>
        <Select
          label="Type"
          value={type}
          allowDeselect={false}
          onChange={(v) => {
            const t = (v ?? 'progress') as keyof typeof NOTE_TYPES;
            // Switch the template only while the text is still the untouched template.
            if (Object.values(NOTE_TYPES).some((n) => n.template === text)) setText(NOTE_TYPES[t].template);
            setType(t);
          }}
          data={Object.entries(NOTE_TYPES).map(([value, t]) => ({ value, label: t.display }))}
        />
        <TextInput label="Title" placeholder={NOTE_TYPES[type].display} value={title} onChange={(e) => setTitle(e.currentTarget.value)} />
        <Textarea label="Note" autosize minRows={8} value={text} onChange={(e) => setText(e.currentTarget.value)} required data-testid="note-body" />
        <ErrorBanner error={error} title="The note was not saved" />
        <Group justify="flex-end">
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
          <Button type="submit" loading={busy} data-testid="save-note">
            Sign and save note
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
