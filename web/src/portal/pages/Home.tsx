// Home: what needs attention — new results, new replies, upcoming visits.
import { Anchor, Card, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { Link } from 'react-router-dom';
import type { Appointment, Observation } from '@medplum/fhirtypes';
import { usePortal } from '../PortalContext';
import { useRecordSearch } from '../hooks';
import { ErrorNote } from '../components/ErrorNote';
import { appointmentStatusText, levelOf, levelText, plainName, quantityText } from '../lib/plain';
import { newReplies } from '../lib/messages';
import { dateOf } from '../lib/results';
import { seenKey, useMessages } from './Messages';
import { formatDay } from './Results';

export function Home() {
  const { patientId, patientRef, records } = usePortal();
  const since = new Date(Date.now() - 90 * 86400_000).toISOString().slice(0, 10);
  const results = useRecordSearch<Observation>('Observation', { category: 'laboratory', date: `ge${since}`, _sort: '-date', _count: 10 });
  const appts = useRecordSearch<Appointment>('Appointment', { date: `ge${new Date().toISOString().slice(0, 10)}`, _sort: 'date' });
  const messages = useMessages();
  const replies = newReplies(messages.data ?? [], patientRef, localStorage.getItem(seenKey(patientId)) ?? '');
  const name = records.find((r) => r.id === patientId)?.name;
  const upcoming = (appts.data ?? []).filter((a) => a.status !== 'cancelled');
  return (
    <Stack>
      <Title order={1}>Hello{name ? `, ${name.split(' ')[0]}` : ''}</Title>
      <ErrorNote error={results.error ?? appts.error ?? messages.error} />
      <SimpleGrid cols={{ base: 1, sm: 3 }}>
        <Card withBorder>
          <Title order={2} size="h4">
            New results
          </Title>
          {!(results.data ?? []).length && <Text c="dimmed">No results in the last 3 months.</Text>}
          {(results.data ?? []).slice(0, 4).map((o) => (
            <Text key={o.id} size="sm">
              {plainName(o.code)}: <strong>{quantityText(o.valueQuantity)}</strong> ({formatDay(dateOf(o))}) — {levelText(levelOf(o.valueQuantity?.value, o.referenceRange?.[0], o.interpretation))}
            </Text>
          ))}
          <Anchor component={Link} to="/results" size="sm">
            All results and trends
          </Anchor>
        </Card>
        <Card withBorder>
          <Title order={2} size="h4">
            Messages
          </Title>
          <Text size="sm" data-testid="new-replies">
            {replies.length ? `${replies.length} new repl${replies.length > 1 ? 'ies' : 'y'} from your care team` : 'No new replies.'}
          </Text>
          <Anchor component={Link} to="/messages" size="sm">
            Open messages
          </Anchor>
        </Card>
        <Card withBorder>
          <Title order={2} size="h4">
            Upcoming visits
          </Title>
          {!upcoming.length && <Text c="dimmed">Nothing planned.</Text>}
          {upcoming.slice(0, 3).map((a) => (
            <Text key={a.id} size="sm">
              {a.start ? new Date(a.start).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : 'Requested'} — {appointmentStatusText(a.status)}
            </Text>
          ))}
          <Anchor component={Link} to="/appointments" size="sm">
            Appointments
          </Anchor>
        </Card>
      </SimpleGrid>
    </Stack>
  );
}
