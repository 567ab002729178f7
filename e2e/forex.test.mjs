// Browser test of the Forex pages against the real promostack binary with its demo data: the
// default workspace replays the bundled EUR/USD hours (here 20 bars a second), so signals
// exist within seconds. Signals: the open signal or its empty state, 30-day KPIs, the daily
// and weekly pips charts, the sparkline and the history, each with the API's numbers, and the
// "connect a Signal Bot" note instead of an error. Strategy & Config: settings saved and read
// back, a bad value refused next to its field, "Backtest these settings" on the stored bars.
// At 1440 and 375 px with no horizontal overflow.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { logIn, startServer, launchBrowser, screenshot, watchErrors, pageFitsAt } from './support.mjs';

let server;
let browser;

const api = (page, path, init) => page.evaluate(async ([p, i]) => {
  const res = await fetch(p, i ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(i) } : undefined);
  return { status: res.status, json: await res.json() };
}, [path, init]);

async function open(width, height, hash) {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  const errors = watchErrors(page);
  await logIn(page, server);
  await page.goto(server.baseUrl + '/' + hash);
  return { context, page, errors };
}

describe('Forex pages', () => {
  before(async () => {
    server = await startServer({ env: { DEMO_DATA: 'true', MARKET_DATA_REPLAY_SPEED: '20' } });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('shows replayed signals with the API\'s numbers at 1440 px', async () => {
    const { context, page, errors } = await open(1440, 1000, '#forex/signals');
    // Wait for the replay to close a few signals.
    for (let i = 0; i < 60; i++) {
      const list = await api(page, '/api/forex-signals?status=&limit=200');
      if (list.json.signals.filter((s) => s.status !== 'open').length >= 3) break;
      await page.waitForTimeout(500);
    }
    await page.reload();
    await page.waitForSelector('#fx-history-table tbody tr');
    const list = (await api(page, '/api/forex-signals?limit=25')).json;
    assert.ok(list.total >= 3, `signals: ${list.total}`);
    // Rows are the API's page (the page may have refreshed once in between: compare numbers).
    const numbers = await page.locator('#fx-history-table tbody tr td:first-child').allInnerTexts();
    // The replay keeps adding signals while the test reads: the page shows a full page of 25,
    // or all of them as they were a moment ago.
    assert.ok(numbers.length <= 25 && numbers.length >= Math.min(25, list.total) - 3, `${numbers.length} rows of ${list.total}`);
    const firstId = await page.locator('#fx-history-table tbody tr').first().getAttribute('data-id');
    const detail = (await api(page, `/api/forex-signals/${firstId}`)).json;
    assert.equal(numbers[0].trim(), `#${detail.number}`);
    assert.ok(detail.events.length >= 1 && detail.events[0].kind === 'opened');

    const status = (await api(page, '/api/signal-bot/status')).json;
    assert.equal(status.marketSource, 'replay');
    assert.match(await page.locator('#fx-source').innerText(), /Replaying bundled real EUR\/USD 1h bars/);
    assert.match(await page.locator('#fx-connect').innerText(), /connect a Signal Bot/);
    assert.equal(await page.locator('#fx-open').count(), 1);

    const perf = (await api(page, '/api/forex-signals/performance?days=30')).json;
    const count = Number((await page.locator('#fx-count').innerText()).trim());
    assert.ok(Math.abs(count - perf.signals) <= 2, `${count} vs ${perf.signals}`);
    assert.match((await page.locator('#fx-total').innerText()).trim(), /^[+−]?\d+\.\d$/);
    assert.ok(perf.daily.length >= 1);
    assert.ok(await page.locator('#fx-daily svg rect').count() >= 1);
    assert.ok(await page.locator('#fx-weekly svg rect').count() >= 1);
    assert.equal(await page.locator('#fx-spark svg polyline').count(), 1);
    await screenshot(page, 'forex-signals-1440');
    await pageFitsAt(page, 1440, 1000);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('fits a phone at 375 px', async () => {
    const { context, page, errors } = await open(375, 800, '#forex/signals');
    await page.waitForSelector('#fx-history-table tbody tr');
    await page.waitForSelector('#fx-daily');
    await screenshot(page, 'forex-signals-375');
    await pageFitsAt(page, 375, 800);
    await page.goto(server.baseUrl + '/#forex/strategy');
    await page.waitForSelector('#fx-form');
    await screenshot(page, 'forex-strategy-375');
    await pageFitsAt(page, 375, 800);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('saves settings, refuses a bad one by field, and backtests the stored bars', async () => {
    const { context, page, errors } = await open(1440, 1000, '#forex/strategy');
    await page.waitForSelector('#fx-form');
    assert.match(await page.locator('#fx-active').innerText(), /Active: aggressive on EUR\/USD 1h/);
    await page.fill('#fx-param-adx_threshold', '18');
    await page.fill('#fx-admins', '4242, 777');
    await page.click('#fx-save');
    await page.waitForFunction(async () => {
      const r = await fetch('/api/forex-config');
      const c = await r.json();
      return c.settings.params.adx_threshold === 18;
    });
    const saved = (await api(page, '/api/forex-config')).json;
    assert.deepEqual(saved.settings.admin_telegram_ids, [4242, 777]);
    await page.waitForSelector('#fx-form');
    assert.equal(await page.inputValue('#fx-param-adx_threshold'), '18');

    await page.fill('#fx-param-rsi_oversold', '140');
    await page.click('#fx-save');
    await page.waitForSelector('#fx-error:not([hidden])');
    assert.match(await page.locator('#fx-error').innerText(), /rsi_oversold|between 0 and 100/);
    assert.equal(await page.getAttribute('#fx-param-rsi_oversold', 'aria-invalid'), 'true');
    const unchanged = (await api(page, '/api/forex-config')).json;
    assert.notEqual(unchanged.settings.params.rsi_oversold, 140, 'nothing stored');

    await page.fill('#fx-param-rsi_oversold', String(unchanged.settings.params.rsi_oversold));
    await page.click('#fx-backtest');
    await page.waitForSelector('#fx-backtest-result #bt-kpis', { timeout: 60_000 });
    const report = (await api(page, '/api/forex-config/backtest', {})).json;
    assert.equal(report.data.file, 'stored market bars');
    assert.equal(await page.locator('#fx-backtest-result #bt-equity svg polyline').count(), report.equity.length ? 1 : 0);
    await screenshot(page, 'forex-strategy-1440');
    await pageFitsAt(page, 1440, 1000);
    assert.deepEqual(errors, []);
    await context.close();
  });
});
