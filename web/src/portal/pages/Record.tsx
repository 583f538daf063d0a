// My record: download everything as a FHIR Bundle file, read/print/download the International
// Patient Summary, and ask the care team to correct an entry (a Task for them).
import { useState } from 'react';
import { Button, Card, Group, Loader, Select, Stack, Text, Textarea, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Bundle, Composition, Resource, Task } from '@medplum/fhirtypes';
import { usePortal } from '../PortalContext';
import { useRecordSearch } from '../hooks';
import { ErrorNote } from '../components/ErrorNote';
import { download, everything, summaryHtml } from '../api';

const CORRECTABLE = ['Condition', 'AllergyIntolerance', 'MedicationRequest', 'Observation', 'Immunization', 'Encounter'];

function label(r: Resource & Record<string, unknown>): string {
  const cc = (r.code ?? r.vaccineCode ?? r.medicationCodeableConcept) as { text?: string; coding?: { display?: string }[] } | undefined;
  const what = cc?.text ?? cc?.coding?.[0]?.display ?? r.resourceType;
  const when = (r.effectiveDateTime ?? r.recordedDate ?? r.onsetDateTime ?? r.authoredOn ?? r.occurrenceDateTime ?? '') as string;
  return `${what}${when ? ` (${when.slice(0, 10)})` : ''} — ${r.resourceType}`;
}

export function Record() {
  const { client, patientId, patientRef } = usePortal();
  const qc = useQueryClient();
  const [showSummary, setShowSummary] = useState(false);
  const bundle = useMutation({
    mutationFn: () => everything(client, patientId),
    onSuccess: (b) => download(`my-health-record-${patientId}.json`, 'application/fhir+json', JSON.stringify(b, null, 2)),
  });
  const html = useMutation({
    mutationFn: () => summaryHtml(patientId),
    onSuccess: (h) => download(`health-summary-${patientId}.html`, 'text/html', h),
  });
  const summary = useQuery({
    queryKey: ['summary', patientId],
    enabled: showSummary,
    queryFn: async () => (await client.operation<Bundle>(`Patient/${encodeURIComponent(patientId)}/$summary`, undefined, 'GET')).body,
  });
  const entries = useQuery({
    queryKey: ['correctable', patientId],
    queryFn: async () => {
      const out: Resource[] = [];
      for (const t of CORRECTABLE) out.push(...(await client.searchAll<Resource>(`Patient/${encodeURIComponent(patientId)}/${t}`, { _count: 100 }, 1)));
      return out;
    },
  });
  const tasks = useRecordSearch<Task>('Task', { code: 'http://hl7.org/fhir/CodeSystem/task-code|change' });
  const [entry, setEntry] = useState<string | null>(null);
  const [why, setWhy] = useState('');
  const ask = useMutation({
    mutationFn: () =>
      client.create<Task>({
        resourceType: 'Task',
        status: 'requested',
        intent: 'proposal',
        priority: 'routine',
        code: { coding: [{ system: 'http://hl7.org/fhir/CodeSystem/task-code', code: 'change', display: 'Change the focal resource' }], text: 'Correction requested by the patient' },
        focus: { reference: entry! },
        for: { reference: patientRef },
        authoredOn: new Date().toISOString(),
        description: why,
      }),
    onSuccess: () => {
      setWhy('');
      setEntry(null);
      qc.invalidateQueries({ queryKey: ['search'] });
    },
  });
  const comp = summary.data?.entry?.[0]?.resource as Composition | undefined;
  return (
    <Stack>
      <Title order={1}>My record</Title>
      <Card withBorder>
        <Title order={2} size="h3">
          Download a copy
        </Title>
        <Text size="sm">
          The complete record is a FHIR file any doctor's system can read. The summary is a readable document you can print or hand to another doctor, an insurer or a lawyer.
        </Text>
        <Group mt="sm">
          <Button onClick={() => bundle.mutate()} loading={bundle.isPending}>
            Download everything (FHIR)
          </Button>
          <Button variant="outline" onClick={() => setShowSummary(true)}>
            Show printable summary
          </Button>
          <Button variant="outline" onClick={() => html.mutate()} loading={html.isPending}>
            Download summary (HTML)
          </Button>
        </Group>
        {bundle.isSuccess && <Text c="green" mt="xs">Downloaded {bundle.data.entry?.length ?? 0} entries.</Text>}
        <ErrorNote error={bundle.error ?? html.error ?? summary.error} title="The download failed" />
      </Card>
      {showSummary && (
        <Card withBorder className="printable" data-testid="summary">
          {summary.isLoading && <Loader aria-label="Loading the summary" />}
          {comp && (
            <>
              <Group justify="space-between">
                <Title order={2} size="h3">
                  {comp.title}
                </Title>
                <Button size="xs" onClick={() => window.print()}>
                  Print
                </Button>
              </Group>
              {comp.section?.map((s) => (
                <section key={s.code?.coding?.[0]?.code}>
                  <Title order={3} size="h4" mt="sm">
                    {s.title}
                  </Title>
                  <SectionEntries refs={(s.entry ?? []).map((e) => e.reference ?? '')} bundle={summary.data!} />
                </section>
              ))}
            </>
          )}
        </Card>
      )}
      <Card withBorder component="form" onSubmit={(e) => (e.preventDefault(), ask.mutate())} aria-labelledby="correct-title">
        <Title order={2} size="h3" id="correct-title">
          Ask for a correction
        </Title>
        <Text size="sm">If something in your record is wrong, tell your care team which entry and what is wrong. They will review it.</Text>
        <Stack gap="xs" mt="xs">
          <Select
            label="Which entry"
            searchable
            data={(entries.data ?? []).map((r) => ({ value: `${r.resourceType}/${r.id}`, label: label(r as Resource & Record<string, unknown>) }))}
            value={entry}
            onChange={setEntry}
            required
          />
          <Textarea label="What is wrong" value={why} onChange={(e) => setWhy(e.currentTarget.value)} required />
          <ErrorNote error={ask.error ?? entries.error} title="The request was not sent" />
          {ask.isSuccess && <Text c="green">Sent to your care team.</Text>}
          <Button type="submit" disabled={!entry || !why.trim()} loading={ask.isPending}>
            Send correction request
          </Button>
        </Stack>
        {(tasks.data ?? []).length > 0 && (
          <>
            <Title order={3} size="h5" mt="sm">
              Your requests
            </Title>
            <ul>
              {tasks.data!.map((t) => (
                <li key={t.id}>
                  {t.description} — {t.status === 'requested' ? 'waiting for review' : t.status}
                </li>
              ))}
            </ul>
          </>
        )}
      </Card>
    </Stack>
  );
}

function SectionEntries({ refs, bundle }: { refs: string[]; bundle: Bundle }) {
  if (!refs.length) return <Text c="dimmed">Nothing recorded.</Text>;
  const byRef = new Map((bundle.entry ?? []).map((e) => [`${e.resource?.resourceType}/${e.resource?.id}`, e.resource as Resource & Record<string, unknown>]));
  return (
    <ul>
      {refs.map((r) => {
        const res = byRef.get(r);
        return <li key={r}>{res ? label(res).replace(/ — \w+$/, '') : r}</li>;
      })}
    </ul>
  );
}
