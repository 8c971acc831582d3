// Drives Debian's headless Chromium with playwright-core: for each wss:// base URL given on the
// command line, a page opens new WebSocket(URL + "/login"), sends, expects "reply", closes
// with 1000; then sends a 1 MiB binary message to URL + "/echo", expects it back identical and
// closes with 1000. Prints one JSON object with what the page saw; the Python test asserts.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const urls = process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), 'wshub-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    // The test CA is not in Chromium's store; the page runs on about:blank, which Chromium
    // 156 would otherwise block from reaching 127.0.0.1 (ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS).
    '--ignore-certificate-errors', '--disable-features=LocalNetworkAccessChecks',
  ],
});

const results = {};
try {
  const page = context.pages()[0] || await context.newPage();
  const console_lines = [];
  page.on('console', (m) => console_lines.push(m.text()));
  for (const url of urls) {
    results[url] = await page.evaluate(async (base) => {
      const out = { userAgent: navigator.userAgent };
      const open = (u) => new Promise((resolve, reject) => {
        const ws = new WebSocket(u);
        ws.binaryType = 'arraybuffer';
        ws.onopen = () => resolve(ws);
        ws.onerror = () => reject(new Error('could not open ' + u));
      });
      const next = (ws) => new Promise((resolve, reject) => {
        ws.onmessage = (e) => resolve(e.data);
        ws.onclose = (e) => reject(new Error('closed with ' + e.code + ' before a message'));
      });
      const close = (ws) => new Promise((resolve) => {
        ws.onclose = (e) => resolve({ code: e.code, reason: e.reason, wasClean: e.wasClean });
        ws.close(1000, 'done');
      });
      try {
        const login = await open(base + '/login');
        out.loginProtocol = login.protocol;
        login.send('hello from chromium');
        out.reply = await next(login);
        out.loginClose = await close(login);

        const echo = await open(base + '/echo');
        const big = new Uint8Array(1 << 20);
        for (let at = 0; at < big.length; at += 65536) crypto.getRandomValues(big.subarray(at, at + 65536));
        echo.send(big);
        const back = new Uint8Array(await next(echo));
        out.echoLength = back.length;
        out.echoIdentical = back.length === big.length && back.every((b, i) => b === big[i]);
        out.echoClose = await close(echo);
      } catch (e) {
        out.error = String(e);
      }
      return out;
    }, url);
    results[url].console = console_lines.splice(0);
  }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(results));
