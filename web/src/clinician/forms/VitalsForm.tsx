import { useState } from 'react';
import { Button, Group, NumberInput, SimpleGrid, Text } from '@mantine/core';
import { ErrorBanner } from '../../shared/ErrorBanner';
import { useChart } from '../chart/data';
import { transaction, vitalsErrors, vitalsObservations, type VitalsInput } from './builders';
import { useActor, useWrite } from './common';

const FIELDS: { key: keyof VitalsInput; label: string; unit: string; decimals?: number }[] = [
  { key: 'systolic', label: 'Systolic', unit: 'mmHg' },
  { key: 'diastolic', label: 'Diastolic', unit: 'mmHg' },
  { key: 'pulse', label: 'Pulse', unit: '/min' },
  { key: 'respiratoryRate', label: 'Respiratory rate', unit: '/min' },
  { key: 'temperature', label: 'Temperature', unit: '°C', decimals: 1 },
  { key: 'spo2', label: 'SpO₂', unit: '%' },
  { key: 'weight', label: 'Weight', unit: 'kg', decimals: 1 },
  { key: 'height', label: 'Height', unit: 'cm', decimals: 1 },
];

export function VitalsForm({ onDone }: { onDone: () => void }) {
  const { patient } = useChart();
  const actor = useActor();
  const [v, setV] = useState<VitalsInput>({});
  const [tried, setTried] = useState(false);
  const { run, error, busy } = useWrite();
  const errors = vitalsErrors(v);
  const empty = Object.values(v).every((x) => x === undefined);
  const submit = async () => {
    setTried(true);
    if (empty || Object.keys(errors).length) return;
    const obs = vitalsObservations(patient.id!, v, new Date().toISOString(), actor);
    if (await run(transaction(obs.map((resource) => ({ resource }))))) onDone();
  };
  return (
    <form onSubmit={(e) => (e.preventDefault(), void submit())}>
      <SimpleGrid cols={{ base: 2, sm: 4 }}>
        {FIELDS.map((f) => (
          <NumberInput
            key={f.key}
            label={`${f.label} (${f.unit})`}
            value={v[f.key] ?? ''}
            decimalScale={f.decimals ?? 0}
            onChange={(x) => setV({ ...v, [f.key]: x === '' ? undefined : Number(x) })}
            error={(tried || v[f.key] !== undefined) && errors[f.key]}
            data-testid={`vital-${f.key}`}
            hideControls
          />
        ))}
      </SimpleGrid>
      {tried && empty && (
        <Text c="red" size="sm" mt="xs">
          Enter at least one vital sign.
        </Text>
      )}
      <ErrorBanner error={error} title="The vital signs were not saved" />
      <Group justify="flex-end" mt="md">
        <Button variant="default" onClick={onDone}>
          Cancel
        </Button>
        <Button type="submit" loading={busy} data-testid="save-vitals">
          Save vital signs
        </Button>
      </Group>
    </form>
  );
}
