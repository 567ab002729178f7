// Browser test of the coupon list page against the real promostack binary: the provider card,
// adding a code, testing it, then the generator accepts it and refuses an unknown one;
// deactivating it makes the generator refuse it; import, search, export, accept-any warning.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { logIn, startServer, launchBrowser, screenshot, watchErrors } from './support.mjs';

const DESKTOP = { width: 1440, height: 1000 };

let server;
let browser;
let page;
let errors;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const context = await browser.newContext({ viewport: DESKTOP, deviceScaleFactor: 1, baseURL: server.baseUrl, acceptDownloads: true });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
  errors = watchErrors(page);
  await logIn(page, server);
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

const row = (code) => page.locator(`#cp-table tr[data-code="${code}"]`);

async function shot(name) {
  await page.evaluate(() => {
    document.querySelectorAll('.toast').forEach((t) => t.remove());
    document.activeElement?.blur();
    window.scrollTo(0, 0);
  });
  await screenshot(page, name);
}

/** Type a code in the generator and wait for the verdict next to the field. */
async function generatorVerdict(code) {
  await page.fill('#gen-code', code);
  await page.waitForFunction((c) => {
    const s = document.querySelector('#gen-code-status');
    return s && ['valid', 'invalid', 'error'].includes(s.dataset.state) && s.textContent.includes(c);
  }, code);
  return page.$eval('#gen-code-status', (s) => ({ state: s.dataset.state, text: s.textContent }));
}

describe('coupon list page', () => {
  it('shows the provider and the demo codes', async () => {
    await page.goto('/#coupons/coupons');
    await page.locator('#cp-table').waitFor();
    assert.equal(await page.isChecked('#cp-provider-list'), true, 'the list is the embedded default');
    assert.equal(await page.isDisabled('#cp-provider-funderpro'), true, 'FunderPro is not configured here');
    assert.match(await page.textContent('[data-provider="funderpro"]'), /Not configured/);
    for (const code of ['SAVE10', 'WELCOME20', 'GOLD50']) await row(code).waitFor();
    assert.equal((await page.textContent('#cp-count')).trim(), '3');
  });

  it('adds a code, tests it, and the generator accepts it and refuses an unknown one', async () => {
    await page.fill('#cp-code', 'e2e-spring');
    await page.selectOption('#cp-discount-type', 'amount');
    await page.fill('#cp-discount-value', '15');
    await page.fill('#cp-currency', 'usd');
    await page.fill('#cp-note', 'Spring campaign, Telegram');
    await page.click('#cp-save');
    await row('e2e-spring').waitFor();
    assert.match(await row('e2e-spring').textContent(), /15 USD off/);
    assert.equal((await page.textContent('#cp-count')).trim(), '4');

    // a bad code is refused in the form, with the server's rules
    await page.fill('#cp-code', 'NO SPACES');
    await page.click('#cp-save');
    assert.match(await page.textContent('#cp-error'), /letters, digits/);
    await page.fill('#cp-code', '');

    await page.fill('#cp-test-code', 'E2E-SPRING');
    await page.click('#cp-test-submit');
    await page.locator('#cp-test-result [data-valid="true"]').waitFor();
    assert.match(await page.textContent('#cp-test-result'), /e2e-spring is valid: 15 USD off/);
    await page.fill('#cp-test-code', 'MADE-UP-99');
    await page.click('#cp-test-submit');
    await page.locator('#cp-test-result [data-code="not_found"]').waitFor();

    await page.fill('#cp-search', 'spring');
    await page.waitForFunction(() => document.querySelectorAll('#cp-table tbody tr').length === 1);
    await page.fill('#cp-search', '');
    await page.waitForFunction(() => document.querySelectorAll('#cp-table tbody tr').length === 4);
    await page.fill('#cp-test-code', 'e2e-spring');
    await page.click('#cp-test-submit');
    await page.locator('#cp-test-result [data-valid="true"]').waitFor();
    await shot('coupons-coupons');
    await page.evaluate(() => document.querySelector('#cp-list').scrollIntoView({ block: 'end' }));
    await screenshot(page, 'coupons-coupons-list');
    assert.equal(await page.evaluate(() => /\bnull\b|undefined/.test(document.querySelector('#content').innerText)), false, 'no stray null/undefined text');

    await page.goto('/#coupons/generator');
    await page.locator('.tpl-tile').first().waitFor();
    const ok = await generatorVerdict('e2e-spring');
    assert.equal(ok.state, 'valid', ok.text);
    await page.waitForFunction(() => {
      const img = document.querySelector('#gen-preview-square, #gen-preview-portrait');
      return img && img.dataset.code === 'e2e-spring' && img.complete && img.naturalWidth > 0;
    });
    const enabled = await page.$$eval('[id^="gen-download-"]', (bs) => bs.some((b) => !b.disabled));
    assert.equal(enabled, true, 'a valid code can be downloaded');

    const unknown = await generatorVerdict('NOT-IN-LIST');
    assert.equal(unknown.state, 'invalid');
    assert.match(unknown.text, /NOT-IN-LIST is not a valid code/);
    const disabled = await page.$$eval('[id^="gen-download-"], [id^="gen-share-"]', (bs) => bs.every((b) => b.disabled));
    assert.equal(disabled, true, 'download and share stay off');
    // the server refuses it too, whatever the page does
    const refused = await page.evaluate(async () => {
      const t = (await (await fetch('/api/templates')).json()).templates[0];
      const variant = Object.keys(t.variants)[0];
      const res = await fetch('/api/render', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ template: t.id, variant, code: 'NOT-IN-LIST' }) });
      return { status: res.status, body: await res.json() };
    });
    assert.equal(refused.status, 422);
    assert.equal(refused.body.code, 'invalid_coupon');
  });

  it('an accented and a 50-character code are listed and render in the generator (one rule with the API and the bot)', async () => {
    const long = `SPRING-${'X'.repeat(38)}_2026`;
    assert.equal(long.length, 50);
    await page.goto('/#coupons/coupons');
    await page.locator('#cp-table').waitFor();
    for (const code of ['CAFÉ10', long]) {
      await page.fill('#cp-code', code);
      await page.click('#cp-save');
      await row(code).waitFor();
    }
    await page.goto('/#coupons/generator');
    await page.locator('.tpl-tile').first().waitFor();
    for (const code of ['CAFÉ10', long]) {
      const verdict = await generatorVerdict(code);
      assert.equal(verdict.state, 'valid', verdict.text);
      await page.waitForFunction((c) => {
        const img = document.querySelector('#gen-preview-square, #gen-preview-portrait');
        return img && img.dataset.code === c && img.complete && img.naturalWidth > 0;
      }, code);
    }
    // The input takes exactly the served limit, and a 65th character is cut by the browser.
    assert.equal(await page.getAttribute('#gen-code', 'maxlength'), '64');
  });

  it('deactivating a code on the page makes the generator refuse it', async () => {
    await page.goto('/#coupons/coupons');
    await row('e2e-spring').waitFor();
    await row('e2e-spring').locator('[data-action="toggle"]').click();
    await page.waitForFunction(() => document.querySelector('#cp-table tr[data-code="e2e-spring"]')?.dataset.status === 'inactive');
    await page.goto('/#coupons/generator');
    await page.locator('.tpl-tile').first().waitFor();
    const off = await generatorVerdict('e2e-spring');
    assert.equal(off.state, 'invalid');
    assert.match(off.text, /no longer active/);
  });

  it('imports a pasted list, exports CSV, edits and deletes', async () => {
    await page.goto('/#coupons/coupons');
    await page.locator('#cp-table').waitFor();
    await page.click('#cp-import-toggle');
    await page.fill('#cp-import-text', 'PASTE-1\npaste-2\n');
    await page.click('#cp-import-submit');
    await row('PASTE-1').waitFor();
    await row('paste-2').waitFor();
    // a wrong line refuses the whole import and says which line
    await page.click('#cp-import-toggle');
    await page.fill('#cp-import-text', 'PASTE-3\nPASTE-4,percent,500\n');
    await page.click('#cp-import-submit');
    await page.waitForFunction(() => document.querySelector('#cp-import-error').textContent.length > 0);
    assert.match(await page.textContent('#cp-import-error'), /line 2/);
    assert.equal(await row('PASTE-3').count(), 0, 'nothing was saved');
    await page.click('#cp-import button.btn-ghost');

    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#cp-export')]);
    assert.equal(dl.suggestedFilename(), 'coupons.csv');
    const csv = String(await readFile(await dl.path()));
    assert.match(csv, /^code,discount_type,discount_value,currency,active,expires_at,note\n/);
    assert.match(csv, /e2e-spring,amount,15,USD,false,,"Spring campaign, Telegram"/);
    assert.match(csv, /PASTE-1,,,,true,,/);

    await row('PASTE-1').locator('[data-action="edit"]').click();
    await page.selectOption('#cp-discount-type', 'percent');
    await page.fill('#cp-discount-value', '30');
    await page.click('#cp-save');
    await page.waitForFunction(() => /30% off/.test(document.querySelector('#cp-table tr[data-code="PASTE-1"]')?.textContent || ''));

    await row('paste-2').locator('[data-action="delete"]').click();
    await page.click('dialog[open] button[value="ok"]');
    await page.waitForFunction(() => !document.querySelector('#cp-table tr[data-code="paste-2"]'));
  });

  it('warns clearly before and while accepting any code', async () => {
    await page.check('#cp-provider-any');
    await page.locator('dialog[open]').waitFor();
    await page.click('dialog[open] button[value="cancel"]');
    await page.locator('dialog').waitFor({ state: 'detached' });
    assert.equal(await page.isChecked('#cp-provider-list'), true, 'cancelling keeps the list');
    await page.check('#cp-provider-any');
    await page.click('dialog[open] button[value="ok"]');
    await page.locator('#cp-any-warning').waitFor();
    assert.match(await page.textContent('#cp-any-warning'), /made-up ones/);
    await page.locator('#cp-list-unused').waitFor();
    await page.fill('#cp-test-code', 'TOTALLY-MADE-UP');
    await page.click('#cp-test-submit');
    await page.locator('#cp-test-result [data-code="accept_any"]').waitFor();
    await shot('coupons-coupons-any');
    await page.check('#cp-provider-list');
    await page.locator('#cp-any-warning').waitFor({ state: 'detached' });
    assert.deepEqual(errors, []);
  });
});
