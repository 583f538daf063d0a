// The charting toolbar: each action opens a form in a dialog; every save is validated by the API
// and its refusal is shown in the dialog with the path of the field at fault.
import { useState, type ReactNode } from 'react';
import { Button, Group, Modal } from '@mantine/core';
import { VitalsForm } from './VitalsForm';
import { DiagnosisForm } from './DiagnosisForm';
import { AllergyForm } from './AllergyForm';
import { PrescribeForm } from './PrescribeForm';
import { NoteForm } from './NoteForm';
import { CarePlanForm } from './CarePlanForm';
import { LabOrderForm } from './LabOrderForm';
import { ReferralForm } from './ReferralForm';

type Action = 'vitals' | 'diagnosis' | 'allergy' | 'prescribe' | 'note' | 'careplan' | 'lab' | 'referral';

const ACTIONS: { key: Action; label: string; title: string }[] = [
  { key: 'vitals', label: 'Vitals', title: 'Record vital signs' },
  { key: 'diagnosis', label: 'Diagnosis', title: 'Add a diagnosis' },
  { key: 'allergy', label: 'Allergy', title: 'Record an allergy' },
  { key: 'prescribe', label: 'Prescribe', title: 'Prescribe a medication' },
  { key: 'note', label: 'Note', title: 'Write a note' },
  { key: 'careplan', label: 'Care plan', title: 'Create a care plan' },
  { key: 'lab', label: 'Order lab', title: 'Order a lab test' },
  { key: 'referral', label: 'Refer', title: 'Refer to another facility' },
];

export function ChartingActions() {
  const [open, setOpen] = useState<Action | null>(null);
  const close = () => setOpen(null);
  const forms: Record<Action, ReactNode> = {
    vitals: <VitalsForm onDone={close} />,
    diagnosis: <DiagnosisForm onDone={close} />,
    allergy: <AllergyForm onDone={close} />,
    prescribe: <PrescribeForm onDone={close} />,
    note: <NoteForm onDone={close} />,
    careplan: <CarePlanForm onDone={close} />,
    lab: <LabOrderForm onDone={close} />,
    referral: <ReferralForm onDone={close} />,
  };
  const current = ACTIONS.find((a) => a.key === open);
  return (
    <>
      <Group gap={6} role="toolbar" aria-label="Charting actions">
        {ACTIONS.map((a) => (
          <Button key={a.key} size="xs" variant="light" onClick={() => setOpen(a.key)} data-testid={`action-${a.key}`}>
            {a.label}
          </Button>
        ))}
      </Group>
      <Modal opened={!!open} onClose={close} title={current?.title} size="lg" centered data-testid="charting-dialog">
        {open && forms[open]}
      </Modal>
    </>
  );
}
