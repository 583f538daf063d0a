// Small building blocks of chart sections.
import { useContext, type ReactNode } from 'react';
import { Card, Group, Skeleton, Stack, Text, Title } from '@mantine/core';
import type { Resource } from '@medplum/fhirtypes';
import { ErrorBanner } from '../../shared/ErrorBanner';
import { FacilityBadge } from '../../shared/FacilityBadge';
import { ChartContext } from './data';

export function Section({
  title,
  query,
  empty,
  children,
  count,
  testId,
  action,
}: {
  title: string;
  query: { isLoading: boolean; error: unknown; refetch: () => unknown };
  empty: boolean;
  children: ReactNode;
  count?: number;
  testId?: string;
  action?: ReactNode;
}) {
  const chart = useContext(ChartContext);
  return (
    <Card withBorder h="100%" data-testid={testId} component="section" aria-label={title}>
      <Group justify="space-between" mb="xs">
        <Title order={2} size="h5">
          {title}
          {count !== undefined ? ` (${count})` : ''}
        </Title>
        {action}
      </Group>
      <ErrorBanner error={query.error} title={`${title}: loading failed`} onRetry={() => query.refetch()} />
      {query.isLoading ? (
        <Skeleton h={60} />
      ) : empty && !query.error ? (
        <Text size="sm" c="dimmed">
          {chart?.view === 'emr' ? 'None recorded at this facility. “All facilities” shows the whole record.' : 'None recorded.'}
        </Text>
      ) : (
        <Stack gap={6}>{children}</Stack>
      )}
    </Card>
  );
}

/** One entry of a list: main text, then details and the facility it came from, flags on the right. */
export function Entry({ resource, main, detail, right }: { resource: Resource; main: ReactNode; detail?: ReactNode; right?: ReactNode }) {
  return (
    <Group justify="space-between" wrap="nowrap" align="flex-start" gap="xs" data-testid="entry">
      <div style={{ minWidth: 0, flex: 1 }}>
        <Text size="sm" fw={600}>
          {main}
        </Text>
        <Group gap={6} wrap="wrap">
          <FacilityBadge resource={resource} />
          {detail && (
            <Text size="xs" c="dimmed">
              {detail}
            </Text>
          )}
        </Group>
      </div>
      {right && (
        <Group gap={4} wrap="nowrap" style={{ flexShrink: 0 }}>
          {right}
        </Group>
      )}
    </Group>
  );
}
