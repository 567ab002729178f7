// Browser test of the coupon pages against the real promostack binary: create a template by
// uploading images, draw the text box on the editor canvas, live preview, save, Telegram toggle,
// then generate, preview and download in the generator with a listed demo code (WELCOME20).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { logIn, startServer, launchBrowser, screenshot, watchErrors } from './support.mjs';

const DESKTOP = { width: 1440, height: 1000 };
const PNG_SIG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_SIG = [0xff, 0xd8, 0xff];

/**
 * Draw a template background in the page with a 2D canvas and return the PNG bytes (no binary
 * fixtures in the repository): a gradient, soft shapes, a headline and a light band for the code.
 */
async function makePng(page, width, height, [c0, c1], headline) {
  const b64 = await page.evaluate(async ({ width, height, c0, c1, headline }) => {
    const c = document.createElement('canvas');
    c.width = width; c.height = height;
    const g = c.getContext('2d');
    const grad = g.createLinearGradient(0, 0, width, height);
    grad.addColorStop(0, c0); grad.addColorStop(1, c1);
    g.fillStyle = grad; g.fillRect(0, 0, width, height);
    g.fillStyle = 'rgba(255,255,255,0.08)';
    for (const [x, y, r] of [[0.85, 0.12, 0.22], [0.1, 0.9, 0.3], [0.7, 0.75, 0.12]]) {
      g.beginPath(); g.arc(x * width, y * height, r * width, 0, Math.PI * 2); g.fill();
    }
    g.fillStyle = '#ffffff'; g.textAlign = 'center'; g.textBaseline = 'middle';
    g.font = `800 ${Math.round(width * 0.12)}px sans-serif`;
    g.fillText(headline, width / 2, height * 0.22);
    g.font = `600 ${Math.round(width * 0.035)}px sans-serif`;
    g.fillStyle = 'rgba(255,255,255,0.85)';
    g.fillText('UP TO 25% OFF EVERYTHING', width / 2, height * 0.33);
    g.fillStyle = 'rgba(255,255,255,0.16)';
    g.fillRect(width * 0.1, height * 0.58, width * 0.8, height * 0.22);
    const blob = await new Promise((r) => c.toBlob(r, 'image/png'));
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let bin = '';
    for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(bin);
  }, { width, height, c0, c1, headline });
  const buf = Buffer.from(b64, 'base64');
  assert.deepEqual([...buf.subarray(0, 8)], PNG_SIG);
  return buf;
}

let server;
let browser;
let context;
let page;
let errors;
let templateId;
let exportedZip;

/** Screenshots show the page, not the notifications stacked in the corner. */
async function shot(name) {
  await page.evaluate(() => {
    document.querySelectorAll('.toast').forEach((t) => t.remove());
    document.activeElement?.blur();
    window.scrollTo(0, 0);
  });
  await screenshot(page, name);
}

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: DESKTOP, deviceScaleFactor: 1, baseURL: server.baseUrl, acceptDownloads: true });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
  errors = watchErrors(page);
  await logIn(page, server);
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

/** The JSON the page's own API helper would get (same cookie, same tenant). */
const apiJson = (path) => page.evaluate(async (p) => {
  const tenant = localStorage.getItem('promostack.tenantId');
  const res = await fetch(p, { headers: tenant ? { 'X-Tenant-Id': tenant } : {} });
  return { status: res.status, body: await res.json() };
}, path);

/** Resolves once the <img> has a decoded image whose data-* match `attrs`. */
async function waitForImage(selector, attrs = {}) {
  await page.waitForFunction(([sel, want]) => {
    const img = document.querySelector(sel);
    if (!img || !img.getAttribute('src') || !img.complete || img.naturalWidth === 0) return false;
    return Object.entries(want).every(([k, v]) => img.dataset[k] === v);
  }, [selector, attrs]);
  return page.$eval(selector, (img) => ({ w: img.naturalWidth, h: img.naturalHeight, src: img.src }));
}

describe('coupon templates and generator', () => {
  it('creates a template by uploading a square and a portrait image', async () => {
    await page.goto('/#coupons/templates');
    await page.locator('#tpl-list, #tpl-empty').first().waitFor(); // demo templates may be there
    await page.click('#tpl-new');
    await page.fill('#tpl-new-name', 'Spring Sale');
    await page.setInputFiles('#tpl-new-square', { name: 'square.png', mimeType: 'image/png', buffer: await makePng(page, 1080, 1080, ['#1b2a80', '#14a89a'], 'SPRING SALE') });
    await page.setInputFiles('#tpl-new-portrait', { name: 'portrait.png', mimeType: 'image/png', buffer: await makePng(page, 1080, 1350, ['#5a1470', '#f07a3c'], 'SPRING SALE') });
    await page.click('#tpl-new-submit');
    await page.waitForFunction(() => /^#coupons\/templates\/.+/.test(location.hash));
    templateId = decodeURIComponent((await page.evaluate(() => location.hash)).split('/')[2]);
    await page.waitForFunction(() => document.querySelector('#content h1')?.textContent === 'Spring Sale');
    const { status, body } = await apiJson('/api/templates/' + encodeURIComponent(templateId));
    assert.equal(status, 200);
    assert.deepEqual(body.variants.square, { width: 1080, height: 1080 });
    assert.deepEqual(body.variants.portrait, { width: 1080, height: 1350 });
  });

  it('draws the text box by dragging on the canvas, previews it live and saves it', async () => {
    // the background is on the canvas once the "loading" message is gone
    await page.waitForFunction(() => document.querySelector('.ed-stage-msg')?.hidden === true);
    await waitForImage('#ed-preview'); // first preview with the default box
    const firstPreview = await page.$eval('#ed-preview', (i) => i.src);

    const box = await page.locator('#ed-canvas').boundingBox();
    const scale = box.width / 1080;
    // Drag from image (110, 632) to (970, 856), over the light band: the start is outside the
    // default box, so the drag draws a new box instead of moving that one.
    const at = (x, y) => [box.x + x * scale, box.y + y * scale];
    await page.mouse.move(...at(110, 632));
    await page.mouse.down();
    await page.mouse.move(...at(500, 700), { steps: 4 });
    await page.mouse.move(...at(970, 856), { steps: 4 });
    await page.mouse.up();

    const readout = await page.textContent('#ed-readout');
    const m = readout.match(/x (\d+)\s+y (\d+)\s+(\d+) × (\d+)/);
    assert.ok(m, 'readout shows the box: ' + readout);
    const [x, y, w, hgt] = m.slice(1).map(Number);
    // snapped to the 8 px grid, within a few pixels of where the mouse went
    assert.ok(Math.abs(x - 110) <= 8 && Math.abs(y - 632) <= 8 && Math.abs(x + w - 970) <= 8 && Math.abs(y + hgt - 856) <= 8, readout);
    assert.equal(x % 8, 0);

    // keyboard nudge: Shift+ArrowRight moves 10 px
    await page.focus('#ed-canvas');
    await page.keyboard.press('Shift+ArrowRight');
    assert.match(await page.textContent('#ed-readout'), new RegExp(`x ${x + 10}\\b`));

    // the live preview re-renders with the unsaved box
    await page.waitForFunction((old) => {
      const img = document.querySelector('#ed-preview');
      return img.src !== old && img.complete && img.naturalWidth > 0;
    }, firstPreview);
    assert.equal(await page.$eval('#ed-preview', (i) => i.naturalWidth), 1080);
    assert.equal(await page.isVisible('#ed-dirty'), true);

    // logo mode: a second drag draws the logo box, the text box stays
    await page.click('#ed-mode-logo');
    await page.mouse.move(...at(40, 40));
    await page.mouse.down();
    await page.mouse.move(...at(260, 160), { steps: 5 });
    await page.mouse.up();
    const logoReadout = await page.textContent('#ed-readout');
    assert.match(logoReadout, /^Logo box/);
    const lm = logoReadout.match(/x (\d+)\s+y (\d+)\s+(\d+) × (\d+)/).slice(1).map(Number);
    assert.ok(Math.abs(lm[0] - 40) <= 8 && Math.abs(lm[1] - 40) <= 8 && Math.abs(lm[0] + lm[2] - 260) <= 8, logoReadout);
    await page.click('#ed-mode-text');

    // style: outline colour and alignment
    await page.fill('#ed-stroke-color-hex', '#102030');
    await page.click('#ed-align [data-align="left"]');

    await waitForImage('#ed-preview');
    await page.waitForFunction(() => document.querySelector('#ed-preview').parentElement.querySelector('.spinner').hidden);
    await shot('coupons-editor');
    await page.fill('#ed-name', 'Spring Sale 2026'); // rename, saved with the rest
    await page.click('#ed-save');
    await page.locator('#ed-dirty').waitFor({ state: 'hidden' });

    const { body } = await apiJson('/api/templates/' + encodeURIComponent(templateId));
    assert.deepEqual(body.spec.variants.square.text, { x: x + 10, y, width: w, height: hgt });
    assert.equal(body.name, 'Spring Sale 2026');
    assert.equal(body.slug, 'spring-sale', 'renaming keeps the slug');
    assert.equal(await page.textContent('#content h1'), 'Spring Sale 2026');
    assert.equal(body.spec.style.strokeColor.toUpperCase(), '#102030');
    assert.equal(body.spec.style.align, 'left');
    assert.deepEqual(body.spec.variants.square.logo, { x: lm[0], y: lm[1], width: lm[2], height: lm[3] });
    assert.ok(body.version >= 2, 'saving bumps the version');

    // the portrait tab shows the portrait background and previews the portrait variant
    await page.click('#ed-tab-portrait');
    const portrait = await waitForImage('#ed-preview', { variant: 'portrait' });
    assert.deepEqual([portrait.w, portrait.h], [1080, 1350]);
    const ratio = await page.$eval('#ed-canvas', (c) => c.height / c.width);
    assert.ok(Math.abs(ratio - 1350 / 1080) < 0.01, 'canvas has the portrait aspect ratio');

    // leaving with unsaved changes asks first
    await page.focus('#ed-canvas');
    await page.keyboard.press('ArrowDown');
    await page.locator('#ed-dirty').waitFor();
    await page.click('.back-link');
    await page.click('dialog[open] button[value="cancel"]');
    await page.locator('dialog').waitFor({ state: 'detached' });
    assert.match(await page.evaluate(() => location.hash), /^#coupons\/templates\/.+/);
    await page.click('.back-link');
    await page.click('dialog[open] button[value="ok"]');
    await page.waitForFunction(() => location.hash === '#coupons/templates');
    // the discarded nudge was not saved
    const after = (await apiJson('/api/templates/' + encodeURIComponent(templateId))).body;
    assert.equal(after.version, body.version);
  });

  it('toggles Telegram visibility from the list', async () => {
    assert.equal(await page.evaluate(() => location.hash), '#coupons/templates');
    const card = page.locator(`.tpl-card[data-id="${templateId}"]`);
    await card.waitFor();
    const toggle = card.locator('.tg-toggle');
    const initial = (await toggle.getAttribute('aria-pressed')) === 'true';
    assert.equal((await apiJson('/api/templates/' + encodeURIComponent(templateId))).body.telegramEnabled, initial);
    for (const want of [!initial, initial, true]) {
      if ((await toggle.getAttribute('aria-pressed')) === String(want)) continue;
      await toggle.click();
      await page.waitForFunction(([id, w]) => {
        const b = document.querySelector(`.tpl-card[data-id="${id}"] .tg-toggle`);
        return b && b.getAttribute('aria-pressed') === String(w) && !b.disabled;
      }, [templateId, want]);
      const { body } = await apiJson('/api/templates/' + encodeURIComponent(templateId));
      assert.equal(body.telegramEnabled, want);
      assert.match(await toggle.textContent(), want ? /✓/ : /✗/);
    }
    await page.waitForFunction(() => [...document.querySelectorAll('.tpl-thumb-img')].every((i) => i.complete && i.naturalWidth > 0));
    await shot('coupons-templates');
  });

  it('generates, previews and downloads a coupon image', async () => {
    await page.goto('/#coupons/generator');
    const tile = page.locator(`.tpl-tile[data-id="${templateId}"]`);
    await tile.waitFor();
    await page.fill('#gen-search', 'spring');
    assert.equal(await tile.isVisible(), true);
    await page.fill('#gen-search', 'no-such-template');
    assert.equal(await tile.isVisible(), false);
    await page.fill('#gen-search', '');
    await tile.click();
    assert.equal(await tile.getAttribute('aria-selected'), 'true');

    await page.fill('#gen-code', 'WELCOME20');
    const sq = await waitForImage('#gen-preview-square', { code: 'WELCOME20' });
    const po = await waitForImage('#gen-preview-portrait', { code: 'WELCOME20' });
    assert.deepEqual([sq.w, sq.h], [1080, 1080]);
    assert.deepEqual([po.w, po.h], [1080, 1350]);
    await page.waitForFunction(() => [...document.querySelectorAll('.tpl-thumb-img')].every((i) => i.complete && i.naturalWidth > 0));
    await shot('coupons-generator');

    // an optional logo travels with the render request; the preview re-renders with it
    const before = await page.$eval('#gen-preview-square', (i) => i.src);
    const renders = [];
    const onRequest = (req) => { if (req.url().endsWith('/api/render')) renders.push(req.postDataJSON()); };
    page.on('request', onRequest);
    await page.setInputFiles('#gen-logo', { name: 'logo.png', mimeType: 'image/png', buffer: await makePng(page, 320, 160, ['#ffffff', '#dde6ff'], 'LOGO') });
    await page.waitForFunction((old) => document.querySelector('#gen-preview-square').src !== old, before);
    page.off('request', onRequest);
    assert.equal(await page.textContent('#gen-logo-name'), 'logo.png');
    assert.ok(renders.some((b) => typeof b.logo === 'string' && b.logo.startsWith('iVBORw0KGgo')), 'the logo is sent as base64 PNG');
    await page.click('#gen-logo-remove');
    assert.equal(await page.textContent('#gen-logo-name'), 'No logo');

    const [pngDl] = await Promise.all([page.waitForEvent('download'), page.click('#gen-download-square')]);
    assert.equal(pngDl.suggestedFilename(), 'spring-sale-WELCOME20-square.png');
    const png = await readFile(await pngDl.path());
    assert.deepEqual([...png.subarray(0, 8)], PNG_SIG);

    await page.selectOption('#gen-format', 'jpeg');
    // headless Chromium cannot share files, so Share falls back to a download
    const [jpgDl] = await Promise.all([page.waitForEvent('download'), page.click('#gen-share-portrait')]);
    assert.equal(jpgDl.suggestedFilename(), 'spring-sale-WELCOME20-portrait.jpg');
    const jpg = await readFile(await jpgDl.path());
    assert.deepEqual([...jpg.subarray(0, 3)], JPEG_SIG);
  });

  it('shows why a code is refused next to the field and keeps download and share off', async () => {
    const status = page.locator('#gen-code-status');
    for (const [typed, why] of [['BAD CODE', /letters, digits/], ['NOT-LISTED-1', /NOT-LISTED-1 is not a valid code/]]) {
      await page.fill('#gen-code', typed);
      await page.waitForFunction(() => document.querySelector('#gen-code-status').dataset.state === 'invalid');
      assert.match(await status.textContent(), why);
      assert.equal(await page.isDisabled('#gen-download-square'), true);
      assert.equal(await page.isDisabled('#gen-share-portrait'), true);
      assert.match(await page.getAttribute('#gen-download-square', 'title'), why);
      // the last good image stays on screen, dimmed
      assert.equal(await page.$eval('#gen-preview-square', (i) => i.dataset.code), 'WELCOME20');
    }
    // a listed code is accepted again (case-insensitive) and can be downloaded
    await page.fill('#gen-code', 'save10');
    await page.waitForFunction(() => document.querySelector('#gen-code-status').dataset.state === 'valid');
    assert.match(await status.textContent(), /SAVE10 is valid: 10% off/, 'the listed spelling');
    await waitForImage('#gen-preview-square', { code: 'save10' });
    assert.equal(await page.isDisabled('#gen-download-square'), false);
  });

  it('bulk-deletes every template after a confirmation, leaving honest empty states', async () => {
    await page.goto('/#coupons/templates');
    await page.locator('#tpl-list').waitFor();
    // export first, to import it again once everything is gone
    const [zipDl] = await Promise.all([page.waitForEvent('download'), page.click(`[data-export="${templateId}"]`)]);
    assert.equal(zipDl.suggestedFilename(), 'spring-sale.zip');
    exportedZip = await readFile(await zipDl.path());
    assert.deepEqual([...exportedZip.subarray(0, 4)], [0x50, 0x4b, 0x03, 0x04], 'a zip archive');

    const before = (await apiJson('/api/templates')).body.templates.length;
    assert.ok(before >= 1);
    await page.check('#tpl-select-all');
    assert.equal((await page.textContent('#tpl-selected-count')).trim(), before + ' selected');
    // cancelling keeps everything
    await page.click('#tpl-bulk-delete');
    await page.locator('dialog[open]').waitFor();
    await page.click('dialog[open] button[value="cancel"]');
    await page.locator('dialog').waitFor({ state: 'detached' });
    assert.equal((await apiJson('/api/templates')).body.templates.length, before);
    // confirming deletes them all
    await page.click('#tpl-bulk-delete');
    await page.click('dialog[open] button[value="ok"]');
    await page.locator('#tpl-empty').waitFor();
    assert.equal((await apiJson('/api/templates')).body.templates.length, 0);

    await page.goto('/#coupons/generator');
    const empty = page.locator('#gen-empty');
    await empty.waitFor();
    assert.match(await empty.textContent(), /No templates yet/);
    assert.equal(await empty.locator('a[href="#coupons/templates"]').count(), 1);
  });

  it('imports an exported .zip and opens it in the editor', async () => {
    await page.goto('/#coupons/templates');
    await page.locator('#tpl-empty').waitFor();
    await page.setInputFiles('#tpl-import-file', { name: 'spring-sale.zip', mimeType: 'application/zip', buffer: exportedZip });
    await page.waitForFunction(() => /^#coupons\/templates\/.+/.test(location.hash));
    await page.waitForFunction(() => document.querySelector('#content h1')?.textContent === 'Spring Sale 2026');
    const { body } = await apiJson('/api/templates');
    assert.equal(body.templates.length, 1);
    assert.equal(body.templates[0].slug, 'spring-sale');
    assert.equal(body.templates[0].spec.style.align, 'left', 'the saved style survived the round trip');
    await waitForImage('#ed-preview');
  });

  it('ran without page errors', () => {
    assert.deepEqual(errors, []);
  });
});
