// The snapshot: what a clinician needs in ten seconds.
import { Badge, Group, SimpleGrid, Text } from '@mantine/core';
import type { AllergyIntolerance, Appointment, CarePlan, Condition, Immunization, MedicationRequest, Observation } from '@medplum/fhirtypes';
import { formatCodeable, formatDate, formatDateTime, formatQuantity } from '../../shared/format';
import { FlagBadge } from '../../shared/FlagBadge';
import { flagOf, isAbnormal } from '../../shared/ranges';
import { effectiveTime } from '../../shared/observations';
import { Entry, Section } from './common';
import { usePatientResources } from './data';

export function isActiveCondition(c: Condition): boolean {
  const s = c.clinicalStatus?.coding?.[0]?.code;
  return !s || s === 'active' || s === 'recurrence' || s === 'relapse';
}

export function conditionOnset(c: Condition): string | undefined {
  return c.onsetDateTime ?? c.onsetPeriod?.start ?? c.recordedDate;
}

const VITAL_CODES: Record<string, string> = {
  '85354-9': 'Blood pressure',
  '8867-4': 'Pulse',
  '8310-5': 'Temperature',
  '29463-7': 'Weight',
  '8302-2': 'Height',
  '39156-5': 'BMI',
  '59408-5': 'SpO2',
  '2708-6': 'SpO2',
  '9279-1': 'Respiratory rate',
};

export function observationValue(o: Observation): string {
  if (o.component?.length && !o.valueQuantity) {
    const sys = o.component.find((c) => c.code?.coding?.some((x) => x.code === '8480-6'))?.valueQuantity?.value;
    const dia = o.component.find((c) => c.code?.coding?.some((x) => x.code === '8462-4'))?.valueQuantity?.value;
    if (sys !== undefined && dia !== undefined) return `${sys}/${dia} mmHg`;
    return o.component.map((c) => `${formatCodeable(c.code)} ${formatQuantity(c.valueQuantity)}`).join(', ');
  }
  if (o.valueQuantity) return formatQuantity(o.valueQuantity);
  if (o.valueCodeableConcept) return formatCodeable(o.valueCodeableConcept);
  if (o.valueString) return o.valueString;
  return '—';
}

export function latestPerCode(obs: Observation[]): Observation[] {
  const seen = new Map<string, Observation>();
  for (const o of obs) {
    const code = o.code?.coding?.[0]?.code ?? formatCodeable(o.code);
    const prev = seen.get(code);
    if (!prev || (effectiveTime(o) ?? '') > (effectiveTime(prev) ?? '')) seen.set(code, o);
  }
  return [...seen.values()];
}

export function isCategory(o: { category?: { coding?: { code?: string }[] }[] }, code: string): boolean {
  return !!o.category?.some((c) => c.coding?.some((x) => x.code === code));
}

export function Snapshot() {
  const conditions = usePatientResources<Condition>('Condition');
  const meds = usePatientResources<MedicationRequest>('MedicationRequest');
  const allergies = usePatientResources<AllergyIntolerance>('AllergyIntolerance');
  const obs = usePatientResources<Observation>('Observation', { _sort: '-date' }, 20);
  const imms = usePatientResources<Immunization>('Immunization');
  const plans = usePatientResources<CarePlan>('CarePlan');
  const today = new Date().toISOString().slice(0, 10);
  const upcoming = usePatientResources<Appointment>('Appointment', { date: `ge${today}` });

  const problems = conditions.data.filter(isActiveCondition).sort((a, b) => (conditionOnset(b) ?? '').localeCompare(conditionOnset(a) ?? ''));
  const activeMeds = meds.data.filter((m) => m.status === 'active' || m.status === 'on-hold');
  const vitals = latestPerCode(obs.data.filter((o) => isCategory(o, 'vital-signs') && VITAL_CODES[o.code?.coding?.[0]?.code ?? '']));
  const labs = latestPerCode(obs.data.filter((o) => isCategory(o, 'laboratory')))
    .sort((a, b) => (effectiveTime(b) ?? '').localeCompare(effectiveTime(a) ?? ''))
    .slice(0, 10);
  const activePlans = plans.data.filter((p) => p.status === 'active' || p.status === 'draft');

  return (
    <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} data-testid="snapshot">
      <Section title="Problems" query={conditions} empty={!problems.length} count={problems.length} testId="problems">
        {problems.map((c) => (
          <Entry key={c.id} resource={c} main={formatCodeable(c.code)} detail={`since ${formatDate(conditionOnset(c))}`} />
        ))}
      </Section>
      <Section title="Active medications" query={meds} empty={!activeMeds.length} count={activeMeds.length} testId="medications">
        {activeMeds.map((m) => (
          <Entry key={m.id} resource={m} main={formatCodeable(m.medicationCodeableConcept) || m.medicationReference?.display} detail={m.dosageInstruction?.[0]?.text ?? `since ${formatDate(m.authoredOn)}`} />
        ))}
      </Section>
      <Section title="Allergies and intolerances" query={allergies} empty={!allergies.data.length} testId="allergies">
        {allergies.data.map((a) => (
          <Entry
            key={a.id}
            resource={a}
            main={formatCodeable(a.code)}
            detail={[a.reaction?.[0]?.manifestation?.map(formatCodeable).join(', '), a.criticality && `${a.criticality} criticality`, a.clinicalStatus?.coding?.[0]?.code].filter(Boolean).join(' · ')}
            right={a.criticality === 'high' ? <Badge color="red" size="xs">high</Badge> : undefined}
          />
        ))}
      </Section>
      <Section title="Last vital signs" query={obs} empty={!vitals.length} testId="vitals">
        {vitals.map((o) => (
          <Entry key={o.id} resource={o} main={`${VITAL_CODES[o.code?.coding?.[0]?.code ?? '']}: ${observationValue(o)}`} detail={formatDateTime(effectiveTime(o))} right={<FlagBadge flag={flagOf(o)} />} />
        ))}
      </Section>
      <Section title="Recent results" query={obs} empty={!labs.length} testId="recent-results">
        {labs.map((o) => (
          <Entry
            key={o.id}
            resource={o}
            main={
              <Group gap={4} component="span">
                <Text span size="sm" fw={isAbnormal(flagOf(o)) ? 800 : 600}>
                  {formatCodeable(o.code)}: {observationValue(o)}
                </Text>
              </Group>
            }
            detail={formatDate(effectiveTime(o))}
            right={<FlagBadge flag={flagOf(o)} />}
          />
        ))}
      </Section>
      <Section title="Immunizations" query={imms} empty={!imms.data.length} count={imms.data.length} testId="immunizations">
        {imms.data
          .slice()
          .sort((a, b) => (b.occurrenceDateTime ?? '').localeCompare(a.occurrenceDateTime ?? ''))
          .slice(0, 8)
          .map((i) => (
            <Entry key={i.id} resource={i} main={formatCodeable(i.vaccineCode)} detail={formatDate(i.occurrenceDateTime)} />
          ))}
      </Section>
      <Section title="Care plans" query={plans} empty={!activePlans.length} testId="care-plans">
        {activePlans.map((p) => (
          <Entry key={p.id} resource={p} main={p.title ?? formatCodeable(p.category?.[0])} detail={`${p.status} · ${p.goal?.length ?? 0} goal(s) · since ${formatDate(p.period?.start ?? p.created)}`} />
        ))}
      </Section>
      <Section title="Upcoming visits" query={upcoming} empty={!upcoming.data.length} testId="upcoming">
        {upcoming.data.map((a) => (
          <Entry key={a.id} resource={a} main={formatDateTime(a.start)} detail={a.description ?? formatCodeable(a.serviceType?.[0])} right={<Badge size="xs" variant="light">{a.status}</Badge>} />
        ))}
      </Section>
    </SimpleGrid>
  );
}
