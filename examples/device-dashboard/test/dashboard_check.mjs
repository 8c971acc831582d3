// Drives Debian's headless Chromium with playwright-core on the dashboard page at the URL given:
// waits until the page is connected to wshub and shows both terminals, clicks term-1's button,
// and waits until a later report of term-1 names the command as carried out. Saves a
// screenshot to the path given and prints one JSON object with what the page showed; the
// Python test asserts.
//   node dashboard_check.mjs URL SCREENSHOT
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [url, screenshot] = process.argv.slice(2);
const TERMINALS = ['term-1', 'term-2'];
const profile = mkdtempSync(join(tmpdir(), 'wshub-dashboard-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 400 },
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    // The certificate comes from `wshub cert`, whose CA Chromium does not know.
    '--ignore-certificate-errors', '--disable-features=LocalNetworkAccessChecks',
  ],
});

// What a terminal's row shows, read from its data attributes and cells.
const readRow = (page, device) => page.$eval(`tr[data-device="${device}"]`, (tr) => ({
  led: tr.dataset.led,
  seq: Number(tr.dataset.seq),
  lastCommand: tr.dataset.lastCommand,
  commandStatus: tr.querySelector('td.command').dataset.status,
  commandId: tr.querySelector('td.command').dataset.command,
  commandText: tr.querySelector('td.command').textContent,
  text: tr.innerText,
}));

const result = { console: [], pageErrors: [] };
try {
  const page = context.pages()[0] || await context.newPage();
  page.on('console', (m) => result.console.push(m.type() + ': ' + m.text()));
  page.on('pageerror', (e) => result.pageErrors.push(String(e)));
  try {
    await page.goto(url);
    result.userAgent = await page.evaluate(() => navigator.userAgent);
    await page.waitForSelector('#hub[data-state="connected"]', { timeout: 30000 });
    result.hub = await page.textContent('#hub');
    // Both terminals reported, and said they are connected to wshub (else commands are refused).
    await page.waitForFunction((devices) => devices.every(
      (d) => document.querySelector(`tr[data-device="${d}"]`)?.dataset.hubConnected === 'true'), TERMINALS, { timeout: 30000 });
    result.before = {};
    for (const device of TERMINALS) result.before[device] = await readRow(page, device);

    await page.click('tr[data-device="term-1"] button');
    await page.waitForSelector('tr[data-device="term-1"] td.command[data-status="queued"], ' +
                               'tr[data-device="term-1"] td.command[data-status="applied"], ' +
                               'tr[data-device="term-1"] td.command[data-status="refused"]', { timeout: 15000 });
    result.answered = await readRow(page, 'term-1');
    await page.waitForSelector('tr[data-device="term-1"] td.command[data-status="applied"]', { timeout: 15000 });
    result.after = {};
    for (const device of TERMINALS) result.after[device] = await readRow(page, device);
  } catch (e) {
    result.error = String(e);
  } finally {
    await page.screenshot({ path: screenshot, fullPage: true });
  }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(result));
