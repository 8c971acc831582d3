// The SDK's device inbox in Node against the real wshub (SQLite store): messages the backend
// sends with POST /api/send reach `inbox.on` once each and are acked only after the handler's
// promise resolves (the receipts say so); the persisted cursor is what the next `connect`
// carries; and after the server is SIGKILLed with messages unacked and restarted on the same
// store, the client reconnects by itself, gets every unacked message again, and the handler sees
// each id exactly once in total.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import WebSocket from 'ws';
import { Client, memoryStorage } from '../../dist/esm/index.js';
import { hubConfig, tempDir, tokenFor, until, Wshub } from '../support/wshub.mjs';

/** A `ws` WebSocket that records every frame it sends and receives (parsed), for all instances. */
function recordingWebSocket() {
  const frames = { sent: [], received: [] };
  class Recording extends WebSocket {
    constructor(...args) {
      super(...args);
      this.on('message', (data) => frames.received.push(JSON.parse(String(data))));
    }

    send(data, ...rest) {
      for (const frame of [].concat(JSON.parse(String(data)))) frames.sent.push(frame);
      return super.send(data, ...rest);
    }
  }
  return { Recording, frames };
}

function deferred() {
  let resolve;
  const promise = new Promise((r) => { resolve = r; });
  return { promise, resolve };
}

function storeConfig(storePath, ports = {}) {
  return `${hubConfig({ wsPort: ports.ws ?? 0, apiPort: ports.api ?? 0 })}[store]\nkind = "sqlite"\npath = "${storePath}"\n`;
}

async function receiptOf(server, id) {
  const answer = await server.api(`/api/messages/${id}`);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body.states;
}

async function untilReceipt(server, id, device, state, what) {
  const deadline = Date.now() + 15000;
  for (;;) {
    const states = await receiptOf(server, id);
    if (states[device] === state) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(states)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function send(server, device, data) {
  const answer = await server.api('/api/send', { device, data });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.equal(typeof answer.body.id, 'string');
  assert.equal(typeof answer.body.seq, 'number');
  return answer.body;
}

test('inbox delivery: each message reaches the handler once, acked after its promise resolves; the cursor persists', async () => {
  const dir = tempDir();
  const server = await new Wshub(storeConfig(join(dir, 'wshub.db'))).start();
  const storage = memoryStorage();
  const { Recording, frames } = recordingWebSocket();
  const c = new Client(server.url(), { WebSocket: Recording, storage, minReconnectDelayMs: 100, maxReconnectDelayMs: 1000,
    token: tokenFor('alice', 3600, { device: 'phone-1' }) });
  const errors = [];
  c.on('error', (e) => errors.push(e));
  try {
    const handled = [];
    const gate = deferred();
    c.inbox.on(async (message) => {
      handled.push(message);
      if (message.seq === 1) await gate.promise;
    });
    c.connect();
    await until(() => c.state === 'connected', 'the connect');
    const connectFrame = frames.sent.find((f) => f.t === 'connect');
    assert.deepEqual(connectFrame.inbox, {}, 'a first connect sends inbox {}');
    const answer = frames.received.find((f) => f.t === 'ok' && f.id === connectFrame.id);
    assert.equal(answer.device, 'phone-1');
    assert.equal(typeof answer.inbox.ep, 'string');

    const sent = [];
    for (let i = 0; i < 5; i += 1) sent.push(await send(server, 'phone-1', { n: i }));
    assert.deepEqual(sent.map((s) => s.seq), [1, 2, 3, 4, 5]);

    // The first handler holds its promise: the message is delivered, not acked, and nothing
    // after it is handed over (acks are cumulative).
    await until(() => handled.length === 1, 'the first message at the handler');
    await untilReceipt(server, sent[0].id, 'phone-1', 'delivered', 'the first message pushed');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(handled.length, 1, 'the next message waits for the first handler');
    assert.equal(frames.sent.filter((f) => f.t === 'ack').length, 0, 'no ack before the handler resolves');
    assert.equal((await receiptOf(server, sent[0].id))['phone-1'], 'delivered');

    gate.resolve();
    await until(() => handled.length === 5, 'all five messages handled');
    for (const s of sent) await untilReceipt(server, s.id, 'phone-1', 'acked', `${s.id} acked`);
    assert.deepEqual(handled.map((m) => m.id), sent.map((s) => s.id));
    assert.deepEqual(handled.map((m) => m.data), [0, 1, 2, 3, 4].map((n) => ({ n })));
    for (const m of handled) assert.equal(typeof m.ts, 'number');
    const acks = frames.sent.filter((f) => f.t === 'ack').map((f) => f.upto);
    assert.equal(acks.at(-1), 5);
    assert.deepEqual([...acks].sort((a, b) => a - b), acks, 'acks only go forward');

    // The persisted cursor: the answer's epoch and the last seq handled, sent at the next connect.
    const cursor = JSON.parse(storage.get('wshub:inbox'));
    assert.equal(cursor.ep, answer.inbox.ep);
    assert.equal(cursor.acked, 5);
    assert.deepEqual(c.inbox.position(), { ep: answer.inbox.ep, acked: 5 });
    c.close();
    await until(() => c.state === 'closed', 'the close');
    c.connect();
    await until(() => c.state === 'connected', 'the second connect');
    const connects = frames.sent.filter((f) => f.t === 'connect');
    assert.equal(connects.length, 2);
    assert.deepEqual(connects[1].inbox, { ep: answer.inbox.ep, acked: 5 });
    const second = frames.received.filter((f) => f.t === 'ok' && f.inbox).at(-1);
    assert.deepEqual(second.inbox, { ep: answer.inbox.ep, head: 5, pending: 0 });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(handled.length, 5, 'nothing comes again after a clean ack');
    assert.deepEqual(errors, []);
  } finally {
    c.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('inbox redelivery after a kill: unacked messages come again from the restarted server, each handled once', async () => {
  const dir = tempDir();
  const storePath = join(dir, 'wshub.db');
  const first = await new Wshub(storeConfig(storePath)).start();
  const ports = first.ports;
  const storage = memoryStorage();
  const { Recording, frames } = recordingWebSocket();
  const c = new Client(first.url(), { WebSocket: Recording, storage, minReconnectDelayMs: 100, maxReconnectDelayMs: 1000,
    token: tokenFor('bob', 3600, { device: 'tablet-7' }) });
  const errors = [];
  c.on('error', (e) => errors.push(e));
  let second;
  try {
    const handled = [];
    const gate = deferred();
    c.inbox.on(async (message) => {
      handled.push(message.id);
      if (message.seq === 4) await gate.promise; // still in the handler when the server dies
    });
    c.connect();
    await until(() => c.state === 'connected', 'the connect');
    const sent = [];
    for (let i = 0; i < 6; i += 1) sent.push(await send(first, 'tablet-7', { n: i }));
    await until(() => handled.length === 4, 'four messages at the handler');
    for (const s of sent.slice(0, 3)) await untilReceipt(first, s.id, 'tablet-7', 'acked', `${s.id} acked`);
    await until(() => frames.received.filter((f) => f.t === 'msg').length === 6, 'all six pushed');
    const epoch = c.inbox.position().ep;
    assert.deepEqual(c.inbox.position(), { ep: epoch, acked: 3 });

    const states = [];
    c.on('state', (s) => states.push(s.state));
    await first.stop('SIGKILL');
    await until(() => states.includes('disconnected'), 'the client to notice the kill');
    const before = frames.sent.filter((f) => f.t === 'connect').length;
    const receivedBefore = frames.received.length;

    second = await new Wshub(storeConfig(storePath, ports)).start();
    await until(() => c.state === 'connected', 'the reconnect to the restarted server', 20000);
    const reconnect = frames.sent.filter((f) => f.t === 'connect')[before];
    assert.deepEqual(reconnect.inbox, { ep: epoch, acked: 3 }, 'the persisted cursor goes with the reconnect');
    // Messages 4 to 6 come again; 4 is still in its handler, so the client does not hand it over twice.
    await until(() => frames.received.slice(receivedBefore).filter((f) => f.t === 'msg').length === 3, 'the unacked three pushed again');
    assert.deepEqual(frames.received.slice(receivedBefore).filter((f) => f.t === 'msg').map((f) => f.id), sent.slice(3).map((s) => s.id));
    const late = await send(second, 'tablet-7', { n: 6 });
    assert.equal(late.seq, 7, 'the inbox keeps its seqs across the restart');
    gate.resolve();
    await until(() => handled.length === 7, 'every message handled');
    for (const s of [...sent, late]) await untilReceipt(second, s.id, 'tablet-7', 'acked', `${s.id} acked`);
    assert.deepEqual(handled, [...sent, late].map((s) => s.id), 'each id once, in order');
    assert.deepEqual(c.inbox.position(), { ep: epoch, acked: 7 });
    assert.deepEqual(JSON.parse(storage.get('wshub:inbox')).acked, 7);
    assert.deepEqual(errors, [], 'a kill and a reconnect are no errors of the application');
  } finally {
    c.close();
    await first.stop('SIGKILL');
    if (second) await second.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
