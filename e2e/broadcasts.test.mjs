// Browser test of Broadcasts and Analytics against the real promostack binary, with the fake
// Telegram Bot API of crates/testkit (target/debug/e2e-fixture) and bot users / usage rows seeded
// into the server's SQLite file: send a broadcast and watch its progress reach 100 %, then open
// analytics with data (KPIs, chart switching hourly/daily, top templates, code table, search).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { once } from 'node:events';
import { horizontalOverflow, logIn, startServer, startFakeTelegram, fixtureBin, launchBrowser, screenshot, watchErrors } from './support.mjs';

const DESKTOP = { width: 1440, height: 1000 };
const USERS = 40;

let fake;
let fakeUrl;
let server;
let browser;
let page;
let errors;

async function shot(name) {
  await page.evaluate(() => {
    document.querySelectorAll('.toast').forEach((t) => t.remove());
    document.activeElement?.blur();
  });
  await screenshot(page, name);
}

describe('broadcasts and analytics', () => {
  before(async () => {
    ({ child: fake, url: fakeUrl } = await startFakeTelegram());
    server = await startServer({
      env: { TELEGRAM_BOT_TOKEN: '123456:E2E-BROADCAST', TELEGRAM_API_URL: fakeUrl, TELEGRAM_RATE_LIMIT: 'off' },
    });
    const { stdout } = await promisify(execFile)(fixtureBin(), ['seed-bot-data', path.join(server.dataDir, 'promostack.db'), String(USERS), '600']);
    assert.match(stdout, /seeded 40 bot users/);
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: DESKTOP });
    page = await context.newPage();
    errors = watchErrors(page);
    await logIn(page, server);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (fake) { fake.stdin.end(); await once(fake, 'exit'); }
  });

  it('sends a broadcast and shows its progress reaching 100 %', async () => {
    await page.goto(server.baseUrl + '/#coupons/broadcasts');
    await page.waitForSelector('h1:has-text("Broadcasts")');
    await page.waitForFunction((n) => document.querySelector('#bc-audience')?.textContent === String(n), USERS);
    // Bad markup is reported before anything is sent.
    await page.selectOption('#bc-mode', 'HTML');
    await page.fill('#bc-message', '<b>New templates</i>');
    await page.click('#bc-check');
    await page.waitForFunction(() => /closes <b>/.test(document.querySelector('#bc-error').textContent));
    await page.fill('#bc-message', '<b>New Black Friday templates</b> are live — try <i>/generate</i> now!');
    await page.fill('#bc-button-text', 'Open the bot');
    await page.fill('#bc-button-url', 'https://t.me/promostack_test_bot');
    assert.equal(await page.textContent('#bc-preview strong'), 'New Black Friday templates');
    await shot('broadcasts-editor');
    await page.click('#bc-send');
    await page.waitForSelector('dialog[open]');
    assert.match(await page.textContent('dialog[open]'), /40 people/);
    await page.click('dialog[open] button[value="ok"]');
    await page.waitForSelector('#bc-live');
    await page.waitForFunction(() => document.querySelector('#bc-live')?.dataset.status === 'running', null, { timeout: 20_000 }).catch(() => {});
    await page.waitForFunction(() => document.querySelector('#bc-live')?.dataset.status === 'completed', null, { timeout: 60_000 });
    assert.equal(await page.getAttribute('#bc-live', 'data-progress'), '100');
    assert.match(await page.textContent('#bc-progress-text'), /100 % · 40 of 40 sent/);
    await page.waitForSelector('#bc-history-table tbody tr[data-status="completed"]');
    await shot('broadcasts-completed');
    assert.deepEqual(errors, []);
  });

  it('shows the history as recipients read it, fitting its card at 1280, 1440 and 375 px', async () => {
    const cell = page.locator('#bc-history-table tbody tr').first().locator('.bars-name');
    assert.equal((await cell.textContent()).trim(), 'New Black Friday templates are live — try /generate now!');
    for (const width of [1280, 1440, 375]) {
      await page.setViewportSize({ width, height: 900 });
      await page.waitForTimeout(200);
      assert.deepEqual(await horizontalOverflow(page), [], `broadcasts at ${width} px`);
      const wrap = await page.locator('#bc-history-table').evaluate((t) => t.closest('.table-wrap').getBoundingClientRect().right);
      for (const label of ['Details', 'CSV report']) {
        const button = page.locator('#bc-history-table tbody tr').first().getByRole('button', { name: label });
        const box = await button.boundingBox();
        assert.ok(box && box.x + box.width <= wrap + 0.5, `${label} sits inside the card at ${width} px`);
      }
      await page.locator('#bc-history-table').scrollIntoViewIfNeeded();
      await shot(`broadcasts-history-${width}`);
    }
    await page.setViewportSize(DESKTOP);
  });

  it('opens analytics with data and switches the chart between daily and hourly', async () => {
    await page.goto(server.baseUrl + '/#coupons/analytics');
    await page.waitForSelector('h1:has-text("Analytics")');
    await page.waitForSelector('#an-kpis');
    assert.equal(await page.textContent('#an-generations'), '600');
    assert.equal(await page.getAttribute('#an-chart', 'data-granularity'), 'daily');
    assert.equal(await page.getAttribute('#an-chart', 'data-points'), '7');
    assert.ok((await page.$$('#an-chart rect.chart-bar')).length === 7);
    assert.ok((await page.$$('#an-top li')).length >= 4);
    await page.waitForSelector('#an-code-table tbody tr');
    assert.equal((await page.$$('#an-code-table tbody tr')).length, 6);
    await shot('analytics-7-days');
    await page.click('#an-range [data-range="today"]');
    await page.waitForFunction(() => document.querySelector('#an-chart')?.dataset.granularity === 'hourly');
    assert.equal(await page.getAttribute('#an-chart', 'data-points'), '24');
    await page.click('#an-range [data-range="30"]');
    await page.waitForFunction(() => document.querySelector('#an-chart')?.dataset.points === '30');
    await page.fill('#an-search', 'gold');
    await page.waitForFunction(() => document.querySelectorAll('#an-code-table tbody tr').length === 1);
    assert.equal(await page.textContent('#an-code-table tbody tr code'), 'GOLD50');
    await page.fill('#an-search', '');
    await page.waitForFunction(() => document.querySelectorAll('#an-code-table tbody tr').length === 6);
    await shot('analytics-30-days');
    assert.deepEqual(errors, []);
  });
});
