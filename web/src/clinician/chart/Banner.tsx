// The patient banner: always visible while the chart scrolls. Allergies are prominent; "NKDA"
// only when the record says so explicitly, never inferred from an empty list.
import { useEffect, useState } from 'react';
import { Badge, Box, Group, Paper, SegmentedControl, Text, Title, Tooltip } from '@mantine/core';
import type { AllergyIntolerance, Flag } from '@medplum/fhirtypes';
import { formatAge, formatCodeable, formatDate, formatDuration, formatName, formatSex, mrnOf } from '../../shared/format';
import { isNoKnownAllergy } from '../../shared/allergy';
import { useFhir } from '../../shared/context';
import { ErrorBanner } from '../../shared/ErrorBanner';
import { useChart, usePatientResources, type View } from './data';

function useNow(intervalMs: number) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(t);
  }, [intervalMs]);
  return now;
}

function isActive(a: AllergyIntolerance) {
  const c = a.clinicalStatus?.coding?.[0]?.code;
  const v = a.verificationStatus?.coding?.[0]?.code;
  return c !== 'inactive' && c !== 'resolved' && v !== 'refuted' && v !== 'entered-in-error';
}

export function Banner({ view, onView }: { view: View; onView: (v: View) => void }) {
  const { patient, emergencyEnd } = useChart();
  const { session, emergencyHeader } = useFhir();
  // Allergies in the banner always come from the whole record: safety does not depend on the view.
  const allergies = usePatientResources<AllergyIntolerance>('AllergyIntolerance');
  const flags = usePatientResources<Flag>('Flag', { status: 'active' });
  const now = useNow(30_000);
  const active = allergies.all.filter(isActive);
  const real = active.filter((a) => !isNoKnownAllergy(a));
  const nkda = active.some(isNoKnownAllergy) && real.length === 0;
  const left = emergencyEnd ? emergencyEnd - now : undefined;
  return (
    <Paper
      withBorder
      shadow="xs"
      p="sm"
      mb="md"
      style={{ position: 'sticky', top: 60, zIndex: 100, background: 'var(--mantine-color-body)' }}
      data-testid="patient-banner"
      aria-label="Patient banner"
      component="section"
    >
      <Group justify="space-between" align="flex-start" wrap="wrap" gap="xs">
        <Box>
          <Title order={1} size="h3" data-testid="patient-name">
            {formatName(patient.name, 'family-first')}
          </Title>
          <Text size="sm">
            {formatSex(patient.gender)} · {formatAge(patient.birthDate)} · born {formatDate(patient.birthDate)} · MRN{' '}
            <Text span fw={700}>
              {mrnOf(patient.identifier) ?? '—'}
            </Text>
            {patient.deceasedBoolean || patient.deceasedDateTime ? ' · DECEASED' : ''}
          </Text>
        </Box>
        <Group gap="xs" wrap="wrap" maw={560} data-testid="banner-allergies" aria-label="Allergies">
          <Text size="sm" fw={700}>
            Allergies:
          </Text>
          {allergies.isLoading ? (
            <Text size="sm">loading…</Text>
          ) : real.length ? (
            real.map((a) => (
              <Tooltip key={a.id} label={`${a.criticality ?? 'unknown'} criticality; ${formatCodeable(a.reaction?.[0]?.manifestation?.[0])}`}>
                <Badge color="red" variant="filled" size="lg" style={{ textTransform: 'none' }}>
                  {formatCodeable(a.code)}
                  {a.criticality === 'high' ? ' (high)' : ''}
                </Badge>
              </Tooltip>
            ))
          ) : nkda ? (
            <Badge color="green" variant="outline" size="lg">
              NKDA
            </Badge>
          ) : (
            <Badge color="yellow" variant="filled" c="dark" size="lg" style={{ textTransform: 'none' }}>
              Not recorded — ask the patient
            </Badge>
          )}
        </Group>
        <Group gap="xs">
          {(left !== undefined || emergencyHeader) && (
            <Badge color="red" size="lg" variant="filled" data-testid="emergency-timer" style={{ textTransform: 'none' }}>
              Emergency access{left !== undefined ? ` · ${formatDuration(left)} left` : ''}
            </Badge>
          )}
          {flags.all.map((f) => (
            <Badge key={f.id} color="orange" variant="light" style={{ textTransform: 'none' }}>
              {formatCodeable(f.code)}
            </Badge>
          ))}
          <SegmentedControl
            size="xs"
            value={view}
            onChange={(v) => onView(v as View)}
            data={[
              { value: 'ehr', label: 'All facilities (EHR)' },
              { value: 'emr', label: `${session.facility?.name ?? 'This facility'} only (EMR)` },
            ]}
            aria-label="Which record to show"
            data-testid="view-switch"
          />
        </Group>
      </Group>
      <ErrorBanner error={allergies.error} title="Allergies could not be loaded — ask the patient before prescribing" />
    </Paper>
  );
}
