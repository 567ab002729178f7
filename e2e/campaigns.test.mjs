// Browser test of photo campaigns against the real promostack binary: an admin creates a campaign
// and uploads an overlay; a participant on a phone-sized screen opens the public page, loads a
// photo, positions it, downloads the full-resolution composite and submits a post link; the admin
// sees and approves the entry and exports the CSV.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { logIn, startServer, launchBrowser, screenshot, watchErrors } from './support.mjs';

const DESKTOP = { width: 1440, height: 1000 };
const PHONE = { width: 390, height: 844 };
const PNG_SIG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const TITLE = 'Summer <b>Frame</b> Week';
const NASTY_NAME = '<img src=x onerror=alert(1)>';

/** Width and height from a PNG's IHDR. */
function pngSize(buf) {
  return [buf.readUInt32BE(16), buf.readUInt32BE(20)];
}

/** Draw an image in the page (no binary fixtures): `kind` 'overlay' = a frame with a transparent
 * middle and a banner, 'photo' = a landscape "photo" of sky, sun and hills. */
async function makeImage(page, kind, width, height, type = 'image/png') {
  const b64 = await page.evaluate(async ({ kind, width, height, type }) => {
    const c = document.createElement('canvas');
    c.width = width; c.height = height;
    const g = c.getContext('2d');
    if (kind === 'overlay') {
      const b = Math.round(width * 0.045);
      g.fillStyle = '#ff7a18';
      g.fillRect(0, 0, width, b); g.fillRect(0, height - b, width, b);
      g.fillRect(0, 0, b, height); g.fillRect(width - b, 0, b, height);
      g.fillStyle = 'rgba(10,18,38,0.88)';
      g.fillRect(b, height - b - height * 0.14, width - 2 * b, height * 0.14);
      g.fillStyle = '#ffffff'; g.textAlign = 'center'; g.textBaseline = 'middle';
      g.font = `800 ${Math.round(width * 0.07)}px sans-serif`;
      g.fillText('#SUMMERFRAME', width / 2, height - b - height * 0.07);
    } else {
      const sky = g.createLinearGradient(0, 0, 0, height);
      sky.addColorStop(0, '#2f80ed'); sky.addColorStop(1, '#f2c94c');
      g.fillStyle = sky; g.fillRect(0, 0, width, height);
      g.fillStyle = '#fff3b0';
      g.beginPath(); g.arc(width * 0.3, height * 0.35, height * 0.12, 0, Math.PI * 2); g.fill();
      g.fillStyle = '#27ae60';
      g.beginPath(); g.moveTo(0, height); g.quadraticCurveTo(width * 0.35, height * 0.45, width, height * 0.8); g.lineTo(width, height); g.fill();
    }
    const blob = await new Promise((r) => c.toBlob(r, type, 0.9));
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let bin = '';
    for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(bin);
  }, { kind, width, height, type });
  return Buffer.from(b64, 'base64');
}

let server;
let browser;
let admin;
let adminErrors;
let campaignId;
let publicPath;

async function shot(page, name) {
  await page.evaluate(() => {
    document.querySelectorAll('.toast').forEach((t) => t.remove());
    document.activeElement?.blur();
  });
  await screenshot(page, name);
}

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const ctx = await browser.newContext({ viewport: DESKTOP, deviceScaleFactor: 1, baseURL: server.baseUrl, acceptDownloads: true });
  admin = await ctx.newPage();
  admin.setDefaultTimeout(15_000);
  adminErrors = watchErrors(admin);
  await logIn(admin, server);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe('campaigns', () => {
  it('admin creates a campaign and uploads an overlay', async () => {
    await admin.goto('/#coupons/campaigns');
    await admin.locator('#cmp-empty').waitFor();
    await admin.click('#cmp-new');
    await admin.locator('#cmp-form').waitFor();
    await admin.fill('#cmp-title', TITLE);
    await admin.fill('#cmp-description', 'Frame your best summer photo, post it on Instagram or TikTok and tag us.\nThree winners get a year of Pro.');
    const local = (ms) => { const d = new Date(ms); return new Date(ms - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16); };
    await admin.fill('#cmp-starts', local(Date.now() - 3_600_000));
    await admin.fill('#cmp-ends', local(Date.now() + 6 * 86_400_000 + 5 * 3_600_000));
    await admin.check('#cmp-platform-x');
    await admin.click('#cmp-save');
    await admin.waitForFunction(() => /^#coupons\/campaigns\/[0-9a-f-]{36}$/.test(location.hash));
    campaignId = (await admin.evaluate(() => location.hash)).split('/').pop();
    await admin.locator('#cmp-overlay-card').waitFor();
    // The title is shown as text, never as markup.
    assert.equal(await admin.textContent('.page-title'), TITLE + 'Active');
    assert.equal(await admin.locator('.page-title b').count(), 0);

    const overlay = await makeImage(admin, 'overlay', 1080, 1350);
    await admin.setInputFiles('#cmp-overlay-file', { name: 'frame.png', mimeType: 'image/png', buffer: overlay });
    await admin.waitForFunction(() => document.getElementById('cmp-overlay-info')?.textContent.includes('1080 × 1350'));
    await admin.waitForTimeout(300);
    publicPath = await admin.getAttribute('#cmp-open-public', 'href');
    assert.equal(publicPath, '/campaign/' + campaignId);
    await shot(admin, 'campaigns-editor');
  });

  it('a participant on a phone composites a photo, downloads it and enters', async () => {
    const phone = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true, baseURL: server.baseUrl, acceptDownloads: true });
    const page = await phone.newPage();
    page.setDefaultTimeout(15_000);
    const errors = watchErrors(page);
    await page.goto(publicPath);
    await page.locator('#cp-title').waitFor();
    assert.equal(await page.textContent('#cp-title'), TITLE);
    assert.equal(await page.locator('#cp-title b').count(), 0, 'no markup from the title');
    assert.equal(await page.textContent('#cp-status'), 'Open for entries');
    assert.match(await page.textContent('#cp-countdown'), /^Closes in 6d \d\d:\d\d:\d\d/);
    // No horizontal scrolling at phone width.
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth));
    await shot(page, 'campaign-public-phone');

    const photo = await makeImage(page, 'photo', 1600, 1200, 'image/jpeg');
    await page.setInputFiles('#cp-photo-input', { name: 'holiday.jpg', mimeType: 'image/jpeg', buffer: photo });
    await page.waitForSelector('#cp-canvas[data-ready="true"]');
    const stage = await page.locator('#cp-stage').boundingBox();
    const cx = stage.x + stage.width / 2, cy = stage.y + stage.height / 2;
    // A landscape photo in a portrait frame can move sideways: drag it right.
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    await page.mouse.move(cx + 40, cy, { steps: 4 });
    await page.mouse.up();
    const offsetX = Number(await page.getAttribute('#cp-canvas', 'data-offset-x'));
    assert.ok(offsetX > 0.05, 'dragged right: ' + offsetX);
    await page.fill('#cp-zoom', '1.6');
    assert.equal(await page.getAttribute('#cp-canvas', 'data-zoom'), '1.600');
    // Wheel zoom (a mobile context has no mouse wheel: dispatch the event the page listens to).
    await page.locator('#cp-stage').dispatchEvent('wheel', { deltaY: -200, clientX: cx, clientY: cy });
    await page.waitForFunction(() => Number(document.getElementById('cp-canvas').dataset.zoom) > 1.7);
    // Pinch: two pointers moving apart zoom in further.
    const zoomBefore = Number(await page.getAttribute('#cp-canvas', 'data-zoom'));
    const ptr = (type, pointerId, x) => page.locator('#cp-stage').dispatchEvent(type, { pointerId, pointerType: 'touch', isPrimary: pointerId === 1, clientX: x, clientY: cy, bubbles: true });
    await ptr('pointerdown', 1, cx - 40);
    await ptr('pointerdown', 2, cx + 40);
    await ptr('pointermove', 2, cx + 100);
    await ptr('pointerup', 2, cx + 100);
    await ptr('pointerup', 1, cx - 40);
    const zoomAfter = Number(await page.getAttribute('#cp-canvas', 'data-zoom'));
    assert.ok(zoomAfter > zoomBefore * 1.5, `pinch zoomed in: ${zoomBefore} -> ${zoomAfter}`);

    // The composite's top-left corner is the overlay's orange frame, drawn over the photo.
    const corner = await page.evaluate(() => {
      const c = document.getElementById('cp-canvas');
      return [...c.getContext('2d').getImageData(3, 3, 1, 1).data];
    });
    assert.ok(corner[0] > 240 && corner[1] > 100 && corner[1] < 140 && corner[2] < 40, 'orange frame: ' + corner);

    // Back to a gentle zoom for the download and the picture.
    await page.fill('#cp-zoom', '1.15');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#cp-download')]);
    assert.match(download.suggestedFilename(), /^summer-b-frame-b-week-photo\.png$/);
    const png = await readFile(await download.path());
    assert.deepEqual([...png.subarray(0, 8)], PNG_SIG);
    assert.deepEqual(pngSize(png), [1080, 1350], 'full resolution, the overlay size');
    await page.evaluate(() => {
      const top = document.getElementById('cp-step1').getBoundingClientRect().top + window.scrollY;
      window.scrollTo(0, top - 12);
    });
    await screenshot(page, 'campaign-public-phone-photo');

    // Off-platform links are refused with the server's message.
    await page.fill('#cp-url', 'https://www.youtube.com/watch?v=nope');
    await page.click('#cp-submit');
    await page.waitForFunction(() => document.getElementById('cp-error').textContent.includes('Instagram'));
    await page.fill('#cp-url', 'https://www.instagram.com/p/E2E123/?igsh=share');
    await page.fill('#cp-name', NASTY_NAME);
    await page.fill('#cp-handle', '@sunny');
    await page.fill('#cp-email', 'sunny@example.com');
    await page.click('#cp-submit');
    await page.locator('#cp-success').waitFor();
    await shot(page, 'campaign-public-phone-entered');

    // The same post again (another form of its link) is a duplicate.
    await page.reload();
    await page.locator('#cp-url').waitFor();
    await page.fill('#cp-url', 'https://instagram.com/p/E2E123');
    await page.click('#cp-submit');
    await page.waitForFunction(() => document.getElementById('cp-error').textContent.includes('already entered'));
    assert.deepEqual(errors, []);
    await phone.close();
  });

  it('the admin sees, approves and exports the entry', async () => {
    await admin.goto('/#coupons/campaigns');
    const row = admin.locator(`#cmp-list tr[data-id="${campaignId}"]`);
    await row.waitFor();
    assert.equal(await row.locator('.cmp-entries').textContent(), '1');
    assert.equal(await row.locator('.cmp-status').getAttribute('data-status'), 'active');
    await shot(admin, 'campaigns-list');

    await row.locator('a.cmp-name').click();
    const entry = admin.locator('.cmp-entry').first();
    await entry.waitFor();
    assert.equal(await entry.locator('.cmp-entry-url').textContent(), 'https://www.instagram.com/p/E2E123/?igsh=share');
    assert.ok((await entry.textContent()).includes(NASTY_NAME), 'the name is shown as text');
    assert.equal(await admin.locator('#cmp-entries img').count(), 0, 'no element injected from entry fields');
    await entry.locator('.cmp-approve').click();
    await admin.waitForSelector('.cmp-entry[data-status="approved"]');

    await admin.selectOption('#cmp-filter-status', 'pending');
    await admin.waitForFunction(() => document.getElementById('cmp-entries-count').textContent.startsWith('0 entries'));
    await admin.selectOption('#cmp-filter-status', 'approved');
    await admin.locator('.cmp-entry[data-status="approved"]').waitFor();

    const [csv] = await Promise.all([admin.waitForEvent('download'), admin.click('#cmp-export')]);
    const text = await readFile(await csv.path(), 'utf8');
    assert.match(text, /^submitted_at,platform,status,url,name,handle,email\r\n/);
    assert.ok(text.includes(',instagram,approved,https://www.instagram.com/p/E2E123/?igsh=share,'), text);
    assert.ok(text.includes("'@sunny"), 'formula-guarded handle: ' + text);
    await admin.selectOption('#cmp-filter-status', '');
    await admin.locator('#cmp-entries-card').scrollIntoViewIfNeeded();
    await screenshot(admin, 'campaigns-entries');
    assert.deepEqual(adminErrors, []);
  });
});
