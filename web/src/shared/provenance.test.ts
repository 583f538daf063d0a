import { describe, expect, it } from 'vitest';
import type { Observation } from '@medplum/fhirtypes';
import { FACILITY_TAG_SYSTEM, facilitiesOf, facilityLabel, filterByFacility, provenanceOf } from './provenance';

const obs = (id: string, facility?: string, source?: string): Observation => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { text: 'x' },
  meta: {
    source,
    tag: facility ? [{ system: FACILITY_TAG_SYSTEM, code: facility, display: facility === 'riverside' ? 'Riverside (tag)' : undefined }] : [],
  },
});

describe('provenance', () => {
  it('reads the facility tag, else meta.source', () => {
    expect(provenanceOf(obs('1', 'riverside')).facilityId).toBe('riverside');
    expect(provenanceOf(obs('2', undefined, 'urn:carechart:facility:lakeside')).facilityId).toBe('lakeside');
    expect(provenanceOf(obs('3', undefined, 'http://elsewhere')).facilityId).toBeUndefined();
    expect(provenanceOf(undefined).facilityId).toBeUndefined();
  });

  it('labels by Organization name, then tag display, then id', () => {
    const names = new Map([['lakeside', 'Lakeside Endocrinology']]);
    expect(facilityLabel(obs('1', 'lakeside'), names)).toBe('Lakeside Endocrinology');
    expect(facilityLabel(obs('2', 'riverside'), names)).toBe('Riverside (tag)');
    expect(facilityLabel(obs('3', 'mercy'), names)).toBe('mercy');
    expect(facilityLabel(obs('4'), names)).toBe('Unknown source');
  });

  it('EMR view keeps only this facility; EHR view keeps all', () => {
    const all = [obs('1', 'a'), obs('2', 'b'), obs('3', 'a')];
    expect(filterByFacility(all, 'a').map((o) => o.id)).toEqual(['1', '3']);
    expect(filterByFacility(all, undefined)).toHaveLength(3);
    expect(facilitiesOf(all)).toEqual(['a', 'b']);
  });
});
