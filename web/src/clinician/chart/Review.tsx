// Chart review: the encounter timeline, notes and documents, imaging, reports, procedures,
// immunizations — each entry labelled by the facility it came from.
import { useState } from 'react';
import { Badge, Card, Group, Stack, Tabs, Text, Timeline } from '@mantine/core';
import type { Attachment, DiagnosticReport, DocumentReference, Encounter, ImagingStudy, Immunization, Procedure } from '@medplum/fhirtypes';
import { formatCodeable, formatDate, formatDateTime, formatReference } from '../../shared/format';
import { FacilityBadge } from '../../shared/FacilityBadge';
import { Entry, Section } from './common';
import { usePatientResources } from './data';
import { isCategory } from './Snapshot';

/** The text of an inline attachment (UTF-8, base64), or undefined. */
export function attachmentText(a: Attachment | undefined): string | undefined {
  if (!a?.data) return undefined;
  if (a.contentType && !a.contentType.startsWith('text/')) return undefined;
  try {
    const bin = atob(a.data);
    return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
}

function Encounters() {
  const q = usePatientResources<Encounter>('Encounter', { _sort: '-date' });
  return (
    <Section title="Encounters" query={q} empty={!q.data.length} count={q.data.length} testId="encounters">
      <Timeline bulletSize={14} lineWidth={2}>
        {q.data.map((e) => (
          <Timeline.Item
            key={e.id}
            title={
              <Group gap="xs">
                <Text size="sm" fw={600}>
                  {formatCodeable(e.type?.[0]) !== '—' ? formatCodeable(e.type?.[0]) : (e.class?.display ?? e.class?.code)}
                </Text>
                <FacilityBadge resource={e} />
              </Group>
            }
          >
            <Text size="xs" c="dimmed">
              {formatDateTime(e.period?.start)}
              {e.period?.end ? ` – ${formatDateTime(e.period.end)}` : ''} · {e.class?.display ?? e.class?.code} · {e.status}
              {e.reasonCode?.length ? ` · ${e.reasonCode.map(formatCodeable).join(', ')}` : ''}
              {e.participant?.[0]?.individual ? ` · ${formatReference(e.participant[0].individual)}` : ''}
            </Text>
          </Timeline.Item>
        ))}
      </Timeline>
    </Section>
  );
}

function Notes() {
  const q = usePatientResources<DocumentReference>('DocumentReference', { _sort: '-date' });
  const [open, setOpen] = useState<string | null>(null);
  return (
    <Section title="Notes and documents" query={q} empty={!q.data.length} count={q.data.length} testId="notes">
      {q.data.map((d) => {
        const text = attachmentText(d.content?.[0]?.attachment);
        return (
          <Card key={d.id} withBorder p="xs">
            <Entry
              resource={d}
              main={
                <button type="button" onClick={() => setOpen(open === d.id ? null : d.id!)} aria-expanded={open === d.id} style={{ all: 'unset', cursor: 'pointer', textDecoration: 'underline' }}>
                  {d.description ?? formatCodeable(d.type)}
                </button>
              }
              detail={`${formatDateTime(d.date)} · ${d.author?.map(formatReference).join(', ') ?? ''} · ${d.docStatus ?? d.status}`}
            />
            {open === d.id && (
              <Text size="sm" mt="xs" style={{ whiteSpace: 'pre-wrap' }} data-testid="note-text">
                {text ?? (d.content?.[0]?.attachment?.url ? `Attachment: ${d.content[0].attachment.title ?? d.content[0].attachment.url}` : 'No text content.')}
              </Text>
            )}
          </Card>
        );
      })}
    </Section>
  );
}

function Imaging() {
  const studies = usePatientResources<ImagingStudy>('ImagingStudy');
  const reports = usePatientResources<DiagnosticReport>('DiagnosticReport', { _sort: '-date' });
  const imagingReports = reports.data.filter((r) => isCategory(r, 'RAD') || isCategory(r, 'imaging') || !!r.imagingStudy?.length);
  return (
    <Stack>
      <Section title="Imaging reports" query={reports} empty={!imagingReports.length} testId="imaging-reports">
        {imagingReports.map((r) => (
          <Entry key={r.id} resource={r} main={formatCodeable(r.code)} detail={`${formatDate(r.effectiveDateTime ?? r.issued)} · ${r.conclusion ?? r.presentedForm?.[0]?.title ?? r.status}`} />
        ))}
      </Section>
      <Section title="Imaging studies" query={studies} empty={!studies.data.length} testId="imaging-studies">
        {studies.data.map((s) => (
          <Entry
            key={s.id}
            resource={s}
            main={s.description ?? s.procedureCode?.map(formatCodeable).join(', ') ?? 'Imaging study'}
            detail={`${formatDate(s.started)} · ${s.modality?.map((m) => m.code).join(', ') ?? ''} · ${s.numberOfSeries ?? 0} series, ${s.numberOfInstances ?? 0} images`}
          />
        ))}
      </Section>
    </Stack>
  );
}

function Reports() {
  const q = usePatientResources<DiagnosticReport>('DiagnosticReport', { _sort: '-date' });
  const labs = q.data.filter((r) => !(isCategory(r, 'RAD') || isCategory(r, 'imaging') || r.imagingStudy?.length));
  return (
    <Section title="Diagnostic reports" query={q} empty={!labs.length} count={labs.length} testId="reports">
      {labs.map((r) => (
        <Entry key={r.id} resource={r} main={formatCodeable(r.code)} detail={`${formatDate(r.effectiveDateTime ?? r.issued)} · ${r.status}${r.conclusion ? ' · ' + r.conclusion : ''}`} right={<Badge size="xs" variant="light">{r.result?.length ?? 0} results</Badge>} />
      ))}
    </Section>
  );
}

function Procedures() {
  const q = usePatientResources<Procedure>('Procedure');
  return (
    <Section title="Procedures" query={q} empty={!q.data.length} count={q.data.length} testId="procedures">
      {q.data.map((p) => (
        <Entry key={p.id} resource={p} main={formatCodeable(p.code)} detail={`${formatDate(p.performedDateTime ?? p.performedPeriod?.start)} · ${p.status}`} />
      ))}
    </Section>
  );
}

function Immunizations() {
  const q = usePatientResources<Immunization>('Immunization');
  return (
    <Section title="Immunizations" query={q} empty={!q.data.length} count={q.data.length} testId="immunization-history">
      {q.data
        .slice()
        .sort((a, b) => (b.occurrenceDateTime ?? '').localeCompare(a.occurrenceDateTime ?? ''))
        .map((i) => (
          <Entry key={i.id} resource={i} main={formatCodeable(i.vaccineCode)} detail={`${formatDate(i.occurrenceDateTime)} · ${i.status}`} />
        ))}
    </Section>
  );
}

export function Review() {
  return (
    <Tabs defaultValue="encounters" variant="pills" keepMounted={false}>
      <Tabs.List mb="sm">
        <Tabs.Tab value="encounters">Encounters</Tabs.Tab>
        <Tabs.Tab value="notes" data-testid="review-notes">
          Notes &amp; documents
        </Tabs.Tab>
        <Tabs.Tab value="imaging" data-testid="review-imaging">
          Imaging
        </Tabs.Tab>
        <Tabs.Tab value="reports">Reports</Tabs.Tab>
        <Tabs.Tab value="procedures">Procedures</Tabs.Tab>
        <Tabs.Tab value="immunizations">Immunizations</Tabs.Tab>
      </Tabs.List>
      <Tabs.Panel value="encounters">
        <Encounters />
      </Tabs.Panel>
      <Tabs.Panel value="notes">
        <Notes />
      </Tabs.Panel>
      <Tabs.Panel value="imaging">
        <Imaging />
      </Tabs.Panel>
      <Tabs.Panel value="reports">
        <Reports />
      </Tabs.Panel>
      <Tabs.Panel value="procedures">
        <Procedures />
      </Tabs.Panel>
      <Tabs.Panel value="immunizations">
        <Immunizations />
      </Tabs.Panel>
    </Tabs>
  );
}
