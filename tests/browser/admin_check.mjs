// Drives Debian's headless Chromium (playwright-core) through the admin page: the login form,
// a log-in with the API key, the page going live through the hub, a hub client connecting in a
// second tab (the connection counters move), a publish from the form (the published counter
// moves and the client receives it), the send form's 501, and the rejected handshake the test
// provoked. Saves a screenshot after each step in the directory given. Prints one JSON object
// with what it saw; test_admin_page.py asserts.
//
// Usage: node admin_check.mjs ADMIN_URL API_KEY HUB_URL CLIENT_TOKEN SCREENSHOT_DIR MODE
// MODE is what the page should settle on: "live" (through the hub) or "polling".
import { chromium } from 'playwright-core';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [adminUrl, apiKey, hubUrl, clientToken, shots, expectedMode] = process.argv.slice(2);
mkdirSync(shots, { recursive: true });
const profile = mkdtempSync(join(tmpdir(), 'wshub-admin-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 1000 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--disable-features=LocalNetworkAccessChecks'],
});

const out = { console: [] };
const number = async (page, id) => Number(await page.locator('#' + id).textContent());
// Waits until `read()` satisfies `ok`, up to `ms`; returns the last value read.
async function until(read, ok, ms = 15000) {
  const deadline = Date.now() + ms;
  let value = await read();
  while (!ok(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    value = await read();
  }
  return value;
}

try {
  const page = context.pages()[0] || await context.newPage();
  page.on('console', (m) => out.console.push(m.text()));
  page.on('pageerror', (e) => out.console.push('page error: ' + e.message));

  const first = await page.goto(adminUrl);
  out.loginStatus = first.status();
  out.loginFormShown = await page.locator('form[action="/admin/login"] input[name="key"]').count() === 1;
  await page.screenshot({ path: join(shots, '1-login.png'), fullPage: true });

  await page.fill('input[name="key"]', 'wrong-key');
  await Promise.all([page.waitForLoadState('load'), page.click('button[type="submit"]')]);
  out.wrongKeyMessage = await page.locator('.problem').textContent().catch(() => null);

  await page.fill('input[name="key"]', apiKey);
  const [afterLogin] = await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
  out.afterLoginStatus = afterLogin ? afterLogin.status() : null;
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'wshub_admin');
  out.cookie = session ? { httpOnly: session.httpOnly, sameSite: session.sameSite, path: session.path } : null;
  out.cookieVisibleToScript = await page.evaluate(() => document.cookie.includes('wshub_admin'));

  out.mode = await until(() => page.locator('#mode').textContent(), (m) => m === expectedMode);
  out.modeWhy = await page.locator('#mode-why').textContent();
  // The inbox section, from the state's real counts (the test queued messages before).
  out.inboxText = await until(() => page.locator('#inbox').textContent(), (t) => /unacknowledged|No device inbox/.test(t));
  const connectedBefore = await number(page, 'hub-connected');
  const connectionsBefore = await number(page, 'connections');
  await page.screenshot({ path: join(shots, '2-live.png'), fullPage: true });

  // A hub client in a second tab: connects with its own token and subscribes to "news".
  const clientPage = await context.newPage();
  await clientPage.goto(adminUrl.replace(/\/admin$/, '/admin/assets/admin.css'));
  await clientPage.evaluate(([url, token]) => {
    window.received = [];
    const ws = new WebSocket(url);
    ws.onopen = () => {
      ws.send(JSON.stringify(token ? { t: 'connect', id: 1, token } : { t: 'connect', id: 1 }));
      ws.send(JSON.stringify({ t: 'subscribe', id: 2, ch: 'news' }));
    };
    ws.onmessage = (e) => window.received.push(JSON.parse(e.data));
    window.hubSocket = ws;
  }, [hubUrl, clientToken]);
  out.connectedSeen = await until(() => number(page, 'hub-connected'), (n) => n >= connectedBefore + 1);
  out.connectedBefore = connectedBefore;
  out.connectionsBefore = connectionsBefore;
  out.connectionsSeen = await number(page, 'connections');
  // The channel's row: its cells, once it lists the client (subscribers, offset, presence).
  const newsCells = () => page.evaluate(() => {
    const row = [...document.querySelectorAll('#channels tbody tr')]
      .find((tr) => tr.cells[0] && tr.cells[0].textContent === 'news');
    return row ? [...row.cells].map((td) => td.textContent) : [];
  });
  out.newsRow = await until(newsCells, (cells) => cells[1] === '1' && (cells[3] === 'carol' || !clientToken));
  await page.screenshot({ path: join(shots, '3-client-connected.png'), fullPage: true });

  // Publish from the form: the answer, the counter, the client.
  const publishedBefore = await number(page, 'published');
  await page.fill('#publish-channel', 'news');
  await page.fill('#publish-data', '{"text":"from the admin page"}');
  await page.click('#publish-form button[type="submit"]');
  out.publishAnswer = await until(() => page.locator('#publish-result').textContent(), (t) => t !== '');
  out.publishedBefore = publishedBefore;
  out.publishedSeen = await until(() => number(page, 'published'), (n) => n >= publishedBefore + 1);
  out.clientReceived = await until(
    () => clientPage.evaluate(() => window.received.filter((m) => m.t === 'pub').map((m) => m.data)),
    (list) => list.length > 0);

  await page.click('#send-form button[type="submit"]');
  out.sendAnswer = await until(() => page.locator('#send-result').textContent(), (t) => t !== '');

  out.rejectedRows = await page.locator('#rejected tbody tr').allTextContents();
  await page.screenshot({ path: join(shots, '4-published.png'), fullPage: true });
} catch (error) {
  out.error = String(error && error.stack || error);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(out));
