// Before signing in: sign in, activate a new account with the clinic's code, or reset a password.
import { Alert, Anchor, Button, Card, List, Stack, Text, Title } from '@mantine/core';
import { startSignIn } from '../../shared/smart';
import { PORTAL } from '../config';

export function SignIn({ error }: { error?: string }) {
  return (
    <main style={{ maxWidth: 480, margin: '2rem auto', padding: '0 1rem' }}>
      <Stack>
        <Title order={1}>Your health record</Title>
        <Text>See your results, talk to your care team, book visits and download your record.</Text>
        {error && (
          <Alert color="red" role="alert" title="Sign-in did not work">
            {error}
          </Alert>
        )}
        <Button size="lg" onClick={() => startSignIn(PORTAL, '/portal/')}>
          Sign in
        </Button>
        <Card withBorder>
          <Title order={2} size="h4">
            First time here?
          </Title>
          <Text size="sm">
            Your clinic gives you an activation code. <Anchor href="/auth/activate">Activate your account</Anchor> with it and choose a password.
          </Text>
        </Card>
        <Card withBorder>
          <Title order={2} size="h4">
            Forgot your password?
          </Title>
          <List size="sm">
            <List.Item>Ask your clinic for a reset code (by phone or at the desk).</List.Item>
            <List.Item>
              Enter it on the <Anchor href="/auth/activate">activation page</Anchor> with a new password.
            </List.Item>
          </List>
        </Card>
      </Stack>
    </main>
  );
}
