// A value against its reference range on a small bar: the normal band shaded, the value a mark.
import { Box, Text } from '@mantine/core';
import { formatRange, rangeBarPositions, type Range } from './ranges';

export function RangeBar({ value, range, unit, width = 160 }: { value: number; range: Range | undefined; unit?: string; width?: number }) {
  if (!range || (range.low === undefined && range.high === undefined)) return null;
  const p = rangeBarPositions(value, range);
  const low = p.low ?? 0;
  const high = p.high ?? 1;
  const inside = (range.low === undefined || value >= range.low) && (range.high === undefined || value <= range.high);
  return (
    <Box
      role="img"
      aria-label={`${value}${unit ? ' ' + unit : ''}, ${inside ? 'within' : 'outside'} the range ${formatRange(range)}`}
      style={{ position: 'relative', width, height: 14 }}
    >
      <Box style={{ position: 'absolute', top: 5, left: 0, right: 0, height: 4, background: 'var(--mantine-color-gray-3)', borderRadius: 2 }} />
      <Box
        style={{
          position: 'absolute',
          top: 3,
          height: 8,
          left: `${low * 100}%`,
          width: `${(high - low) * 100}%`,
          background: 'var(--mantine-color-green-3)',
          borderRadius: 2,
        }}
      />
      <Box
        style={{
          position: 'absolute',
          top: 0,
          left: `calc(${p.value * 100}% - 4px)`,
          width: 8,
          height: 14,
          borderRadius: 4,
          background: inside ? 'var(--mantine-color-dark-6)' : 'var(--mantine-color-red-7)',
        }}
      />
      <Text component="span" style={{ position: 'absolute', width: 1, height: 1, overflow: 'hidden', clip: 'rect(0 0 0 0)' }}>
        {formatRange(range)}
      </Text>
    </Box>
  );
}
