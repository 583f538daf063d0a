// The clinician app (#8) in a real browser against a real Carechart with the demo data: one test
// per flow of the issue. Screenshots go to test-artifacts/web/clinician-*.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createUser, screenshot, useWebSession } from './harness.mjs';
import { assertNoPageErrors, dialogSaved, MARIA, openApp, openChart, pickCode, recordingFacilities, startAction } from './clinician-helpers.mjs';

const web = useWebSession();
const { skip } = web;

test('sign in, pick a facility, see today’s worklist and in-basket counts, find a patient as you type', { skip }, async () => {
  const page = await openApp(web.browser, web.server, web.server.logins.doctor, { facility: 'Riverside Primary Care' });
  await assert.doesNotReject(page.getByTestId('user-menu').filter({ hasText: 'Riverside Primary Care' }).waitFor());
  const appts = page.getByTestId('appointments');
  await appts.waitFor();
  assert.match(await appts.innerText(), /López/, 'María is on today’s list');
  const counts = page.getByTestId('inbox-counts');
  await counts.waitFor();
  assert.match(await counts.innerText(), /messages awaiting reply\s*[1-9]/i);
  await screenshot(page, 'clinician-home');

  const search = page.getByTestId('patient-search');
  for (const typed of ['lópez mar', '1962-04-17', 'MRN-demo-maria-lopez']) {
    await search.fill(''); // no stale result of the previous search may count
    await page.getByTestId('patient-option').first().waitFor({ state: 'detached' });
    await search.fill(typed);
    const option = page.getByTestId('patient-option').filter({ hasText: 'María' });
    await option.first().waitFor({ timeout: 10000 });
    assert.match(await option.first().innerText(), /17 Apr 1962/, `found by “${typed}” with the birth date shown`);
  }
  await screenshot(page, 'clinician-search');
  // Keyboard: arrow to the match and Enter opens the chart.
  await search.press('ArrowDown');
  await search.press('ArrowUp');
  await search.press('Enter');
  await page.getByTestId('patient-banner').waitFor();
  assert.match(page.url(), new RegExp(`/patients/${MARIA}`));
  assertNoPageErrors(page);
  await page.close();
});

test('the chart: sticky banner with allergies, snapshot, results with trends and sources, chart review, EHR/EMR switch', { skip }, async (t) => {
  const page = await openApp(web.browser, web.server, web.server.logins.doctor);
  await openChart(page, web.server);
  const banner = page.getByTestId('patient-banner');
  assert.match(await banner.innerText(), /López, María/);
  await page.getByTestId('banner-allergies').getByText(/Penicillin/).waitFor(); // allergies load with the banner
  const problems = page.getByTestId('problems');
  await problems.getByTestId('entry').first().waitFor();
  assert.match(await problems.innerText(), /diabetes/i);
  assert.ok((await problems.getByTestId('facility-badge').count()) > 0, 'problems are labelled by facility');
  await screenshot(page, 'clinician-chart-snapshot');

  // The banner stays in view when the page scrolls.
  await page.mouse.wheel(0, 2000);
  await page.waitForTimeout(200);
  const box = await banner.boundingBox();
  assert.ok(box && box.y >= 0 && box.y < 120, `banner at y=${box?.y} after scrolling`);

  await page.getByTestId('tab-results').click();
  for (const key of ['glucose', 'hba1c', 'bp']) await page.getByTestId(`trend-${key}`).waitFor({ timeout: 15000 });
  const labRows = page.getByTestId('lab-row');
  await labRows.first().waitFor();
  const hba1cRows = labRows.filter({ hasText: 'Hemoglobin A1c' });
  const sources = new Set(await hba1cRows.getByTestId('facility-badge').allInnerTexts());
  const recorded = await recordingFacilities(web.server, MARIA, '4548-4');
  assert.equal(sources.size, recorded.size, `HbA1c sources shown ${[...sources]} vs recorded ${[...recorded]}`);
  if (recorded.size < 2) t.diagnostic(`demo data gap: every HbA1c carries the facility tag ${[...recorded]}`);
  assert.ok((await page.getByTestId('lab-table').getByTestId('flag').count()) > 0, 'abnormal results flagged');
  await screenshot(page, 'clinician-chart-results');

  await page.getByTestId('tab-review').click();
  const encounters = page.getByTestId('encounters');
  await encounters.getByTestId('facility-badge').first().waitFor();
  const ehr = await encounters.getByTestId('facility-badge').count();
  await page.getByTestId('review-imaging').click();
  await page.getByTestId('imaging-reports').waitFor();
  await screenshot(page, 'clinician-chart-review');
  await page.getByRole('tab', { name: 'Encounters' }).click();
  // EMR view: only what this facility recorded.
  await page.getByTestId('view-switch').getByText(/only \(EMR\)/).click();
  await page.waitForTimeout(300);
  const emrLabels = new Set(await page.getByTestId('encounters').getByTestId('facility-badge').allInnerTexts());
  const emr = await page.getByTestId('encounters').getByTestId('facility-badge').count();
  assert.ok(emr < ehr, `EMR view shows fewer encounters (${emr}) than the EHR view (${ehr})`);
  assert.ok([...emrLabels].every((l) => l === 'Riverside Primary Care'), `EMR view labels: ${[...emrLabels]}`);
  await screenshot(page, 'clinician-chart-emr-view');
  assertNoPageErrors(page);
  await page.close();
});

test('charting: vitals, a diagnosis with code search and its resolution, an allergy, a note, a care plan, a lab order', { skip }, async () => {
  const page = await openApp(web.browser, web.server, web.server.logins.doctor);
  await openChart(page, web.server);

  await startAction(page, 'vitals');
  await page.getByTestId('vital-weight').fill('700');
  await page.getByTestId('save-vitals').click();
  assert.match(await page.getByRole('dialog').innerText(), /0.3–400 kg/, 'an implausible weight is caught with what to check');
  await page.getByTestId('vital-weight').fill('83.5');
  await page.getByTestId('vital-systolic').fill('138');
  await page.getByTestId('vital-diastolic').fill('84');
  await page.getByTestId('vital-pulse').fill('72');
  await page.getByTestId('save-vitals').click();
  await dialogSaved(page);
  await page.getByTestId('vitals').getByText('Weight: 83.5 kg').waitFor();

  await startAction(page, 'diagnosis');
  await pickCode(page, 'diagnosis-code', 'hyperlipid', 'yperlipid');
  await page.getByTestId('save-diagnosis').click();
  await dialogSaved(page);
  await page.getByTestId('problems').getByText(/hyperlipid/i).first().waitFor();

  await startAction(page, 'allergy');
  await pickCode(page, 'allergy-code', 'latex', 'atex');
  await page.getByTestId('save-allergy').click();
  await dialogSaved(page);
  await page.getByTestId('banner-allergies').getByText(/Latex/i).waitFor();

  await startAction(page, 'note');
  await page.getByTestId('note-body').fill('Subjective: feels well.\nPlan: continue metformin; recheck HbA1c in 3 months.');
  await page.getByTestId('save-note').click();
  await dialogSaved(page);

  await startAction(page, 'careplan');
  await page.getByTestId('careplan-title').fill('Diabetes self-management');
  await page.getByTestId('careplan-goal-0').fill('HbA1c below 7% within 6 months');
  await page.getByTestId('save-careplan').click();
  await dialogSaved(page);
  await page.getByTestId('care-plans').getByText('Diabetes self-management').waitFor();

  await startAction(page, 'lab');
  await pickCode(page, 'lab-code', 'a1c', 'A1c');
  await page.getByTestId('save-lab').click();
  await dialogSaved(page);

  await page.getByTestId('tab-orders').click();
  await page.getByTestId('lab-orders').getByText(/A1c/).first().waitFor();
  const dx = page.getByTestId('diagnoses').getByTestId('entry').filter({ hasText: /hyperlipid/i }).first();
  await dx.getByRole('button', { name: /Resolve/ }).click();
  await dx.getByText(/resolved/).waitFor();
  await screenshot(page, 'clinician-charting-orders');

  await page.getByTestId('tab-review').click();
  await page.getByTestId('review-notes').click();
  await page.getByTestId('notes').getByText('Progress note').first().waitFor();
  assertNoPageErrors(page);
  await page.close();
});

test('a refused write is shown with the path and what to do, never swallowed', { skip }, async () => {
  const page = await openApp(web.browser, web.server, web.server.logins.doctor);
  await openChart(page, web.server);
  // The API's answer to a bad write, as the server would send it (the form itself prevents
  // most bad input, so the refusal is injected at the network layer).
  await page.route(/\/fhir\/?$/, (route) =>
    route.fulfill({
      status: 422,
      contentType: 'application/fhir+json',
      body: JSON.stringify({
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', code: 'value', diagnostics: 'value 30 is below the minimum', expression: ['Bundle.entry[0].resource.valueQuantity.value'] }],
      }),
    }),
  );
  await startAction(page, 'vitals');
  await page.getByTestId('vital-pulse').fill('72');
  await page.getByTestId('save-vitals').click();
  const banner = page.getByRole('dialog').getByTestId('error-banner');
  await banner.waitFor();
  const text = await banner.innerText();
  assert.match(text, /Bundle\.entry\[0\]\.resource\.valueQuantity\.value/);
  assert.match(text, /What to do: Correct/);
  await screenshot(page, 'clinician-error-shown');
  await page.unrouteAll();
  await page.close();
});

test('in basket: answer María’s portal message, mark a result reviewed', { skip }, async () => {
  const page = await openApp(web.browser, web.server, web.server.logins.doctor);
  await page.getByTestId('inbox-link').click();
  const item = page.getByTestId('message-item').filter({ hasText: 'María' }).first();
  await item.waitFor();
  await item.click();
  await page.getByTestId('reply-text').fill('Your results look better. Keep taking metformin and we will talk on Friday.');
  await page.getByTestId('send-reply').click();
  await page.getByRole('status').filter({ hasText: 'Reply sent' }).waitFor();
  const replies = await web.server.get(`Communication?subject=Patient/${MARIA}&_sort=-sent&_count=5`);
  assert.ok(replies.json.entry.some((e) => e.resource.payload?.[0]?.contentString?.startsWith('Your results look better')), 'the reply is stored');
  await screenshot(page, 'clinician-inbox-reply');

  await page.getByRole('tab', { name: /Results to review/ }).click();
  const review = page.getByTestId('results-list').getByTestId('mark-reviewed').first();
  await review.waitFor();
  const before = await page.getByTestId('results-list').getByTestId('mark-reviewed').count();
  await review.click();
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid=mark-reviewed]').length < n, before, { timeout: 10000 });
  await screenshot(page, 'clinician-inbox-results');
  await page.close();
});

test('break the glass: no care relationship → reason → chart opens with the time left', { skip }, async () => {
  // A physician at a facility María has never visited.
  const outsider = createUser(web.server, 'dr-outsider', { role: 'physician', facilities: ['hillcrest-family-medicine'] });
  const page = await openApp(web.browser, web.server, outsider, { facility: 'Hillcrest Family Medicine' });
  await page.goto(`${web.server.origin}/patients/${MARIA}`);
  const card = page.getByTestId('emergency-access');
  await card.waitFor({ timeout: 15000 });
  assert.ok(await page.getByTestId('break-glass').isDisabled(), 'a reason is required');
  await screenshot(page, 'clinician-emergency-offer');
  await page.getByTestId('emergency-reason-choice').click();
  await page.getByRole('option', { name: /unconscious/ }).click();
  await page.getByTestId('emergency-reason').fill('Brought in unresponsive, glucose 40');
  await page.getByTestId('break-glass').click();
  await page.getByTestId('patient-banner').waitFor({ timeout: 15000 });
  const timer = page.getByTestId('emergency-timer');
  await timer.waitFor();
  assert.match(await timer.innerText(), /Emergency access · [1-4] h \d\d min left|Emergency access · \d+ min left/);
  await screenshot(page, 'clinician-emergency-granted');
  await page.close();
});

test('usable on a tablet and by keyboard: skip link, labelled controls, focusable toolbar', { skip }, async () => {
  const page = await openApp(web.browser, web.server, web.server.logins.doctor, { viewport: { width: 1024, height: 768 } });
  await openChart(page, web.server);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
  await page.getByRole('toolbar', { name: 'Charting actions' }).getByRole('button', { name: 'Vitals' }).focus();
  await page.keyboard.press('Enter');
  await page.getByRole('dialog').waitFor();
  assert.ok(await page.getByLabel('Pulse (/min)').isVisible());
  await page.keyboard.press('Escape');
  await page.getByRole('dialog').waitFor({ state: 'detached' });
  // Nothing wider than the tablet's screen.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
  await screenshot(page, 'clinician-tablet');
  await page.close();
});
