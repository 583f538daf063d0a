import { createTheme } from '@mantine/core';

// Contrast: primary shade 8 keeps white-on-blue text above 4.5:1 (WCAG 2.1 AA).
export const theme = createTheme({
  primaryColor: 'blue',
  primaryShade: 8,
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif',
  defaultRadius: 'sm',
});
