// Browser test of the User Account card on Settings → Connections: phone → code → two-step
// password through the page, a test message, sign out. No MTProto server is reachable from tests,
// so the server is the e2e fixture's `serve-with-fake-user-account` (the same server code, its
// user accounts on the testkit's fake network); the login code is read from the fixture's
// stdout as a person reads it in their Telegram app. No horizontal overflow at 1440 and 375 px.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { logIn, startServer, launchBrowser, screenshot, watchErrors, fixtureBin, pageFitsAt } from './support.mjs';

const DESKTOP = { width: 1440, height: 1000 };
const MOBILE = { width: 375, height: 812 };
const PHONE = '+447700900123';
const PASSWORD = 'e2e two-step secret';

let server;
let browser;
let page;
let errors;

const card = () => page.locator('#conn-user-account');

const noOverflow = (width) => pageFitsAt(page, width, width === MOBILE.width ? MOBILE.height : DESKTOP.height);

/** The latest login code the fake network "texted" to PHONE (from the fixture's stdout). */
async function loginCode(previous = null) {
  for (let i = 0; i < 100; i++) {
    const codes = server.logs().split('\n').filter((l) => l.startsWith('{"fakeLoginCode"')).map((l) => JSON.parse(l).fakeLoginCode);
    const last = codes[codes.length - 1];
    if (last && last !== previous) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no login code was sent');
}

describe('Settings → Connections → User Account', () => {
  before(async () => {
    server = await startServer({ bin: fixtureBin(), args: ['serve-with-fake-user-account', PHONE, PASSWORD] });
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: DESKTOP });
    page = await context.newPage();
    errors = watchErrors(page);
    await logIn(page, server);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('signs in with phone, code and two-step password, sends a test, signs out', async () => {
    await page.goto(server.baseUrl + '/#settings/connections');
    await page.waitForSelector('h1:has-text("Connections")');
    await card().locator('summary').click();
    assert.equal(await card().locator('.conn-status').getAttribute('data-status'), 'none');

    // A number without the country code is refused under the field.
    const phone = card().locator('input[name="phone"]');
    await phone.fill('07700 900123');
    await card().locator('[data-action="phone"]').click();
    await card().locator('#conn-ua-phone-error').filter({ hasText: 'country code' }).waitFor();
    assert.equal(await phone.getAttribute('aria-invalid'), 'true');

    await phone.fill('+44 7700 900123');
    await card().locator('[data-action="phone"]').click();
    await card().locator('.conn-login-step', { hasText: 'sent a login code to +44 ••• 123' }).waitFor();
    assert.equal(await card().locator('.conn-status').getAttribute('data-status'), 'signing_in');
    const code = await loginCode();

    // A wrong code says so; the right one asks for the two-step password.
    const wrong = code === '99999' ? '88888' : '99999';
    await card().locator('input[name="code"]').fill(wrong);
    await card().locator('[data-action="code"]').click();
    await card().locator('#conn-ua-code-error').filter({ hasText: 'wrong' }).waitFor();
    await card().locator('input[name="code"]').fill(code);
    await card().locator('[data-action="code"]').click();
    await card().locator('.conn-login-step', { hasText: 'Two-step verification is on' }).waitFor();
    const password = card().locator('input[name="password"]');
    assert.equal(await password.getAttribute('type'), 'password');
    await noOverflow(MOBILE.width);
    await card().scrollIntoViewIfNeeded();
    await screenshot(page, 'settings-user-account-password-375');
    await page.setViewportSize(DESKTOP);

    await password.fill('not it');
    await card().locator('[data-action="password"]').click();
    await card().locator('#conn-ua-password-error').filter({ hasText: 'password is wrong' }).waitFor();
    await password.fill(PASSWORD);
    await card().locator('[data-action="password"]').click();
    await card().locator('.conn-status[data-status="ok"]').waitFor();
    assert.equal(await card().locator('.conn-status').innerText(), 'Connected');
    assert.equal(await card().locator('.conn-username').innerText(), '@e2e_desk');
    assert.ok(!(await page.content()).includes(PASSWORD), 'the page never holds the password');
    await noOverflow(DESKTOP.width);
    await screenshot(page, 'settings-user-account-1440');
    await noOverflow(MOBILE.width);
    await card().scrollIntoViewIfNeeded();
    await screenshot(page, 'settings-user-account-375');
    await page.setViewportSize(DESKTOP);

    // A test message to a known @username.
    await card().locator('input[name="test-to"]').fill('@e2e_friend');
    await card().locator('[data-action="test-to"]').click();
    await page.locator('.toast', { hasText: 'Test message sent from the user account' }).waitFor();

    // Sign out asks first; confirming deletes the session and the login starts over.
    await card().locator('[data-action="sign-out"]').click();
    await page.locator('dialog .dialog-title', { hasText: 'Sign the user account out?' }).waitFor();
    await page.locator('dialog button[value="ok"]').click();
    await card().locator('input[name="phone"]').waitFor();
    assert.equal(await card().locator('.conn-status').getAttribute('data-status'), 'none');
    assert.deepEqual(errors, [], 'no console errors');
  });
});
