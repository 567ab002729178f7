// Browser test of the dashboard shell against the real promostack binary:
// login, product switching, hash routes, Settings pages, logout, the mobile overlay.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { logIn, startServer, launchBrowser, screenshot, watchErrors } from './support.mjs';

const DESKTOP = { width: 1440, height: 900 };
const MOBILE = { width: 375, height: 812 };

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

async function newPage(viewport) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, baseURL: server.baseUrl });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const errors = watchErrors(page);
  return { context, page, errors };
}


const currentHash = (page) => page.evaluate(() => location.hash);
const heading = (page) => page.locator('#content h1').first();

/** Waits until the page's h1 reads `text` (pages load lazily). */
async function expectHeading(page, text) {
  await page.waitForFunction((t) => {
    const h1 = document.querySelector('#content h1');
    return h1 && h1.textContent.trim() === t;
  }, text);
}

async function currentSidebarLabel(page) {
  return (await page.locator('#sidebar-list [aria-current="page"]').textContent()).trim();
}

async function currentProduct(page) {
  return page.locator('#rail-list [aria-current="page"]').getAttribute('data-product');
}

describe('dashboard shell (desktop)', () => {
  let ctx;
  before(async () => { ctx = await newPage(DESKTOP); });
  after(async () => { await ctx.context.close(); });

  it('sends an unauthenticated visitor to the login page', async () => {
    const { page } = ctx;
    await page.goto('/#settings/members');
    await page.waitForURL((url) => url.pathname === '/login');
    const next = new URL(page.url()).searchParams.get('next');
    assert.equal(next, '/#settings/members');
    await page.locator('#password').waitFor();
    await screenshot(page, 'login');
  });

  it('shows the server error for a wrong password', async () => {
    const { page } = ctx;
    await page.fill('#password', 'definitely-not-the-password');
    await page.click('#login-submit');
    const error = page.locator('#login-error');
    await error.waitFor({ state: 'visible' });
    const text = (await page.locator('#login-error-text').textContent()).trim();
    assert.match(text, /password is not correct/);
    assert.equal(await page.locator('#password').getAttribute('aria-invalid'), 'true');
    assert.equal(new URL(page.url()).pathname, '/login');
    await screenshot(page, 'login-error');
  });

  it('logs in with the right password and returns to the requested page', async () => {
    const { page } = ctx;
    await page.fill('#password', server.password);
    await page.click('#login-submit');
    await page.waitForURL((url) => url.pathname === '/' && url.hash === '#settings/members');
    await expectHeading(page, 'Members');
    assert.equal(await currentProduct(page), 'settings');
  });

  it('opens the default route with the shell around it', async () => {
    const { page, errors } = ctx;
    await page.goto('/');
    await expectHeading(page, 'Generator');
    assert.equal(await currentHash(page), '#coupons/generator');
    assert.equal(await currentProduct(page), 'coupons');
    assert.equal(await currentSidebarLabel(page), 'Generator');
    assert.equal((await page.locator('#sidebar-title').textContent()).trim(), 'Coupon Bot');
    // the top bar names the workspace and the signed-in user
    assert.ok((await page.locator('#tenant').textContent()).trim().length > 0);
    assert.ok((await page.locator('#user-email').textContent()).trim().length > 0);
    // the generator: the template picker, or its empty state when there are no templates
    await page.locator('#gen-templates, #gen-empty').first().waitFor();
    // layout: 60 px switcher + 240 px sidebar
    const rail = await page.locator('#rail').boundingBox();
    const sidebar = await page.locator('#sidebar').boundingBox();
    assert.equal(Math.round(rail.width), 60);
    assert.equal(Math.round(sidebar.width), 240);
    await screenshot(page, 'desktop-coupons');
    assert.deepEqual(errors, []);
  });

  it('switches products from the product switcher', async () => {
    const { page } = ctx;
    const tooltip = await page.locator('#rail-list [data-product="forex"]').getAttribute('data-tooltip');
    assert.equal(tooltip, 'Forex Signals');
    await page.click('#rail-list [data-product="forex"]');
    await expectHeading(page, 'Signals');
    assert.equal(await currentHash(page), '#forex/signals');
    assert.equal(await currentProduct(page), 'forex');
    assert.equal((await page.locator('#sidebar-title').textContent()).trim(), 'Forex Signals');
    const labels = (await page.locator('#sidebar-list .sidebar-link').allTextContents()).map((s) => s.trim());
    assert.deepEqual(labels, ['Signals', 'Strategy & Config', 'Subscriptions', 'Support Chat', 'Hype Bot']);
    await screenshot(page, 'desktop-forex');

    await page.click('#rail-list [data-product="settings"]');
    await expectHeading(page, 'Workspace');
    assert.equal(await currentHash(page), '#settings/workspace');
    assert.equal(await currentProduct(page), 'settings');

    await page.click('#rail-list [data-product="coupons"]');
    await expectHeading(page, 'Generator');
    assert.equal(await currentProduct(page), 'coupons');
  });

  it('follows hash routes: sidebar highlight, content and the back button', async () => {
    const { page } = ctx;
    await page.click('#sidebar-list [data-page="templates"]');
    await expectHeading(page, 'Templates');
    assert.equal(await currentHash(page), '#coupons/templates');
    assert.equal(await currentSidebarLabel(page), 'Templates');
    assert.equal(await page.title(), 'Templates · Coupon Bot · PromoStack');

    await page.click('#sidebar-list [data-page="analytics"]');
    await expectHeading(page, 'Analytics');
    assert.equal(await currentSidebarLabel(page), 'Analytics');

    await page.goBack();
    await expectHeading(page, 'Templates');
    assert.equal(await currentHash(page), '#coupons/templates');
    assert.equal(await currentSidebarLabel(page), 'Templates');

    await page.goForward();
    await expectHeading(page, 'Analytics');

    // typing a hash directly
    await page.evaluate(() => { location.hash = '#forex/hype-bot'; });
    await expectHeading(page, 'Hype Bot');
    assert.equal(await currentProduct(page), 'forex');
    assert.equal(await currentSidebarLabel(page), 'Hype Bot');

    // the old journeys link still lands on Support Chat
    await page.evaluate(() => { location.hash = '#forex/journeys'; });
    await expectHeading(page, 'Support Chat');
    assert.equal(await currentHash(page), '#forex/support-chat');
  });

  it('shows a friendly not-found view for an unknown hash', async () => {
    const { page } = ctx;
    await page.evaluate(() => { location.hash = '#reports/quarterly'; });
    await expectHeading(page, 'Page not found');
    assert.match(await page.locator('#content').textContent(), /#reports\/quarterly/);
    assert.equal(await page.locator('#rail-list [aria-current="page"]').count(), 0);
    await screenshot(page, 'not-found');
    await page.click('#content a.btn-primary');
    await expectHeading(page, 'Generator');
  });

  it('keyboard: arrow keys move through the sidebar and Enter opens a page', async () => {
    const { page } = ctx;
    await page.focus('#sidebar-list [data-page="generator"]');
    await page.keyboard.press('ArrowDown');
    const focused = await page.evaluate(() => document.activeElement.dataset.page);
    assert.equal(focused, 'templates');
    await page.keyboard.press('Enter');
    await expectHeading(page, 'Templates');
  });

  it('Settings → Workspace renames the workspace', async () => {
    const { page } = ctx;
    await page.click('#rail-list [data-product="settings"]');
    await expectHeading(page, 'Workspace');
    const name = page.locator('#ws-name');
    await name.waitFor();
    assert.equal(await page.locator('#ws-save').isDisabled(), true, 'nothing to save yet');
    await screenshot(page, 'settings-workspace');

    await name.fill('Acme <b>Promotions</b>');
    await page.click('#ws-save');
    await page.locator('.toast-success').first().waitFor();
    // the top bar shows the new name as text (no markup interpreted)
    await page.waitForFunction(() => {
      const el = document.querySelector('#tenant-name') || document.querySelector('#tenant-select option:checked');
      return el && el.textContent === 'Acme <b>Promotions</b>';
    });
    assert.equal(await page.locator('#tenant b').count(), 0);

    await page.reload();
    await page.locator('#ws-name').waitFor();
    assert.equal(await page.locator('#ws-name').inputValue(), 'Acme <b>Promotions</b>');

    // an empty name is refused in the form
    await page.fill('#ws-name', '   ');
    await page.click('#ws-save');
    assert.match(await page.locator('#ws-name-error').textContent(), /name/i);
    await page.fill('#ws-name', 'Acme Promotions');
    await page.click('#ws-save');
    await page.waitForFunction(() => {
      const el = document.querySelector('#tenant-name') || document.querySelector('#tenant-select option:checked');
      return el && el.textContent === 'Acme Promotions';
    });
  });

  it('Settings → Members adds and removes a member', async () => {
    const { page } = ctx;
    await page.click('#sidebar-list [data-page="members"]');
    await expectHeading(page, 'Members');
    await page.locator('#member-form').waitFor();
    const email = 'e2e.teammate@example.com';

    await page.fill('#member-email', email);
    await page.selectOption('#member-role', 'admin');
    await page.click('#member-add');
    const row = page.locator('#members-table tbody tr', { hasText: email });
    await row.waitFor();
    assert.match(await row.textContent(), /Admin/);
    await screenshot(page, 'settings-members');

    // adding the same address again is refused with the server's message
    await page.fill('#member-email', email);
    await page.click('#member-add');
    await page.waitForFunction(() => document.querySelector('#member-error').textContent.trim().length > 0);
    assert.equal(await page.locator('#members-table tbody tr', { hasText: email }).count(), 1);

    // a malformed address never reaches the server
    await page.fill('#member-email', 'not-an-email');
    await page.click('#member-add');
    assert.match(await page.locator('#member-error').textContent(), /valid email/);

    // the list survives a reload
    await page.reload();
    await page.locator('#members-table tbody tr', { hasText: email }).waitFor();

    // remove, confirming in the dialog
    await page.locator('#members-table tbody tr', { hasText: email }).locator('[data-action="remove"]').click();
    const dialog = page.locator('dialog[open]');
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Remove member' }).click();
    await page.locator('#members-table tbody tr', { hasText: email }).waitFor({ state: 'detached' });
    await page.reload();
    await expectHeading(page, 'Members');
    await page.waitForFunction(() => document.querySelector('#member-count').textContent !== '…');
    assert.equal(await page.locator('#members-table tbody tr', { hasText: email }).count(), 0);
  });

  it('Settings → System shows the server status', async () => {
    const { page } = ctx;
    await page.click('#sidebar-list [data-page="system"]');
    await expectHeading(page, 'System');
    await page.locator('#system-overview').waitFor();
    const overview = await page.locator('#system-overview').textContent();
    assert.match(overview, /SQLite/);
    assert.match(overview, /Local disk/);
    assert.ok(await page.locator('#system-features .feature').count() > 0, 'integrations are listed');
    await screenshot(page, 'settings-system');
  });

  it('switches workspace with the tenant switcher', async () => {
    const { page } = ctx;
    // A second workspace, created through the platform admin API (the password admin is one).
    const res = await page.request.post('/api/admin/tenants', {
      data: { name: 'Second Shop', slug: 'second-shop' },
      headers: { Origin: server.baseUrl },
    });
    assert.equal(res.status(), 201, await res.text());
    const second = await res.json();

    await page.evaluate(() => { location.hash = '#settings/workspace'; });
    await page.reload();
    const select = page.locator('#tenant-select');
    await select.waitFor();
    assert.equal(await select.locator('option').count(), 2);
    const first = await select.inputValue();
    assert.notEqual(first, second.id);

    await select.selectOption(second.id);
    await page.waitForFunction(() => document.querySelector('#ws-name') && document.querySelector('#ws-name').value === 'Second Shop');
    assert.equal(await page.evaluate(() => localStorage.getItem('promostack.tenantId')), second.id);
    await screenshot(page, 'tenant-switcher');

    // every API call now carries X-Tenant-Id: the second workspace has its own (empty) member list
    await page.click('#sidebar-list [data-page="members"]');
    await expectHeading(page, 'Members');
    await page.waitForFunction(() => document.querySelector('#member-count').textContent === '0');

    // the choice survives a reload, and switching back restores the first workspace
    await page.reload();
    await page.locator('#tenant-select').waitFor();
    assert.equal(await page.locator('#tenant-select').inputValue(), second.id);
    await page.locator('#tenant-select').selectOption(first);
    await page.waitForFunction((id) => localStorage.getItem('promostack.tenantId') === id, first);
    await page.click('#sidebar-list [data-page="workspace"]');
    await page.waitForFunction(() => document.querySelector('#ws-name') && document.querySelector('#ws-name').value === 'Acme Promotions');
  });

  it('logs out', async () => {
    const { page, errors } = ctx;
    await page.click('#logout');
    await page.waitForURL((url) => url.pathname === '/login');
    // the session is gone: the shell sends us back to the login page
    await page.goto('/#coupons/generator');
    await page.waitForURL((url) => url.pathname === '/login');
    const res = await page.request.get('/api/me');
    assert.equal(res.status(), 401);
    assert.deepEqual(errors, []);
  });
});

describe('dashboard shell (mobile, 375 px)', () => {
  let ctx;
  before(async () => { ctx = await newPage(MOBILE); });
  after(async () => { await ctx.context.close(); });

  const isOpen = (page) => page.evaluate(() => {
    const r = document.getElementById('nav-panels').getBoundingClientRect();
    return r.right > 0 && getComputedStyle(document.getElementById('nav-panels')).visibility === 'visible';
  });

  it('collapses both sidebars behind a hamburger button', async () => {
    const { page } = ctx;
    await page.goto('/login');
    await page.locator('#password').waitFor();
    await screenshot(page, 'mobile-login');
    await logIn(page, server);
    await expectHeading(page, 'Generator');
    await page.waitForTimeout(300);
    assert.equal(await isOpen(page), false, 'navigation starts closed');
    assert.equal(await page.locator('#menu-button').isVisible(), true);
    assert.equal(await page.locator('#menu-button').getAttribute('aria-expanded'), 'false');
    await screenshot(page, 'mobile-closed');
  });

  it('opens the overlay; picking a product keeps it open, picking a page closes it', async () => {
    const { page } = ctx;
    await page.click('#menu-button');
    await page.waitForFunction(() => document.getElementById('app').classList.contains('nav-open'));
    await page.waitForTimeout(300);
    assert.equal(await isOpen(page), true);
    assert.equal(await page.locator('#menu-button').getAttribute('aria-expanded'), 'true');
    assert.equal(await page.locator('#backdrop').isVisible(), true);
    await screenshot(page, 'mobile-open');

    await page.click('#rail-list [data-product="forex"]');
    await page.waitForFunction(() => document.getElementById('sidebar-title').textContent === 'Forex Signals');
    assert.equal(await isOpen(page), true, 'still open to choose a page');

    await page.click('#sidebar-list [data-page="subscriptions"]');
    await expectHeading(page, 'Subscriptions');
    await page.waitForTimeout(300);
    assert.equal(await isOpen(page), false);
    assert.equal(await currentHash(page), '#forex/subscriptions');
    await screenshot(page, 'mobile-page');
  });

  it('closes the overlay with the backdrop and with Escape', async () => {
    const { page, errors } = ctx;
    await page.click('#menu-button');
    await page.waitForTimeout(300);
    assert.equal(await isOpen(page), true);
    await page.mouse.click(MOBILE.width - 10, MOBILE.height / 2); // the backdrop, right of the panels
    await page.waitForTimeout(300);
    assert.equal(await isOpen(page), false);

    await page.click('#menu-button');
    await page.waitForTimeout(300);
    assert.equal(await isOpen(page), true);
    await page.keyboard.press('Escape');
    await page.waitForTimeout(300);
    assert.equal(await isOpen(page), false);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'menu-button', 'focus returns to the hamburger');
    assert.deepEqual(errors, []);
  });

  it('fits the settings pages into 375 px without sideways scrolling', async () => {
    const { page } = ctx;
    for (const route of ['settings/workspace', 'settings/members', 'settings/system']) {
      await page.evaluate((r) => { location.hash = '#' + r; }, route);
      await page.waitForFunction((r) => document.getElementById('content').dataset.route === r, route);
      await page.locator('#content .card, #content .stat').first().waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `#${route} overflows by ${overflow}px`);
    }
    await page.evaluate(() => { location.hash = '#settings/members'; });
    await page.locator('#member-form').waitFor();
    await screenshot(page, 'mobile-members');
  });
});

describe('login rate limit', () => {
  // Its own server: the limiter counts attempts per client address, and every test comes from 127.0.0.1.
  let own;
  let context;
  before(async () => { own = await startServer({ password: 'rate-limit-test-password' }); });
  after(async () => {
    if (context) await context.close();
    if (own) await own.stop();
  });

  it('shows the server message once attempts are throttled (429)', async () => {
    context = await browser.newContext({ viewport: DESKTOP, baseURL: own.baseUrl });
    const page = await context.newPage();
    await page.goto('/login');
    let text = '';
    for (let i = 0; i < 40 && !/too many/i.test(text); i++) {
      await page.fill('#password', 'wrong-' + i);
      const answered = page.waitForResponse((r) => r.url().endsWith('/api/login'));
      await page.click('#login-submit');
      const res = await answered;
      await page.waitForFunction(() => !document.getElementById('login-submit').disabled);
      text = (await page.locator('#login-error-text').textContent()).trim();
      if (res.status() === 429) {
        const body = await res.json();
        assert.equal(text.toLowerCase(), String(body.error).toLowerCase(), 'the JSON error is shown');
      }
    }
    assert.match(text, /too many/i);
    await screenshot(page, 'login-rate-limited');
  });
});
