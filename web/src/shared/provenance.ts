// Where a resource came from. The server stamps every write with a meta.tag of system
// FACILITY_TAG_SYSTEM whose code is the recording facility's Organization id (decision D2, see
// src/rest/resource_prep.cc), meta.source "urn:carechart:facility:<id>", and an author tag.
import type { Resource } from '@medplum/fhirtypes';

export const FACILITY_TAG_SYSTEM = 'https://carechart.dev/fhir/CodeSystem/facility';
export const AUTHOR_TAG_SYSTEM = 'https://carechart.dev/fhir/CodeSystem/author';
const SOURCE_PREFIX = 'urn:carechart:facility:';

export interface Provenance {
  facilityId?: string;
  facilityDisplay?: string; // the tag's display, when the server wrote one
  author?: string;
  lastUpdated?: string;
}

export function provenanceOf(r: Resource | undefined): Provenance {
  const tags = r?.meta?.tag ?? [];
  const fac = tags.find((t) => t.system === FACILITY_TAG_SYSTEM);
  const author = tags.find((t) => t.system === AUTHOR_TAG_SYSTEM);
  let facilityId = fac?.code;
  const source = r?.meta?.source;
  if (!facilityId && source?.startsWith(SOURCE_PREFIX)) facilityId = source.slice(SOURCE_PREFIX.length);
  return {
    facilityId: facilityId || undefined,
    facilityDisplay: fac?.display || undefined,
    author: author?.code,
    lastUpdated: r?.meta?.lastUpdated,
  };
}

export function facilityIdOf(r: Resource | undefined): string | undefined {
  return provenanceOf(r).facilityId;
}

/** The name to show for a facility: Organization name, else the tag display, else the id. */
export function facilityLabel(r: Resource | undefined, names: Map<string, string>): string {
  const p = provenanceOf(r);
  if (!p.facilityId) return 'Unknown source';
  return names.get(p.facilityId) ?? p.facilityDisplay ?? p.facilityId;
}

/** The EMR view: only what `facilityId` recorded. The EHR view (facilityId undefined): everything. */
export function filterByFacility<T extends Resource>(resources: T[], facilityId: string | undefined): T[] {
  if (!facilityId) return resources;
  return resources.filter((r) => facilityIdOf(r) === facilityId);
}

/** Distinct facility ids of a set of resources, in first-seen order. */
export function facilitiesOf(resources: Resource[]): string[] {
  const out: string[] = [];
  for (const r of resources) {
    const f = facilityIdOf(r);
    if (f && !out.includes(f)) out.push(f);
  }
  return out;
}
