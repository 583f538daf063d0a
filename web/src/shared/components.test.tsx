import { describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/react';
import { MantineProvider } from '@mantine/core';
import type { ReactNode } from 'react';
import { ErrorBanner } from './ErrorBanner';
import { FhirError } from './fhir';
import { FlagBadge } from './FlagBadge';
import { trendSummary } from './TrendChart';

const wrap = (ui: ReactNode) => render(<MantineProvider>{ui}</MantineProvider>);

describe('ErrorBanner', () => {
  it('shows the call, each issue with its path, and what to do', () => {
    const e = new FhirError(422, 'POST', 'http://h/fhir/Observation', [
      { severity: 'error', code: 'required', text: 'value is required', path: 'Observation.valueQuantity' },
    ]);
    wrap(<ErrorBanner error={e} title="Not saved" />);
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toContain('POST Observation');
    expect(alert.textContent).toContain('HTTP 422');
    expect(alert.textContent).toContain('Observation.valueQuantity: value is required');
    expect(alert.textContent).toContain('What to do: Correct');
  });

  it('renders nothing without an error, and plain errors too', () => {
    const { container } = wrap(<ErrorBanner error={null} />);
    expect(container.querySelector('[role=alert]')).toBeNull();
    wrap(<ErrorBanner error={new Error('boom')} />);
    expect(screen.getByRole('alert').textContent).toContain('boom');
  });
});

describe('FlagBadge and trend summary', () => {
  it('abnormal is a letter with an accessible label, normal shows nothing', () => {
    wrap(
      <>
        <FlagBadge flag="H" />
        <FlagBadge flag="N" />
      </>,
    );
    expect(screen.getAllByTestId('flag')).toHaveLength(1);
    expect(screen.getByLabelText('High').textContent).toBe('H');
  });

  it('the summary names the latest value, the range, the abnormal count and the sources', () => {
    const s = trendSummary({
      name: 'HbA1c',
      unit: '%',
      range: { low: 4, high: 5.6, unit: '%' },
      points: [
        { time: '2024-01-10', value: 7.1, flag: 'H', source: 'Riverside' },
        { time: '2025-03-02', value: 8.2, flag: 'H', source: 'Lakeside' },
        { time: '2023-05-01', value: 5.5, flag: 'N', source: 'Riverside' },
      ],
    });
    expect(s).toBe('HbA1c: 3 values from 1 May 2023 to 2 Mar 2025, latest 8.2 % (High), range 4–5.6 %; 2 abnormal; from Riverside, Lakeside.');
  });
});
