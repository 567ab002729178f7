// Browser test of Settings → Connections against the real promostack binary and the fake
// Telegram Bot API of crates/testkit (target/debug/e2e-fixture), which the test tells over stdin
// which bots and channels exist and what rights the bot has in each: connect a Signal Bot with
// its VIP channel through the page, see the green light, @username and the rights checklist;
// a channel where the bot lacks rights shows the actionable message next to the field; rotate
// the webhook secret (a new one is registered with the fake); send a test message (the fake
// receives it); disconnect after confirming. No horizontal overflow at 1440 and 375 px.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { logIn, startServer, startFakeTelegram, launchBrowser, screenshot, watchErrors, pageFitsAt } from './support.mjs';

const DESKTOP = { width: 1440, height: 1000 };
const MOBILE = { width: 375, height: 812 };
const TOKEN = '424242:E2E-signal-bot-token-never-shown';
const BOT = 'gold_signals_bot';
const VIP = -1001500000001;
const WEAK = -1001500000002;

let fake;
let server;
let browser;
let page;
let errors;

const noOverflow = (width) => pageFitsAt(page, width, width === MOBILE.width ? MOBILE.height : DESKTOP.height);

const card = () => page.locator('#conn-signal-bot');

describe('Settings → Connections', () => {
  before(async () => {
    fake = await startFakeTelegram();
    await fake.command({ addBot: { token: TOKEN, username: BOT } });
    await fake.command({ addChannel: { id: VIP, title: 'Gold VIP' } });
    await fake.command({ setBotMember: { token: TOKEN, chatId: VIP } });
    await fake.command({ addChannel: { id: WEAK, title: 'Weak Room' } });
    await fake.command({ setBotMember: { token: TOKEN, chatId: WEAK, invite: false, ban: false } });
    server = await startServer({
      env: {
        TELEGRAM_API_URL: fake.url,
        TELEGRAM_RATE_LIMIT: 'off',
        PUBLIC_URL: 'https://promo.example.test',
      },
    });
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: DESKTOP });
    page = await context.newPage();
    errors = watchErrors(page);
    await logIn(page, server);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (fake) { fake.child.stdin.end(); await once(fake.child, 'exit'); }
  });

  it('connects a Signal Bot and its VIP channel, rotates, tests and disconnects', async () => {
    await page.goto(server.baseUrl + '/#settings/connections');
    await page.waitForSelector('h1:has-text("Connections")');
    await card().locator('[data-action="save"]').waitFor();
    assert.equal(await card().locator('.conn-status').innerText(), 'Not connected');
    // The User Account card says what the server needs before a login can start
    // (e2e/user-account.test.mjs signs one in).
    await page.locator('#conn-user-account summary').click();
    assert.equal(await page.locator('#conn-user-account .conn-status').getAttribute('data-status'), 'unavailable');
    assert.match(await page.locator('#conn-user-account').innerText(), /TELEGRAM_API_ID and TELEGRAM_API_HASH/);
    await noOverflow(DESKTOP.width);
    await noOverflow(MOBILE.width);
    await page.setViewportSize(DESKTOP);

    // A channel where the bot may post but not invite or ban: the message says what to allow,
    // next to the VIP channel field, and nothing is connected.
    const tokenInput = card().locator('input[name="token"]');
    assert.equal(await tokenInput.getAttribute('type'), 'password');
    await tokenInput.fill(TOKEN);
    await card().locator('input[name="vipChannel"]').fill(String(WEAK));
    await card().locator('[data-action="save"]').click();
    const vipError = card().locator('#conn-signal-bot-vipChannel-error');
    await vipError.filter({ hasText: 'allow' }).waitFor();
    const message = await vipError.innerText();
    assert.match(message, /in Weak Room, allow @gold_signals_bot to: invite users via link \(add members\), ban users/);
    assert.doesNotMatch(message, /post messages/);
    assert.equal(await card().locator('input[name="vipChannel"]').getAttribute('aria-invalid'), 'true');
    assert.equal(await card().locator('.conn-status').innerText(), 'Not connected');
    await noOverflow(MOBILE.width);
    await card().scrollIntoViewIfNeeded();
    await screenshot(page, 'settings-connections-rights-375');
    await page.setViewportSize(DESKTOP);

    // The VIP channel where it has every right: connected, green, @username, checklist.
    await card().locator('input[name="vipChannel"]').fill(String(VIP));
    if (!(await tokenInput.inputValue())) await tokenInput.fill(TOKEN);
    await card().locator('[data-action="save"]').click();
    await card().locator('.conn-status[data-status="ok"]').waitFor();
    assert.equal(await card().locator('.conn-status').innerText(), 'Connected');
    assert.equal(await card().locator('.conn-username').innerText(), '@' + BOT);
    assert.match(await card().locator('[data-channel="vipChannel"]').innerText(), /Gold VIP \(-1001500000001\)/);
    const checks = await card().locator('.check').evaluateAll((els) => els.map((e) => [e.dataset.check, e.classList.contains('check-ok')]));
    assert.deepEqual(checks, [
      ['token', true],
      ['vip_channel.can_post_messages', true],
      ['vip_channel.can_invite_users', true],
      ['vip_channel.can_restrict_members', true],
    ]);
    assert.equal(await tokenInput.inputValue(), '', 'the token field is emptied after the save');
    const html = await page.content();
    assert.ok(!html.includes(TOKEN) && !html.includes(TOKEN.split(':')[1]), 'the page never holds the token');
    await noOverflow(DESKTOP.width);
    await screenshot(page, 'settings-connections-1440');
    await noOverflow(MOBILE.width);
    await card().scrollIntoViewIfNeeded();
    await screenshot(page, 'settings-connections-375');
    await page.setViewportSize(DESKTOP);

    // Rotate the secret: the fake gets a new setWebhook with another secret_token.
    const before = await fake.command({ webhookOf: TOKEN });
    assert.ok(before.webhook && before.webhook.secret_token, 'the save registered a webhook with a secret');
    await card().locator('[data-action="rotate"]').click();
    await page.locator('.toast', { hasText: 'New webhook secret' }).waitFor();
    const after = await fake.command({ webhookOf: TOKEN });
    assert.ok(after.webhook.secret_token && after.webhook.secret_token !== before.webhook.secret_token, 'a new secret was registered');
    assert.match(after.webhook.url, /^https:\/\/promo\.example\.test\/api\/telegram-webhook\//);

    // A test message reaches the VIP channel on the fake.
    await card().locator('[data-action="test"]').click();
    await page.locator('.toast', { hasText: 'Test message sent to Gold VIP' }).waitFor();
    const sent = await fake.command({ sentTo: VIP });
    assert.deepEqual(sent.texts, ['✅ PromoStack test message from the Signal Bot']);

    // Disconnect asks first; cancelling keeps it, confirming removes it.
    await card().locator('[data-action="disconnect"]').click();
    await page.locator('dialog .dialog-title', { hasText: 'Disconnect the Signal Bot?' }).waitFor();
    await page.locator('dialog button[value="cancel"]').click();
    await page.locator('dialog').waitFor({ state: 'detached' });
    assert.equal((await page.evaluate(async () => (await fetch('/api/connections')).json())).connections.length, 1);
    await card().locator('[data-action="disconnect"]').click();
    await page.locator('dialog button[value="ok"]').click();
    await card().locator('.conn-status[data-status="none"]').waitFor();
    assert.equal(await card().locator('.conn-status').innerText(), 'Not connected');
    assert.deepEqual((await page.evaluate(async () => (await fetch('/api/connections')).json())).connections, []);
    assert.deepEqual(errors, []);
  });
});

describe('Settings → Connections with FOREX_BOT_TOKEN set', () => {
  let envFake;
  let envServer;
  let envBrowser;
  let envPage;
  let envErrors;

  before(async () => {
    envFake = await startFakeTelegram();
    await envFake.command({ addBot: { token: TOKEN, username: BOT } });
    await envFake.command({ addChannel: { id: VIP, title: 'Gold VIP' } });
    await envFake.command({ setBotMember: { token: TOKEN, chatId: VIP } });
    envServer = await startServer({
      env: {
        TELEGRAM_API_URL: envFake.url,
        TELEGRAM_RATE_LIMIT: 'off',
        FOREX_BOT_TOKEN: TOKEN,
        FOREX_CHANNEL_ID: String(VIP),
      },
    });
    envBrowser = await launchBrowser();
    envPage = await (await envBrowser.newContext({ viewport: DESKTOP })).newPage();
    envErrors = watchErrors(envPage);
    await logIn(envPage, envServer);
  });

  after(async () => {
    await envBrowser?.close();
    await envServer?.stop();
    if (envFake) { envFake.child.stdin.end(); await once(envFake.child, 'exit'); }
  });

  it('says the environment wins, and Settings → System shows the same connection', async () => {
    // The seed runs in the background at start: wait until the API has it.
    let list;
    for (let i = 0; i < 100; i++) {
      list = await envPage.evaluate(async () => (await fetch('/api/connections')).json());
      if (list.connections.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(list.connections[0].role, 'signal_bot');
    await envPage.goto(envServer.baseUrl + '/#settings/connections');
    const signal = envPage.locator('#conn-signal-bot');
    await signal.locator('.conn-status[data-status="ok"]').waitFor();
    assert.match(await signal.locator('.conn-env').innerText(),
      /Set by the environment \(FOREX_BOT_TOKEN, FOREX_CHANNEL_ID\).*the environment wins/);
    assert.equal(await signal.locator('.conn-username').innerText(), '@' + BOT);
    assert.equal(await envPage.locator('#conn-coupon-bot .conn-env').count(), 0);
    await screenshot(envPage, 'settings-connections-env-1440');

    await envPage.goto(envServer.baseUrl + '/#settings/system');
    const system = envPage.locator('#system-connections');
    await system.waitFor();
    assert.match(await system.locator('[data-role="signal_bot"]').innerText(), /Connected\s+@gold_signals_bot/);
    assert.match(await system.locator('[data-role="coupon_bot"]').innerText(), /Not connected/);
    assert.deepEqual(envErrors, []);
  });
});
