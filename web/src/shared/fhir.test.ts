import { describe, expect, it } from 'vitest';
import { FhirClient, FhirError, queryString } from './fhir';

function fakeFetch(status: number, body: unknown, seen: Request[] = []): typeof fetch {
  return (async (url: RequestInfo | URL, init?: RequestInit) => {
    seen.push(new Request(String(url), init));
    return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/fhir+json' } });
  }) as typeof fetch;
}

describe('FHIR client', () => {
  it('turns an OperationOutcome into an error with path and what to do', async () => {
    const client = new FhirClient({
      baseUrl: 'http://h/fhir',
      token: async () => 't',
      fetchImpl: fakeFetch(422, {
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', code: 'required', diagnostics: 'value is required', expression: ['Observation.valueQuantity.value'] }],
      }),
    });
    const err = await client.create({ resourceType: 'Observation', status: 'final', code: {} }).catch((e) => e);
    expect(err).toBeInstanceOf(FhirError);
    expect(err.status).toBe(422);
    expect(err.issues[0].path).toBe('Observation.valueQuantity.value');
    expect(err.message).toContain('Observation.valueQuantity.value: value is required');
    expect(err.whatToDo).toMatch(/Correct/);
  });

  it('sends the token, the facility and If-Match on update', async () => {
    const seen: Request[] = [];
    const client = new FhirClient({ baseUrl: 'http://h/fhir', token: async () => 'tok', facilityId: () => 'riverside', fetchImpl: fakeFetch(200, { resourceType: 'Patient', id: '1' }, seen) });
    await client.update({ resourceType: 'Patient', id: '1', meta: { versionId: '3' } });
    expect(seen[0].method).toBe('PUT');
    expect(seen[0].url).toBe('http://h/fhir/Patient/1');
    expect(seen[0].headers.get('Authorization')).toBe('Bearer tok');
    expect(seen[0].headers.get('X-Carechart-Facility')).toBe('riverside');
    expect(seen[0].headers.get('If-Match')).toBe('W/"3"');
  });

  it('pages: matches apart from includes, next link followed', async () => {
    let n = 0;
    const pages = [
      { resourceType: 'Bundle', type: 'searchset', link: [{ relation: 'next', url: 'http://h/fhir/Patient?page=2' }], entry: [{ resource: { resourceType: 'Patient', id: 'a' }, search: { mode: 'match' } }, { resource: { resourceType: 'Organization', id: 'o' }, search: { mode: 'include' } }] },
      { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: { resourceType: 'Patient', id: 'b' }, search: { mode: 'match' } }] },
    ];
    const client = new FhirClient({ baseUrl: 'http://h/fhir', token: async () => null, fetchImpl: (async () => new Response(JSON.stringify(pages[n++]))) as typeof fetch });
    const all = await client.searchAll('Patient', { name: 'lo' });
    expect(all.map((p) => p.id)).toEqual(['a', 'b']);
  });

  it('a network failure is an error too, with status 0', async () => {
    const client = new FhirClient({ baseUrl: 'http://h/fhir', token: async () => null, fetchImpl: (async () => { throw new TypeError('Failed to fetch'); }) as typeof fetch });
    const err = await client.read('Patient', 'x').catch((e) => e);
    expect(err.status).toBe(0);
    expect(err.whatToDo).toMatch(/network/);
  });

  it('query strings skip empty values and repeat arrays', () => {
    expect(queryString({ a: 'x', b: undefined, c: '', d: [1, 2] })).toBe('?a=x&d=1&d=2');
  });
});
