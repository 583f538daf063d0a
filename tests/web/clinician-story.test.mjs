// Issue #8 "Done when", as one story in a real browser: a clinician signs in, finds the demo
// diabetic patient, sees glucose and HbA1c trends from several facilities with sources labelled,
// prescribes a drug and gets the allergy warning, refers to a specialist, and answers a portal
// message. Screenshots: test-artifacts/web/clinician-story-*.png. Also prints the first
// meaningful paint of the home page (the issue asks < 1 s on localhost; printed, not asserted:
// timings on a shared CI machine are not a pass/fail criterion).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { screenshot, useWebSession } from './harness.mjs';
import { assertNoPageErrors, dialogSaved, MARIA, openApp, pickCode, recordingFacilities, startAction } from './clinician-helpers.mjs';

const web = useWebSession();
const { skip } = web;

test('Done when: sign in, find María, trends from several facilities, allergy warning, referral, reply', { skip }, async (t) => {
  const page = await openApp(web.browser, web.server, web.server.logins.doctor, { facility: 'Riverside Primary Care' });
  await screenshot(page, 'clinician-story-1-home');

  // Find the demo diabetic patient by typing.
  await page.getByTestId('patient-search').fill('lopez');
  const maria = page.getByTestId('patient-option').filter({ hasText: 'María' }).first();
  await maria.waitFor({ timeout: 10000 });
  await maria.click();
  await page.getByTestId('patient-banner').waitFor();
  await page.getByTestId('banner-allergies').getByText(/Penicillin/).waitFor(); // allergies load with the banner

  // Glucose and HbA1c trends, each value labelled with the facility it came from.
  await page.getByTestId('tab-results').click();
  for (const [key, loinc] of [['glucose', ['2345-7', '2339-0', '41653-7', '1558-6', '15074-8']], ['hba1c', ['4548-4', '17856-6', '59261-8']]]) {
    const card = page.getByTestId(`trend-${key}`);
    await card.waitFor({ timeout: 15000 });
    await card.locator('summary').click(); // the table version of the plot
    const shown = new Set((await card.locator('tbody tr td:last-child').allInnerTexts()).filter(Boolean));
    const recorded = await recordingFacilities(web.server, MARIA, loinc);
    // Every point is labelled, with as many distinct sources as the record has facility tags.
    assert.ok(!shown.has('Unknown source'), `${key}: every value names its source`);
    assert.equal(shown.size, recorded.size, `${key}: sources shown ${[...shown]} vs recorded ${[...recorded]}`);
    // The demo record has each analyte from several facilities (primary care, endocrinology, hospital).
    assert.ok(recorded.size >= 2, `${key}: the demo record holds several facilities, got ${[...recorded]}`);
    assert.ok(shown.size >= 2, `${key} from several facilities: ${[...shown].join(', ')}`);
    assert.match(await card.locator('[role=img]').getAttribute('aria-label'), /range/);
  }
  await screenshot(page, 'clinician-story-2-trends');

  // Prescribe amoxicillin-clavulanate: the penicillin allergy warning, and no order without a reason.
  await startAction(page, 'prescribe');
  await pickCode(page, 'drug-code', 'amoxicillin', 'clavulanate');
  const warning = page.getByTestId('allergy-warning');
  await warning.waitFor();
  assert.match(await warning.innerText(), /Penicillin/i);
  assert.match(await warning.innerText(), /amoxicillin/i);
  assert.ok(await page.getByTestId('save-prescription').isDisabled(), 'cannot prescribe past the warning without a reason');
  await screenshot(page, 'clinician-story-3-allergy-warning');
  // She gets a safe alternative instead.
  await pickCode(page, 'drug-code', 'azithromycin', 'azithromycin');
  assert.equal(await page.getByTestId('allergy-warning').count(), 0, 'no warning for azithromycin');
  await page.getByTestId('save-prescription').click();
  await dialogSaved(page);

  // Refer to endocrinology and see the referral's status.
  await startAction(page, 'referral');
  await page.getByTestId('referral-to').click();
  await page.getByRole('option', { name: 'Lakeside Endocrinology' }).click();
  await page.getByLabel('Specialty or service').fill('Endocrinology');
  await page.getByTestId('referral-reason').fill('HbA1c above 8% despite metformin and glargine');
  await page.getByTestId('save-referral').click();
  await dialogSaved(page);
  await page.getByTestId('tab-orders').click();
  const referral = page.getByTestId('referrals').getByTestId('entry').filter({ hasText: 'Lakeside Endocrinology' }).filter({ hasText: 'HbA1c above 8%' });
  await referral.first().waitFor();
  assert.equal(await referral.first().getByTestId('referral-status').textContent(), 'requested');
  const tasks = await web.server.get(`Task?patient=${MARIA}&owner=Organization/lakeside-endocrinology&status=requested`);
  assert.ok(tasks.json.entry?.length >= 1, 'the referral Task is owned by the receiving facility');
  await screenshot(page, 'clinician-story-4-referral');

  // The receiving facility accepts it (the same doctor also works at Lakeside), and the referring
  // chart shows the new status.
  const lakeside = await openApp(web.browser, web.server, web.server.logins.doctor, { facility: 'Lakeside Endocrinology' });
  await lakeside.goto(`${web.server.origin}/inbox?tab=referrals`);
  const incoming = lakeside.getByTestId('referrals-list').locator('div').filter({ hasText: 'HbA1c above 8%' }).getByTestId('referral-next').first();
  await incoming.waitFor();
  await incoming.click();
  await lakeside.getByTestId('referrals-list').getByText('accepted').first().waitFor();
  await screenshot(lakeside, 'clinician-story-4b-referral-accepted');
  await lakeside.close();
  await page.reload();
  await page.getByTestId('referrals').getByTestId('entry').filter({ hasText: 'HbA1c above 8%' }).getByTestId('referral-status').filter({ hasText: 'accepted' }).waitFor();

  // Answer María's portal message.
  await page.getByTestId('inbox-link').click();
  const message = page.getByTestId('message-item').filter({ hasText: 'María' }).first();
  await message.waitFor();
  await message.click();
  await page.getByTestId('reply-text').fill('Thank you, María. Please book the blood test before Friday.');
  await page.getByTestId('send-reply').click();
  await page.getByRole('status').filter({ hasText: 'Reply sent' }).waitFor();
  await screenshot(page, 'clinician-story-5-reply');
  assertNoPageErrors(page);

  // First meaningful paint of the home page, warm (signed in: the session is in this tab).
  const started = Date.now();
  await page.goto(`${web.server.origin}/`);
  await page.getByTestId('appointments').waitFor();
  const meaningful = Date.now() - started;
  const fcp = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1);
  t.diagnostic(`home page: first contentful paint ${Math.round(fcp)} ms, today's appointments shown after ${meaningful} ms`);
  await page.close();
});
