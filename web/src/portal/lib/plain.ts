// Plain-language words for what a patient sees: test names, flags, ranges, statuses.
// Pure functions (unit-tested in plain.test.ts); nothing here calls the server.

/** LOINC codes of the results the portal explains in everyday words. */
const PLAIN_NAMES: Record<string, string> = {
  '4548-4': 'HbA1c (average blood sugar over 3 months)',
  '17856-6': 'HbA1c (average blood sugar over 3 months)',
  '2339-0': 'Blood sugar (glucose)',
  '2345-7': 'Blood sugar (glucose)',
  '1558-6': 'Fasting blood sugar (glucose)',
  '85354-9': 'Blood pressure',
  '8480-6': 'Blood pressure, top number (systolic)',
  '8462-4': 'Blood pressure, bottom number (diastolic)',
  '8867-4': 'Heart rate',
  '29463-7': 'Body weight',
  '39156-5': 'Body mass index (BMI)',
  '8302-2': 'Height',
  '2093-3': 'Cholesterol, total',
  '2085-9': 'HDL ("good") cholesterol',
  '13457-7': 'LDL ("bad") cholesterol',
  '18262-6': 'LDL ("bad") cholesterol',
  '2571-8': 'Triglycerides (blood fats)',
  '2160-0': 'Creatinine (kidney function)',
  '33914-3': 'eGFR (how well the kidneys filter)',
  '62238-1': 'eGFR (how well the kidneys filter)',
  '14959-1': 'Albumin in urine (kidney check)',
  '718-7': 'Hemoglobin',
  '6690-2': 'White blood cells',
  '777-3': 'Platelets',
  '2951-2': 'Sodium',
  '2823-3': 'Potassium',
  '1742-6': 'ALT (liver)',
  '3016-3': 'TSH (thyroid)',
};

export interface Coding {
  system?: string;
  code?: string;
  display?: string;
}
export interface CodeableConcept {
  coding?: Coding[];
  text?: string;
}
export interface Quantity {
  value?: number;
  unit?: string;
  code?: string;
}
export interface ReferenceRange {
  low?: Quantity;
  high?: Quantity;
  text?: string;
}

export const LOINC = 'http://loinc.org';

export function loincCode(concept?: CodeableConcept): string | undefined {
  return concept?.coding?.find((c) => c.system === LOINC)?.code;
}

/** The everyday name of a test, else the coded display or text. */
export function plainName(concept?: CodeableConcept): string {
  const code = loincCode(concept);
  if (code && PLAIN_NAMES[code]) return PLAIN_NAMES[code];
  return concept?.text ?? concept?.coding?.find((c) => c.display)?.display ?? concept?.coding?.[0]?.code ?? 'Test';
}

export type Level = 'low' | 'normal' | 'high' | 'critical-low' | 'critical-high' | 'abnormal' | 'unknown';

const INTERPRETATION: Record<string, Level> = {
  L: 'low', LL: 'critical-low', H: 'high', HH: 'critical-high', N: 'normal', A: 'abnormal', AA: 'abnormal',
  LU: 'low', HU: 'high',
};

/**
 * Where a value sits: the lab's interpretation flag when present (it knows best), otherwise the
 * value against the reference range.
 */
export function levelOf(value: number | undefined, range?: ReferenceRange, interpretation?: CodeableConcept[]): Level {
  const flag = interpretation?.[0]?.coding?.[0]?.code;
  if (flag && INTERPRETATION[flag]) return INTERPRETATION[flag];
  if (value === undefined || !range) return 'unknown';
  const low = range.low?.value;
  const high = range.high?.value;
  if (low === undefined && high === undefined) return 'unknown';
  if (low !== undefined && value < low) return 'low';
  if (high !== undefined && value > high) return 'high';
  return 'normal';
}

/** What the flag means, in words (never colour alone). */
export function levelText(level: Level): string {
  switch (level) {
    case 'low':
      return 'Below the normal range';
    case 'high':
      return 'Above the normal range';
    case 'critical-low':
      return 'Far below the normal range — contact your care team';
    case 'critical-high':
      return 'Far above the normal range — contact your care team';
    case 'abnormal':
      return 'Outside the normal result';
    case 'normal':
      return 'In the normal range';
    default:
      return 'No normal range given';
  }
}

export function rangeText(range?: ReferenceRange): string {
  if (!range) return '';
  if (range.text) return range.text;
  const unit = range.high?.unit ?? range.low?.unit ?? '';
  const u = unit ? ` ${unit}` : '';
  if (range.low?.value !== undefined && range.high?.value !== undefined) return `${range.low.value} to ${range.high.value}${u}`;
  if (range.low?.value !== undefined) return `${range.low.value}${u} or more`;
  if (range.high?.value !== undefined) return `up to ${range.high.value}${u}`;
  return '';
}

/**
 * Position of `value` on a bar that shows the range in its middle third: 0..100 (clamped), and
 * the range's own start/end on the same scale. Undefined without a two-sided range.
 */
export function rangeBar(value: number, range?: ReferenceRange): { pos: number; start: number; end: number } | undefined {
  const low = range?.low?.value;
  const high = range?.high?.value;
  if (low === undefined || high === undefined || high <= low) return undefined;
  const span = high - low;
  const min = low - span;
  const max = high + span;
  const pct = (v: number) => Math.max(0, Math.min(100, ((v - min) / (max - min)) * 100));
  return { pos: pct(value), start: pct(low), end: pct(high) };
}

export function quantityText(q?: Quantity): string {
  if (!q || q.value === undefined) return '';
  return `${q.value}${q.unit ? ` ${q.unit}` : ''}`;
}

const APPOINTMENT_STATUS: Record<string, string> = {
  proposed: 'Requested — waiting for the clinic',
  pending: 'Requested — waiting for the clinic',
  booked: 'Confirmed',
  arrived: 'Checked in',
  fulfilled: 'Done',
  cancelled: 'Cancelled',
  noshow: 'Missed',
  'entered-in-error': 'Removed (entered in error)',
  'checked-in': 'Checked in',
  waitlist: 'On the waiting list',
};

export function appointmentStatusText(status?: string, patientParticipantStatus?: string): string {
  if (status === 'proposed' && patientParticipantStatus === 'needs-action') return 'The clinic proposes this time — please confirm or cancel';
  return APPOINTMENT_STATUS[status ?? ''] ?? status ?? 'Unknown';
}
