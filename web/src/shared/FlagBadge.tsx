import { Badge } from '@mantine/core';
import { FLAG_LABEL, flagColor, type Flag } from './ranges';

/** An abnormal flag as a letter and a colour; nothing for normal. */
export function FlagBadge({ flag }: { flag: Flag | undefined }) {
  if (!flag || flag === 'N') return null;
  return (
    <Badge color={flagColor(flag)} variant="filled" size="sm" aria-label={FLAG_LABEL[flag]} title={FLAG_LABEL[flag]} data-testid="flag" style={{ flexShrink: 0 }}>
      {flag}
    </Badge>
  );
}
