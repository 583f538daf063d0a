// The portal shell: sign-in, header with the record switch (proxies), navigation, pages.
import { useEffect, useState } from 'react';
import { AppShell, Badge, Burger, Button, Group, Loader, NavLink, Select, Text } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { Link, Navigate, Route, Routes, useLocation, useNavigate } from 'react-router-dom';
import { completeSignIn, getSession, onSessionChange, Session, signOut } from '../shared/smart';
import { PORTAL } from './config';
import { PortalProvider, usePortal } from './PortalContext';
import { newReplies } from './lib/messages';
import { Appointments } from './pages/Appointments';
import { Health } from './pages/Health';
import { Home } from './pages/Home';
import { Messages, seenKey, useMessages } from './pages/Messages';
import { Privacy } from './pages/Privacy';
import { Record } from './pages/Record';
import { Results } from './pages/Results';
import { SignIn } from './pages/SignIn';

export function App() {
  const [session, setSession] = useState<Session | null>(() => getSession(PORTAL.clientId));
  const [error, setError] = useState<string>();
  const [finishing, setFinishing] = useState(() => new URLSearchParams(window.location.search).has('code') || new URLSearchParams(window.location.search).has('error'));
  const navigate = useNavigate();
  useEffect(() => onSessionChange(setSession), []);
  useEffect(() => {
    if (!finishing) return;
    completeSignIn(PORTAL)
      .then((r) => {
        if (r) navigate(r.returnTo.replace(/^\/portal/, '') || '/', { replace: true });
      })
      .catch((e: Error) => setError(e.message))
      .finally(() => setFinishing(false));
  }, []); // eslint-disable-line react-hooks/exhaustive-deps
  if (finishing) return <Loader m="xl" aria-label="Signing in" />;
  if (!session) return <SignIn error={error} />;
  return (
    <PortalProvider session={session}>
      <Shell />
    </PortalProvider>
  );
}

const NAV = [
  ['/', 'Home'],
  ['/health', 'My health'],
  ['/results', 'Test results'],
  ['/appointments', 'Appointments'],
  ['/messages', 'Messages'],
  ['/record', 'My record'],
  ['/privacy', 'Sharing & privacy'],
] as const;

function Shell() {
  const [opened, { toggle, close }] = useDisclosure();
  const { records, patientId, setPatientId, me, patientRef } = usePortal();
  const location = useLocation();
  const messages = useMessages();
  const unread = newReplies(messages.data ?? [], patientRef, localStorage.getItem(seenKey(patientId)) ?? '').length;
  useEffect(close, [location.pathname]); // eslint-disable-line react-hooks/exhaustive-deps
  return (
    <AppShell header={{ height: 60 }} navbar={{ width: 220, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Menu" />
            <Text fw={700}>Carechart</Text>
          </Group>
          <Group wrap="nowrap" gap="xs">
            {records.length > 1 ? (
              <Select
                aria-label="Whose record"
                size="xs"
                w={190}
                data={records.map((r) => ({ value: r.id, label: r.relationship === 'self' ? `${r.name} (you)` : r.name }))}
                value={patientId}
                onChange={(v) => v && setPatientId(v)}
                allowDeselect={false}
                data-testid="record-switch"
              />
            ) : (
              <Text size="sm" visibleFrom="xs">
                {me?.display}
              </Text>
            )}
            <Button size="xs" variant="subtle" onClick={() => signOut(PORTAL)}>
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" component="nav" aria-label="Portal sections">
        {NAV.map(([to, label]) => (
          <NavLink
            key={to}
            component={Link}
            to={to}
            label={label}
            active={to === '/' ? location.pathname === '/' : location.pathname.startsWith(to)}
            rightSection={to === '/messages' && unread > 0 ? <Badge size="sm" color="blue" aria-label={`${unread} new`}>{unread}</Badge> : undefined}
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>
        <main key={patientId}>
          <Routes>
            <Route path="/" element={<Home />} />
            <Route path="/health" element={<Health />} />
            <Route path="/results" element={<Results />} />
            <Route path="/appointments" element={<Appointments />} />
            <Route path="/messages" element={<Messages />} />
            <Route path="/record" element={<Record />} />
            <Route path="/privacy" element={<Privacy />} />
            <Route path="*" element={<Navigate to="/" replace />} />
          </Routes>
        </main>
      </AppShell.Main>
    </AppShell>
  );
}
