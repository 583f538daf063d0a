// My health: problems, medicines, allergies, vaccinations, visits, visit notes, imaging and
// other reports, care plans — from every facility, each entry labelled with its source.
import { ReactNode } from 'react';
import { Anchor, Badge, Card, Loader, Stack, Text, Title } from '@mantine/core';
import type {
  AllergyIntolerance,
  CarePlan,
  CodeableConcept,
  Condition,
  DiagnosticReport,
  DocumentReference,
  Encounter,
  Immunization,
  MedicationRequest,
  Resource,
} from '@medplum/fhirtypes';
import { useFacilityNames, useRecordSearch } from '../hooks';
import { ErrorNote } from '../components/ErrorNote';
import { facilityOf } from '../lib/results';
import { formatDay } from './Results';

function text(cc?: CodeableConcept): string {
  return cc?.text ?? cc?.coding?.find((c) => c.display)?.display ?? cc?.coding?.[0]?.code ?? '';
}

function Section<T extends Resource>({ title, items, render, empty, loading, error }: {
  title: string;
  items: T[];
  render: (r: T) => { what: ReactNode; detail?: ReactNode; date?: string };
  empty: string;
  loading: boolean;
  error: unknown;
}) {
  const names = useFacilityNames(items.map(facilityOf).filter((f): f is string => !!f));
  return (
    <Card withBorder component="section" aria-labelledby={`h-${title}`}>
      <Title order={2} size="h3" id={`h-${title}`}>
        {title}
      </Title>
      <ErrorNote error={error} title={`${title} could not be loaded`} />
      {loading && <Loader size="sm" aria-label={`Loading ${title}`} />}
      {!loading && !items.length && <Text c="dimmed">{empty}</Text>}
      <Stack gap={6} mt={6} component="ul" style={{ listStyle: 'none', padding: 0, margin: 0 }}>
        {items.map((r) => {
          const { what, detail, date } = render(r);
          const f = facilityOf(r);
          return (
            <li key={`${r.resourceType}/${r.id}`} style={{ borderBottom: '1px solid #eee', paddingBottom: 6 }}>
              <Text fw={600}>{what}</Text>
              {detail && <Text size="sm">{detail}</Text>}
              <Text size="xs" c="dimmed">
                {date ? `${formatDay(date)} · ` : ''}from {f ? names.data?.get(f) ?? f : 'unknown source'}
              </Text>
            </li>
          );
        })}
      </Stack>
    </Card>
  );
}

function decodeNote(d: DocumentReference): string | undefined {
  const a = d.content?.[0]?.attachment;
  if (!a?.data || !(a.contentType ?? '').startsWith('text/')) return undefined;
  try {
    return new TextDecoder().decode(Uint8Array.from(atob(a.data), (c) => c.charCodeAt(0))).slice(0, 600);
  } catch {
    return undefined;
  }
}

export function Health() {
  const conditions = useRecordSearch<Condition>('Condition');
  const meds = useRecordSearch<MedicationRequest>('MedicationRequest', { status: 'active' });
  const allergies = useRecordSearch<AllergyIntolerance>('AllergyIntolerance');
  const immunizations = useRecordSearch<Immunization>('Immunization', { _sort: '-date' });
  const encounters = useRecordSearch<Encounter>('Encounter', { _sort: '-date' });
  const notes = useRecordSearch<DocumentReference>('DocumentReference', { _sort: '-date' });
  const reports = useRecordSearch<DiagnosticReport>('DiagnosticReport', { _sort: '-date' });
  const plans = useRecordSearch<CarePlan>('CarePlan');
  return (
    <Stack>
      <Title order={1}>My health</Title>
      <Text>Everything the clinics using Carechart recorded about you. Each entry says where it comes from.</Text>
      <Section title="Health problems" {...q(conditions)} empty="No health problems recorded." render={(c: Condition) => ({
        what: text(c.code),
        detail: c.clinicalStatus ? <Badge variant="light">{text(c.clinicalStatus)}</Badge> : undefined,
        date: c.onsetDateTime ?? c.recordedDate,
      })} />
      <Section title="Medicines" {...q(meds)} empty="No current medicines." render={(m: MedicationRequest) => ({
        what: text(m.medicationCodeableConcept) || m.medicationReference?.display || 'Medicine',
        detail: m.dosageInstruction?.[0]?.text,
        date: m.authoredOn,
      })} />
      <Section title="Allergies" {...q(allergies)} empty="No allergies recorded." render={(a: AllergyIntolerance) => ({
        what: text(a.code),
        detail: [a.reaction?.[0]?.manifestation?.map(text).join(', '), a.criticality === 'high' ? 'high risk' : undefined].filter(Boolean).join(' · ') || undefined,
        date: a.recordedDate ?? a.onsetDateTime,
      })} />
      <Section title="Vaccinations" {...q(immunizations)} empty="No vaccinations recorded." render={(i: Immunization) => ({
        what: text(i.vaccineCode),
        date: i.occurrenceDateTime,
      })} />
      <Section title="Past visits" {...q(encounters)} empty="No visits recorded." render={(e: Encounter) => ({
        what: text(e.type?.[0]) || e.class?.display || 'Visit',
        detail: [e.serviceProvider?.display, e.participant?.[0]?.individual?.display].filter(Boolean).join(' · ') || undefined,
        date: e.period?.start,
      })} />
      <Section title="Visit notes" {...q(notes)} empty="No notes shared with you yet." render={(d: DocumentReference) => ({
        what: d.description ?? text(d.type) ?? 'Note',
        detail: decodeNote(d),
        date: d.date,
      })} />
      <Section title="Imaging and other reports" {...q(reports)} empty="No reports yet." render={(r: DiagnosticReport) => ({
        what: text(r.code),
        detail: r.conclusion ?? (r.presentedForm?.[0]?.url ? <Anchor href={r.presentedForm[0].url}>Open the report</Anchor> : undefined),
        date: r.effectiveDateTime ?? r.issued,
      })} />
      <Section title="Care plans" {...q(plans)} empty="No care plans." render={(p: CarePlan) => ({
        what: p.title ?? text(p.category?.[0]) ?? 'Care plan',
        detail: [p.description, ...(p.activity ?? []).map((a) => a.detail?.description ?? text(a.detail?.code)).filter(Boolean)].filter(Boolean).join(' · ') || undefined,
        date: p.period?.start ?? p.created,
      })} />
    </Stack>
  );
}

function q<T>(r: { data?: T[]; isLoading: boolean; error: unknown }) {
  return { items: r.data ?? [], loading: r.isLoading, error: r.error };
}
