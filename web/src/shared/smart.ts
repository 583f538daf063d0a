// SMART App Launch (standalone, authorization code + PKCE) for Carechart's own web apps.
// The contract (client ids, scopes, token response) is in docs/web-apps.md. Tokens are kept in
// memory and in sessionStorage (this tab only, gone when it closes): never in localStorage.
import { codeChallenge, randomString } from './pkce';

export interface Facility {
  id: string;
  name: string;
}

export interface Session {
  accessToken: string;
  refreshToken?: string;
  expiresAt: number; // ms since epoch
  scope: string;
  patient?: string; // patient users and proxies: the record in context
  fhirUser?: string; // e.g. "Practitioner/pr-1" (from the id_token)
  userName?: string; // display name from the id_token
  facility?: Facility; // staff: where they work this session
  clientId: string;
}

export interface SmartConfig {
  clientId: string; // carechart-clinician | carechart-portal
  redirectPath: string; // "/" | "/portal/"
  scope: string;
  fhirBase?: string; // default: this origin + /fhir
}

interface Endpoints {
  authorize: string;
  token: string;
  revoke: string;
}

const SESSION_KEY = (clientId: string) => `carechart.session.${clientId}`;
const PENDING_KEY = (clientId: string) => `carechart.pending.${clientId}`;

let current: Session | null = null;
const listeners = new Set<(s: Session | null) => void>();

export function fhirBaseOf(config: SmartConfig): string {
  return config.fhirBase ?? `${window.location.origin}/fhir`;
}

function redirectUri(config: SmartConfig): string {
  return `${window.location.origin}${config.redirectPath}`;
}

async function endpoints(config: SmartConfig): Promise<Endpoints> {
  const origin = window.location.origin;
  const fallback = {
    authorize: `${origin}/auth/authorize`,
    token: `${origin}/auth/token`,
    revoke: `${origin}/auth/revoke`,
  };
  try {
    const r = await fetch(`${fhirBaseOf(config)}/.well-known/smart-configuration`, {
      headers: { Accept: 'application/json' },
    });
    if (!r.ok) return fallback;
    const c = await r.json();
    return {
      authorize: c.authorization_endpoint ?? fallback.authorize,
      token: c.token_endpoint ?? fallback.token,
      revoke: c.revocation_endpoint ?? fallback.revoke,
    };
  } catch {
    return fallback;
  }
}

/** Decodes a JWT's payload without verifying it (the server verified it; we only read claims). */
export function jwtClaims(jwt: string): Record<string, unknown> {
  const part = jwt.split('.')[1];
  if (!part) return {};
  try {
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return {};
  }
}

/** Builds a Session from a token endpoint response. */
export function sessionFromTokenResponse(
  body: Record<string, unknown>,
  clientId: string,
  now = Date.now(),
  previous?: Session,
): Session {
  const idClaims = typeof body.id_token === 'string' ? jwtClaims(body.id_token) : {};
  let fhirUser = (idClaims.fhirUser as string | undefined) ?? previous?.fhirUser;
  if (fhirUser) {
    const m = /([A-Za-z]+\/[A-Za-z0-9\-.]+)$/.exec(fhirUser); // absolute URL → Type/id
    if (m) fhirUser = m[1];
  }
  const facility = body.facility as Facility | undefined;
  return {
    accessToken: String(body.access_token),
    refreshToken: (body.refresh_token as string | undefined) ?? previous?.refreshToken,
    expiresAt: now + Number(body.expires_in ?? 3600) * 1000,
    scope: String(body.scope ?? previous?.scope ?? ''),
    patient: (body.patient as string | undefined) ?? previous?.patient,
    fhirUser,
    userName: (idClaims.name as string | undefined) ?? previous?.userName,
    facility: facility?.id ? facility : previous?.facility,
    clientId,
  };
}

function store(s: Session | null, clientId: string) {
  current = s;
  if (s) sessionStorage.setItem(SESSION_KEY(clientId), JSON.stringify(s));
  else sessionStorage.removeItem(SESSION_KEY(clientId));
  listeners.forEach((l) => l(s));
}

export function getSession(clientId: string): Session | null {
  if (current && current.clientId === clientId) return current;
  const raw = sessionStorage.getItem(SESSION_KEY(clientId));
  if (!raw) return null;
  try {
    current = JSON.parse(raw) as Session;
    return current;
  } catch {
    return null;
  }
}

export function onSessionChange(l: (s: Session | null) => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

/** Sends the browser to the sign-in page. `returnTo` is where the app goes after signing in. */
export async function startSignIn(config: SmartConfig, returnTo?: string): Promise<void> {
  const ep = await endpoints(config);
  const verifier = randomString(48);
  const state = randomString(16);
  sessionStorage.setItem(
    PENDING_KEY(config.clientId),
    JSON.stringify({
      state,
      verifier,
      returnTo: returnTo ?? window.location.pathname + window.location.search,
    }),
  );
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: redirectUri(config),
    scope: config.scope,
    state,
    aud: fhirBaseOf(config),
    code_challenge: await codeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  window.location.assign(`${ep.authorize}?${q}`);
}

export class SignInError extends Error {}

/**
 * If the URL carries ?code=&state= (or ?error=) from the sign-in page, exchanges the code and
 * returns the new session and where to go; otherwise returns null.
 */
export async function completeSignIn(
  config: SmartConfig,
): Promise<{ session: Session; returnTo: string } | null> {
  const params = new URLSearchParams(window.location.search);
  const code = params.get('code');
  const error = params.get('error');
  if (!code && !error) return null;
  const pendingRaw = sessionStorage.getItem(PENDING_KEY(config.clientId));
  sessionStorage.removeItem(PENDING_KEY(config.clientId));
  if (error) {
    throw new SignInError(
      `Sign-in was not completed (${error}${params.get('error_description') ? ': ' + params.get('error_description') : ''}). Sign in again.`,
    );
  }
  if (!pendingRaw) throw new SignInError('This sign-in link was already used or has expired. Sign in again.');
  const pending = JSON.parse(pendingRaw) as { state: string; verifier: string; returnTo: string };
  if (params.get('state') !== pending.state) {
    throw new SignInError('The sign-in answer does not match the request (state). Sign in again.');
  }
  const ep = await endpoints(config);
  const r = await fetch(ep.token, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: code!,
      redirect_uri: redirectUri(config),
      client_id: config.clientId,
      code_verifier: pending.verifier,
    }),
  });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) {
    throw new SignInError(
      `The server refused the sign-in (${r.status} ${body.error ?? ''}: ${body.error_description ?? 'no detail'}). Sign in again.`,
    );
  }
  const session = sessionFromTokenResponse(body, config.clientId);
  store(session, config.clientId);
  return { session, returnTo: pending.returnTo || config.redirectPath };
}

let refreshing: Promise<Session | null> | null = null;

/** Uses the refresh token (rotated by the server at every use). Null when it cannot. */
export function refreshSession(config: SmartConfig): Promise<Session | null> {
  if (refreshing) return refreshing;
  const s = getSession(config.clientId);
  if (!s?.refreshToken) return Promise.resolve(null);
  refreshing = (async () => {
    try {
      const ep = await endpoints(config);
      const r = await fetch(ep.token, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: s.refreshToken!,
          client_id: config.clientId,
        }),
      });
      if (!r.ok) {
        store(null, config.clientId);
        return null;
      }
      const next = sessionFromTokenResponse(await r.json(), config.clientId, Date.now(), s);
      store(next, config.clientId);
      return next;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

/** A valid access token, refreshed when it expires within a minute; null: sign in again. */
export async function accessToken(config: SmartConfig): Promise<string | null> {
  const s = getSession(config.clientId);
  if (!s) return null;
  if (s.expiresAt - Date.now() > 60_000) return s.accessToken;
  return (await refreshSession(config))?.accessToken ?? null;
}

/** Revokes the refresh and access tokens, forgets the session and returns to the sign-in page. */
export async function signOut(config: SmartConfig): Promise<void> {
  const s = getSession(config.clientId);
  if (s) {
    const ep = await endpoints(config);
    for (const token of [s.refreshToken, s.accessToken]) {
      if (!token) continue;
      try {
        await fetch(ep.revoke, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ token, client_id: config.clientId }),
        });
      } catch {
        // Revocation is best effort: the session is forgotten here whatever the server says.
      }
    }
  }
  store(null, config.clientId);
}

/** Forgets the session (e.g. after a 401 that a refresh could not cure). */
export function dropSession(config: SmartConfig): void {
  store(null, config.clientId);
}
