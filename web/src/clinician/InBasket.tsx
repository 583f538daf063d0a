// The in-basket: patient messages from the portal (reply), results to review, referrals.
import { useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { Anchor, Badge, Button, Card, Grid, Group, Skeleton, Stack, Tabs, Text, Textarea, Title } from '@mantine/core';
import { useQueryClient } from '@tanstack/react-query';
import type { Communication, Task } from '@medplum/fhirtypes';
import { useFhir } from '../shared/context';
import { ErrorBanner } from '../shared/ErrorBanner';
import { FacilityBadge } from '../shared/FacilityBadge';
import { formatDateTime, formatReference } from '../shared/format';
import { awaitingReply, isReferral, isResultReview, replyTasks, replyTo, useInboxData } from './inbox';

function messageText(c: Communication): string {
  return (c.payload ?? []).map((p) => p.contentString ?? (p.contentAttachment ? `[attachment: ${p.contentAttachment.title ?? p.contentAttachment.contentType}]` : '')).join('\n');
}

function patientLink(ref: string | undefined, display?: string) {
  if (!ref?.startsWith('Patient/')) return <Text span>{display ?? ref ?? '—'}</Text>;
  return (
    <Anchor component={Link} to={`/${ref.replace('Patient/', 'patients/')}`}>
      {display ?? ref}
    </Anchor>
  );
}

function Messages({ all, tasks }: { all: Communication[]; tasks: Task[] }) {
  const waiting = awaitingReply(all);
  const [selected, setSelected] = useState<string | null>(waiting[0]?.id ?? null);
  const [text, setText] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [sent, setSent] = useState<string | null>(null);
  const { client, session } = useFhir();
  const qc = useQueryClient();
  const msg = all.find((c) => c.id === selected);
  const thread = msg ? all.filter((c) => c.id === msg.id || c.inResponseTo?.some((r) => r.reference?.endsWith(`Communication/${msg.id}`))) : [];
  const send = async () => {
    if (!msg || !text.trim()) return;
    setBusy(true);
    setError(null);
    try {
      await client.create(replyTo(msg, text.trim(), session.fhirUser));
      // The reply answers the "reply to this message" task too.
      for (const t of replyTasks(tasks, msg.id!)) {
        await client.update<Task>({ ...t, status: 'completed', lastModified: new Date().toISOString() });
      }
      setText('');
      setSent(msg.id!);
      await qc.invalidateQueries({ queryKey: ['inbox'] });
      await qc.invalidateQueries({ queryKey: ['Communication'] });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Grid>
      <Grid.Col span={{ base: 12, md: 5 }}>
        <Stack gap={6} role="list" aria-label="Messages awaiting reply" data-testid="message-list">
          {waiting.length === 0 && <Text c="dimmed">No messages awaiting a reply.</Text>}
          {waiting.map((c) => (
            <Card
              key={c.id}
              withBorder
              p="xs"
              role="listitem"
              style={{ cursor: 'pointer', borderColor: c.id === selected ? 'var(--mantine-color-blue-6)' : undefined }}
              onClick={() => setSelected(c.id!)}
              data-testid="message-item"
            >
              <Group justify="space-between" wrap="nowrap">
                <Text size="sm" fw={700}>
                  {formatReference(c.sender)}
                </Text>
                <Text size="xs" c="dimmed">
                  {formatDateTime(c.sent)}
                </Text>
              </Group>
              <Text size="sm" lineClamp={2}>
                {c.topic?.text ? <b>{c.topic.text}: </b> : null}
                {messageText(c)}
              </Text>
              <Button variant="subtle" size="compact-xs" onClick={() => setSelected(c.id!)} aria-label={`Open message from ${formatReference(c.sender)}`}>
                Open
              </Button>
            </Card>
          ))}
        </Stack>
      </Grid.Col>
      <Grid.Col span={{ base: 12, md: 7 }}>
        {sent && sent !== msg?.id && <Text c="green">Reply sent.</Text>}
        {msg && (
          <Card withBorder data-testid="message-thread">
            <Group justify="space-between" mb="xs">
              <Title order={2} size="h5">
                {msg.topic?.text ?? 'Message'} — {patientLink(msg.subject?.reference, msg.subject?.display)}
              </Title>
              <FacilityBadge resource={msg} />
            </Group>
            <Stack gap="xs">
              {thread.map((c) => (
                <Card key={c.id} p="xs" bg={c.sender?.reference?.startsWith('Patient/') ? 'gray.0' : 'blue.0'}>
                  <Text size="xs" c="dimmed">
                    {formatReference(c.sender)} · {formatDateTime(c.sent)}
                  </Text>
                  <Text size="sm" style={{ whiteSpace: 'pre-wrap' }}>
                    {messageText(c)}
                  </Text>
                </Card>
              ))}
            </Stack>
            <Textarea mt="sm" label="Reply" value={text} onChange={(e) => setText(e.currentTarget.value)} minRows={3} autosize data-testid="reply-text" />
            <ErrorBanner error={error} title="The reply was not sent" />
            <Group justify="flex-end" mt="xs">
              <Button onClick={send} loading={busy} disabled={!text.trim()} data-testid="send-reply">
                Send reply
              </Button>
            </Group>
            {sent === msg.id && (
              <Text c="green" size="sm" role="status">
                Reply sent.
              </Text>
            )}
          </Card>
        )}
      </Grid.Col>
    </Grid>
  );
}

// The next step of a referral the user's facility received: requested → accepted → completed.
const NEXT_REFERRAL_STEP: Partial<Record<Task['status'], { status: Task['status']; label: string }>> = {
  requested: { status: 'accepted', label: 'Accept referral' },
  received: { status: 'accepted', label: 'Accept referral' },
  accepted: { status: 'completed', label: 'Mark seen (complete)' },
  'in-progress': { status: 'completed', label: 'Mark seen (complete)' },
};

function TaskList({ tasks, kind }: { tasks: Task[]; kind: 'results' | 'referrals' }) {
  const { client, session } = useFhir();
  const qc = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const complete = async (t: Task, status: Task['status'] = 'completed') => {
    setBusy(t.id!);
    setError(null);
    try {
      await client.update<Task>({ ...t, status, lastModified: new Date().toISOString() });
      await qc.invalidateQueries({ queryKey: ['inbox'] });
      await qc.invalidateQueries({ queryKey: ['Task'] });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };
  return (
    <Stack gap={6} data-testid={`${kind}-list`}>
      <ErrorBanner error={error} title="The task could not be updated" />
      {tasks.length === 0 && <Text c="dimmed">Nothing waiting.</Text>}
      {tasks.map((t) => (
        <Card key={t.id} withBorder p="xs">
          <Group justify="space-between" wrap="nowrap">
            <div>
              <Text size="sm" fw={600}>
                {t.description ?? t.focus?.display ?? t.focus?.reference}
              </Text>
              <Text size="xs" c="dimmed">
                {patientLink(t.for?.reference, t.for?.display)} · {formatDateTime(t.authoredOn)} · {t.status}
                {t.owner ? ` · ${formatReference(t.owner)}` : ''}
              </Text>
            </div>
            <Group gap={4} wrap="nowrap">
              <FacilityBadge resource={t} />
              {kind === 'results' ? (
                <Button size="compact-xs" onClick={() => complete(t)} loading={busy === t.id} data-testid="mark-reviewed">
                  Mark reviewed
                </Button>
              ) : (
                <>
                  <Badge>{t.status}</Badge>
                  {t.owner?.reference === `Organization/${session.facility?.id}` && NEXT_REFERRAL_STEP[t.status] && (
                    <Button size="compact-xs" variant="light" onClick={() => complete(t, NEXT_REFERRAL_STEP[t.status]!.status)} loading={busy === t.id} data-testid="referral-next">
                      {NEXT_REFERRAL_STEP[t.status]!.label}
                    </Button>
                  )}
                </>
              )}
            </Group>
          </Group>
        </Card>
      ))}
    </Stack>
  );
}

export default function InBasket() {
  const q = useInboxData();
  const [params, setParams] = useSearchParams();
  const tab = params.get('tab') ?? 'messages';
  return (
    <Stack>
      <Title order={1} size="h3">
        In basket
      </Title>
      <ErrorBanner error={q.error} title="The in basket could not be loaded" onRetry={() => q.refetch()} />
      {q.isLoading ? (
        <Skeleton h={200} />
      ) : (
        <Tabs value={tab} onChange={(t) => setParams({ tab: t ?? 'messages' }, { replace: true })}>
          <Tabs.List mb="sm">
            <Tabs.Tab value="messages" rightSection={<Badge size="xs">{q.data?.messages ?? 0}</Badge>}>
              Patient messages
            </Tabs.Tab>
            <Tabs.Tab value="results" rightSection={<Badge size="xs">{q.data?.results ?? 0}</Badge>}>
              Results to review
            </Tabs.Tab>
            <Tabs.Tab value="referrals" rightSection={<Badge size="xs">{q.data?.referrals ?? 0}</Badge>}>
              Referrals
            </Tabs.Tab>
          </Tabs.List>
          <Tabs.Panel value="messages">
            <Messages all={q.data?.communications ?? []} tasks={q.data?.tasks ?? []} />
          </Tabs.Panel>
          <Tabs.Panel value="results">
            <TaskList kind="results" tasks={(q.data?.tasks ?? []).filter(isResultReview)} />
          </Tabs.Panel>
          <Tabs.Panel value="referrals">
            <TaskList kind="referrals" tasks={(q.data?.tasks ?? []).filter(isReferral)} />
          </Tabs.Panel>
        </Tabs>
      )}
    </Stack>
  );
}
