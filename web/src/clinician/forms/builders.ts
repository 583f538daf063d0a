// The FHIR resources the charting forms write. Pure functions, unit-tested; the API validates.
import type {
  AllergyIntolerance,
  Bundle,
  CarePlan,
  Coding,
  Condition,
  DocumentReference,
  Goal,
  MedicationRequest,
  Observation,
  Practitioner,
  Reference,
  Resource,
  ServiceRequest,
  Task,
} from '@medplum/fhirtypes';

/** The signed-in clinician, as the author/requester/performer of what they record. */
export type Actor = Reference<Practitioner>;

const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const SNOMED = 'http://snomed.info/sct';
const VITALS_CATEGORY = [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs', display: 'Vital Signs' }] }];

export interface VitalsInput {
  systolic?: number;
  diastolic?: number;
  pulse?: number;
  temperature?: number; // °C
  weight?: number; // kg
  height?: number; // cm
  spo2?: number; // %
  respiratoryRate?: number;
}

/** Plausible ranges: a value outside is a typing or unit error (e.g. pounds for kg). */
export const VITAL_LIMITS: Record<keyof VitalsInput, [number, number, string]> = {
  systolic: [50, 300, 'mmHg'],
  diastolic: [20, 200, 'mmHg'],
  pulse: [20, 250, '/min'],
  temperature: [30, 45, '°C'],
  weight: [0.3, 400, 'kg'],
  height: [20, 250, 'cm'],
  spo2: [50, 100, '%'],
  respiratoryRate: [4, 80, '/min'],
};

export function vitalsErrors(v: VitalsInput): Partial<Record<keyof VitalsInput, string>> {
  const out: Partial<Record<keyof VitalsInput, string>> = {};
  for (const k of Object.keys(VITAL_LIMITS) as (keyof VitalsInput)[]) {
    const x = v[k];
    if (x === undefined) continue;
    const [lo, hi, unit] = VITAL_LIMITS[k];
    if (Number.isNaN(x) || x < lo || x > hi) out[k] = `Expected ${lo}–${hi} ${unit}; check the value and its unit.`;
  }
  if ((v.systolic === undefined) !== (v.diastolic === undefined)) {
    out[v.systolic === undefined ? 'systolic' : 'diastolic'] = 'Enter both systolic and diastolic.';
  }
  if (v.systolic !== undefined && v.diastolic !== undefined && v.diastolic >= v.systolic) {
    out.diastolic = 'Diastolic must be lower than systolic.';
  }
  return out;
}

function q(value: number, unit: string, code: string) {
  return { value, unit, system: UCUM, code };
}

function vital(patient: string, when: string, code: string, display: string, value: number, unit: string, ucum: string, performer?: Actor): Observation {
  return {
    resourceType: 'Observation',
    status: 'final',
    category: VITALS_CATEGORY,
    code: { coding: [{ system: LOINC, code, display }], text: display },
    subject: { reference: `Patient/${patient}` },
    effectiveDateTime: when,
    performer: performer ? [performer] : undefined,
    valueQuantity: q(value, unit, ucum),
  };
}

/** One Observation per vital sign entered (BP as one panel with two components), plus BMI. */
export function vitalsObservations(patient: string, v: VitalsInput, when: string, performer?: Actor): Observation[] {
  const out: Observation[] = [];
  if (v.systolic !== undefined && v.diastolic !== undefined) {
    out.push({
      resourceType: 'Observation',
      status: 'final',
      category: VITALS_CATEGORY,
      code: { coding: [{ system: LOINC, code: '85354-9', display: 'Blood pressure panel with all children optional' }], text: 'Blood pressure' },
      subject: { reference: `Patient/${patient}` },
      effectiveDateTime: when,
      performer: performer ? [performer] : undefined,
      component: [
        { code: { coding: [{ system: LOINC, code: '8480-6', display: 'Systolic blood pressure' }] }, valueQuantity: q(v.systolic, 'mmHg', 'mm[Hg]') },
        { code: { coding: [{ system: LOINC, code: '8462-4', display: 'Diastolic blood pressure' }] }, valueQuantity: q(v.diastolic, 'mmHg', 'mm[Hg]') },
      ],
    });
  }
  if (v.pulse !== undefined) out.push(vital(patient, when, '8867-4', 'Heart rate', v.pulse, '/min', '/min', performer));
  if (v.respiratoryRate !== undefined) out.push(vital(patient, when, '9279-1', 'Respiratory rate', v.respiratoryRate, '/min', '/min', performer));
  if (v.temperature !== undefined) out.push(vital(patient, when, '8310-5', 'Body temperature', v.temperature, 'Cel', 'Cel', performer));
  if (v.spo2 !== undefined) out.push(vital(patient, when, '59408-5', 'Oxygen saturation by pulse oximetry', v.spo2, '%', '%', performer));
  if (v.height !== undefined) out.push(vital(patient, when, '8302-2', 'Body height', v.height, 'cm', 'cm', performer));
  if (v.weight !== undefined) out.push(vital(patient, when, '29463-7', 'Body weight', v.weight, 'kg', 'kg', performer));
  if (v.weight !== undefined && v.height !== undefined) {
    const bmi = Math.round((v.weight / (v.height / 100) ** 2) * 10) / 10;
    out.push(vital(patient, when, '39156-5', 'Body mass index', bmi, 'kg/m2', 'kg/m2', performer));
  }
  return out;
}

/** A transaction Bundle creating resources; `urn:uuid:` full URLs let entries reference each other. */
export function transaction(entries: { resource: Resource; fullUrl?: string }[]): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: entries.map((e) => ({ fullUrl: e.fullUrl, resource: e.resource, request: { method: 'POST', url: e.resource.resourceType } })),
  };
}

export function conditionResource(patient: string, code: Coding | undefined, text: string, onset: string | undefined, recorder?: Actor): Condition {
  return {
    resourceType: 'Condition',
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'problem-list-item', display: 'Problem List Item' }] }],
    code: { coding: code ? [code] : undefined, text: code?.display ?? text },
    subject: { reference: `Patient/${patient}` },
    onsetDateTime: onset || undefined,
    recordedDate: new Date().toISOString().slice(0, 10),
    recorder,
  };
}

export function allergyResource(
  patient: string,
  code: Coding | undefined,
  text: string,
  category: 'medication' | 'food' | 'environment' | 'biologic',
  criticality: 'low' | 'high' | 'unable-to-assess',
  reaction: string,
  recorder?: Actor,
): AllergyIntolerance {
  return {
    resourceType: 'AllergyIntolerance',
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
    verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: 'confirmed' }] },
    type: 'allergy',
    category: [category],
    criticality,
    code: { coding: code ? [code] : undefined, text: code?.display ?? text },
    patient: { reference: `Patient/${patient}` },
    recordedDate: new Date().toISOString(),
    recorder,
    reaction: reaction ? [{ manifestation: [{ text: reaction }] }] : undefined,
  };
}

export interface SigInput {
  dose: string; // "1 tablet"
  route: string; // "by mouth"
  frequency: string; // key of FREQUENCIES
  days?: number;
  asNeeded?: boolean;
  indication?: string;
}

export const FREQUENCIES: Record<string, { text: string; frequency: number; period: number; unit: 'd' | 'h'; when?: string }> = {
  daily: { text: 'once daily', frequency: 1, period: 1, unit: 'd' },
  bid: { text: 'twice daily', frequency: 2, period: 1, unit: 'd' },
  tid: { text: 'three times daily', frequency: 3, period: 1, unit: 'd' },
  qid: { text: 'four times daily', frequency: 4, period: 1, unit: 'd' },
  q8h: { text: 'every 8 hours', frequency: 1, period: 8, unit: 'h' },
  q12h: { text: 'every 12 hours', frequency: 1, period: 12, unit: 'h' },
  hs: { text: 'at bedtime', frequency: 1, period: 1, unit: 'd', when: 'HS' },
  weekly: { text: 'once weekly', frequency: 1, period: 7, unit: 'd' },
};

/** "Take 1 tablet by mouth twice daily for 10 days" */
export function sigText(s: SigInput): string {
  const f = FREQUENCIES[s.frequency];
  return [
    `Take ${s.dose.trim()}`,
    s.route.trim(),
    f?.text ?? s.frequency,
    s.asNeeded ? 'as needed' + (s.indication ? ` for ${s.indication}` : '') : s.indication ? `for ${s.indication}` : '',
    s.days ? `for ${s.days} days` : '',
  ]
    .filter(Boolean)
    .join(' ');
}

export function medicationRequest(
  patient: string,
  drug: Coding,
  sig: SigInput,
  requester: Actor | undefined,
  overrideReason?: string,
): MedicationRequest {
  const f = FREQUENCIES[sig.frequency];
  return {
    resourceType: 'MedicationRequest',
    status: 'active',
    intent: 'order',
    medicationCodeableConcept: { coding: [drug], text: drug.display },
    subject: { reference: `Patient/${patient}` },
    authoredOn: new Date().toISOString(),
    requester,
    dosageInstruction: [
      {
        text: sigText(sig),
        asNeededBoolean: sig.asNeeded || undefined,
        timing: f
          ? { repeat: { frequency: f.frequency, period: f.period, periodUnit: f.unit, when: f.when ? [f.when as 'HS'] : undefined, boundsDuration: sig.days ? { value: sig.days, unit: 'd', system: 'http://unitsofmeasure.org', code: 'd' } : undefined } }
          : undefined,
        route: sig.route ? { text: sig.route } : undefined,
      },
    ],
    // Why the prescriber went ahead despite an allergy warning: kept with the order.
    note: overrideReason ? [{ text: `Allergy warning overridden: ${overrideReason}` }] : undefined,
  };
}

function base64Utf8(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

export const NOTE_TYPES: Record<string, { code: string; display: string; template: string }> = {
  progress: { code: '11506-3', display: 'Progress note', template: 'Subjective:\n\nObjective:\n\nAssessment:\n\nPlan:\n' },
  consult: { code: '11488-4', display: 'Consult note', template: 'Reason for consultation:\n\nFindings:\n\nRecommendations:\n' },
  phone: { code: '34748-4', display: 'Telephone encounter note', template: 'Caller and reason:\n\nAdvice given:\n' },
};

export function noteResource(patient: string, type: keyof typeof NOTE_TYPES, title: string, text: string, author?: Actor): DocumentReference {
  const t = NOTE_TYPES[type];
  return {
    resourceType: 'DocumentReference',
    status: 'current',
    docStatus: 'final',
    type: { coding: [{ system: LOINC, code: t.code, display: t.display }], text: t.display },
    category: [{ coding: [{ system: 'http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category', code: 'clinical-note', display: 'Clinical Note' }] }],
    subject: { reference: `Patient/${patient}` },
    date: new Date().toISOString(),
    author: author ? [author] : undefined,
    description: title || t.display,
    content: [{ attachment: { contentType: 'text/plain; charset=utf-8', data: base64Utf8(text), title: title || t.display } }],
  };
}

/** A care plan with its goals, as one transaction (the plan references the goals by urn:uuid). */
export function carePlanTransaction(patient: string, title: string, description: string, goals: string[], author?: Actor, uuid: () => string = () => crypto.randomUUID()): Bundle {
  const goalEntries = goals
    .map((g) => g.trim())
    .filter(Boolean)
    .map((g) => ({
      fullUrl: `urn:uuid:${uuid()}`,
      resource: {
        resourceType: 'Goal',
        lifecycleStatus: 'active',
        description: { text: g },
        subject: { reference: `Patient/${patient}` },
        startDate: new Date().toISOString().slice(0, 10),
      } as Goal,
    }));
  const plan: CarePlan = {
    resourceType: 'CarePlan',
    status: 'active',
    intent: 'plan',
    title,
    description: description || undefined,
    subject: { reference: `Patient/${patient}` },
    period: { start: new Date().toISOString().slice(0, 10) },
    created: new Date().toISOString(),
    author,
    category: [{ coding: [{ system: 'http://hl7.org/fhir/us/core/CodeSystem/careplan-category', code: 'assess-plan' }] }],
    goal: goalEntries.map((g) => ({ reference: g.fullUrl })),
  };
  return transaction([...goalEntries, { resource: plan, fullUrl: `urn:uuid:${uuid()}` }]);
}

export function labOrder(patient: string, test: Coding, priority: 'routine' | 'urgent' | 'stat', note: string, requester?: Actor): ServiceRequest {
  return {
    resourceType: 'ServiceRequest',
    status: 'active',
    intent: 'order',
    priority,
    category: [{ coding: [{ system: SNOMED, code: '108252007', display: 'Laboratory procedure' }] }],
    code: { coding: [test], text: test.display },
    subject: { reference: `Patient/${patient}` },
    authoredOn: new Date().toISOString(),
    requester,
    note: note ? [{ text: note }] : undefined,
  };
}

/** A referral: the ServiceRequest to the other facility and the Task that tracks it there. */
export function referralTransaction(
  patient: string,
  to: { id: string; name: string },
  specialty: string,
  reason: string,
  priority: 'routine' | 'urgent',
  requester?: Actor,
  uuid: () => string = () => crypto.randomUUID(),
): Bundle {
  const srUrl = `urn:uuid:${uuid()}`;
  const org = { reference: `Organization/${to.id}`, display: to.name };
  const sr: ServiceRequest = {
    resourceType: 'ServiceRequest',
    status: 'active',
    intent: 'order',
    priority,
    category: [{ coding: [{ system: SNOMED, code: '3457005', display: 'Patient referral' }] }],
    code: { text: `Referral to ${specialty || to.name}` },
    subject: { reference: `Patient/${patient}` },
    authoredOn: new Date().toISOString(),
    requester,
    performer: [org],
    reasonCode: reason ? [{ text: reason }] : undefined,
  };
  const task: Task = {
    resourceType: 'Task',
    status: 'requested',
    intent: 'order',
    priority,
    code: { coding: [{ system: 'http://hl7.org/fhir/CodeSystem/task-code', code: 'fulfill', display: 'Fulfill the focal request' }] },
    description: `Referral to ${to.name}${reason ? ': ' + reason : ''}`,
    focus: { reference: srUrl },
    basedOn: [{ reference: srUrl }],
    for: { reference: `Patient/${patient}` },
    authoredOn: new Date().toISOString(),
    requester,
    owner: org,
  };
  return transaction([
    { resource: sr, fullUrl: srUrl },
    { resource: task, fullUrl: `urn:uuid:${uuid()}` },
  ]);
}
