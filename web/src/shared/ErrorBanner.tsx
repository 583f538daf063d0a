// Shows a failed call: what failed, where (the OperationOutcome's path), and what to do next.
// Every query or mutation error in the apps goes through here; none is swallowed.
import { Alert, Button, Group, List, Text } from '@mantine/core';
import { FhirError, whatToDo } from './fhir';

export function ErrorBanner({ error, title, onRetry }: { error: unknown; title?: string; onRetry?: () => void }) {
  if (!error) return null;
  const fe = error instanceof FhirError ? error : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return (
    <Alert color="red" title={title ?? 'Something failed'} role="alert" data-testid="error-banner" mb="sm">
      {fe ? (
        <>
          <Text size="sm">
            {fe.method} {shortPath(fe.url)} — {fe.status ? `HTTP ${fe.status}` : 'no answer'}
          </Text>
          {fe.issues.length > 0 && (
            <List size="sm" mt={4}>
              {fe.issues.map((i, n) => (
                <List.Item key={n}>
                  {i.path && (
                    <Text span fw={700}>
                      {i.path}:{' '}
                    </Text>
                  )}
                  {i.text}
                </List.Item>
              ))}
            </List>
          )}
          <Text size="sm" mt={4} fw={600}>
            What to do: {fe.whatToDo}
          </Text>
        </>
      ) : (
        <>
          <Text size="sm">{message}</Text>
          <Text size="sm" mt={4} fw={600}>
            What to do: {whatToDo(500)}
          </Text>
        </>
      )}
      {onRetry && (
        <Group mt="xs">
          <Button size="xs" variant="light" color="red" onClick={onRetry}>
            Try again
          </Button>
        </Group>
      )}
    </Alert>
  );
}

function shortPath(url: string): string {
  try {
    const u = new URL(url);
    return u.pathname.replace(/^\/fhir\/?/, '') + (u.search.length > 60 ? u.search.slice(0, 60) + '…' : u.search);
  } catch {
    return url;
  }
}
