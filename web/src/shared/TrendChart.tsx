// A trend plot: one or more series over time, the reference range shaded, abnormal points marked
// by shape, colour and a flag label (never colour alone), each point's facility in its tooltip,
// and the same data as a table for screen readers and keyboard users.
import { useEffect, useRef } from 'react';
import { Box, Table, Text } from '@mantine/core';
import * as echarts from 'echarts/core';
import { LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, MarkAreaComponent, TooltipComponent } from 'echarts/components';
import { SVGRenderer } from 'echarts/renderers';
import { FLAG_LABEL, formatRange, isAbnormal, type Flag, type Range } from './ranges';
import { formatDate, formatNumber } from './format';

echarts.use([LineChart, GridComponent, LegendComponent, MarkAreaComponent, TooltipComponent, SVGRenderer]);

export interface TrendPoint {
  time: string; // ISO date or dateTime
  value: number;
  flag?: Flag;
  source?: string; // facility name
}

export interface TrendSeries {
  name: string;
  unit?: string;
  points: TrendPoint[];
  range?: Range;
}

/** A one-sentence summary of a series, for screen readers and the chart's label. */
export function trendSummary(s: TrendSeries): string {
  const pts = [...s.points].sort((a, b) => a.time.localeCompare(b.time));
  if (!pts.length) return `${s.name}: no values.`;
  const last = pts[pts.length - 1];
  const abnormal = pts.filter((p) => isAbnormal(p.flag)).length;
  const sources = new Set(pts.map((p) => p.source).filter(Boolean));
  return (
    `${s.name}: ${pts.length} value${pts.length > 1 ? 's' : ''} from ${formatDate(pts[0].time)} to ${formatDate(last.time)}` +
    `, latest ${formatNumber(last.value)}${s.unit ? ' ' + s.unit : ''}${last.flag && last.flag !== 'N' ? ' (' + FLAG_LABEL[last.flag] + ')' : ''}` +
    `${s.range ? ', range ' + formatRange(s.range) : ''}; ${abnormal} abnormal` +
    `${sources.size ? '; from ' + [...sources].join(', ') : ''}.`
  );
}

const COLORS = ['#1c7ed6', '#7048e8', '#0ca678', '#e8590c'];

export function TrendChart({ title, series, height = 260 }: { title: string; series: TrendSeries[]; height?: number }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!ref.current) return;
    const chart = echarts.init(ref.current, undefined, { renderer: 'svg' });
    const range = series.find((s) => s.range)?.range;
    chart.setOption({
      animation: false,
      grid: { left: 48, right: 16, top: 32, bottom: 32 },
      legend: { show: series.length > 1, top: 0 },
      tooltip: {
        trigger: 'item',
        formatter: (p: { data: { value: [string, number]; point: TrendPoint; unit?: string }; seriesName: string }) => {
          const pt = p.data.point;
          return `${p.seriesName}<br/>${formatDate(pt.time)}: <b>${formatNumber(pt.value)}${p.data.unit ? ' ' + p.data.unit : ''}</b>` +
            `${pt.flag && pt.flag !== 'N' ? ' — ' + FLAG_LABEL[pt.flag] : ''}${pt.source ? '<br/>' + pt.source : ''}`;
        },
      },
      xAxis: { type: 'time' },
      yAxis: { type: 'value', scale: true, name: series[0]?.unit ?? '' },
      series: series.map((s, i) => ({
        name: s.name,
        type: 'line',
        color: COLORS[i % COLORS.length],
        symbolSize: 9,
        markArea:
          i === 0 && range && (range.low !== undefined || range.high !== undefined)
            ? {
                silent: true,
                itemStyle: { color: 'rgba(64, 192, 87, 0.15)' },
                data: [[{ yAxis: range.low ?? 0 }, { yAxis: range.high ?? 'max' }]],
              }
            : undefined,
        data: [...s.points]
          .sort((a, b) => a.time.localeCompare(b.time))
          .map((pt) => ({
            value: [pt.time, pt.value],
            point: pt,
            unit: s.unit,
            symbol: isAbnormal(pt.flag) ? 'triangle' : 'circle',
            symbolRotate: pt.flag === 'L' || pt.flag === 'LL' ? 180 : 0,
            itemStyle: isAbnormal(pt.flag) ? { color: pt.flag === 'HH' || pt.flag === 'LL' ? '#c92a2a' : '#d9480f' } : undefined,
            label: isAbnormal(pt.flag) ? { show: true, formatter: pt.flag, position: 'top', color: '#c92a2a', fontWeight: 'bold' } : undefined,
          })),
      })),
    });
    const onResize = () => chart.resize();
    window.addEventListener('resize', onResize);
    return () => {
      window.removeEventListener('resize', onResize);
      chart.dispose();
    };
  }, [series]);
  const summary = series.map(trendSummary).join(' ');
  return (
    <Box data-testid="trend-chart" data-title={title}>
      <Text fw={600} size="sm" mb={4}>
        {title}
      </Text>
      <div ref={ref} role="img" aria-label={`${title}. ${summary}`} style={{ width: '100%', height }} />
      <details>
        <summary style={{ cursor: 'pointer', fontSize: 13 }}>{title} as a table</summary>
        <Table striped withTableBorder fz="sm" mt={4}>
          <caption style={{ captionSide: 'top', textAlign: 'left' }}>{summary}</caption>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Date</Table.Th>
              <Table.Th>Measure</Table.Th>
              <Table.Th>Value</Table.Th>
              <Table.Th>Flag</Table.Th>
              <Table.Th>Source</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {series.flatMap((s) =>
              [...s.points]
                .sort((a, b) => b.time.localeCompare(a.time))
                .map((pt, i) => (
                  <Table.Tr key={`${s.name}-${i}`}>
                    <Table.Td>{formatDate(pt.time)}</Table.Td>
                    <Table.Td>{s.name}</Table.Td>
                    <Table.Td>
                      {formatNumber(pt.value)} {s.unit}
                    </Table.Td>
                    <Table.Td>{pt.flag && pt.flag !== 'N' ? FLAG_LABEL[pt.flag] : ''}</Table.Td>
                    <Table.Td>{pt.source ?? ''}</Table.Td>
                  </Table.Tr>
                )),
            )}
          </Table.Tbody>
        </Table>
      </details>
    </Box>
  );
}
