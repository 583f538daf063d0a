// Home: today's appointments, recent patients, the in-basket at a glance.
import { Link, useNavigate } from 'react-router-dom';
import { Anchor, Badge, Card, Grid, Group, Skeleton, Stack, Table, Text, Title } from '@mantine/core';
import type { Appointment, Patient } from '@medplum/fhirtypes';
import { useFhir } from '../shared/context';
import { useSearch } from '../shared/hooks';
import { ErrorBanner } from '../shared/ErrorBanner';
import { FacilityBadge } from '../shared/FacilityBadge';
import { formatAge, formatCodeable, formatDate, formatName, formatTime } from '../shared/format';
import { recentPatientIds } from './recent';
import { useInboxCounts } from './inbox';

export function localDay(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** Local midnight of `d` as a FHIR dateTime with this browser's UTC offset ("…T00:00:00-08:00"). */
export function localMidnight(d: Date): string {
  const m = new Date(d.getFullYear(), d.getMonth(), d.getDate());
  const off = -m.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const hh = String(Math.floor(Math.abs(off) / 60)).padStart(2, '0');
  const mm = String(Math.abs(off) % 60).padStart(2, '0');
  return `${localDay(m)}T00:00:00${sign}${hh}:${mm}`;
}

function patientOf(a: Appointment): { id?: string; name: string } {
  const p = a.participant?.find((x) => x.actor?.reference?.startsWith('Patient/'))?.actor;
  return { id: p?.reference?.slice('Patient/'.length), name: p?.display ?? p?.reference ?? 'Patient' };
}

function TodaysAppointments() {
  const { session } = useFhir();
  const now = new Date();
  const tomorrow = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1);
  const params: Record<string, string | string[]> = {
    // The clinic's day, in this workstation's time zone.
    date: [`ge${localMidnight(now)}`, `lt${localMidnight(tomorrow)}`],
    _sort: 'date',
    _count: '100',
  };
  if (session.fhirUser?.startsWith('Practitioner/')) params.practitioner = session.fhirUser;
  const q = useSearch<Appointment>('Appointment', params);
  const navigate = useNavigate();
  const rows = (q.data ?? []).filter((a) => a.status !== 'cancelled' && a.status !== 'entered-in-error');
  return (
    <Card withBorder>
      <Title order={2} size="h4" mb="xs">
        Today’s appointments
      </Title>
      <ErrorBanner error={q.error} title="Could not load today's appointments" onRetry={() => q.refetch()} />
      {q.isLoading ? (
        <Skeleton h={120} />
      ) : rows.length === 0 && !q.error ? (
        <Text c="dimmed">No appointments today{session.fhirUser ? ' on your schedule' : ''}.</Text>
      ) : (
        <Table highlightOnHover data-testid="appointments">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Time</Table.Th>
              <Table.Th>Patient</Table.Th>
              <Table.Th>Reason</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Where</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((a) => {
              const p = patientOf(a);
              return (
                <Table.Tr key={a.id} style={{ cursor: p.id ? 'pointer' : undefined }} onClick={() => p.id && navigate(`/patients/${p.id}`)}>
                  <Table.Td>{formatTime(a.start)}</Table.Td>
                  <Table.Td>
                    {p.id ? (
                      <Anchor component={Link} to={`/patients/${p.id}`} onClick={(e) => e.stopPropagation()}>
                        {p.name}
                      </Anchor>
                    ) : (
                      p.name
                    )}
                  </Table.Td>
                  <Table.Td>{a.description ?? formatCodeable(a.reasonCode?.[0] ?? a.serviceType?.[0] ?? a.appointmentType)}</Table.Td>
                  <Table.Td>
                    <Badge variant="light">{a.status}</Badge>
                  </Table.Td>
                  <Table.Td>
                    <FacilityBadge resource={a} />
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      )}
    </Card>
  );
}

function RecentPatients() {
  const { session } = useFhir();
  const ids = recentPatientIds(session.fhirUser ?? session.userName ?? 'me');
  const q = useSearch<Patient>('Patient', { _id: ids.join(','), _count: 10 }, { enabled: ids.length > 0 });
  const byId = new Map((q.data ?? []).map((p) => [p.id, p]));
  return (
    <Card withBorder>
      <Title order={2} size="h4" mb="xs">
        Recent patients
      </Title>
      <ErrorBanner error={q.error} title="Could not load recent patients" onRetry={() => q.refetch()} />
      {ids.length === 0 ? (
        <Text c="dimmed" size="sm">
          Charts you open appear here.
        </Text>
      ) : (
        <Stack gap={4} data-testid="recent-patients">
          {ids
            .map((id) => byId.get(id))
            .filter((p): p is Patient => !!p)
            .map((p) => (
              <Anchor key={p.id} component={Link} to={`/patients/${p.id}`}>
                {formatName(p.name, 'family-first')}{' '}
                <Text span size="xs" c="dimmed">
                  {formatDate(p.birthDate)} ({formatAge(p.birthDate)})
                </Text>
              </Anchor>
            ))}
        </Stack>
      )}
    </Card>
  );
}

function InboxSummary() {
  const q = useInboxCounts();
  return (
    <Card withBorder>
      <Title order={2} size="h4" mb="xs">
        In basket
      </Title>
      <ErrorBanner error={q.error} title="Could not load the in basket" onRetry={() => q.refetch()} />
      {q.isLoading ? (
        <Skeleton h={60} />
      ) : (
        <Stack gap={4} data-testid="inbox-counts">
          <Group justify="space-between">
            <Anchor component={Link} to="/inbox?tab=messages">
              Patient messages awaiting reply
            </Anchor>
            <Badge color={q.data?.messages ? 'red' : 'gray'}>{q.data?.messages ?? 0}</Badge>
          </Group>
          <Group justify="space-between">
            <Anchor component={Link} to="/inbox?tab=results">
              Results to review
            </Anchor>
            <Badge color={q.data?.results ? 'orange' : 'gray'}>{q.data?.results ?? 0}</Badge>
          </Group>
          <Group justify="space-between">
            <Anchor component={Link} to="/inbox?tab=referrals">
              Open referrals
            </Anchor>
            <Badge color="gray">{q.data?.referrals ?? 0}</Badge>
          </Group>
        </Stack>
      )}
    </Card>
  );
}

export function Home() {
  const { session } = useFhir();
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1} size="h3">
          Good {new Date().getHours() < 12 ? 'morning' : 'day'}, {session.userName ?? 'doctor'}
        </Title>
        {session.facility && <Badge size="lg" variant="outline">{session.facility.name}</Badge>}
      </Group>
      <Grid>
        <Grid.Col span={{ base: 12, md: 8 }}>
          <TodaysAppointments />
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 4 }}>
          <Stack>
            <InboxSummary />
            <RecentPatients />
          </Stack>
        </Grid.Col>
      </Grid>
    </Stack>
  );
}
