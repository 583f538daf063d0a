// Shared steps of the clinician app's browser tests (tests/web/clinician*.test.mjs), on top of
// the harness (harness.mjs): sign in to the app at /, open a chart, open a charting dialog.
import assert from 'node:assert/strict';
import { signIn } from './harness.mjs';

export const MARIA = 'demo-maria-lopez';

/** Opens the app, signs in through the real sign-in page, waits for the home page. */
export async function openApp(browser, server, login, { facility = 'Riverside Primary Care', viewport = { width: 1280, height: 900 } } = {}) {
  // The browser keeps the machine's time zone, as the server does for the demo's "today"
  // (src/app/demo_web.cc): a clinic's workstation and its server share the clinic's day.
  const page = await browser.newPage({ viewport });
  const failures = [];
  page.on('pageerror', (e) => failures.push(String(e)));
  await page.goto(`${server.origin}/`);
  await signIn(page, login, { facility });
  await page.getByTestId('user-menu').waitFor({ timeout: 20000 });
  page.failures = failures;
  return page;
}

/** Opens a chart by URL and waits for its banner. */
export async function openChart(page, server, patientId = MARIA) {
  await page.goto(`${server.origin}/patients/${patientId}`);
  await page.getByTestId('patient-banner').waitFor({ timeout: 20000 });
}

/** Types into a code search field and picks the option whose text contains `pick`. */
export async function pickCode(page, testId, typed, pick) {
  await page.getByTestId(testId).fill(typed);
  const option = page.getByTestId('code-option').filter({ hasText: pick }).first();
  await option.waitFor({ timeout: 10000 });
  await option.click();
}

/** Opens a charting action's dialog ("vitals", "prescribe", "referral" ...). */
export async function startAction(page, action) {
  await page.getByTestId(`action-${action}`).click();
  await page.getByRole('dialog').waitFor();
}

/** Waits until the dialog closed (the save succeeded), or fails with the error it shows. */
export async function dialogSaved(page, timeoutMs = 15000) {
  const dialog = page.getByRole('dialog');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await dialog.count()) === 0) return;
    const banner = dialog.getByTestId('error-banner');
    if (await banner.count()) throw new Error(`the save was refused: ${await banner.first().innerText()}`);
    await page.waitForTimeout(100);
  }
  throw new Error('the dialog did not close');
}

/** No uncaught error in the page. */
export function assertNoPageErrors(page) {
  assert.deepEqual(page.failures, [], `errors in the page: ${page.failures.join('\n')}`);
}

/**
 * The facilities (meta.tag codes) that recorded a patient's observations of LOINC codes, as the
 * API stores them; the UI's labels must name exactly these.
 */
export async function recordingFacilities(server, patientId, loincCodes) {
  const codes = [loincCodes].flat().map((c) => `http://loinc.org|${c}`).join(',');
  const res = await server.get(`Observation?patient=${patientId}&code=${codes}&_count=500`);
  const tags = new Set();
  for (const e of res.json.entry ?? []) {
    for (const t of e.resource.meta?.tag ?? []) if (t.system === FACILITY_TAG) tags.add(t.code);
  }
  return tags;
}

export const FACILITY_TAG = 'https://carechart.dev/fhir/CodeSystem/facility';
