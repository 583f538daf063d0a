// The facility an entry came from, on every clinical entry (UI.md: provenance everywhere).
import { Badge, Tooltip } from '@mantine/core';
import type { Resource } from '@medplum/fhirtypes';
import { useFacilityNames } from './context';
import { facilityLabel, provenanceOf } from './provenance';
import { formatDateTime } from './format';

const PALETTE = ['blue', 'grape', 'teal', 'indigo', 'cyan', 'violet', 'lime', 'pink'];

export function facilityColor(id: string | undefined): string {
  if (!id) return 'gray';
  let h = 0;
  for (const ch of id) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return PALETTE[h % PALETTE.length];
}

export function FacilityBadge({ resource }: { resource: Resource }) {
  const names = useFacilityNames();
  const p = provenanceOf(resource);
  const label = facilityLabel(resource, names);
  return (
    <Tooltip label={`Recorded at ${label}${p.lastUpdated ? ', ' + formatDateTime(p.lastUpdated) : ''}`}>
      <Badge variant="light" color={facilityColor(p.facilityId)} size="sm" radius="sm" data-testid="facility-badge" aria-label={`Source: ${label}`} style={{ textTransform: 'none', flexShrink: 0, maxWidth: 'none' }}>
        {label}
      </Badge>
    </Tooltip>
  );
}
