// Secure messages with the care team: threads (newest first), replies, attachments, and the
// "new reply" marker (replies newer than the last time this record's messages were opened).
import { useEffect, useState } from 'react';
import { Anchor, Badge, Button, Card, FileInput, Group, Loader, Select, Stack, Text, Textarea, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { CareTeam, Communication as FhirCommunication, Encounter, Patient, Practitioner } from '@medplum/fhirtypes';
import { usePortal } from '../PortalContext';
import { useRecordSearch } from '../hooks';
import { ErrorNote } from '../components/ErrorNote';
import { Attachment, Communication, fileToAttachment, fromPatient, newMessage, threadsOf } from '../lib/messages';

export const seenKey = (patientId: string) => `carechart.portal.messages-seen.${patientId}`;

export function useMessages() {
  const { client, patientId } = usePortal();
  return useQuery({
    queryKey: ['messages', patientId],
    enabled: !!patientId,
    refetchInterval: 30_000, // new replies show up without reloading
    queryFn: async () =>
      (await client.searchAll<FhirCommunication>('Communication', { subject: `Patient/${patientId}`, _count: 200 }, 5)) as unknown as Communication[],
  });
}

/** The care team members a patient may write to: their GP, care teams and recent clinicians. */
function useRecipients() {
  const { client, patientId } = usePortal();
  const encounters = useRecordSearch<Encounter>('Encounter', { _sort: '-date', _count: 20 });
  const teams = useRecordSearch<CareTeam>('CareTeam');
  return useQuery({
    queryKey: ['recipients', patientId, encounters.data?.length, teams.data?.length],
    enabled: !!patientId && !encounters.isLoading && !teams.isLoading,
    queryFn: async () => {
      const refs = new Map<string, string>();
      const add = (ref?: string, display?: string) => {
        if (ref?.startsWith('Practitioner/') && !refs.has(ref)) refs.set(ref, display ?? '');
      };
      try {
        const p = await client.read<Patient>('Patient', patientId);
        p.generalPractitioner?.forEach((g) => add(g.reference, g.display));
      } catch {
        // the list below still helps
      }
      teams.data?.forEach((t) => t.participant?.forEach((x) => add(x.member?.reference, x.member?.display)));
      encounters.data?.forEach((e) => e.participant?.forEach((x) => add(x.individual?.reference, x.individual?.display)));
      const out: { value: string; label: string }[] = [];
      for (const [ref, display] of refs) {
        let label = display;
        if (!label) {
          try {
            const pr = await client.readReference<Practitioner>(ref);
            const n = pr.name?.[0];
            label = n?.text ?? [n?.prefix?.join(' '), ...(n?.given ?? []), n?.family].filter(Boolean).join(' ');
          } catch {
            label = ref;
          }
        }
        out.push({ value: ref, label: label || ref });
      }
      return out;
    },
  });
}

function AttachmentLink({ a }: { a: Attachment }) {
  if (a.url) return <Anchor href={a.url}>{a.title ?? 'attachment'}</Anchor>;
  if (!a.data) return <span>{a.title ?? 'attachment'}</span>;
  return (
    <Anchor href={`data:${a.contentType ?? 'application/octet-stream'};base64,${a.data}`} download={a.title ?? 'attachment'}>
      📎 {a.title ?? 'attachment'}
    </Anchor>
  );
}

export function Messages() {
  const { client, patientId, patientRef } = usePortal();
  const qc = useQueryClient();
  const messages = useMessages();
  const recipients = useRecipients();
  const [seenAt] = useState(() => localStorage.getItem(seenKey(patientId)) ?? '');
  const [openThread, setOpenThread] = useState<string | null>(null);
  const [text, setText] = useState('');
  const [topic, setTopic] = useState('');
  const [to, setTo] = useState<string | null>(null);
  const [file, setFile] = useState<File | null>(null);
  useEffect(() => {
    localStorage.setItem(seenKey(patientId), new Date().toISOString());
  }, [patientId, messages.data?.length]);
  const threads = threadsOf(messages.data ?? []);
  const current = threads.find((t) => t.id === openThread);
  const send = useMutation({
    mutationFn: async () => {
      const attachment = file ? await fileToAttachment(file) : undefined;
      const replyTo = current?.messages[current.messages.length - 1];
      const label = recipients.data?.find((r) => r.value === to)?.label;
      const msg = newMessage({ patientRef, text, topic: topic || undefined, replyTo, recipient: to ? { reference: to, display: label } : undefined, attachment });
      return client.create(msg as unknown as Parameters<typeof client.create>[0]);
    },
    onSuccess: () => {
      setText('');
      setTopic('');
      setFile(null);
      qc.invalidateQueries({ queryKey: ['messages', patientId] });
    },
  });
  return (
    <Stack>
      <Title order={1}>Messages</Title>
      <Text>Write to your care team. For an emergency, call your local emergency number instead.</Text>
      <ErrorNote error={messages.error} title="Your messages could not be loaded" />
      {messages.isLoading && <Loader aria-label="Loading messages" />}
      {!current && (
        <Stack gap="xs">
          {!messages.isLoading && !threads.length && <Text c="dimmed">No messages yet.</Text>}
          {threads.map((t) => {
            const fresh = t.messages.some((m) => !fromPatient(m, patientRef) && (m.sent ?? '') > seenAt);
            return (
              <Card withBorder key={t.id} padding="sm" data-testid="thread">
                <Group justify="space-between">
                  <Anchor component="button" type="button" onClick={() => setOpenThread(t.id)} fw={600}>
                    {t.topic}
                  </Anchor>
                  {fresh && <Badge color="blue">New reply</Badge>}
                </Group>
                <Text size="sm" c="dimmed">
                  {t.messages.length} message{t.messages.length > 1 ? 's' : ''} · last {new Date(t.last).toLocaleString()}
                </Text>
              </Card>
            );
          })}
        </Stack>
      )}
      {current && (
        <Stack gap="xs">
          <Button variant="subtle" onClick={() => setOpenThread(null)} style={{ alignSelf: 'flex-start' }}>
            ← All conversations
          </Button>
          <Title order={2} size="h3">
            {current.topic}
          </Title>
          {current.messages.map((m) => {
            const mine = fromPatient(m, patientRef);
            return (
              <Card key={m.id} withBorder padding="sm" style={{ marginLeft: mine ? '15%' : 0, marginRight: mine ? 0 : '15%', background: mine ? '#e7f5ff' : undefined }} data-testid="message">
                <Text size="xs" c="dimmed">
                  {mine ? 'You' : m.sender?.display ?? recipients.data?.find((r) => r.value === m.sender?.reference)?.label ?? 'Your care team'} · {m.sent ? new Date(m.sent).toLocaleString() : ''}
                </Text>
                {m.payload?.map((p, i) => (p.contentString ? <Text key={i} style={{ whiteSpace: 'pre-wrap' }}>{p.contentString}</Text> : p.contentAttachment ? <AttachmentLink key={i} a={p.contentAttachment} /> : null))}
              </Card>
            );
          })}
        </Stack>
      )}
      <Card withBorder component="form" onSubmit={(e) => (e.preventDefault(), send.mutate())} aria-labelledby="compose-title">
        <Title order={2} size="h4" id="compose-title">
          {current ? 'Reply' : 'New message'}
        </Title>
        <Stack gap="xs">
          {!current && (
            <>
              <Select label="To" placeholder="Your care team" data={recipients.data ?? []} value={to} onChange={setTo} clearable />
              <TextInput label="Subject" value={topic} onChange={(e) => setTopic(e.currentTarget.value)} required />
            </>
          )}
          <Textarea label="Message" autosize minRows={3} value={text} onChange={(e) => setText(e.currentTarget.value)} required />
          <FileInput label="Attach a file (optional, up to 2 MB)" value={file} onChange={setFile} clearable />
          <ErrorNote error={send.error} title="The message was not sent" />
          <Button type="submit" loading={send.isPending} disabled={!text.trim() || (!current && !topic.trim())}>
            Send
          </Button>
        </Stack>
      </Card>
    </Stack>
  );
}
