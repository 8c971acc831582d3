// The inbox (server side arrives with the store; here the fake transport plays the server):
// one message at a time in seq order, `ack {upto}` only after the handler's promise resolves,
// deduplication by seq and by id, no ack past a failed handler, the cursor sent at connect.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, memoryStorage } from '../../dist/esm/index.js';
import { settle, startClient } from '../support/fakes.mjs';

async function connected(options = {}) {
  const started = await startClient(Client, options);
  started.transport.current.accept({ inbox: { ep: 'i1', head: 0, pending: 0 } });
  await settle();
  return started;
}

const msg = (seq, id = `m${seq}`) => ({ t: 'msg', seq, id, data: { seq }, ts: 1 });

/** A handler whose calls finish only when the test says so. */
function controlledHandler() {
  const calls = [];
  const handler = (message) => new Promise((resolve, reject) => calls.push({ message, resolve, reject }));
  return { calls, handler };
}

test('messages are handled one at a time in seq order and acked after each handler resolves', async () => {
  const { transport, client } = await connected();
  const { calls, handler } = controlledHandler();
  client.inbox.on(handler);
  transport.current.push(msg(1));
  transport.current.push(msg(2));
  transport.current.push(msg(3));
  await settle();
  assert.deepEqual(calls.map((c) => c.message.seq), [1], 'only the first runs; 2 waits for it');
  assert.deepEqual(transport.current.frames('ack'), [], 'no ack before the handler resolves');
  calls[0].resolve();
  await settle();
  assert.deepEqual(transport.current.frames('ack'), [{ t: 'ack', upto: 1 }]);
  assert.deepEqual(calls.map((c) => c.message.seq), [1, 2]);
  calls[1].resolve();
  await settle();
  calls[2].resolve();
  await settle();
  assert.deepEqual(transport.current.frames('ack').map((a) => a.upto), [1, 2, 3]);
  assert.deepEqual(calls[2].message, { seq: 3, id: 'm3', data: { seq: 3 }, ts: 1, exp: undefined });
  assert.deepEqual(client.inbox.position(), { ep: 'i1', acked: 3 });
  client.close();
});

test('redelivered seqs are not handled twice: acked ones are acked again, waiting ones ignored', async () => {
  const { transport, client } = await connected();
  const { calls, handler } = controlledHandler();
  client.inbox.on(handler);
  transport.current.push(msg(1));
  transport.current.push(msg(2));
  transport.current.push(msg(2)); // waiting in the queue
  transport.current.push(msg(1)); // running
  await settle();
  calls[0].resolve();
  await settle();
  calls[1].resolve();
  await settle();
  transport.current.push(msg(1)); // after ack_timeout, say: our ack was lost
  await settle();
  assert.deepEqual(calls.map((c) => c.message.seq), [1, 2]);
  assert.deepEqual(transport.current.frames('ack').map((a) => a.upto), [1, 2, 2]);
  client.close();
});

test('a failed handler is not acked and stops the queue; the redelivery is handled', async () => {
  const { transport, client } = await connected();
  const failures = [];
  client.inbox.onError((e) => failures.push(e.message.seq));
  const { calls, handler } = controlledHandler();
  client.inbox.on(handler);
  transport.current.push(msg(1));
  transport.current.push(msg(2));
  transport.current.push(msg(3));
  await settle();
  calls[0].resolve();
  await settle();
  calls[1].reject(new Error('db down'));
  await settle();
  assert.deepEqual(failures, [2]);
  assert.deepEqual(transport.current.frames('ack').map((a) => a.upto), [1], 'nothing acked past the failure');
  assert.equal(calls.length, 2, 'message 3 is not handled before 2');
  transport.current.push(msg(2));
  transport.current.push(msg(3));
  await settle();
  calls[2].resolve();
  await settle();
  calls[3].resolve();
  await settle();
  assert.deepEqual(calls.map((c) => c.message.seq), [1, 2, 2, 3]);
  assert.deepEqual(transport.current.frames('ack').map((a) => a.upto), [1, 2, 3]);
  client.close();
});

test('after a failed handler, a message that arrives later is not handled or acked before the failed one', async () => {
  const { transport, client } = await connected();
  client.inbox.onError(() => {});
  const { calls, handler } = controlledHandler();
  client.inbox.on(handler);
  transport.current.push(msg(1));
  await settle();
  calls[0].reject(new Error('db down'));
  await settle();
  transport.current.push(msg(2)); // live, after the failure: acking it would ack 1 too
  await settle();
  assert.equal(calls.length, 1, 'message 2 is not handed over before 1 comes again');
  assert.deepEqual(transport.current.frames('ack'), []);
  transport.current.push(msg(1));
  transport.current.push(msg(2));
  await settle();
  calls[1].resolve();
  await settle();
  calls[2].resolve();
  await settle();
  assert.deepEqual(calls.map((c) => c.message.seq), [1, 1, 2]);
  assert.deepEqual(transport.current.frames('ack').map((a) => a.upto), [1, 2]);
  client.close();
});

test('a handler that throws synchronously counts as failed', async () => {
  const { transport, client } = await connected();
  const failures = [];
  client.inbox.onError((e) => failures.push(String(e.error)));
  client.inbox.on(() => { throw new Error('boom'); });
  transport.current.push(msg(1));
  await settle();
  assert.deepEqual(failures, ['Error: boom']);
  assert.deepEqual(transport.current.frames('ack'), []);
  client.close();
});

test('messages wait for a handler; a synchronous handler is acked too', async () => {
  const { transport, client } = await connected();
  transport.current.push(msg(1));
  await settle();
  const seen = [];
  client.inbox.on((m) => { seen.push(m.seq); });
  await settle();
  assert.deepEqual(seen, [1]);
  assert.deepEqual(transport.current.frames('ack'), [{ t: 'ack', upto: 1 }]);
  client.close();
});

test('the inbox cursor goes out at connect, and survives in the storage', async () => {
  const storage = memoryStorage();
  const { clock, transport, client } = await connected({ storage });
  assert.deepEqual(transport.current.frames('connect')[0].inbox, {}, 'a first connect sends {}');
  client.inbox.on(() => {});
  transport.current.push(msg(1));
  transport.current.push(msg(2));
  await settle();
  transport.current.drop(1006, '');
  await clock.advance(500);
  transport.current.open();
  assert.deepEqual(transport.current.last('connect').inbox, { ep: 'i1', acked: 2 });
  client.close();

  const again = new Client('ws://hub.test/hub', { transport, clock, token: 't', storage });
  again.connect();
  await settle();
  transport.current.open();
  assert.deepEqual(transport.current.last('connect').inbox, { ep: 'i1', acked: 2 });
  again.close();
});

test('an ack finished while disconnected is not sent then, but counts in the next connect', async () => {
  const { clock, transport, client } = await connected();
  const { calls, handler } = controlledHandler();
  client.inbox.on(handler);
  transport.current.push(msg(1));
  await settle();
  transport.current.drop(1006, '');
  calls[0].resolve();
  await settle();
  assert.deepEqual(transport.connections[0].frames('ack'), []);
  await clock.advance(500);
  transport.current.open();
  assert.deepEqual(transport.current.last('connect').inbox, { ep: 'i1', acked: 1 });
  client.close();
});

test('under a new inbox epoch, messages already handled are recognised by id', async () => {
  const { clock, transport, client } = await connected();
  const seen = [];
  client.inbox.on((m) => { seen.push(m.id); });
  transport.current.push(msg(1, 'a'));
  transport.current.push(msg(2, 'b'));
  await settle();
  transport.current.drop(1006, '');
  await clock.advance(500);
  transport.current.accept({ inbox: { ep: 'i2', head: 3, pending: 3 } });
  await settle();
  // The server ignores acked under another epoch and sends every retained unacked message.
  transport.current.push(msg(1, 'a'));
  transport.current.push(msg(2, 'b'));
  transport.current.push(msg(3, 'c'));
  await settle();
  assert.deepEqual(seen, ['a', 'b', 'c']);
  assert.deepEqual(transport.current.frames('ack').map((a) => a.upto), [1, 2, 3], 'duplicates are acked, not handled');
  assert.deepEqual(client.inbox.position(), { ep: 'i2', acked: 3 });
  client.close();
});
