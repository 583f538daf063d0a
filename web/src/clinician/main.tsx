import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '@mantine/core/styles.css';
import './clinician.css';
import { Button, Center, MantineProvider, Stack, Text, Title } from '@mantine/core';
import { completeSignIn, getSession, startSignIn } from '../shared/smart';
import { SIGNED_OUT_KEY, clinicianConfig } from './config';
import { App } from './App';
import { theme } from './theme';

const root = createRoot(document.getElementById('root')!);

function Gate({ title, message, action }: { title: string; message: string; action?: string }) {
  return (
    <MantineProvider theme={theme}>
      <Center h="100vh">
        <Stack align="center" maw={480} p="md">
          <Title order={1} size="h2">
            {title}
          </Title>
          <Text ta="center">{message}</Text>
          {action && (
            <Button
              autoFocus
              onClick={() => {
                sessionStorage.removeItem(SIGNED_OUT_KEY);
                void startSignIn(clinicianConfig, '/');
              }}
            >
              {action}
            </Button>
          )}
        </Stack>
      </Center>
    </MantineProvider>
  );
}

async function boot() {
  try {
    const done = await completeSignIn(clinicianConfig);
    if (done) window.history.replaceState(null, '', done.returnTo.startsWith('/') ? done.returnTo : '/');
  } catch (e) {
    root.render(<Gate title="Sign-in failed" message={(e as Error).message} action="Sign in again" />);
    return;
  }
  const session = getSession(clinicianConfig.clientId);
  if (!session) {
    if (sessionStorage.getItem(SIGNED_OUT_KEY)) {
      root.render(<Gate title="You are signed out" message="Your session ended and its tokens were revoked." action="Sign in" />);
      return;
    }
    root.render(<Gate title="Carechart" message="Taking you to the sign-in page…" />);
    await startSignIn(clinicianConfig);
    return;
  }
  root.render(
    <StrictMode>
      <App session={session} />
    </StrictMode>,
  );
}

void boot();
