// The chart's data: one search per resource type of the patient's record, run in parallel and
// cached by react-query; the EHR/EMR switch filters by the recording facility.
import { createContext, useContext } from 'react';
import type { Patient, Resource } from '@medplum/fhirtypes';
import { useSearch } from '../../shared/hooks';
import { filterByFacility } from '../../shared/provenance';
import type { SearchParams } from '../../shared/fhir';

export type View = 'ehr' | 'emr';

export interface ChartContextValue {
  patient: Patient;
  view: View;
  facilityId?: string; // the user's facility (EMR view filter)
  emergencyEnd?: number; // ms: while an emergency-access grant is open
}

export const ChartContext = createContext<ChartContextValue | null>(null);

export function useChart(): ChartContextValue {
  const v = useContext(ChartContext);
  if (!v) throw new Error('useChart outside a chart');
  return v;
}

const PATIENT_PARAM: Record<string, string> = {
  Immunization: 'patient',
  Basic: 'subject',
  Communication: 'subject',
  Task: 'patient',
  Appointment: 'patient',
  CareTeam: 'patient',
};

/** A type's resources for the chart's patient, filtered by the EHR/EMR view. */
export function usePatientResources<T extends Resource>(type: string, params: SearchParams = {}, maxPages = 10) {
  const { patient, view, facilityId } = useChart();
  const param = PATIENT_PARAM[type] ?? 'patient';
  const q = useSearch<T>(type, { [param]: `Patient/${patient.id}`, _count: 200, ...params }, { maxPages });
  const all = q.data ?? [];
  const shown = view === 'emr' ? filterByFacility(all, facilityId) : all;
  return { ...q, all, data: shown };
}
