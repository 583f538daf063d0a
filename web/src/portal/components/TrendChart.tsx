// A trend over time with the normal range shaded (echarts), plus the same data as a table for
// screen readers and for anyone who prefers numbers.
import { useEffect, useRef } from 'react';
import * as echarts from 'echarts/core';
import { LineChart } from 'echarts/charts';
import { GridComponent, MarkAreaComponent, TooltipComponent, LegendComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import { VisuallyHidden } from '@mantine/core';

echarts.use([LineChart, GridComponent, MarkAreaComponent, TooltipComponent, LegendComponent, CanvasRenderer]);

export interface TrendSeries {
  name: string;
  points: { date: string; value: number; source?: string }[];
}

export function TrendChart({ title, unit, series, low, high }: { title: string; unit: string; series: TrendSeries[]; low?: number; high?: number }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!ref.current) return;
    const chart = echarts.init(ref.current);
    chart.setOption({
      animation: false,
      grid: { left: 44, right: 16, top: 28, bottom: 32 },
      tooltip: { trigger: 'axis' },
      legend: series.length > 1 ? { top: 0 } : undefined,
      xAxis: { type: 'time' },
      yAxis: { type: 'value', name: unit, scale: true },
      series: series.map((s, i) => ({
        name: s.name,
        type: 'line',
        symbolSize: 8,
        data: s.points.map((p) => [p.date, p.value]),
        markArea:
          i === 0 && (low !== undefined || high !== undefined)
            ? { itemStyle: { color: 'rgba(64,192,87,0.15)' }, data: [[{ yAxis: low ?? 0 }, { yAxis: high ?? 'max' }]] }
            : undefined,
      })),
    });
    const onResize = () => chart.resize();
    window.addEventListener('resize', onResize);
    return () => {
      window.removeEventListener('resize', onResize);
      chart.dispose();
    };
  }, [series, unit, low, high]);
  return (
    <figure style={{ margin: 0 }} aria-label={`${title} over time`}>
      <div ref={ref} style={{ width: '100%', height: 220 }} data-testid={`trend-${title}`} />
      <VisuallyHidden>
        <table>
          <caption>{title}</caption>
          <thead>
            <tr>
              <th>Date</th>
              {series.map((s) => (
                <th key={s.name}>{s.name}</th>
              ))}
              <th>From</th>
            </tr>
          </thead>
          <tbody>
            {series[0]?.points.map((p, i) => (
              <tr key={p.date + i}>
                <td>{p.date.slice(0, 10)}</td>
                {series.map((s) => (
                  <td key={s.name}>{s.points[i]?.value ?? ''}</td>
                ))}
                <td>{p.source ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </VisuallyHidden>
      <figcaption style={{ fontSize: 13, color: '#495057' }}>
        {low !== undefined || high !== undefined ? `Green band: the normal range${low !== undefined && high !== undefined ? ` (${low}–${high} ${unit})` : ''}.` : ''}
      </figcaption>
    </figure>
  );
}
