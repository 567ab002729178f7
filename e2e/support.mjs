// Shared helpers for the browser tests: start the real promostack binary on a free port with a
// fresh data directory, launch Debian's Chromium through playwright-core, save screenshots.
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));
export const screenshotDir = fileURLToPath(new URL('./screenshots/', import.meta.url));

/** The e2e-fixture binary built beside the promostack binary under test. */
export function fixtureBin() {
  const bin = process.env.PROMOSTACK_BIN || 'target/debug/promostack';
  return path.resolve(repoRoot, path.dirname(bin), 'e2e-fixture');
}

/**
 * The testkit's fake Telegram Bot API as a child process; close its stdin to stop it.
 * `command(obj)` sends one JSON command (see crates/testkit/src/bin/e2e-fixture.rs: addBot,
 * addChannel, setBotMember, sentTo) and resolves to the fixture's JSON answer.
 */
export async function startFakeTelegram() {
  const child = spawn(fixtureBin(), ['fake-telegram'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let buffer = '';
  let url = null;
  const waiting = [];
  child.stdout.on('data', (c) => {
    buffer += c;
    let nl;
    while (waiting.length && (nl = buffer.indexOf('\n')) >= 0 && url) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      waiting.shift()(line);
    }
  });
  for (let i = 0; i < 100 && !buffer.includes('\n'); i++) await new Promise((r) => setTimeout(r, 50));
  if (!buffer.startsWith('http://127.0.0.1:')) throw new Error(`fake Bot API did not start: ${buffer}`);
  url = buffer.slice(0, buffer.indexOf('\n')).trim();
  buffer = buffer.slice(buffer.indexOf('\n') + 1);
  const command = (obj) => new Promise((resolve, reject) => {
    waiting.push((line) => {
      const answer = JSON.parse(line);
      if (answer.error) reject(new Error(`fake Bot API: ${answer.error}`));
      else resolve(answer);
    });
    child.stdin.write(JSON.stringify(obj) + '\n');
  });
  return { child, url, command };
}

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Variables that would point the server at shared infrastructure: the browser tests always run
// on their own SQLite file and local object directory so they cannot disturb other suites.
const STRIP_ENV = /^(DATABASE_URL|DB_(HOST|PORT|NAME|USER|PASSWORD)|SPACES_.*|ADMIN_HOST|DASH_HOST|TELEGRAM_.*|STRIPE_.*|OPENAI_.*|CLERK_.*|FUNDERPRO_.*|ADMIN_EMAILS)$/;

/**
 * Start `promostack` (PROMOSTACK_BIN, default target/debug/promostack under the repo root) with
 * PORT, DATA_DIR (fresh temp dir), ADMIN_PASSWORD and LOG_FORMAT=json; resolves once
 * GET /readyz answers 200 (/healthz is green as soon as the port is open, while /api/* still answers
 * 503 "starting up" until migrations and the first-start demo data are done).
 */
export async function startServer({ password = 'e2e-correct-horse-battery', timeoutMs = 60_000, env: extraEnv = {}, bin: binOverride = null, args = [] } = {}) {
  // `bin`/`args`: another build of the same server (the e2e fixture's serve-with-fake-user-account).
  const bin = binOverride || path.resolve(repoRoot, process.env.PROMOSTACK_BIN || 'target/debug/promostack');
  if (!existsSync(bin)) {
    throw new Error(`promostack binary not found at ${bin}: build it with \`cargo build -p promostack\` or set PROMOSTACK_BIN`);
  }
  const port = await freePort();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'promostack-e2e-'));
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!STRIP_ENV.test(k)) env[k] = v;
  Object.assign(env, { PORT: String(port), DATA_DIR: dataDir, ADMIN_PASSWORD: password, LOG_FORMAT: 'json' });
  // A suite may point the server at fakes it started (e.g. TELEGRAM_API_URL).
  Object.assign(env, extraEnv);

  const child = spawn(bin, args, { cwd: dataDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logLines = [];
  const keep = (chunk) => {
    for (const line of String(chunk).split('\n')) if (line) logLines.push(line);
    if (logLines.length > 400) logLines.splice(0, logLines.length - 400);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = null;
  const exitPromise = new Promise((resolve) => child.on('exit', (code, signal) => { exited = { code, signal }; resolve(exited); }));

  const baseUrl = `http://127.0.0.1:${port}`;
  const logs = () => logLines.join('\n');
  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const done = await Promise.race([exitPromise, sleep(10_000).then(() => null)]);
      if (!done) { child.kill('SIGKILL'); await exitPromise; }
    }
    await rm(dataDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) {
      await rm(dataDir, { recursive: true, force: true });
      throw new Error(`promostack exited during start-up (${JSON.stringify(exited)}):\n${logs()}`);
    }
    try {
      const res = await fetch(baseUrl + '/readyz');
      if (res.status === 200) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`promostack was not ready (/readyz) within ${timeoutMs} ms:\n${logs()}`);
    }
    await sleep(100);
  }
  return { baseUrl, port, password, dataDir, logs, stop };
}

/** Chromium from CHROMIUM_PATH (default /usr/bin/chromium), headless. */
export async function launchBrowser() {
  const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(`Chromium not found at ${executablePath}: apt-get install -y chromium, or set CHROMIUM_PATH`);
  }
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
}

/** Sign in through the login form as the admin and wait for the dashboard to show. */
export async function logIn(page, server) {
  await page.goto(server.baseUrl + '/login');
  await page.fill('#password', server.password);
  await page.click('#login-submit');
  await page.waitForURL((url) => url.pathname === '/');
  await page.locator('#app').waitFor({ state: 'visible' });
}

/** Save a PNG of the viewport under e2e/screenshots/<name>.png. */
export async function screenshot(page, name) {
  await mkdir(screenshotDir, { recursive: true });
  // Let transitions (overlay slide, toasts) settle so the picture shows the final state.
  // Park the pointer in the bottom-right corner so hover tooltips do not cover the picture.
  const vp = page.viewportSize();
  if (vp) await page.mouse.move(vp.width - 2, vp.height - 2);
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(screenshotDir, name + '.png') });
}

/**
 * Collect page errors and failed console messages so a test can assert the UI ran cleanly.
 * Expected 401/4xx responses log "Failed to load resource" in Chromium; those are ignored.
 */
export function watchErrors(page) {
  const errors = [];
  page.on('pageerror', (err) => errors.push('pageerror: ' + err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) errors.push('console: ' + msg.text());
  });
  return errors;
}

/** Resize to `width`×`height` and assert the page is not wider than the viewport. */
export async function pageFitsAt(page, width, height) {
  await page.setViewportSize({ width, height });
  await page.waitForTimeout(150);
  const { scroll, inner } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
  if (scroll > inner) throw new Error(`horizontal overflow at ${width} px (scrollWidth ${scroll} > ${inner})`);
}

/**
 * What overflows horizontally on the current page, as readable strings (empty when it all fits):
 * the page wider than the viewport, a table wider than its card (its actions would sit off
 * screen behind a scrollbar), or any element of the page reaching past the viewport's right edge
 * outside a scrolling box.
 */
export async function horizontalOverflow(page) {
  return page.evaluate(() => {
    const vw = document.documentElement.clientWidth;
    const problems = [];
    const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
      + (typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\s+/).join('.') : '');
    const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
    if (document.documentElement.scrollWidth > vw + 1) {
      problems.push(`the page is ${document.documentElement.scrollWidth} px wide in a ${vw} px viewport`);
    }
    for (const wrap of document.querySelectorAll('#content .table-wrap')) {
      if (shown(wrap) && wrap.scrollWidth > wrap.clientWidth + 1) {
        problems.push(`${name(wrap.firstElementChild || wrap)} is ${wrap.scrollWidth} px wide in its ${wrap.clientWidth} px card`);
      }
    }
    const clippedByAncestor = (el) => {
      for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
        if (getComputedStyle(a).overflowX !== 'visible') return true;
      }
      return false;
    };
    for (const el of document.querySelectorAll('#content *')) {
      const box = el.getBoundingClientRect();
      if (box.width > 1 && box.right > vw + 1 && shown(el) && !clippedByAncestor(el)) {
        problems.push(`${name(el)} ends at ${Math.round(box.right)} px, past the ${vw} px viewport`);
      }
    }
    return problems.slice(0, 8);
  });
}
