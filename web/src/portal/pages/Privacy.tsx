// Sharing and privacy: who looked at my record (from the audit trail, with emergency access and
// its reason), my sharing choices (Consent) in plain words, and connected apps with disconnect.
import { useState } from 'react';
import { Badge, Button, Card, Checkbox, Loader, Stack, Switch, Table, Text, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { AuditEvent as FhirAuditEvent, Consent as FhirConsent } from '@medplum/fhirtypes';
import { usePortal } from '../PortalContext';
import { ErrorNote } from '../components/ErrorNote';
import { fetchApps, revokeApp } from '../api';
import { AuditEvent, accessRow, Consent, CONSENT_CATEGORIES, denyConsent, describeConsent, isSomeoneElse } from '../lib/privacy';

export function Privacy() {
  return (
    <Stack>
      <Title order={1}>Sharing and privacy</Title>
      <AccessLog />
      <Consents />
      <Apps />
    </Stack>
  );
}

function AccessLog() {
  const { client, patientRef, me } = usePortal();
  const events = useQuery({
    queryKey: ['audit', patientRef],
    queryFn: async () => (await client.searchPage<FhirAuditEvent>('AuditEvent', { patient: patientRef, _sort: '-date', _count: 200 })).resources as unknown as AuditEvent[],
  });
  const rows = (events.data ?? []).filter((e) => isSomeoneElse(e, undefined, me?.fhirUser)).map(accessRow).filter((r) => r.who !== me?.display);
  return (
    <Card withBorder aria-labelledby="log-title">
      <Title order={2} size="h3" id="log-title">
        Who looked at my record
      </Title>
      <Text size="sm">Every time someone opens or changes your record, Carechart writes it down. Emergency access is marked with the reason given.</Text>
      <ErrorNote error={events.error} title="The access log could not be loaded" />
      {events.isLoading && <Loader size="sm" aria-label="Loading the access log" />}
      {!events.isLoading && !rows.length && <Text c="dimmed">No one else has opened your record yet.</Text>}
      {rows.length > 0 && (
        <Table.ScrollContainer minWidth={480}>
          <Table striped data-testid="access-log">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>When</Table.Th>
                <Table.Th>Who</Table.Th>
                <Table.Th>What</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.slice(0, 100).map((r) => (
                <Table.Tr key={r.id}>
                  <Table.Td>{r.when ? new Date(r.when).toLocaleString() : ''}</Table.Td>
                  <Table.Td>
                    {r.who}
                    {r.role ? ` (${r.role})` : ''}
                  </Table.Td>
                  <Table.Td>
                    {r.what}
                    {r.denied && ' — refused'}
                    {r.emergency && (
                      <>
                        {' '}
                        <Badge color="red">Emergency access</Badge> {r.reason}
                      </>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Card>
  );
}

function Consents() {
  const { client, patientRef } = usePortal();
  const qc = useQueryClient();
  const consents = useQuery({
    queryKey: ['consents', patientRef],
    queryFn: async () => (await client.searchAll<FhirConsent>('Consent', { patient: patientRef, status: 'active' })) as unknown as Consent[],
  });
  const [chosen, setChosen] = useState<string[]>([]);
  const [whole, setWhole] = useState(false);
  const [strict, setStrict] = useState(false);
  const refresh = () => qc.invalidateQueries({ queryKey: ['consents', patientRef] });
  const add = useMutation({
    mutationFn: () => client.create(denyConsent(patientRef, whole ? [] : chosen, strict) as unknown as Parameters<typeof client.create>[0]),
    onSuccess: () => {
      setChosen([]);
      setWhole(false);
      refresh();
    },
  });
  const revoke = useMutation({
    mutationFn: (c: Consent) => client.update({ ...(c as unknown as Parameters<typeof client.update>[0]), status: 'inactive' } as Parameters<typeof client.update>[0]),
    onSuccess: refresh,
  });
  return (
    <Card withBorder aria-labelledby="consent-title">
      <Title order={2} size="h3" id="consent-title">
        Who may see what
      </Title>
      <Text size="sm">
        Normally every facility that cares for you sees your whole record. You can keep sensitive parts at the facility that recorded them. You always see your whole record yourself.
      </Text>
      <ErrorNote error={consents.error ?? add.error ?? revoke.error} title="Sharing choices" />
      {(consents.data ?? []).map((c) => (
        <Card key={c.id} withBorder padding="xs" mt="xs" data-testid="consent">
          <Text size="sm">{describeConsent(c)}</Text>
          <Button size="xs" variant="subtle" color="red" onClick={() => revoke.mutate(c)}>
            Stop this restriction
          </Button>
        </Card>
      ))}
      <Stack gap={4} mt="sm" component="fieldset" style={{ border: 'none', padding: 0 }}>
        <legend>
          <Text fw={600}>Keep these at the facility that recorded them:</Text>
        </legend>
        {CONSENT_CATEGORIES.map((c) => (
          <Checkbox
            key={c.code}
            label={`${c.label} — ${c.explain}`}
            checked={chosen.includes(c.code)}
            disabled={whole}
            onChange={(e) => setChosen(e.currentTarget.checked ? [...chosen, c.code] : chosen.filter((x) => x !== c.code))}
          />
        ))}
        <Checkbox label="My whole record" checked={whole} onChange={(e) => setWhole(e.currentTarget.checked)} />
        <Switch label="Also in an emergency (clinicians who open emergency access will not see it either)" checked={strict} onChange={(e) => setStrict(e.currentTarget.checked)} />
        <Button mt="xs" onClick={() => add.mutate()} disabled={!whole && !chosen.length} loading={add.isPending} style={{ alignSelf: 'flex-start' }}>
          Save this choice
        </Button>
      </Stack>
    </Card>
  );
}

function Apps() {
  const qc = useQueryClient();
  const apps = useQuery({ queryKey: ['apps'], queryFn: fetchApps });
  const revoke = useMutation({ mutationFn: revokeApp, onSuccess: () => qc.invalidateQueries({ queryKey: ['apps'] }) });
  return (
    <Card withBorder aria-labelledby="apps-title">
      <Title order={2} size="h3" id="apps-title">
        Connected apps
      </Title>
      <Text size="sm">Apps you allowed to read your record. Disconnecting one stops it from getting new access.</Text>
      <ErrorNote error={apps.error ?? revoke.error} title="Connected apps" />
      {apps.isLoading && <Loader size="sm" aria-label="Loading connected apps" />}
      {!apps.isLoading && !apps.data?.length && <Text c="dimmed">No apps are connected.</Text>}
      {(apps.data ?? []).map((a) => (
        <Card key={a.id} withBorder padding="xs" mt="xs" data-testid="connected-app">
          <Text fw={600}>{a.name}</Text>
          <Text size="xs" c="dimmed">
            May: {a.scope.split(' ').filter((s) => s.includes('/')).join(', ') || a.scope} · until {new Date(a.expiresAt).toLocaleDateString()}
          </Text>
          <Button size="xs" variant="outline" color="red" mt={4} onClick={() => revoke.mutate(a.id)}>
            Disconnect
          </Button>
        </Card>
      ))}
    </Card>
  );
}
