// Appointments: upcoming and past with their status in words; request one (reason, facility,
// preferred days), cancel, accept a time the clinic proposed, or book a free Slot directly.
import { useState } from 'react';
import { Button, Card, Group, Loader, Select, Stack, Text, Textarea, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Appointment, Organization, Schedule, Slot } from '@medplum/fhirtypes';
import { usePortal } from '../PortalContext';
import { useRecordSearch } from '../hooks';
import { ErrorNote } from '../components/ErrorNote';
import { appointmentStatusText } from '../lib/plain';

function when(a: Appointment): string {
  if (a.start) return new Date(a.start).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  const p = a.requestedPeriod?.[0];
  return p?.start ? `preferred ${new Date(p.start).toLocaleDateString()}${p.end ? ` – ${new Date(p.end).toLocaleDateString()}` : ''}` : 'time to be agreed';
}

export function Appointments() {
  const { client, patientRef } = usePortal();
  const qc = useQueryClient();
  const list = useRecordSearch<Appointment>('Appointment', { _sort: '-date' });
  const refresh = () => qc.invalidateQueries({ queryKey: ['search'] });
  const now = new Date().toISOString();
  const appts = list.data ?? [];
  const upcoming = appts.filter((a) => (a.start ?? a.requestedPeriod?.[0]?.end ?? now) >= now && a.status !== 'cancelled');
  const past = appts.filter((a) => !upcoming.includes(a));
  const mine = (a: Appointment) => a.participant?.find((p) => p.actor?.reference === patientRef);

  const change = useMutation({
    mutationFn: async ({ a, status, participant }: { a: Appointment; status: Appointment['status']; participant?: 'accepted' }) => {
      const next: Appointment = {
        ...a,
        status,
        participant: a.participant.map((p) => (p.actor?.reference === patientRef && participant ? { ...p, status: participant } : p)),
      };
      return client.update(next);
    },
    onSuccess: refresh,
  });

  return (
    <Stack>
      <Title order={1}>Appointments</Title>
      <ErrorNote error={list.error ?? change.error} title="Appointments" />
      <Title order={2} size="h3">
        Upcoming and requested
      </Title>
      {list.isLoading && <Loader aria-label="Loading appointments" />}
      {!list.isLoading && !upcoming.length && <Text c="dimmed">Nothing planned.</Text>}
      {upcoming.map((a) => (
        <Card withBorder key={a.id} data-testid="appointment">
          <Text fw={600}>{a.description ?? a.reasonCode?.[0]?.text ?? a.serviceType?.[0]?.text ?? 'Appointment'}</Text>
          <Text size="sm">{when(a)}</Text>
          <Text size="sm" data-testid="appointment-status">
            Status: {appointmentStatusText(a.status, mine(a)?.status)}
          </Text>
          <Text size="xs" c="dimmed">
            {a.participant.filter((p) => p.actor?.reference !== patientRef && p.actor?.display).map((p) => p.actor?.display).join(', ')}
          </Text>
          <Group mt="xs">
            {a.status === 'proposed' && mine(a)?.status === 'needs-action' && (
              <Button size="xs" onClick={() => change.mutate({ a, status: 'pending', participant: 'accepted' })}>
                Accept this time
              </Button>
            )}
            <Button size="xs" variant="outline" color="red" onClick={() => window.confirm('Cancel this appointment?') && change.mutate({ a, status: 'cancelled' })}>
              Cancel
            </Button>
          </Group>
        </Card>
      ))}
      <BookSlot onBooked={refresh} />
      <RequestForm onDone={refresh} />
      <Title order={2} size="h3">
        Past and cancelled
      </Title>
      {past.map((a) => (
        <Card withBorder key={a.id} padding="xs">
          <Text size="sm">
            {when(a)} — {a.description ?? a.reasonCode?.[0]?.text ?? 'Appointment'} — {appointmentStatusText(a.status)}
          </Text>
        </Card>
      ))}
    </Stack>
  );
}

function RequestForm({ onDone }: { onDone: () => void }) {
  const { client, patientRef } = usePortal();
  const [reason, setReason] = useState('');
  const [facility, setFacility] = useState<string | null>(null);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const orgs = useQuery({
    queryKey: ['organizations'],
    queryFn: () => client.searchAll<Organization>('Organization', { _count: 100 }, 2),
  });
  const create = useMutation({
    mutationFn: () =>
      client.create<Appointment>({
        resourceType: 'Appointment',
        status: 'proposed',
        description: reason,
        reasonCode: [{ text: reason }],
        participant: [{ actor: { reference: patientRef }, status: 'accepted' }],
        ...(facility ? { comment: `Preferred facility: ${orgs.data?.find((o) => o.id === facility)?.name ?? facility}` } : {}),
        ...(from ? { requestedPeriod: [{ start: `${from}T08:00:00Z`, end: `${to || from}T18:00:00Z` }] } : {}),
      }),
    onSuccess: () => {
      setReason('');
      onDone();
    },
  });
  return (
    <Card withBorder component="form" onSubmit={(e) => (e.preventDefault(), create.mutate())} aria-labelledby="request-title">
      <Title order={2} size="h3" id="request-title">
        Request an appointment
      </Title>
      <Stack gap="xs">
        <Textarea label="Reason for the visit" required value={reason} onChange={(e) => setReason(e.currentTarget.value)} />
        <Select label="Preferred facility" placeholder="Any" clearable data={(orgs.data ?? []).map((o) => ({ value: o.id!, label: o.name ?? o.id! }))} value={facility} onChange={setFacility} />
        <Group grow>
          <TextInput type="date" label="Earliest day" value={from} onChange={(e) => setFrom(e.currentTarget.value)} />
          <TextInput type="date" label="Latest day" value={to} onChange={(e) => setTo(e.currentTarget.value)} />
        </Group>
        <ErrorNote error={create.error} title="The request was not sent" />
        {create.isSuccess && <Text c="green">Your request was sent. The clinic will confirm a time.</Text>}
        <Button type="submit" loading={create.isPending} disabled={!reason.trim()}>
          Send request
        </Button>
      </Stack>
    </Card>
  );
}

function BookSlot({ onBooked }: { onBooked: () => void }) {
  const { client, patientRef } = usePortal();
  const qc = useQueryClient();
  const nowIso = new Date().toISOString().slice(0, 16);
  const slots = useQuery({
    queryKey: ['free-slots'],
    queryFn: async () => {
      const page = await client.searchPage<Slot>('Slot', { status: 'free', start: `ge${nowIso}`, _sort: 'start', _count: 30, _include: 'Slot:schedule' });
      const schedules = new Map(page.included.filter((r): r is Schedule => r.resourceType === 'Schedule').map((s) => [s.id!, s]));
      return page.resources.map((s) => ({ slot: s, schedule: schedules.get(s.schedule.reference?.split('/')[1] ?? '') }));
    },
  });
  const book = useMutation({
    mutationFn: async (slot: Slot) =>
      client.operation<Appointment>('Appointment/$book', {
        resourceType: 'Parameters',
        parameter: [{ name: 'appt-resource', resource: { resourceType: 'Appointment', status: 'proposed', slot: [{ reference: `Slot/${slot.id}` }], participant: [{ actor: { reference: patientRef }, status: 'accepted' }] } }],
      }),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: ['free-slots'] });
      onBooked();
    },
  });
  return (
    <Card withBorder aria-labelledby="book-title">
      <Title order={2} size="h3" id="book-title">
        Book a free time
      </Title>
      <ErrorNote error={slots.error ?? book.error} title="Booking" />
      {book.isSuccess && <Text c="green">Booked. It is listed under “Upcoming”.</Text>}
      {slots.isLoading && <Loader size="sm" aria-label="Loading free times" />}
      {!slots.isLoading && !slots.data?.length && <Text c="dimmed">No free times are published right now. Send a request instead.</Text>}
      <Stack gap={4} mt={4}>
        {(slots.data ?? []).slice(0, 12).map(({ slot, schedule }) => (
          <Group key={slot.id} justify="space-between" wrap="nowrap">
            <Text size="sm">
              {new Date(slot.start).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })} — {schedule?.actor?.map((a) => a.display).filter(Boolean).join(', ') || 'clinic'}
            </Text>
            <Button size="xs" onClick={() => book.mutate(slot)} loading={book.isPending && book.variables?.id === slot.id} aria-label={`Book ${new Date(slot.start).toLocaleString()}`}>
              Book
            </Button>
          </Group>
        ))}
      </Stack>
    </Card>
  );
}

