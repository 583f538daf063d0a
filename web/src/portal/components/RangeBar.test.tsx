import { render, screen } from '@testing-library/react';
import { MantineProvider } from '@mantine/core';
import type { Observation } from '@medplum/fhirtypes';
import { RangeBar } from './RangeBar';

const obs = (value: number, flag?: string): Observation => ({
  resourceType: 'Observation', status: 'final', code: { text: 'HbA1c' },
  valueQuantity: { value, unit: '%' },
  referenceRange: [{ low: { value: 4, unit: '%' }, high: { value: 5.6, unit: '%' } }],
  ...(flag ? { interpretation: [{ coding: [{ code: flag }] }] } : {}),
});

test('an abnormal value is said in words with the normal range, not by colour alone', () => {
  render(<MantineProvider><RangeBar obs={obs(7.2)} /></MantineProvider>);
  const text = screen.getByText(/Above the normal range/);
  expect(text.textContent).toContain('normal: 4 to 5.6 %');
  expect(text.textContent).toContain('⚠');
  expect(text.getAttribute('data-level')).toBe('high');
});

test('a normal value has no warning sign', () => {
  render(<MantineProvider><RangeBar obs={obs(5.1)} /></MantineProvider>);
  expect(screen.getByText(/In the normal range/).textContent).not.toContain('⚠');
});

test('the lab\'s critical flag wins over the range', () => {
  render(<MantineProvider><RangeBar obs={obs(5.1, 'HH')} /></MantineProvider>);
  expect(screen.getByText(/Far above the normal range/)).toBeTruthy();
});
