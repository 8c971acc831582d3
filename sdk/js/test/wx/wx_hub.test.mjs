// The mini-program path end to end, as far as Node can take it: the single-file build
// (dist/wshub.js, loaded with require() as a mini-program loads it) on wxTransport over the
// SocketTask shim, against the real wshub on its wss:// listener (a self-signed certificate the
// shim trusts). The shim is NOT the WeChat runtime: see test/support/wx_shim.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { rmSync } from 'node:fs';
import { createWxShim } from '../support/wx_shim.mjs';
import { hubConfig, selfSignedCert, tempDir, tokenFor, until, Wshub as Server } from '../support/wshub.mjs';

const require = createRequire(import.meta.url);
const Wshub = require('../../dist/wshub.js');

test('a mini-program client over wss: subscribe, API publish, rpc error, a cut and a resume', async () => {
  const dir = tempDir();
  const tls = selfSignedCert(dir);
  const server = await new Server(hubConfig({ tls })).start();
  const wx = createWxShim({ ca: tls.pem });
  let fetched = 0;
  const client = new Wshub.Client(server.wssUrl(), {
    transport: Wshub.wxTransport(wx),
    storage: Wshub.wxStorage(wx),
    getToken: () => { fetched += 1; return tokenFor('mini'); },
    minReconnectDelayMs: 100,
    maxReconnectDelayMs: 500,
  });
  client.on('error', () => {});
  try {
    const got = [];
    const sub = client.subscribe('news', (pub) => got.push(pub.data));
    const subscribed = [];
    sub.on('subscribed', (e) => subscribed.push(e));
    client.connect();
    await sub.ready();
    assert.equal(client.connectedAs.user, 'mini');
    await server.api('/api/publish', { channel: 'news', data: 'one' });
    await until(() => got.length === 1, 'the first publication');

    await assert.rejects(client.rpc('x'), (e) => e instanceof Wshub.ServerError && e.code === 108);

    await server.api('/api/disconnect', { user: 'mini', code: 3000 });
    await until(() => subscribed.length === 2, 'the resubscribe after the cut');
    assert.equal(subscribed[1].recovered, true);
    await server.api('/api/publish', { channel: 'news', data: 'two' });
    await until(() => got.length === 2, 'the second publication');
    assert.deepEqual(got, ['one', 'two']);
    assert.equal(JSON.parse(wx.getStorageSync('wshub:sub:news')).off, 2);
    assert.ok(wx.peakOpen <= 1, 'one socket at a time');
    assert.deepEqual(wx.connectCalls.map((c) => c.url), [server.wssUrl(), server.wssUrl()]);
    assert.equal(fetched, 1, 'the token is fetched once and reused while valid');
  } finally {
    client.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
