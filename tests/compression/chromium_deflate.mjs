// Drives Debian's headless Chromium (playwright-core, installed by tests/browser) against a
// wshub with permessage-deflate: the page opens ws://BASE/echo, reports the extension Chromium
// agreed to (WebSocket.extensions), echoes 40 device reports with Chinese place names and a
// 128 KiB binary message, closes with 1000; then two pages' sockets on /broadcast each receive
// what one of them published. Prints one JSON object; test_deflate_chromium.py asserts.
import { chromium } from '../browser/node_modules/playwright-core/index.mjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const base = process.argv[2];
const profile = mkdtempSync(join(tmpdir(), 'wshub-chromium-deflate-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--disable-features=LocalNetworkAccessChecks'],
});

let result;
try {
  const page = context.pages()[0] || await context.newPage();
  result = await page.evaluate(async (base) => {
    const out = { userAgent: navigator.userAgent };
    const open = (u) => new Promise((resolve, reject) => {
      const ws = new WebSocket(u);
      ws.binaryType = 'arraybuffer';
      ws.onopen = () => resolve(ws);
      ws.onerror = () => reject(new Error('could not open ' + u));
    });
    const next = (ws) => new Promise((resolve, reject) => {
      ws.onmessage = (e) => resolve(e.data);
      ws.onclose = (e) => reject(new Error('closed with ' + e.code + ' ' + e.reason));
    });
    const close = (ws) => new Promise((resolve) => {
      ws.onclose = (e) => resolve({ code: e.code, wasClean: e.wasClean });
      ws.close(1000, 'done');
    });
    const places = ['上海市浦东新区', '北京市海淀区', '深圳市南山区'];
    const report = (i) => JSON.stringify({
      device_id: 'AND-' + (10000000 + i), ts: 1764081600000 + i * 5000,
      gps: { lat: 31.2304 + i * 1e-5, lon: 121.4737 - i * 2e-5 }, battery: 100 - i % 80,
      place: places[i % 3], temps: Array.from({ length: 20 }, (_, k) => 21.5 + ((i + k) % 40) / 10),
    });
    try {
      const echo = await open(base + '/echo');
      out.extensions = echo.extensions;
      out.reportsIdentical = true;
      for (let i = 0; i < 40; ++i) {
        const m = report(i);
        echo.send(m);
        if ((await next(echo)) !== m) out.reportsIdentical = false;
      }
      const big = new Uint8Array(128 * 1024);
      for (let i = 0; i < big.length; ++i) big[i] = (i * 31 + (i >> 10)) & 0xff;
      echo.send(big);
      const back = new Uint8Array(await next(echo));
      out.binaryIdentical = back.length === big.length && back.every((b, i) => b === big[i]);
      out.echoClose = await close(echo);

      const a = await open(base + '/broadcast');
      const b = await open(base + '/broadcast');
      await new Promise((r) => setTimeout(r, 100));
      const m = report(99).repeat(3);
      const gotA = next(a), gotB = next(b);
      a.send(m);
      out.broadcastIdentical = (await gotA) === m && (await gotB) === m;
      out.broadcastExtensions = [a.extensions, b.extensions];
      await close(a);
      await close(b);
    } catch (e) {
      out.error = String(e);
    }
    return out;
  }, base);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(result));
