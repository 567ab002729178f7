// Browser test of the shared loading flow (ui.js loadInto) and the coupon-code limit served by the
// API: every coupon-code input takes its maxlength from GET /api/coupon-code-rules, and a failed
// load shows the error state whose "Try again" really loads the page.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { logIn, startServer, launchBrowser, screenshot, watchErrors } from './support.mjs';

const DESKTOP = { width: 1440, height: 1000 };
const RULES = '**/api/coupon-code-rules';

let server;
let browser;
let page;
let errors;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const context = await browser.newContext({ viewport: DESKTOP, deviceScaleFactor: 1, baseURL: server.baseUrl });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
  errors = watchErrors(page);
  await logIn(page, server);
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

/** Open a dashboard route in a fresh page load (so api.js asks for the rules again). */
async function open(hash) {
  await page.goto('about:blank'); // from /#a, going to /#b alone would only change the fragment
  await page.goto(server.baseUrl + '/' + hash);
  await page.locator('#app').waitFor({ state: 'visible' });
}

const maxlength = (selector) => page.getAttribute(selector, 'maxlength');

/** Answer the first matching request with a 503 error body, then let requests through again. */
async function failOnce(pattern, message) {
  let failed = false;
  await page.route(pattern, async (route) => {
    if (failed) return route.continue();
    failed = true;
    return route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: message, code: 'unavailable' }) });
  });
  return () => failed;
}

/** The error state shown in place of `box`, its message and its retry button. */
function errorIn(box) {
  const state = page.locator(box + ' .empty-state-danger');
  return { state, retry: state.getByRole('button', { name: 'Try again' }) };
}

describe('coupon-code limit from the API', () => {
  let served;

  it('is served to a signed-in workspace member, not to anyone', async () => {
    const res = await page.request.get('/api/coupon-code-rules');
    assert.equal(res.status(), 200);
    served = await res.json();
    assert.deepEqual(served, { maxChars: 64, allowed: "letters, digits, '-', '_' and '.'" });
    const anonymous = await fetch(server.baseUrl + '/api/coupon-code-rules');
    assert.equal(anonymous.status, 401, 'signed-out callers are refused');
  });

  it('is the maxlength of every coupon-code input', async () => {
    const want = String(served.maxChars);
    await open('#coupons/coupons');
    await page.locator('#cp-table').waitFor();
    assert.equal(await maxlength('#cp-code'), want);
    assert.equal(await maxlength('#cp-test-code'), want);

    await open('#coupons/generator');
    await page.locator('#gen-code').waitFor();
    assert.equal(await maxlength('#gen-code'), want);
    assert.equal((await page.textContent('#gen-code-count')).trim(), '0/' + want);

    await open('#coupons/analytics');
    await page.locator('#an-search[maxlength]').waitFor({ state: 'attached' });
    assert.equal(await maxlength('#an-search'), want);

    await open('#coupons/templates');
    const id = await page.locator('.tpl-card').first().getAttribute('data-id');
    await open('#coupons/templates/' + encodeURIComponent(id));
    await page.locator('#ed-sample').waitFor();
    assert.equal(await maxlength('#ed-sample'), want);
  });

  it('follows whatever the API serves, asked once per page load', async () => {
    let asked = 0;
    await page.route(RULES, async (route) => {
      asked += 1;
      const res = await route.fetch();
      return route.fulfill({ response: res, json: { ...(await res.json()), maxChars: 12 } });
    });
    try {
      await open('#coupons/coupons');
      await page.locator('#cp-table').waitFor();
      assert.equal(await maxlength('#cp-code'), '12');
      assert.equal(await maxlength('#cp-test-code'), '12');
      // Moving to other pages in the same load reuses the answer.
      await page.evaluate(() => { location.hash = '#coupons/generator'; });
      await page.locator('#gen-code').waitFor();
      assert.equal(await maxlength('#gen-code'), '12');
      await page.evaluate(() => { location.hash = '#coupons/analytics'; });
      await page.locator('#an-search[maxlength]').waitFor({ state: 'attached' });
      assert.equal(await maxlength('#an-search'), '12');
      assert.equal(asked, 1, 'the rules are read once and cached in api.js');
    } finally {
      await page.unroute(RULES);
    }
  });
});

describe('a failed load shows the error state with a working retry', () => {
  it('on the coupons page (the whole page needs the data)', async () => {
    const failed = await failOnce(RULES, 'Code rules are unavailable (test).');
    try {
      await open('#coupons/coupons');
      const { state, retry } = errorIn('[data-page="coupons-coupons"]');
      await state.waitFor();
      assert.equal(failed(), true);
      assert.match(await state.textContent(), /Something went wrong/);
      assert.match(await state.textContent(), /Code rules are unavailable \(test\)\./);
      assert.equal(await page.locator('#cp-table').count(), 0);
      await screenshot(page, 'loading-error-coupons');
      await retry.click();
      await page.locator('#cp-table').waitFor();
      assert.equal(await maxlength('#cp-code'), '64');
      assert.equal(await state.count(), 0);
    } finally {
      await page.unroute(RULES);
    }
  });

  it('on the generator', async () => {
    const failed = await failOnce('**/api/templates', 'Templates are unavailable (test).');
    try {
      await open('#coupons/generator');
      const { state, retry } = errorIn('[data-page="coupons-generator"]');
      await state.waitFor();
      assert.equal(failed(), true);
      assert.match(await state.textContent(), /Templates are unavailable \(test\)\./);
      await retry.click();
      await page.locator('#gen-code').waitFor();
      assert.equal(await maxlength('#gen-code'), '64');
    } finally {
      await page.unroute('**/api/templates');
    }
  });

  it('in one box of a page (analytics codes), leaving the rest of the page alone', async () => {
    const pattern = (url) => url.pathname === '/api/bot-stats/codes';
    const failed = await failOnce(pattern, 'Codes are unavailable (test).');
    try {
      await open('#coupons/analytics');
      const { state, retry } = errorIn('#an-codes');
      await state.waitFor();
      assert.equal(failed(), true);
      assert.match(await state.textContent(), /Codes are unavailable \(test\)\./);
      await page.locator('#an-kpis').waitFor();
      await retry.click();
      await page.locator('#an-codes .empty-state:not(.empty-state-danger), #an-code-table').first().waitFor();
      assert.equal(await state.count(), 0);
      assert.equal(await maxlength('#an-search'), '64');
    } finally {
      await page.unroute(pattern);
    }
  });

  it('on a settings page', async () => {
    const pattern = (url) => url.pathname === '/api/tenant';
    const failed = await failOnce(pattern, 'Workspace is unavailable (test).');
    try {
      await open('#settings/workspace');
      const { state, retry } = errorIn('[data-page="settings-workspace"]');
      await state.waitFor();
      assert.equal(failed(), true);
      assert.match(await state.textContent(), /Workspace is unavailable \(test\)\./);
      await retry.click();
      await page.locator('#ws-name').waitFor();
      assert.equal(await state.count(), 0);
    } finally {
      await page.unroute(pattern);
    }
  });

  it('ran without page errors', () => {
    assert.deepEqual(errors, []);
  });
});
