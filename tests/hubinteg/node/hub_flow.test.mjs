// The hub protocol's basic flow with a second real client, Node's `ws` (pinned in
// tests/integration/node, installed there by the wshub_node_modules fixture): connect with a
// token, subscribe, publish from a client and from the API, rpc answered by the webhook
// backend process (tests/wshubtest/hub_backend.py), ping, and the disconnect push at SIGTERM,
// against the real wshub binary on two workers. Tokens are signed with node:crypto's HMAC, not wshub.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const nodeDir = join(here, '..', '..', 'integration', 'node');
const WebSocket = createRequire(join(nodeDir, 'package.json'))('ws');
const { Wshub } = await import(join(nodeDir, 'harness.mjs'));

const SECRET = 'node-integration-secret-of-32-bytes!!';
const API_KEY = 'node-api-key';
const WEBHOOK_SECRET = 'node-webhook-secret';
const TIMEOUT_MS = 30000;

function base64url(value) {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

function token(claims) {
  const input = `${base64url({ alg: 'HS256', typ: 'JWT' })}.${base64url(claims)}`;
  return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
}

// hub_backend.py in its own process: answers rpc by echoing data; stopped by PID.
async function startBackend(dir) {
  const rules = join(dir, 'rules.json');
  writeFileSync(rules, JSON.stringify([{ type: 'rpc', match: { m: 'echo' }, action: 'echo' },
    { type: 'rpc', match: { m: 'refuse' }, body: { error: { code: 4000, message: 'refused' } } }]));
  const script = join(here, '..', '..', 'wshubtest', 'hub_backend.py');
  const child = spawn('/usr/bin/python3', [script, '--secret', WEBHOOK_SECRET,
    '--rules', rules, '--calls', join(dir, 'calls.jsonl')], { stdio: ['ignore', 'pipe', 'inherit'] });
  let timer;
  const line = await Promise.race([
    new Promise((resolve) => createInterface({ input: child.stdout }).once('line', resolve)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('backend did not start')), TIMEOUT_MS); }),
  ]);
  clearTimeout(timer);
  return { child, port: Number(line.split(' ')[1]) };
}

function config(backendPort) {
  return `[server]
log_level = "debug"
[api]
listen = "127.0.0.1:0"
key = "${API_KEY}"
[[hub.namespace]]
name = ""
subscribe = "authenticated"
publish = "subscribers"
[hub.jwt]
keys = [{ alg = "HS256", secret = "${SECRET}" }]
[[webhook]]
name = "backend"
url = "http://127.0.0.1:${backendPort}/hook"
secret = "${WEBHOOK_SECRET}"
events = ["rpc"]
`;
}

// One hub connection: every JSON frame kept in order; waits take the first that matches.
class Client {
  static async open(url) {
    const ws = new WebSocket(url, 'wshub.v1.json');
    const client = new Client(ws);
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    assert.equal(ws.protocol, 'wshub.v1.json');
    return client;
  }

  constructor(ws) {
    this.ws = ws;
    this.messages = [];
    this.waiters = [];
    this.nextId = 0;
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString() });
      this.wake();
    }));
    ws.on('message', (data, isBinary) => {
      assert.equal(isBinary, false);
      const message = JSON.parse(data.toString());
      if (message.t === 'ping' && message.id === undefined) return ws.send('{"t":"pong"}');
      this.messages.push(message);
      this.wake();
    });
  }

  wake() { for (const waiter of this.waiters.splice(0)) waiter(); }

  async next(match = () => true) {
    const deadline = Date.now() + TIMEOUT_MS;
    for (;;) {
      const i = this.messages.findIndex(match);
      if (i >= 0) return this.messages.splice(i, 1)[0];
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error(`closed; kept ${JSON.stringify(this.messages)}`);
      if (Date.now() > deadline) throw new Error(`nothing matched; kept ${JSON.stringify(this.messages)}`);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
  }

  async call(t, fields = {}) {
    const id = ++this.nextId;
    this.ws.send(JSON.stringify({ t, id, ...fields }));
    return this.next((m) => m.id === id);
  }
}

function api(port, path, body) {
  const data = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: {
      authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', 'content-length': data.length } },
    (res) => {
      let text = '';
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(data); // head and body in one write
  });
}

const dir = mkdtempSync(join(tmpdir(), 'wshub-node-hub-'));
let backend;
let server;
before(async () => {
  backend = await startBackend(dir);
  server = new Wshub({ config: config(backend.port), threads: 2 });
  await server.start();
});
after(async () => {
  if (server.process.exitCode === null) await server.stop();
  backend.child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

const EPOCH = /^[0-9a-f]{8}$/;

test('connect, subscribe, publish, rpc, ping and the shutdown push with ws', async () => {
  const exp = Math.floor(Date.now() / 1000) + 600;
  const alice = await Client.open(server.url('/hub'));
  const connected = await alice.call('connect', { token: token({ sub: 'alice', exp, device: 'node-1' }),
    client: { sdk: 'node-ws', version: '8' } });
  assert.match(connected.cid, /^[0-9]+-[0-9a-z]+$/);
  assert.match(connected.inbox.ep, /^[0-9a-f]{8}$/);
  assert.deepEqual(connected, { t: 'ok', id: 1, cid: connected.cid, user: 'alice', device: 'node-1',
    hb: { iv: 25000, to: 10000 }, exp: exp * 1000, subs: {},
    inbox: { ep: connected.inbox.ep, head: 0, pending: 0 } });
  const bob = await Client.open(server.url('/hub'));
  assert.equal((await bob.call('connect', { token: token({ sub: 'bob', exp }) })).t, 'ok');

  for (const client of [alice, bob]) {
    const answer = await client.call('subscribe', { ch: 'room' });
    assert.match(answer.ep, EPOCH);
    assert.deepEqual(answer, { t: 'ok', id: 2, ep: answer.ep, off: 0, rec: false, pubs: [], more: false });
  }

  const published = await alice.call('publish', { ch: 'room', data: { text: 'hi from node' } });
  assert.deepEqual(published, { t: 'ok', id: 3, off: 1, ep: published.ep, dup: false });
  for (const client of [alice, bob]) {
    const push = await client.next((m) => m.t === 'pub');
    assert.ok(Math.abs(push.ts - Date.now()) < 60000);
    assert.deepEqual(push, { t: 'pub', ch: 'room', off: 1, data: { text: 'hi from node' }, ts: push.ts });
  }

  const fromApi = await api(server.apiPort, '/api/publish', { channel: 'room', data: [1, 2, 3] });
  assert.deepEqual(fromApi, { status: 200, body: { epoch: published.ep, offset: 2 } });
  for (const client of [alice, bob]) {
    const push = await client.next((m) => m.t === 'pub');
    assert.deepEqual(push, { t: 'pub', ch: 'room', off: 2, data: [1, 2, 3], ts: push.ts });
  }

  assert.deepEqual(await alice.call('rpc', { m: 'echo', data: { n: 42 } }), { t: 'ok', id: 4, data: { n: 42 } });
  assert.deepEqual(await alice.call('rpc', { m: 'refuse', data: null }),
    { t: 'err', id: 5, code: 4000, msg: 'refused', retry: false });
  assert.deepEqual(await alice.call('ping'), { t: 'ok', id: 6 });
  assert.deepEqual(await bob.call('unsubscribe', { ch: 'room' }), { t: 'ok', id: 3 });
  assert.deepEqual(await bob.call('frobnicate'),
    { t: 'err', id: 4, code: 104, msg: 'unknown request type: frobnicate', retry: false });

  const exited = server.stop();
  for (const client of [alice, bob]) {
    assert.deepEqual(await client.closed, { code: 3001, reason: 'server shutting down' });
    // retry_after is drawn per connection from hub.retry_after_min_ms..max_ms (1000..15000 here).
    const [notice] = client.messages;
    assert.equal(client.messages.length, 1);
    assert.ok(Number.isInteger(notice.retry_after) && notice.retry_after >= 1000 && notice.retry_after <= 15000,
      `retry_after ${notice.retry_after}`);
    assert.deepEqual(notice, { t: 'disconnect', code: 3001, reason: 'server shutting down', retry_after: notice.retry_after });
  }
  assert.equal(await exited, 0, `wshub exit code after SIGTERM; stderr:\n${server.log}`);
});
