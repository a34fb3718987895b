// The survey loop end to end, in the browser: a customer opens their signed
// link from an email with a score in it, the page saves the score by
// itself, they add a reason and send; the merchant then finds the answer
// on the Surveys page. Called by run.mjs with its helpers.

export async function surveyChecks({page, api, pageURL, check, timeout, shots, join}) {
  console.log('\nSurveys');
  // The demo defines its surveys a few seconds after the first scoring.
  let surveys = [];
  for (let i = 0; i < 60 && !surveys.length; i++) {
    const res = await api('/api/surveys');
    surveys = (res.json?.surveys ?? []).filter((s) => s.status === 'active' && s.nps_question);
    if (!surveys.length) await new Promise((r) => setTimeout(r, 1000));
  }
  check('surveys: the demo has an active NPS survey', surveys.length > 0);
  if (!surveys.length) return;
  const survey = surveys.find((s) => s.key === 'nps_after_delivery') ?? surveys[0];
  const customers = await api('/api/customers?page=1&per_page=50&sort=predicted_clv');
  const customer = (customers.json?.customers ?? []).map((c) => c.id).find(Boolean);
  check('surveys: a customer to ask', !!customer);
  if (!customer) return;
  const link = await api(`/api/surveys/${survey.id}/link?customer_id=${customer}`);
  check('surveys: the admin API gives the customer’s link', link.ok && /\/s\/[A-Za-z0-9_-]+$/.test(link.json?.url ?? ''), JSON.stringify(link.json));
  if (!link.ok) return;
  const url = new URL(link.json.url);
  // The link in the metafield names the app's public URL; the harness
  // reaches the same server at its own address.
  const target = new URL(pageURL('/')).origin + url.pathname;

  await page.setViewportSize({width: 390, height: 844});
  const scriptErrors = [];
  const onError = (e) => scriptErrors.push(e.message);
  page.on('pageerror', onError);
  const outside = [];
  const onRequest = (r) => {
    if (!r.url().startsWith(new URL(target).origin)) outside.push(r.url());
  };
  page.on('request', onRequest);
  await page.goto(`${target}?score=3`, {waitUntil: 'domcontentloaded'});
  await page.waitForFunction(() => /saved/i.test(document.getElementById('status')?.textContent ?? ''), null, {timeout}).catch(() => {});
  check('survey page: the score from the email is saved by one click', /saved\. /i.test((await page.textContent('#status')) ?? ''), await page.textContent('#status'));
  check('survey page: the clicked score is chosen', await page.isChecked('input[name="score"][value="3"]'));
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  check('survey page: fits a phone', wide <= 391, `${wide}px`);
  const reason = `e2e reason ${Date.now()}`;
  await page.fill('#why', reason);
  await page.click('button[type="submit"]');
  await page.waitForSelector('h1', {timeout});
  check('survey page: thanks after sending', /thank/i.test((await page.textContent('h1')) ?? ''), await page.textContent('h1'));
  check('survey page: nothing loaded from another origin', outside.length === 0, outside.join(' '));
  check('survey page: no script errors (CSP allows the page’s own script)', scriptErrors.length === 0, scriptErrors.join(' | '));
  await page.screenshot({path: join(shots, 'survey-page-phone.png'), fullPage: true});
  page.off('pageerror', onError);
  page.off('request', onRequest);

  const forged = url.pathname.slice(0, -2) + (url.pathname.endsWith('AA') ? 'BB' : 'AA');
  const res = await page.goto(new URL(pageURL('/')).origin + forged, {waitUntil: 'domcontentloaded'});
  check('survey page: an altered link is refused', res?.status() === 404, `HTTP ${res?.status()}`);

  await page.setViewportSize({width: 1280, height: 900});
  await page.goto(pageURL('/surveys'), {waitUntil: 'domcontentloaded'});
  await page.waitForSelector('[data-page="surveys"][data-state="ready"]', {timeout});
  const card = page.locator(`[data-survey="${survey.key}"]`);
  await card.getByRole('button', {name: 'Results'}).click();
  await page.getByLabel('Search the answers').fill(reason);
  await page.waitForSelector(`[data-answer]:has-text("${reason}")`, {timeout}).catch(() => {});
  const shown = await page.locator('[data-answer]', {hasText: reason}).count();
  check('surveys page: the answer is there, found by search', shown === 1, `${shown} answers`);
  const mine = await api(`/api/customers/${customer}/survey-responses`);
  check('customer API: the customer’s answer with the clicked score', (mine.json?.responses ?? []).some((r) => r.why === reason && r.nps === 3), JSON.stringify(mine.json));
  await page.screenshot({path: join(shots, 'surveys.png'), fullPage: true});
}
