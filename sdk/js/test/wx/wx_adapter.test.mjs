// The WeChat transport (wxTransport) through a SocketTask shim that follows WeChat's documented
// API and event order. The shim is NOT the WeChat runtime (see test/support/wx_shim.mjs for what
// it does and cannot show). The client is the single-file build, dist/wshub.js, loaded with
// require() as a mini-program loads it. Its peer is a scripted hub on wss:// in this process.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { createServer } from 'node:https';
import { readFileSync, rmSync } from 'node:fs';
import { WebSocketServer } from 'ws';
import { createWxShim } from '../support/wx_shim.mjs';
import { selfSignedCert, tempDir, until } from '../support/wshub.mjs';

const require = createRequire(import.meta.url);
const Wshub = require('../../dist/wshub.js');

const dir = tempDir();
const tls = selfSignedCert(dir);

// A scripted hub: answers connect, subscribe, ping and rpc, and keeps what it saw.
const seen = { upgrades: [], frames: [], sockets: [] };
const https = createServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) });
const wss = new WebSocketServer({
  server: https,
  perMessageDeflate: true,
  handleProtocols: (protocols) => (protocols.has('wshub.v1.json') ? 'wshub.v1.json' : false),
});
wss.on('connection', (ws, req) => {
  seen.upgrades.push({ headers: req.headers, extensions: ws.extensions });
  seen.sockets.push(ws);
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString());
    seen.frames.push(m);
    const ok = (fields) => ws.send(JSON.stringify({ t: 'ok', id: m.id, ...fields }));
    if (m.t === 'connect') {
      const subs = {};
      for (const ch of Object.keys(m.subs ?? {})) subs[ch] = { ep: 'e1', off: 4, rec: false, pubs: [], more: false };
      ok({ cid: `0-${seen.upgrades.length}`, user: 'wx-user', device: '', hb: { iv: 25000, to: 10000 }, subs });
    } else if (m.t === 'subscribe') ok({ ep: 'e1', off: 4, rec: false, pubs: [], more: false });
    else if (m.t === 'rpc') ok({ data: { echo: m.data } });
    else if (m.t === 'ping' && m.id) ok({});
  });
});
await new Promise((resolve) => https.listen(0, '127.0.0.1', resolve));
const url = `wss://127.0.0.1:${https.address().port}/hub`;

const clients = [];
function makeClient(wx, options = {}, transportOptions = {}) {
  const client = new Wshub.Client(url, {
    transport: Wshub.wxTransport(wx, transportOptions),
    token: 't',
    minReconnectDelayMs: 50,
    maxReconnectDelayMs: 200,
    ...options,
  });
  client.errors = [];
  client.on('error', (e) => client.errors.push(e));
  clients.push(client);
  return client;
}

after(async () => {
  for (const c of clients) c.close();
  for (const ws of seen.sockets) ws.terminate();
  wss.close();
  await new Promise((resolve) => https.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

test('only wss:// is allowed: a ws:// URL fails at once, for good, without calling connectSocket', () => {
  const wx = createWxShim({ ca: tls.pem });
  const client = new Wshub.Client('ws://127.0.0.1:1/hub', { transport: Wshub.wxTransport(wx) });
  const errors = [];
  client.on('error', (e) => errors.push(e));
  client.connect();
  assert.equal(client.state, 'closed');
  assert.ok(errors[0] instanceof Wshub.TransportError && errors[0].fatal === true, String(errors[0]));
  assert.match(errors[0].message, /wss:\/\//);
  assert.equal(wx.connectCalls.length, 0);
});

test('connectSocket gets the subprotocol, the header and perMessageDeflate; the hub sees them', async () => {
  const wx = createWxShim({ ca: tls.pem });
  const before = seen.upgrades.length;
  const client = makeClient(wx, {}, { header: { 'X-App': 'demo' }, perMessageDeflate: true });
  client.connect();
  await until(() => client.state === 'connected', 'connected through the shim');
  const call = wx.connectCalls[0];
  assert.equal(call.url, url);
  assert.deepEqual(call.protocols, ['wshub.v1.json']);
  assert.deepEqual(call.header, { 'X-App': 'demo' });
  assert.equal(call.perMessageDeflate, true);
  const upgrade = seen.upgrades[before];
  assert.equal(upgrade.headers['sec-websocket-protocol'], 'wshub.v1.json');
  assert.equal(upgrade.headers['x-app'], 'demo');
  assert.match(upgrade.extensions, /permessage-deflate/);
  assert.deepEqual(wx.tasks[0].events.slice(0, 2), ['open', 'message'], 'onOpen comes before any onMessage');
  assert.deepEqual(await client.rpc('echo', { a: 1 }), { echo: { a: 1 } });
  client.close();
  await until(() => wx.open === 0, 'the socket to close');
});

test("the hub's JSON ping is answered with a pong (SocketTask has no ping of its own)", async () => {
  const wx = createWxShim({ ca: tls.pem });
  const client = makeClient(wx);
  client.connect();
  await until(() => client.state === 'connected', 'connected');
  const socket = seen.sockets.at(-1);
  const count = seen.frames.filter((f) => f.t === 'pong').length;
  socket.send('{"t":"ping"}');
  await until(() => seen.frames.filter((f) => f.t === 'pong').length === count + 1, 'a pong');
  client.close();
});

test('never more than five sockets: a sixth client waits and retries until one is free', async () => {
  const wx = createWxShim({ ca: tls.pem });
  const five = [];
  for (let i = 0; i < 5; i += 1) {
    const c = makeClient(wx);
    c.connect();
    five.push(c);
  }
  await until(() => five.every((c) => c.state === 'connected'), 'five connections');
  const sixth = makeClient(wx);
  sixth.connect();
  await until(() => sixth.errors.length >= 2, 'the sixth to be refused and retry');
  assert.ok(sixth.errors.every((e) => e instanceof Wshub.TransportError && e.fatal === false), String(sixth.errors[0]));
  assert.match(sixth.errors[0].message, /5 at once/);
  assert.equal(wx.refusedConnects, 0, 'the adapter never asked WeChat for a sixth socket');
  assert.equal(sixth.state === 'connected', false);
  five[0].close();
  await until(() => sixth.state === 'connected', 'the sixth to connect once a socket is free');
  assert.equal(wx.peakOpen, 5);
  for (const c of [...five, sixth]) c.close();
  await until(() => wx.open === 0, 'every socket to close');
});

test('onAppShow and onNetworkStatusChange probe with a ping; close() stops listening', async () => {
  const wx = createWxShim({ ca: tls.pem });
  const client = makeClient(wx);
  client.connect();
  await until(() => client.state === 'connected', 'connected');
  assert.deepEqual(wx.listeners(), { appShow: 1, network: 1 });
  const pings = () => seen.frames.filter((f) => f.t === 'ping' && f.id).length;
  const start = pings();
  wx.showApp();
  await until(() => pings() === start + 1, 'a ping after onAppShow');
  wx.changeNetwork(false); // no network: nothing to probe with
  wx.changeNetwork(true);
  await until(() => pings() === start + 2, 'a ping after the network came back');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(pings(), start + 2);
  client.close();
  assert.deepEqual(wx.listeners(), { appShow: 0, network: 0 });
});

test('a failed connect reports onError then onClose, and the client retries', async () => {
  const wx = createWxShim({ ca: tls.pem });
  const client = new Wshub.Client('wss://127.0.0.1:1/hub', {
    transport: Wshub.wxTransport(wx), token: 't', minReconnectDelayMs: 50, maxReconnectDelayMs: 100,
  });
  clients.push(client);
  const disconnects = [];
  client.on('disconnected', (e) => disconnects.push(e));
  client.connect();
  await until(() => wx.tasks.length >= 2, 'a retry');
  assert.deepEqual(wx.tasks[0].events, ['error', 'close']);
  assert.equal(disconnects[0].code, 1006);
  assert.equal(disconnects[0].reconnect, true);
  client.close();
  await until(() => wx.open === 0, 'nothing left open');
});

test('a socket whose network breaks is replaced; subscriptions resume with since', async () => {
  const wx = createWxShim({ ca: tls.pem });
  const client = makeClient(wx, { storage: Wshub.wxStorage(wx) });
  client.subscribe('news');
  client.connect();
  await until(() => client.state === 'connected' && client.subscription('news').state === 'subscribed', 'subscribed');
  assert.equal(wx.getStorageSync('wshub:sub:news'), JSON.stringify({ ep: 'e1', off: 4 }));
  const connects = () => seen.frames.filter((f) => f.t === 'connect');
  const before = connects().length;
  wx.tasks[0].breakNetwork();
  await until(() => connects().length === before + 1 && client.state === 'connected', 'a new connection');
  assert.deepEqual(connects().at(-1).subs, { news: { since: { ep: 'e1', off: 4 } } });
  client.close();
});

test('close codes WeChat refuses (1001) are sent to SocketTask.close as 1000', async () => {
  const wx = createWxShim({ ca: tls.pem });
  const closes = [];
  const connection = Wshub.wxTransport(wx).open(url, ['wshub.v1.json'], {
    onOpen() {}, onMessage() {}, onClose: (code, reason) => closes.push({ code, reason }),
  });
  await until(() => wx.tasks[0].readyState === 1, 'the socket to open');
  connection.close(1001, 'going away');
  assert.deepEqual(wx.tasks[0].closeRequests, [{ code: 1000, reason: 'going away' }]);
  assert.deepEqual(closes, [{ code: 1001, reason: 'going away' }], 'the client hears its own close once');
  await until(() => wx.open === 0, 'nothing left open');
  assert.equal(closes.length, 1);
});
