import { lazy, Suspense, useMemo } from 'react';
import { BrowserRouter, Link, Route, Routes } from 'react-router-dom';
import { AppShell, Badge, Button, Center, Group, Loader, MantineProvider, Menu, Text, UnstyledButton } from '@mantine/core';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { FhirProvider, useFhir } from '../shared/context';
import { signOut, startSignIn, type Session } from '../shared/smart';
import { SIGNED_OUT_KEY, clinicianConfig } from './config';
import { theme } from './theme';
import { PatientSearch } from './PatientSearch';
import { Home } from './Home';
import { useInboxCounts } from './inbox';

// The chart and the in-basket load on demand, so the first paint needs only the home page.
const Chart = lazy(() => import('./chart/Chart'));
const InBasket = lazy(() => import('./InBasket'));

export function App({ session }: { session: Session }) {
  const queryClient = useMemo(
    () =>
      new QueryClient({
        defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false, staleTime: 15_000 } },
      }),
    [],
  );
  return (
    <MantineProvider theme={theme}>
      <QueryClientProvider client={queryClient}>
        <FhirProvider config={clinicianConfig} session={session}>
          <BrowserRouter>
            <Shell />
          </BrowserRouter>
        </FhirProvider>
      </QueryClientProvider>
    </MantineProvider>
  );
}

function Shell() {
  const { session } = useFhir();
  const counts = useInboxCounts();
  const total = (counts.data?.messages ?? 0) + (counts.data?.results ?? 0);
  return (
    <AppShell header={{ height: 60 }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" gap="md" wrap="nowrap">
          <a href="#main" className="skip-link">
            Skip to content
          </a>
          <UnstyledButton component={Link} to="/" aria-label="Carechart home">
            <Text fw={800} size="lg" c="blue.8">
              Carechart
            </Text>
          </UnstyledButton>
          <PatientSearch />
          <Group gap="xs" ml="auto" wrap="nowrap">
            <Button component={Link} to="/inbox" variant="subtle" size="sm" data-testid="inbox-link" aria-label={`In basket, ${total} waiting`}>
              In basket
              {total > 0 && (
                <Badge ml={6} size="sm" color="red" variant="filled">
                  {total}
                </Badge>
              )}
            </Button>
            <Menu position="bottom-end" withinPortal>
              <Menu.Target>
                <Button variant="light" size="sm" data-testid="user-menu">
                  {session.userName ?? 'Signed in'}
                  {session.facility ? ` · ${session.facility.name}` : ''}
                </Button>
              </Menu.Target>
              <Menu.Dropdown>
                <Menu.Label>{session.facility ? `Working at ${session.facility.name}` : 'No facility chosen'}</Menu.Label>
                <Menu.Item onClick={() => void startSignIn(clinicianConfig, window.location.pathname)}>Switch facility (sign in again)</Menu.Item>
                <Menu.Item
                  color="red"
                  onClick={async () => {
                    sessionStorage.setItem(SIGNED_OUT_KEY, '1');
                    await signOut(clinicianConfig);
                    window.location.assign('/');
                  }}
                  data-testid="sign-out"
                >
                  Sign out
                </Menu.Item>
              </Menu.Dropdown>
            </Menu>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Main id="main">
        <Suspense
          fallback={
            <Center p="xl">
              <Loader aria-label="Loading" />
            </Center>
          }
        >
          <Routes>
            <Route path="/" element={<Home />} />
            <Route path="/inbox" element={<InBasket />} />
            <Route path="/patients/:id/*" element={<Chart />} />
            <Route path="*" element={<Text>Page not found. Use the search above or go to the home page.</Text>} />
          </Routes>
        </Suspense>
      </AppShell.Main>
    </AppShell>
  );
}
