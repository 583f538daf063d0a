import { describe, expect, it } from 'vitest';
import type { CarePlan, ServiceRequest, Task } from '@medplum/fhirtypes';
import { carePlanTransaction, medicationRequest, noteResource, referralTransaction, sigText, vitalsErrors, vitalsObservations } from './builders';

describe('charting builders', () => {
  it('vitals: BP as one panel, BMI computed, LOINC + UCUM', () => {
    const obs = vitalsObservations('p1', { systolic: 142, diastolic: 88, weight: 70, height: 158 }, '2026-11-01T10:00:00Z');
    const codes = obs.map((o) => o.code.coding?.[0].code);
    expect(codes).toEqual(['85354-9', '8302-2', '29463-7', '39156-5']);
    expect(obs[0].component?.map((c) => c.valueQuantity?.value)).toEqual([142, 88]);
    expect(obs[3].valueQuantity?.value).toBe(28);
    expect(obs.every((o) => o.subject?.reference === 'Patient/p1' && o.category?.[0].coding?.[0].code === 'vital-signs')).toBe(true);
  });

  it('vitals: implausible values and half a blood pressure are refused with what to check', () => {
    expect(vitalsErrors({ weight: 700 }).weight).toMatch(/0.3–400 kg/);
    expect(vitalsErrors({ systolic: 120 }).diastolic).toMatch(/both/);
    expect(vitalsErrors({ systolic: 80, diastolic: 90 }).diastolic).toMatch(/lower/);
    expect(vitalsErrors({ systolic: 120, diastolic: 80, pulse: 70 })).toEqual({});
  });

  it('sig text and structured timing', () => {
    const sig = { dose: '1 tablet', route: 'by mouth', frequency: 'bid', days: 10 };
    expect(sigText(sig)).toBe('Take 1 tablet by mouth twice daily for 10 days');
    expect(sigText({ dose: '2 puffs', route: 'inhaled', frequency: 'qid', asNeeded: true, indication: 'wheeze' })).toBe('Take 2 puffs inhaled four times daily as needed for wheeze');
    const mr = medicationRequest('p1', { system: 'rx', code: '860975', display: 'metformin' }, sig, { reference: 'Practitioner/d' }, 'benefit outweighs risk');
    expect(mr.dosageInstruction?.[0].timing?.repeat).toMatchObject({ frequency: 2, period: 1, periodUnit: 'd' });
    expect(mr.note?.[0].text).toMatch(/overridden: benefit/);
    expect(mr.status).toBe('active');
  });

  it('note text is UTF-8 base64', () => {
    const n = noteResource('p1', 'progress', 'Visit', 'Glucosa élevée');
    const bin = atob(n.content[0].attachment.data!);
    expect(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)))).toBe('Glucosa élevée');
    expect(n.type?.coding?.[0].code).toBe('11506-3');
  });

  it('care plan references its goals inside one transaction', () => {
    let n = 0;
    const b = carePlanTransaction('p1', 'Diabetes', '', ['HbA1c < 7%', ' ', 'Walk daily'], undefined, () => `u${++n}`);
    expect(b.type).toBe('transaction');
    expect(b.entry?.map((e) => e.resource?.resourceType)).toEqual(['Goal', 'Goal', 'CarePlan']);
    const plan = b.entry![2].resource as CarePlan;
    expect(plan.goal?.map((g) => g.reference)).toEqual([b.entry![0].fullUrl, b.entry![1].fullUrl]);
  });

  it('referral: ServiceRequest to the facility and a Task it owns, linked', () => {
    let n = 0;
    const b = referralTransaction('p1', { id: 'lakeside', name: 'Lakeside Endocrinology' }, 'Endocrinology', 'HbA1c rising', 'routine', undefined, () => `u${++n}`);
    const sr = b.entry![0].resource as ServiceRequest;
    const task = b.entry![1].resource as Task;
    expect(sr.performer?.[0].reference).toBe('Organization/lakeside');
    expect(sr.category?.[0].coding?.[0].code).toBe('3457005');
    expect(task.focus?.reference).toBe(b.entry![0].fullUrl);
    expect(task.owner?.reference).toBe('Organization/lakeside');
    expect(task.status).toBe('requested');
    expect(b.entry!.every((e) => e.request?.method === 'POST')).toBe(true);
  });
});
