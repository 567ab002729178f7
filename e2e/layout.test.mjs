// Every dashboard page at phone and desktop widths: nothing overflows the viewport horizontally,
// every table fits its card (actions never hide behind a scrollbar), and the navigation panels
// run the full height of a long page (issue 14, item 11).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { horizontalOverflow, logIn, startServer, launchBrowser, screenshot, watchErrors } from './support.mjs';
import { PRODUCTS } from '../web/assets/routes.js';

const WIDTHS = [375, 1280, 1440];

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  // A campaign, so the Campaigns table has a row to lay out (the demo data has none).
  const context = await browser.newContext({ baseURL: server.baseUrl });
  const page = await context.newPage();
  await logIn(page, server);
  const status = await page.evaluate(async () => {
    const now = Date.now();
    const res = await fetch('/api/campaigns', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        title: 'Black Friday photo contest with a fairly long title',
        description: 'Share your coupon photo',
        startsAt: now - 86_400_000,
        endsAt: now + 7 * 86_400_000,
        platforms: ['instagram', 'tiktok', 'telegram'],
      }),
    });
    return res.status === 201 ? 201 : `${res.status} ${await res.text()}`;
  });
  assert.equal(status, 201, 'creating the campaign');
  await context.close();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

for (const width of WIDTHS) {
  describe(`every page at ${width} px`, () => {
    let context;
    let page;
    let errors;
    before(async () => {
      context = await browser.newContext({ viewport: { width, height: 800 }, deviceScaleFactor: 1, baseURL: server.baseUrl });
      page = await context.newPage();
      page.setDefaultTimeout(10_000);
      errors = watchErrors(page);
      await logIn(page, server);
    });
    after(async () => { await context.close(); });

    for (const product of PRODUCTS) {
      for (const p of product.pages) {
        it(`${product.id}/${p.id} fits`, async () => {
          await page.goto(`/#${product.id}/${p.id}`);
          await page.locator('#content h1').first().waitFor();
          // Pages fill in after their requests answer; wait for the loading placeholders to go.
          await page.waitForFunction(() => !document.querySelector('#content [aria-busy="true"], #content .skeleton'));
          await page.waitForTimeout(200);
          assert.deepEqual(await horizontalOverflow(page), [], `${product.id}/${p.id} at ${width} px`);
          if (width >= 1280) {
            // The navigation panels run the full height of a long page, and their contents stay
            // in view at its end.
            const panels = await page.evaluate(() => ({
              height: document.querySelector('#nav-panels').getBoundingClientRect().height,
              page: document.documentElement.scrollHeight,
            }));
            assert.ok(panels.height >= panels.page - 1, `the navigation panels are ${panels.height} px tall on a ${panels.page} px page (${product.id}/${p.id})`);
            await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
            const gap = await page.evaluate(() => window.innerHeight - document.querySelector('#sidebar').getBoundingClientRect().bottom);
            assert.ok(Math.abs(gap) <= 1, `the sidebar stops ${gap} px above the bottom of ${product.id}/${p.id}`);
          }
          if (width !== 1280) await screenshot(page, `layout-${width}-${product.id}-${p.id}`);
          assert.deepEqual(errors, []);
        });
      }
    }
  });
}
