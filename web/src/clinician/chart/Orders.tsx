// Orders and referrals: prescriptions, lab orders, referrals with their Task status, diagnoses
// (resolve), care plans.
import { Badge, Button, SimpleGrid } from '@mantine/core';
import type { CarePlan, Condition, MedicationRequest, ServiceRequest, Task } from '@medplum/fhirtypes';
import { useFacilityNames } from '../../shared/context';
import { useSave } from '../../shared/hooks';
import { ErrorBanner } from '../../shared/ErrorBanner';
import { formatCodeable, formatDate, formatReference } from '../../shared/format';
import { Entry, Section } from './common';
import { usePatientResources } from './data';
import { conditionOnset, isActiveCondition, isCategory } from './Snapshot';

const TASK_STATUS_COLOR: Record<string, string> = {
  requested: 'gray',
  received: 'blue',
  accepted: 'teal',
  rejected: 'red',
  'in-progress': 'blue',
  completed: 'green',
  cancelled: 'gray',
};

export function isReferralRequest(s: ServiceRequest): boolean {
  return isCategory(s, '3457005') || isCategory(s, 'referral') || !!s.performer?.some((p) => p.reference?.startsWith('Organization/'));
}

/** A Condition resolved today, kept otherwise as recorded (the update carries If-Match). */
export function resolvedCondition(c: Condition, now = new Date()): Condition {
  return {
    ...c,
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'resolved', display: 'Resolved' }] },
    abatementDateTime: now.toISOString().slice(0, 10),
  };
}

export function Orders() {
  const meds = usePatientResources<MedicationRequest>('MedicationRequest', { _sort: '-authoredon' });
  const requests = usePatientResources<ServiceRequest>('ServiceRequest', { _sort: '-authored' });
  const tasks = usePatientResources<Task>('Task');
  const conditions = usePatientResources<Condition>('Condition');
  const plans = usePatientResources<CarePlan>('CarePlan');
  const names = useFacilityNames();
  const save = useSave<Condition>();
  const referrals = requests.data.filter(isReferralRequest);
  const labOrders = requests.data.filter((s) => !isReferralRequest(s));
  const taskFor = (s: ServiceRequest) =>
    tasks.all.find((t) => t.focus?.reference === `ServiceRequest/${s.id}` || t.basedOn?.some((b) => b.reference === `ServiceRequest/${s.id}`));
  const orgName = (ref?: string) => (ref?.startsWith('Organization/') ? (names.get(ref.slice(13)) ?? ref) : ref);

  return (
    <SimpleGrid cols={{ base: 1, md: 2 }}>
      <Section title="Referrals" query={requests} empty={!referrals.length} count={referrals.length} testId="referrals">
        <ErrorBanner error={tasks.error} title="Referral status could not be loaded" />
        {referrals.map((s) => {
          const t = taskFor(s);
          const status = t?.status ?? s.status;
          return (
            <Entry
              key={s.id}
              resource={s}
              main={`${formatCodeable(s.code)} → ${s.performer?.map((p) => p.display ?? orgName(p.reference)).join(', ') ?? 'unassigned'}`}
              detail={`${formatDate(s.authoredOn)} · ${s.reasonCode?.map(formatCodeable).join(', ') ?? ''}${t?.businessStatus ? ' · ' + formatCodeable(t.businessStatus) : ''}`}
              right={
                <Badge color={TASK_STATUS_COLOR[status] ?? 'gray'} data-testid="referral-status">
                  {status}
                </Badge>
              }
            />
          );
        })}
      </Section>
      <Section title="Prescriptions" query={meds} empty={!meds.data.length} count={meds.data.length} testId="prescriptions">
        {meds.data.map((m) => (
          <Entry
            key={m.id}
            resource={m}
            main={formatCodeable(m.medicationCodeableConcept) || formatReference(m.medicationReference)}
            detail={`${formatDate(m.authoredOn)} · ${m.dosageInstruction?.[0]?.text ?? ''} · by ${formatReference(m.requester)}`}
            right={<Badge variant="light" color={m.status === 'active' ? 'green' : 'gray'}>{m.status}</Badge>}
          />
        ))}
      </Section>
      <Section title="Lab and other orders" query={requests} empty={!labOrders.length} count={labOrders.length} testId="lab-orders">
        {labOrders.map((s) => (
          <Entry key={s.id} resource={s} main={formatCodeable(s.code)} detail={`${formatDate(s.authoredOn)} · ${s.priority ?? 'routine'}`} right={<Badge variant="light">{s.status}</Badge>} />
        ))}
      </Section>
      <Section title="Diagnoses" query={conditions} empty={!conditions.data.length} count={conditions.data.length} testId="diagnoses">
        <ErrorBanner error={save.error} title="The diagnosis could not be resolved" />
        {conditions.data.map((c) => (
          <Entry
            key={c.id}
            resource={c}
            main={formatCodeable(c.code)}
            detail={`${c.clinicalStatus?.coding?.[0]?.code ?? ''} · since ${formatDate(conditionOnset(c))}${c.abatementDateTime ? ' · resolved ' + formatDate(c.abatementDateTime) : ''}`}
            right={
              isActiveCondition(c) ? (
                <Button size="compact-xs" variant="light" onClick={() => save.mutate(resolvedCondition(c))} loading={save.isPending && save.variables?.id === c.id} aria-label={`Resolve ${formatCodeable(c.code)}`}>
                  Resolve
                </Button>
              ) : undefined
            }
          />
        ))}
      </Section>
      <Section title="Care plans" query={plans} empty={!plans.data.length} count={plans.data.length} testId="care-plan-list">
        {plans.data.map((p) => (
          <Entry key={p.id} resource={p} main={p.title ?? formatCodeable(p.category?.[0])} detail={`${p.status} · ${p.description ?? ''} · ${p.goal?.length ?? 0} goal(s)`} />
        ))}
      </Section>
    </SimpleGrid>
  );
}
