// The single-file build (dist/wshub.js) in Debian's headless Chromium, driven by playwright-core:
// a page served from 127.0.0.1 loads it with a <script> tag and uses the global `Wshub` against
// the real wshub: connect with a token, subscribe with cursors in localStorage, receive an API
// publication, rpc error typed, a cut connection resumed, and a probe on the 'online' event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hubConfig, tokenFor, Wshub } from '../support/wshub.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bundle = readFileSync(join(root, 'dist', 'wshub.js'), 'utf8');

// The page: its own origin (for localStorage), the bundle as a plain script, and a record of
// every frame the page's WebSockets send.
async function servePage() {
  const page = `<!doctype html><meta charset="utf-8"><title>wshub sdk</title>
<script>
window.sent = [];
const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (data) { window.sent.push(JSON.parse(data)); return send.call(this, data); };
</script>
<script src="/wshub.js"></script>`;
  const server = createServer((req, res) => {
    const body = req.url === '/wshub.js' ? bundle : page;
    res.writeHead(200, { 'content-type': req.url === '/wshub.js' ? 'text/javascript' : 'text/html' });
    res.end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((r) => server.close(r)) };
}

/** Resolves when `expression` (a function run in the page) returns something truthy. */
async function pageUntil(page, expression, what, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await page.evaluate(expression))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('the browser bundle in Chromium against the real server', async () => {
  const hub = await new Wshub(hubConfig({})).start();
  const site = await servePage();
  const profile = mkdtempSync(join(tmpdir(), 'wshub-sdk-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-features=LocalNetworkAccessChecks'],
  });
  try {
    const page = context.pages()[0] || await context.newPage();
    const consoleLines = [];
    page.on('console', (m) => consoleLines.push(m.text()));
    await page.goto(site.url);
    const started = await page.evaluate(async ({ url, token }) => {
      const { Client, localStorageStorage, VERSION } = window.Wshub;
      const client = new Client(url, { token, storage: localStorageStorage(), minReconnectDelayMs: 100, maxReconnectDelayMs: 500 });
      window.client = client;
      window.got = [];
      window.subscribed = [];
      const sub = client.subscribe('news', (pub) => window.got.push(pub.data));
      sub.on('subscribed', (e) => window.subscribed.push(e));
      client.connect();
      await sub.ready();
      return { version: VERSION, user: client.connectedAs.user, state: client.state };
    }, { url: hub.url(), token: tokenFor('page-user') });
    assert.equal(started.user, 'page-user');
    assert.equal(started.state, 'connected');
    assert.equal(started.version, JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);

    await hub.api('/api/publish', { channel: 'news', data: { text: 'to the page' } });
    await pageUntil(page, () => window.got.length >= 1, 'the publication in the page');
    assert.deepEqual(await page.evaluate(() => window.got), [{ text: 'to the page' }]);
    assert.deepEqual(JSON.parse(await page.evaluate(() => localStorage.getItem('wshub:sub:news'))).off, 1);

    const rpc = await page.evaluate(() => window.client.rpc('x').then(() => 'resolved', (e) => ({
      isServerError: e instanceof window.Wshub.ServerError, code: e.code, kind: e.kind })));
    assert.deepEqual(rpc, { isServerError: true, code: 108, kind: 'server' });

    await hub.api('/api/disconnect', { user: 'page-user', code: 3000 });
    await pageUntil(page, () => window.subscribed.length >= 2, 'the resubscribe after the cut');
    const resumed = await page.evaluate(() => window.subscribed[1]);
    assert.equal(resumed.recovered, true);
    assert.deepEqual(await page.evaluate(() => window.sent.filter((f) => f.t === 'connect').map((f) => f.subs)),
      [{ news: {} }, { news: { since: { ep: resumed.ep, off: 1 } } }]);

    const pingsBefore = await page.evaluate(() => window.sent.filter((f) => f.t === 'ping' && f.id).length);
    await page.evaluate(() => window.dispatchEvent(new Event('online')));
    await pageUntil(page, () => window.sent.some((f) => f.t === 'ping' && f.id), 'a probe ping').catch(() => {});
    assert.equal(await page.evaluate(() => window.sent.filter((f) => f.t === 'ping' && f.id).length), pingsBefore + 1,
      "the 'online' event probes with a ping");
    assert.deepEqual(consoleLines.filter((l) => /error/i.test(l)), []);
    await page.evaluate(() => window.client.close());
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
    await site.close();
    await hub.stop();
  }
});
