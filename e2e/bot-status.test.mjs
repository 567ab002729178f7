// Browser test of the Telegram bot card on Settings → System, against the real promostack
// binary with the fake Telegram Bot API of crates/testkit (target/debug/e2e-fixture): the leader
// registers the webhook with the fake, real updates go through POST /api/telegram-webhook, and
// the card shows the mode, @username, webhook URL and the processed / pending / failed counts,
// never the bot token or the webhook secret.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { once } from 'node:events';
import { logIn, startServer, startFakeTelegram, launchBrowser, screenshot, screenshotDir, watchErrors } from './support.mjs';

const DESKTOP = { width: 1440, height: 1000 };
const TOKEN = '123456:E2E-BOT-STATUS-TOKEN';
const SECRET = 'e2e-webhook-secret-not-for-the-page';
const PUBLIC_URL = 'https://promo.example.test';

let fake;
let server;
let browser;
let page;
let errors;

function update(updateId, text, message = {}) {
  return {
    update_id: updateId,
    message: {
      message_id: updateId,
      date: 1764000000,
      from: { id: 5150, is_bot: false, first_name: 'Eve', language_code: 'en' },
      chat: { id: 5150, type: 'private' },
      text,
      ...message,
    },
  };
}

async function post(body, secret = SECRET) {
  const res = await fetch(server.baseUrl + '/api/telegram-webhook', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

// The server's own view (the same endpoint the card reads), polled until `ready` holds.
async function waitStatus(ready) {
  let last;
  for (let i = 0; i < 100; i++) {
    last = await page.evaluate(async () => (await fetch('/api/bot/status')).json());
    if (ready(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`bot status never became ready: ${JSON.stringify(last)}`);
}

describe('Telegram bot card (Settings → System)', () => {
  before(async () => {
    const { child, url } = await startFakeTelegram();
    fake = child;
    server = await startServer({
      env: {
        TELEGRAM_BOT_TOKEN: TOKEN,
        TELEGRAM_WEBHOOK_SECRET: SECRET,
        TELEGRAM_API_URL: url,
        TELEGRAM_RATE_LIMIT: 'off',
        PUBLIC_URL,
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
    if (fake) { fake.stdin.end(); await once(fake, 'exit'); }
  });

  it('shows mode, @username, webhook URL and update counts, never the token or secret', async () => {
    // Two updates answered, one we cannot read (stored, then failed), and a wrong secret (refused).
    assert.deepEqual(await post(update(1, '/help')), { status: 200, body: { ok: true } });
    assert.deepEqual(await post(update(2, '/start')), { status: 200, body: { ok: true } });
    assert.deepEqual(await post(update(2, '/start')), { status: 200, body: { ok: true, duplicate: true } });
    assert.equal((await post({ update_id: 3, message: { chat: 'not an object' } })).status, 200);
    assert.equal((await post(update(4, '/help'), 'wrong-secret')).status, 401);
    await waitStatus((s) => s.username && s.webhookUrl && s.processedUpdates === 2 && s.failedUpdates === 1);

    await page.goto(server.baseUrl + '/#settings/system');
    await page.waitForSelector('h1:has-text("System")');
    const card = await page.waitForSelector('#system-bot');
    const text = await card.innerText();
    assert.match(text, /@promostack_test_bot/);
    assert.match(text, /Connected/);
    assert.match(text, /Receives updates by\s+Webhook/);
    assert.match(text, new RegExp(`Webhook URL\\s+${PUBLIC_URL.replace(/\./g, '\\.')}/api/telegram-webhook`));
    assert.match(text, /2 processed/);
    assert.match(text, /0 pending/);
    assert.match(text, /1 failed/);
    assert.doesNotMatch(text, /Last update\s+Never/);
    const html = await page.content();
    for (const secret of [TOKEN, TOKEN.split(':')[1], SECRET]) {
      assert.ok(!html.includes(secret), 'the page never holds the token or the secret');
    }
    await card.scrollIntoViewIfNeeded();
    await screenshot(page, 'settings-system-bot');
    await card.screenshot({ path: path.join(screenshotDir, 'settings-system-bot-card.png') });
    assert.deepEqual(errors, []);
  });
});
