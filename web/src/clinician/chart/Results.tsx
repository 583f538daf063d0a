// Results review: trend plots per analyte (with ranges, flags and sources) and the lab table.
import { useMemo, useState } from 'react';
import { Card, Group, SimpleGrid, Skeleton, Switch, Table, Text, TextInput, Title } from '@mantine/core';
import type { Observation } from '@medplum/fhirtypes';
import { useFacilityNames } from '../../shared/context';
import { ErrorBanner } from '../../shared/ErrorBanner';
import { FacilityBadge } from '../../shared/FacilityBadge';
import { FlagBadge } from '../../shared/FlagBadge';
import { RangeBar } from '../../shared/RangeBar';
import { TrendChart } from '../../shared/TrendChart';
import { formatCodeable, formatDateTime } from '../../shared/format';
import { effectiveTime, seriesFor, TREND_ANALYTES } from '../../shared/observations';
import { flagOf, formatRange, isAbnormal, rangeOf } from '../../shared/ranges';
import { usePatientResources } from './data';
import { isCategory, observationValue } from './Snapshot';

export function Results() {
  const obs = usePatientResources<Observation>('Observation', { _sort: '-date' }, 20);
  const names = useFacilityNames();
  const [filter, setFilter] = useState('');
  const [abnormalOnly, setAbnormalOnly] = useState(false);
  const trends = useMemo(
    () => TREND_ANALYTES.map((a) => ({ a, series: seriesFor(obs.data, a, names) })).filter((t) => t.series.some((s) => s.points.length > 0)),
    [obs.data, names],
  );
  const labs = obs.data
    .filter((o) => isCategory(o, 'laboratory') || (!isCategory(o, 'vital-signs') && !!o.referenceRange))
    .filter((o) => !filter || formatCodeable(o.code).toLowerCase().includes(filter.toLowerCase()))
    .filter((o) => !abnormalOnly || isAbnormal(flagOf(o)))
    .sort((a, b) => (effectiveTime(b) ?? '').localeCompare(effectiveTime(a) ?? ''));

  return (
    <>
      <ErrorBanner error={obs.error} title="Results could not be loaded" onRetry={() => obs.refetch()} />
      <Title order={2} size="h4" mb="xs">
        Trends
      </Title>
      {obs.isLoading ? (
        <Skeleton h={260} />
      ) : trends.length === 0 ? (
        <Text c="dimmed">No values to trend in this view.</Text>
      ) : (
        <SimpleGrid cols={{ base: 1, md: 2 }} mb="lg" data-testid="trends">
          {trends.map(({ a, series }) => (
            <Card withBorder key={a.key} data-testid={`trend-${a.key}`}>
              <TrendChart title={a.title} series={series} />
            </Card>
          ))}
        </SimpleGrid>
      )}
      <Group justify="space-between" mb="xs" mt="md">
        <Title order={2} size="h4">
          Lab results
        </Title>
        <Group>
          <TextInput size="xs" aria-label="Filter results by test name" placeholder="Filter by test" value={filter} onChange={(e) => setFilter(e.currentTarget.value)} />
          <Switch size="sm" label="Abnormal only" checked={abnormalOnly} onChange={(e) => setAbnormalOnly(e.currentTarget.checked)} />
        </Group>
      </Group>
      <Table.ScrollContainer minWidth={720}>
        <Table striped highlightOnHover data-testid="lab-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Date</Table.Th>
              <Table.Th>Test</Table.Th>
              <Table.Th>Result</Table.Th>
              <Table.Th>Flag</Table.Th>
              <Table.Th>Reference range</Table.Th>
              <Table.Th>
                <span aria-hidden>Position</span>
              </Table.Th>
              <Table.Th>Source</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {labs.map((o) => {
              const flag = flagOf(o);
              const range = rangeOf(o.referenceRange);
              return (
                <Table.Tr key={o.id} data-testid="lab-row">
                  <Table.Td>{formatDateTime(effectiveTime(o))}</Table.Td>
                  <Table.Td>{formatCodeable(o.code)}</Table.Td>
                  <Table.Td fw={isAbnormal(flag) ? 800 : undefined} c={isAbnormal(flag) ? 'red.9' : undefined}>
                    {observationValue(o)}
                  </Table.Td>
                  <Table.Td>
                    <FlagBadge flag={flag} />
                  </Table.Td>
                  <Table.Td>{formatRange(range)}</Table.Td>
                  <Table.Td>{o.valueQuantity?.value !== undefined && <RangeBar value={o.valueQuantity.value} range={range} unit={o.valueQuantity.unit} width={120} />}</Table.Td>
                  <Table.Td>
                    <FacilityBadge resource={o} />
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {!obs.isLoading && labs.length === 0 && <Text c="dimmed">No lab results{filter || abnormalOnly ? ' match the filter' : ''}.</Text>}
    </>
  );
}
