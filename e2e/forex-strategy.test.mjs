// Browser test of Forex → Strategy & Config → Backtest against the real promostack binary: the
// page lists the strategies from GET /api/backtests/strategies, runs a backtest on the bundled
// EUR/USD hourly bars, and its KPI cards, charts and tables show the numbers of the API's own
// JSON for the same request (fetched from the page, the same endpoint the page uses). At 1440 and
// 375 px, with no horizontal overflow; a bad parameter shows the server's 422 next to the form.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { logIn, startServer, launchBrowser, screenshot, screenshotDir, watchErrors } from './support.mjs';

let server;
let browser;

const signed = (v, digits = 1) => (v > 0 ? '+' : v < 0 ? '−' : '') + Math.abs(v).toFixed(digits);

async function openPage(width, height) {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  const errors = watchErrors(page);
  await logIn(page, server);
  await page.goto(server.baseUrl + '/#forex/strategy');
  await page.waitForSelector('#bt-form');
  return { context, page, errors };
}

async function runAndCheck(page, request) {
  await page.selectOption('#bt-strategy', request.strategy);
  await page.fill('#bt-spread', String(request.spread));
  await page.fill('#bt-slippage', String(request.slippage));
  for (const [name, value] of Object.entries(request.params || {})) {
    await page.fill(`#bt-param-${name}`, String(value));
  }
  await page.click('#bt-run');
  await page.waitForSelector('#bt-kpis', { timeout: 60_000 });
  const api = await page.evaluate(async (body) => {
    const res = await fetch('/api/backtests', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, json: await res.json() };
  }, request);
  assert.equal(api.status, 200, JSON.stringify(api.json));
  const s = api.json.stats;
  assert.equal(api.json.strategy, request.strategy);
  assert.ok(s.trades > 0, 'the run traded');
  const text = async (sel) => (await page.locator(sel).innerText()).trim();
  assert.equal(await text('#bt-net'), signed(s.net_pips));
  assert.equal(await text('#bt-pf'), s.profit_factor === null ? '—' : s.profit_factor.toFixed(2));
  assert.equal(await text('#bt-expectancy'), signed(s.expectancy_pips, 2));
  assert.equal(await text('#bt-winrate'), s.win_rate_percent.toFixed(1) + ' %');
  assert.equal(await text('#bt-winrate-sub'), `${s.wins} wins · ${s.draws} draws (left out) · ${s.losses} losses`);
  assert.equal(await text('#bt-drawdown'), s.drawdown.max_pips.toFixed(1));
  assert.match(await text('#bt-net-sub'), new RegExp(`^${s.trades} trades`));
  // Charts: one point per closed trade, drawn as SVG.
  assert.equal(await page.getAttribute('#bt-equity', 'data-points'), String(api.json.equity.length));
  assert.equal(await page.getAttribute('#bt-drawdown-chart', 'data-points'), String(api.json.drawdown.length));
  assert.equal(await page.locator('#bt-equity svg polyline').count(), 1);
  // Tables: a row per month and per exit reason, with the API's figures.
  const months = await page.locator('#bt-months tbody tr').count();
  assert.equal(months, s.by_month.length);
  assert.equal(await page.locator('#bt-exits tbody tr').count(), s.by_exit.length);
  for (const row of s.by_exit) {
    const cells = await page.locator(`#bt-exits tr[data-key="${row.key}"] td`).allInnerTexts();
    assert.deepEqual(cells.map((c) => c.trim()).slice(0, 5),
      [row.key, String(row.trades), `${row.wins} / ${row.draws} / ${row.losses}`, row.win_rate_percent.toFixed(1), signed(row.net_pips)]);
  }
  return api.json;
}

describe('Backtest (Forex → Strategy & Config)', () => {
  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('runs a backtest at 1440 px and shows the API\'s numbers', async () => {
    const { context, page, errors } = await openPage(1440, 1000);
    const note = await page.locator('#bt-data-note').innerText();
    assert.match(note, /bundled EUR\/USD hourly data/);
    assert.match(note, /not XAU\/USD live data/);
    const options = await page.locator('#bt-strategy option').allInnerTexts();
    assert.deepEqual(options, ['aggressive', 'conservative', 'trend_pullback']);
    assert.equal(await page.inputValue('#bt-param-rsi_oversold'), await page.evaluate(async () =>
      String((await (await fetch('/api/backtests/strategies')).json()).strategies[0].params.rsi_oversold)));
    const report = await runAndCheck(page, { strategy: 'aggressive', spread: 1, slippage: 0.2 });
    assert.equal(report.stats.trades, 592, 'docs/backtests.md: aggressive with 1.4 pips of costs');
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no horizontal overflow at 1440 px');
    await screenshot(page, 'forex-backtest');
    await page.screenshot({ path: path.join(screenshotDir, 'forex-backtest-full.png'), fullPage: true });

    // A bad parameter: the server's 422 is shown, no report replaces the last one silently.
    await page.fill('#bt-param-atr_tp1_multiplier', '9');
    await page.click('#bt-run');
    await page.waitForSelector('#bt-error:not([hidden])');
    assert.match(await page.locator('#bt-error').innerText(), /tp1 < tp2 < tp3/);
    assert.equal(await page.getAttribute('#bt-params', 'aria-invalid'), 'true');
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('works at 375 px without horizontal overflow', async () => {
    const { context, page, errors } = await openPage(375, 812);
    await runAndCheck(page, { strategy: 'conservative', spread: 0, slippage: 0, params: { rsi_oversold: 30 } });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page overflows by ${overflow}px at 375 px`);
    await page.locator('#bt-kpis').scrollIntoViewIfNeeded();
    await screenshot(page, 'mobile-forex-backtest');
    await page.screenshot({ path: path.join(screenshotDir, 'mobile-forex-backtest-full.png'), fullPage: true });
    await page.locator('#bt-charts').screenshot({ path: path.join(screenshotDir, 'mobile-forex-backtest-charts.png') });
    assert.deepEqual(errors, []);
    await context.close();
  });
});
