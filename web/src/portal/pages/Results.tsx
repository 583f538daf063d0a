// Test results: trends (HbA1c, glucose, blood pressure) with the normal range, then every test's
// latest result in plain words with a range bar, flag, date, source facility and the
// clinician's comment; earlier results on demand.
import { useState } from 'react';
import { Button, Card, Group, Loader, Stack, Text, Title } from '@mantine/core';
import type { Observation } from '@medplum/fhirtypes';
import { useFacilityNames, useRecordSearch } from '../hooks';
import { ErrorNote } from '../components/ErrorNote';
import { RangeBar } from '../components/RangeBar';
import { TrendChart } from '../components/TrendChart';
import { plainName, quantityText } from '../lib/plain';
import { bloodPressure, dateOf, facilityOf, latestByTest, seriesOf, TRENDS } from '../lib/results';

export function formatDay(iso: string): string {
  if (!iso) return '';
  const d = new Date(iso.length === 10 ? `${iso}T12:00:00Z` : iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

export function Results() {
  const labs = useRecordSearch<Observation>('Observation', { category: 'laboratory', _sort: '-date' });
  const vitals = useRecordSearch<Observation>('Observation', { code: 'http://loinc.org|85354-9', _sort: '-date' });
  const all = labs.data ?? [];
  const names = useFacilityNames([...all, ...(vitals.data ?? [])].map(facilityOf).filter((f): f is string => !!f));
  const from = (f?: string) => (f ? names.data?.get(f) ?? f : 'unknown source');
  const [open, setOpen] = useState<string | null>(null);
  if (labs.isLoading) return <Loader aria-label="Loading results" />;
  const bp = bloodPressure(vitals.data ?? []);
  return (
    <Stack>
      <Title order={1}>Test results</Title>
      <ErrorNote error={labs.error ?? vitals.error} title="Your results could not be loaded" />
      <Title order={2} size="h3">
        Your trends
      </Title>
      {TRENDS.map((t) => {
        const s = seriesOf(all, t.codes);
        if (!s.length) return null;
        const range = s[s.length - 1].referenceRange?.[0];
        return (
          <Card withBorder key={t.key} data-testid={`trend-card-${t.key}`}>
            <Title order={3} size="h4">
              {t.title}
            </Title>
            <Text size="sm">
              Latest: <strong>{quantityText(s[s.length - 1].valueQuantity)}</strong> on {formatDay(dateOf(s[s.length - 1]))}, {s.length} results
              from {new Set(s.map((o) => from(facilityOf(o)))).size} place(s).
            </Text>
            <TrendChart
              title={t.title}
              unit={s[s.length - 1].valueQuantity?.unit ?? t.unit}
              low={range?.low?.value}
              high={range?.high?.value}
              series={[{ name: t.title, points: s.map((o) => ({ date: dateOf(o), value: o.valueQuantity!.value!, source: from(facilityOf(o)) })) }]}
            />
          </Card>
        );
      })}
      {bp.length > 0 && (
        <Card withBorder data-testid="trend-card-bp">
          <Title order={3} size="h4">
            Blood pressure
          </Title>
          <Text size="sm">
            Latest: <strong>{bp[bp.length - 1].systolic}/{bp[bp.length - 1].diastolic} mmHg</strong> on {formatDay(bp[bp.length - 1].date)}. Below 130/80 is the usual goal.
          </Text>
          <TrendChart
            title="Blood pressure"
            unit="mmHg"
            low={60}
            high={130}
            series={[
              { name: 'Top number (systolic)', points: bp.map((p) => ({ date: p.date, value: p.systolic, source: from(p.facility) })) },
              { name: 'Bottom number (diastolic)', points: bp.map((p) => ({ date: p.date, value: p.diastolic, source: from(p.facility) })) },
            ]}
          />
        </Card>
      )}
      <Title order={2} size="h3">
        All tests
      </Title>
      {!all.length && <Text>No test results yet.</Text>}
      {latestByTest(all).map(({ latest, history }) => (
        <Card withBorder key={latest.id} component="section" aria-label={plainName(latest.code)}>
          <Group justify="space-between" align="flex-start">
            <div>
              <Text fw={600}>{plainName(latest.code)}</Text>
              <Text size="sm" c="dimmed">
                {formatDay(dateOf(latest))} · from {from(facilityOf(latest))}
              </Text>
            </div>
            <Text fw={700} size="lg">
              {quantityText(latest.valueQuantity) || latest.valueString || latest.valueCodeableConcept?.text || ''}
            </Text>
          </Group>
          {latest.valueQuantity && <RangeBar obs={latest} />}
          {latest.note?.map((n, i) => (
            <Text key={i} size="sm" mt={4}>
              Comment from your care team: {n.text}
            </Text>
          ))}
          {history.length > 0 && (
            <>
              <Button variant="subtle" size="compact-sm" mt={4} onClick={() => setOpen(open === latest.id ? null : latest.id ?? null)} aria-expanded={open === latest.id}>
                {open === latest.id ? 'Hide' : 'Show'} {history.length} earlier result{history.length > 1 ? 's' : ''}
              </Button>
              {open === latest.id && (
                <ul>
                  {history.map((o) => (
                    <li key={o.id}>
                      {formatDay(dateOf(o))}: {quantityText(o.valueQuantity) || o.valueString} ({from(facilityOf(o))})
                    </li>
                  ))}
                </ul>
              )}
            </>
          )}
        </Card>
      ))}
    </Stack>
  );
}
