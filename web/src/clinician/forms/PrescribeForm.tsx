// Prescribing: RxNorm search, a sig builder, and a warning when the drug conflicts with a
// recorded allergy. Going ahead despite the warning needs an explicit reason, kept on the order.
import { useState } from 'react';
import { Alert, Button, Checkbox, Group, NumberInput, Select, SimpleGrid, Stack, Text, TextInput } from '@mantine/core';
import type { AllergyIntolerance, Coding, ConceptMap } from '@medplum/fhirtypes';
import { ErrorBanner } from '../../shared/ErrorBanner';
import { allergyConflicts, classesFromConceptMap } from '../../shared/allergy';
import { useSearch } from '../../shared/hooks';
import { usePatientResources, useChart } from '../chart/data';
import { CodeSearch } from '../CodeSearch';
import { FREQUENCIES, medicationRequest, sigText, type SigInput } from './builders';
import { useActor, useWrite } from './common';

const ALLERGY_MAP = 'https://carechart.dev/fhir/ConceptMap/allergy-to-drug-ingredients';

export function PrescribeForm({ onDone }: { onDone: () => void }) {
  const { patient } = useChart();
  const actor = useActor();
  const allergies = usePatientResources<AllergyIntolerance>('AllergyIntolerance');
  // The server's allergy-to-ingredient map extends the built-in drug classes.
  const maps = useSearch<ConceptMap>('ConceptMap', { url: ALLERGY_MAP }, { staleTime: 30 * 60_000 });
  const [drug, setDrug] = useState<Coding>();
  const [sig, setSig] = useState<SigInput>({ dose: '1 tablet', route: 'by mouth', frequency: 'daily' });
  const [override, setOverride] = useState(false);
  const [overrideReason, setOverrideReason] = useState('');
  const { run, error, busy } = useWrite();
  const conflicts = drug ? allergyConflicts({ coding: [drug], text: drug.display }, allergies.all, classesFromConceptMap(maps.data?.[0])) : [];
  const blocked = conflicts.length > 0 && (!override || !overrideReason.trim());
  const submit = async () => {
    if (!drug || blocked || !sig.dose.trim()) return;
    if (await run(medicationRequest(patient.id!, drug, sig, actor, conflicts.length ? overrideReason.trim() : undefined))) onDone();
  };
  return (
    <form onSubmit={(e) => (e.preventDefault(), void submit())}>
      <Stack>
        <CodeSearch
          field="medication"
          label="Medication (RxNorm)"
          value={drug}
          onChange={(d) => {
            setDrug(d);
            setOverride(false);
          }}
          required
          testId="drug-code"
        />
        <ErrorBanner error={allergies.error} title="Allergies could not be checked — ask the patient before prescribing" />
        <ErrorBanner error={maps.error} title="The drug-allergy map could not be loaded (only the built-in classes are checked)" />
        {conflicts.map((c, i) => (
          <Alert key={i} color="red" title="Allergy warning" role="alert" data-testid="allergy-warning">
            <Text size="sm">
              {patient.name?.[0]?.given?.[0] ?? 'The patient'} has a recorded allergy to <b>{c.allergen}</b>
              {c.severity === 'high' ? ' (high criticality)' : ''}. {drug?.display} contains <b>{c.ingredient}</b>
              {c.drugClass ? `, one of the ${c.drugClass}` : ''}.
            </Text>
          </Alert>
        ))}
        <SimpleGrid cols={{ base: 1, sm: 3 }}>
          <TextInput label="Dose" value={sig.dose} onChange={(e) => setSig({ ...sig, dose: e.currentTarget.value })} required error={!sig.dose.trim() && 'Enter the dose, e.g. 1 tablet'} />
          <TextInput label="Route" value={sig.route} onChange={(e) => setSig({ ...sig, route: e.currentTarget.value })} />
          <Select
            label="Frequency"
            value={sig.frequency}
            onChange={(v) => setSig({ ...sig, frequency: v ?? 'daily' })}
            data={Object.entries(FREQUENCIES).map(([value, f]) => ({ value, label: f.text }))}
            allowDeselect={false}
            data-testid="frequency"
          />
          <NumberInput label="Days" min={1} max={365} value={sig.days ?? ''} onChange={(v) => setSig({ ...sig, days: v === '' ? undefined : Number(v) })} />
          <Checkbox label="As needed" mt="lg" checked={!!sig.asNeeded} onChange={(e) => setSig({ ...sig, asNeeded: e.currentTarget.checked })} />
          <TextInput label="For (indication)" value={sig.indication ?? ''} onChange={(e) => setSig({ ...sig, indication: e.currentTarget.value })} />
        </SimpleGrid>
        <Text size="sm" data-testid="sig-preview">
          <b>Sig:</b> {sigText(sig)}
        </Text>
        {conflicts.length > 0 && (
          <Stack gap={4}>
            <Checkbox label="I have considered the allergy and still want to prescribe" checked={override} onChange={(e) => setOverride(e.currentTarget.checked)} data-testid="override-allergy" />
            {override && (
              <TextInput label="Reason for overriding" required value={overrideReason} onChange={(e) => setOverrideReason(e.currentTarget.value)} data-testid="override-reason" />
            )}
          </Stack>
        )}
        <ErrorBanner error={error} title="The prescription was not saved" />
        <Group justify="flex-end">
          <Button variant="default" onClick={onDone} data-testid="cancel-prescription">
            Cancel
          </Button>
          <Button type="submit" loading={busy} disabled={!drug || blocked} color={conflicts.length ? 'red' : undefined} data-testid="save-prescription">
            {conflicts.length ? 'Prescribe despite the allergy' : 'Prescribe'}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
