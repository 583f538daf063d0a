// The browser-test harness for the web apps (#8 clinician app at /, #9 patient portal at /portal).
// It starts a real Carechart with the demo data on a free port (tests/conformance/server.mjs),
// reads the demo users' passwords, makes more users through the CLI, drives Debian's Chromium
// (/usr/bin/chromium, never a downloaded browser) with playwright-core, signs in through the real
// sign-in page, and saves screenshots under test-artifacts/web/ (git-ignored).
//
//   import { startWebServer, launchBrowser, signIn, screenshot } from './harness.mjs';
//   const web = await startWebServer();                 // --demo; web.logins.doctor / .maria
//   const browser = await launchBrowser();               // null (and a reason) without chromium
//   const page = await browser.newPage();
//   await page.goto(web.origin + '/');                   // the app redirects to /auth/authorize
//   await signIn(page, web.logins.doctor, { facility: 'Riverside Primary Care' });
//   await screenshot(page, 'clinician-home');
//
// See docs/web-apps.md for the contract between the apps and the server.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import crypto from 'node:crypto';
import path from 'node:path';
import { after, before } from 'node:test';
import { REPO_ROOT, runCli, startServer } from '../conformance/server.mjs';

export const CHROMIUM = process.env.CARECHART_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts', 'web');
export const CLINICIAN_CLIENT = 'carechart-clinician';
export const PORTAL_CLIENT = 'carechart-portal';
export const CLINICIAN_SCOPE = 'openid fhirUser offline_access user/*.cruds';
export const PORTAL_SCOPE = 'openid fhirUser offline_access launch/patient patient/*.cruds';

/** Why browser tests cannot run here, or false when they can (for `test(..., { skip })`). */
export function browserUnavailable() {
  if (!existsSync(CHROMIUM)) return `no browser at ${CHROMIUM} (scripts/install-deps.sh installs Debian's chromium)`;
  try {
    import.meta.resolve('playwright-core');
  } catch {
    return 'playwright-core is not installed (npm ci at the repository root)';
  }
  return false;
}

/**
 * Starts `carechart serve --demo` (25 patients, the web stories, demo users). Returns the
 * conformance Server (server.request/get/post..., server.db, server.origin) with:
 *   logins: { doctor: { username, password }, maria: { username, password } }
 */
export async function startWebServer({ args = [], timeoutMs = 180000 } = {}) {
  const server = await startServer({ args: ['--demo', ...args], timeoutMs });
  const text = readFileSync(path.join(path.dirname(server.db), 'demo-logins.txt'), 'utf8');
  const logins = {};
  for (const line of text.split('\n')) {
    const [username, password] = line.trim().split(/\s+/);
    if (username && password) logins[username] = { username, password };
  }
  server.logins = { doctor: logins['demo-doctor'], maria: logins.maria };
  if (!server.logins.doctor || !server.logins.maria) {
    throw new Error(`demo-logins.txt lacks the demo users: ${text}`);
  }
  return server;
}

/**
 * Registers the before/after hooks of a browser test file: one demo server (startWebServer) and
 * one Chromium for the whole file, both stopped afterwards. Returns { skip, server, browser };
 * server and browser are set once `before` has run. `setup(web)` runs after both have started.
 */
export function useWebSession({ serverOptions, setup } = {}) {
  const web = { skip: browserUnavailable(), server: undefined, browser: undefined };
  before(async () => {
    if (web.skip) return;
    web.server = await startWebServer(serverOptions);
    web.browser = await launchBrowser();
    await setup?.(web);
  });
  after(async () => {
    await web.browser?.close();
    await web.server?.stop?.();
  });
  return web;
}

/**
 * Adds a user through the CLI with a known password. Options: role (physician, nurse, patient,
 * proxy...), facilities [], practitioner, patient, proxyFor []. Returns { username, password }.
 */
export function createUser(server, username, { role = 'physician', facilities = [], practitioner, patient, proxyFor = [], password } = {}) {
  const pw = password ?? crypto.randomBytes(12).toString('base64url');
  const args = ['user', 'add', username, '--db', server.db, '--role', role, '--password-stdin'];
  for (const f of facilities) args.push('--facility', f);
  if (practitioner) args.push('--practitioner', practitioner);
  if (patient) args.push('--patient', patient);
  for (const p of proxyFor) args.push('--proxy-for', p);
  runCli(args, { input: `${pw}\n` });
  return { username, password: pw };
}

/** Headless Chromium through playwright-core, flags that work as root in CI. */
export async function launchBrowser() {
  const why = browserUnavailable();
  if (why) throw new Error(why);
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run'],
  });
}

/**
 * Signs in on Carechart's sign-in page (the page must be showing it): username and password,
 * then the facility step when it appears (`facility`: the facility's name or id; default the
 * first). Resolves when the browser has left /auth/authorize.
 */
export async function signIn(page, { username, password }, { facility } = {}) {
  await page.waitForSelector('input[name=username]');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Sign in' }).click()]);
  if (await page.locator('input[name=facility]').count()) {
    const choice = facility
      ? page.locator('label.choice', { hasText: facility }).or(page.locator(`input[name=facility][value="${facility}"]`))
      : page.locator('input[name=facility]').first();
    await choice.first().click();
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Continue' }).click()]);
  }
  await page.waitForURL((url) => !url.pathname.startsWith('/auth/'), { timeout: 15000 });
}

/** Saves a full-page PNG as test-artifacts/web/NAME.png; returns its path. */
export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name.replace(/[^a-z0-9._-]+/gi, '-')}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** A PKCE pair (RFC 7636, S256). */
export function pkce() {
  const verifier = crypto.randomBytes(32).toString('base64url');
  return { verifier, challenge: crypto.createHash('sha256').update(verifier).digest('base64url') };
}

/** The /auth/authorize URL a web app sends the browser to (docs/web-apps.md). */
export function authorizeUrl(server, { clientId = CLINICIAN_CLIENT, scope, state = crypto.randomBytes(8).toString('hex'), challenge }) {
  const redirect = `${server.origin}${clientId === PORTAL_CLIENT ? '/portal/' : '/'}`;
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirect,
    scope: scope ?? (clientId === PORTAL_CLIENT ? PORTAL_SCOPE : CLINICIAN_SCOPE),
    state,
    aud: server.fhirBase,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  return { url: `${server.origin}/auth/authorize?${q}`, redirect, state };
}

/**
 * The whole first-party sign-in as the SPA does it, with a real browser for the sign-in page:
 * authorize → sign in (and pick a facility) → back at the app with ?code → POST /auth/token.
 * Returns the token response (access_token, refresh_token, patient, facility ...).
 */
export async function browserSignIn(page, server, login, { clientId = CLINICIAN_CLIENT, scope, facility } = {}) {
  const { verifier, challenge } = pkce();
  const { url, redirect, state } = authorizeUrl(server, { clientId, scope, challenge });
  // The app's own page would exchange the code itself: answer the redirect with a stub instead.
  const back = new URL(redirect);
  await page.route(
    (u) => u.pathname === back.pathname && u.searchParams.has('code'),
    (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>Carechart: signed in</title>' }),
  );
  await page.goto(url);
  await signIn(page, login, { facility });
  const landed = new URL(page.url());
  if (`${landed.origin}${landed.pathname}` !== redirect) throw new Error(`sign-in ended at ${page.url()}, not ${redirect}`);
  if (landed.searchParams.get('state') !== state) throw new Error(`state mismatch in ${page.url()}`);
  await page.unrouteAll();
  const code = landed.searchParams.get('code');
  if (!code) throw new Error(`no code in ${page.url()}`);
  const res = await fetch(`${server.origin}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirect, client_id: clientId, code_verifier: verifier }),
  });
  const json = await res.json();
  if (res.status !== 200) throw new Error(`token endpoint answered ${res.status}: ${JSON.stringify(json)}`);
  return json;
}
