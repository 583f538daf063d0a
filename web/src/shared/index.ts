// The shared foundation of the clinician app and the portal (see README.md in this folder).
export * from './pkce';
export * from './smart';
export * from './fhir';
export * from './format';
export * from './provenance';
export * from './ranges';
export * from './allergy';
export * from './context';
export * from './hooks';
export * from './observations';
export { ErrorBanner } from './ErrorBanner';
export { FacilityBadge, facilityColor } from './FacilityBadge';
export { FlagBadge } from './FlagBadge';
export { RangeBar } from './RangeBar';
export { TrendChart, trendSummary, type TrendPoint, type TrendSeries } from './TrendChart';
