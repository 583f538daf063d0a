// A small typed FHIR R4 client over fetch: search with paging, read, create, update with
// If-Match, operations. Every failure becomes a FhirError that says what failed, where (the
// OperationOutcome's expression/location) and what to do; nothing is swallowed.
import type { Bundle, OperationOutcome, Resource, ResourceType } from '@medplum/fhirtypes';

export type { Bundle, OperationOutcome, Resource };

export interface FhirIssue {
  severity: string;
  code: string;
  text: string;
  path?: string;
}

export class FhirError extends Error {
  constructor(
    public readonly status: number,
    public readonly method: string,
    public readonly url: string,
    public readonly issues: FhirIssue[],
    public readonly outcome?: OperationOutcome,
  ) {
    super(FhirError.summary(status, method, url, issues));
    this.name = 'FhirError';
  }

  /** What the user should do next, by status. */
  get whatToDo(): string {
    return whatToDo(this.status);
  }

  static summary(status: number, method: string, url: string, issues: FhirIssue[]): string {
    const what = issues.length
      ? issues.map((i) => (i.path ? `${i.path}: ${i.text}` : i.text)).join('; ')
      : statusText(status);
    return `${method} ${shortUrl(url)} failed (${status || 'network'}): ${what}`;
  }
}

function shortUrl(url: string): string {
  const i = url.indexOf('/fhir/');
  return i >= 0 ? url.slice(i + 6) : url;
}

function statusText(status: number): string {
  switch (status) {
    case 0:
      return 'the server could not be reached';
    case 401:
      return 'not signed in, or the session expired';
    case 403:
      return 'not allowed';
    case 404:
      return 'not found';
    case 409:
    case 412:
      return 'someone else changed this record meanwhile';
    case 422:
      return 'the data was not accepted';
    default:
      return `HTTP ${status}`;
  }
}

export function whatToDo(status: number): string {
  if (status === 0) return 'Check the network connection and that the Carechart server is running, then try again.';
  if (status === 401) return 'Sign in again.';
  if (status === 403)
    return 'You have no access to this. If this is an emergency, use emergency access on the chart; otherwise ask the patient\u2019s care team or your administrator.';
  if (status === 404) return 'Check the link or search again; the record may have been removed.';
  if (status === 409 || status === 412) return 'Reload to see the latest version, then make your change again.';
  if (status === 400 || status === 422) return 'Correct the highlighted field and save again.';
  if (status === 429) return 'Too many attempts: wait a minute, then try again.';
  if (status >= 500) return 'The server had a problem. Try again; if it persists, tell your administrator.';
  return 'Try again.';
}

/** Issues of an OperationOutcome, each with its path (expression, else location). */
export function issuesOf(outcome: OperationOutcome | undefined): FhirIssue[] {
  return (outcome?.issue ?? []).map((i) => ({
    severity: i.severity ?? 'error',
    code: i.code ?? 'unknown',
    text: i.diagnostics ?? i.details?.text ?? i.details?.coding?.[0]?.display ?? i.code ?? 'error',
    path: i.expression?.[0] ?? i.location?.[0],
  }));
}

export interface ClientOptions {
  baseUrl: string; // e.g. http://localhost:8080/fhir
  token: () => Promise<string | null>;
  onUnauthorized?: () => Promise<boolean>; // true: retry once (e.g. refreshed)
  facilityId?: () => string | undefined; // sent as X-Carechart-Facility
  onResponse?: (r: Response) => void; // e.g. to notice X-Carechart-Emergency-Access
  fetchImpl?: typeof fetch;
}

export interface SearchPage<T extends Resource> {
  resources: T[];
  included: Resource[];
  total?: number;
  next?: string;
  bundle: Bundle;
}

export type SearchParams = Record<string, string | number | undefined | (string | number)[]>;

export function queryString(params: SearchParams): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === '') continue;
    for (const one of Array.isArray(v) ? v : [v]) q.append(k, String(one));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

export class FhirClient {
  constructor(private readonly options: ClientOptions) {}

  get baseUrl(): string {
    return this.options.baseUrl;
  }

  private url(path: string): string {
    if (/^https?:/.test(path)) return path;
    return path ? `${this.options.baseUrl}/${path.replace(/^\//, '')}` : this.options.baseUrl;
  }

  /** One HTTP exchange; throws FhirError on any failure. */
  async request<T>(method: string, path: string, body?: unknown, extraHeaders?: Record<string, string>): Promise<{ body: T; response: Response }> {
    const url = this.url(path);
    const doFetch = async () => {
      const headers: Record<string, string> = { Accept: 'application/fhir+json', ...extraHeaders };
      const token = await this.options.token();
      if (token) headers.Authorization = `Bearer ${token}`;
      const facility = this.options.facilityId?.();
      if (facility) headers['X-Carechart-Facility'] = facility;
      if (body !== undefined) headers['Content-Type'] = 'application/fhir+json';
      return (this.options.fetchImpl ?? fetch)(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    };
    let response: Response;
    try {
      response = await doFetch();
      if (response.status === 401 && this.options.onUnauthorized && (await this.options.onUnauthorized())) {
        response = await doFetch();
      }
    } catch (e) {
      throw new FhirError(0, method, url, [
        { severity: 'error', code: 'exception', text: `the server could not be reached (${(e as Error).message})` },
      ]);
    }
    this.options.onResponse?.(response);
    const text = await response.text();
    let parsed: unknown = undefined;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    if (!response.ok) {
      const outcome =
        parsed && (parsed as Resource).resourceType === 'OperationOutcome' ? (parsed as OperationOutcome) : undefined;
      const issues = issuesOf(outcome);
      if (!issues.length && text && !outcome) {
        issues.push({ severity: 'error', code: 'exception', text: text.slice(0, 200) });
      }
      throw new FhirError(response.status, method, url, issues, outcome);
    }
    return { body: parsed as T, response };
  }

  async read<T extends Resource>(type: ResourceType, id: string): Promise<T> {
    return (await this.request<T>('GET', `${type}/${encodeURIComponent(id)}`)).body;
  }

  /** Reads "Type/id". */
  async readReference<T extends Resource>(reference: string): Promise<T> {
    return (await this.request<T>('GET', reference)).body;
  }

  async searchPage<T extends Resource>(type: string, params: SearchParams = {}): Promise<SearchPage<T>> {
    return this.page<T>(`${type}${queryString(params)}`, type);
  }

  /** Follows a `next` link. */
  async nextPage<T extends Resource>(next: string, type: string): Promise<SearchPage<T>> {
    return this.page<T>(next, type);
  }

  private async page<T extends Resource>(path: string, type: string): Promise<SearchPage<T>> {
    const { body } = await this.request<Bundle>('GET', path);
    const entries = body.entry ?? [];
    const want = type.includes('/') ? undefined : type; // compartment search: keep all matches
    const resources = entries
      .filter((e) => e.resource && (e.search?.mode ?? 'match') === 'match' && (!want || e.resource.resourceType === want))
      .map((e) => e.resource as T);
    const included = entries.filter((e) => e.resource && e.search?.mode === 'include').map((e) => e.resource!);
    const next = body.link?.find((l) => l.relation === 'next')?.url;
    return { resources, included, total: body.total, next, bundle: body };
  }

  /** Every match, following `next` links up to `maxPages` pages. */
  async searchAll<T extends Resource>(type: string, params: SearchParams = {}, maxPages = 20): Promise<T[]> {
    let page = await this.searchPage<T>(type, params);
    const out = [...page.resources];
    for (let i = 1; page.next && i < maxPages; i++) {
      page = await this.nextPage<T>(page.next, type);
      out.push(...page.resources);
    }
    return out;
  }

  async create<T extends Resource>(resource: T): Promise<T> {
    return (await this.request<T>('POST', resource.resourceType, resource)).body;
  }

  /** Update with If-Match on the version read, so a concurrent change is refused (412), not lost. */
  async update<T extends Resource>(resource: T): Promise<T> {
    const headers: Record<string, string> = {};
    const v = resource.meta?.versionId;
    if (v) headers['If-Match'] = `W/"${v}"`;
    return (await this.request<T>('PUT', `${resource.resourceType}/${resource.id}`, resource, headers)).body;
  }

  /** POST an operation, e.g. operation('Patient/1/$emergency-access', parameters). */
  async operation<T>(path: string, parameters?: unknown, method: 'GET' | 'POST' = 'POST'): Promise<{ body: T; response: Response }> {
    return this.request<T>(method, path, method === 'POST' ? parameters : undefined);
  }

  /** A transaction or batch Bundle. */
  async transaction(bundle: Bundle): Promise<Bundle> {
    return (await this.request<Bundle>('POST', '', bundle)).body;
  }
}
