// rpc, publish and presence as promises: answers, typed errors, timeouts, requests made while
// disconnected, and requests cut by a lost connection. Fake transport and clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, DisconnectedError, ServerError, TimeoutError, WshubError } from '../../dist/esm/index.js';
import { FakeClock, FakeTransport, settle, startClient } from '../support/fakes.mjs';

async function connected(options = {}) {
  const started = await startClient(Client, options);
  started.transport.current.accept();
  await settle();
  return started;
}

test('rpc resolves with the backend data; publish and presence with their answers', async () => {
  const { transport, client } = await connected();
  const rpc = client.rpc('getOrder', { order: 7 }, { mid: 'r-1' });
  const frame = transport.current.last('rpc');
  assert.deepEqual({ ...frame, id: 0 }, { t: 'rpc', id: 0, m: 'getOrder', data: { order: 7 }, mid: 'r-1' });
  transport.current.ok(frame.id, { data: { echo: 7 } });
  assert.deepEqual(await rpc, { echo: 7 });

  const publish = client.publish('room', { text: 'hi' }, { mid: 'm1' });
  const pf = transport.current.last('publish');
  assert.equal(pf.mid, 'm1');
  transport.current.ok(pf.id, { off: 1, ep: 'fd62321c', dup: false });
  assert.deepEqual(await publish, { off: 1, ep: 'fd62321c', dup: false });

  const presence = client.presence('room');
  transport.current.ok(transport.current.last('presence').id, { clients: { '0-2': { user: 'bob', device: '' } }, total: 1 });
  assert.deepEqual(await presence, { clients: { '0-2': { user: 'bob', device: '' } }, total: 1 });
  client.close();
});

test('an err answer rejects with ServerError carrying code, msg and retry', async () => {
  const { transport, client } = await connected();
  const down = client.rpc('x');
  transport.current.err(transport.current.last('rpc').id, 116, 'backend unavailable', true);
  await assert.rejects(down, (e) => e instanceof ServerError && e instanceof WshubError && e.kind === 'server'
    && e.code === 116 && e.retry === true && e.message === 'backend unavailable');
  const app = client.rpc('fail');
  transport.current.err(transport.current.last('rpc').id, 1001, 'no such order', false);
  await assert.rejects(app, (e) => e instanceof ServerError && e.code === 1001 && e.retry === false);
  client.close();
});

test('rpc times out after its own timeout; a late answer is ignored', async () => {
  const { clock, transport, client } = await connected();
  let outcome;
  const rpc = client.rpc('slow', null, { timeout: 3000 }).catch((e) => { outcome = e; });
  const id = transport.current.last('rpc').id;
  await clock.advance(2999);
  assert.equal(outcome, undefined);
  await clock.advance(1);
  await rpc;
  assert.ok(outcome instanceof TimeoutError && outcome.kind === 'timeout', String(outcome));
  transport.current.ok(id, { data: 1 }); // too late: nothing happens, nothing throws
  // The default timeout applies when none is given.
  const other = assert.rejects(client.rpc('slow2'), TimeoutError);
  await clock.advance(10000);
  await other;
  client.close();
});

test('requests made while disconnected wait for the connection, in order', async () => {
  const clock = new FakeClock();
  const transport = new FakeTransport();
  const client = new Client('ws://hub.test/hub', { transport, clock, token: 't' });
  client.connect();
  await settle();
  const a = client.rpc('a');
  const b = client.publish('room', 1);
  transport.current.open();
  assert.deepEqual(transport.current.frames().map((f) => f.t), ['connect']);
  transport.current.accept();
  await settle();
  assert.deepEqual(transport.current.frames().map((f) => f.t), ['connect', 'rpc', 'publish']);
  transport.current.ok(transport.current.last('rpc').id, { data: 'A' });
  transport.current.ok(transport.current.last('publish').id, { off: 1, ep: 'e', dup: false });
  assert.equal(await a, 'A');
  assert.equal((await b).off, 1);
  client.close();
});

test('a lost connection rejects the requests waiting for answers with DisconnectedError', async () => {
  const { transport, client } = await connected();
  const rpc = client.rpc('x');
  transport.current.push({ t: 'disconnect', code: 3012, reason: 'no pong' });
  transport.current.drop(3012, 'no pong');
  await assert.rejects(rpc, (e) => e instanceof DisconnectedError && e.kind === 'disconnected' && e.code === 3012);
  client.close();
});

test('calls before connect() reject at once', async () => {
  const client = new Client('ws://hub.test/hub', { transport: new FakeTransport(), clock: new FakeClock() });
  await assert.rejects(client.rpc('x'), (e) => e instanceof DisconnectedError && e.kind === 'closed');
});

test('the JSON heartbeat is answered with a pong without an id', async () => {
  const { transport, client } = await connected();
  transport.current.push({ t: 'ping' });
  assert.deepEqual(transport.current.last(), { t: 'pong' });
  client.close();
});

test('silence past hb.iv + hb.to drops the connection and reconnects', async () => {
  const { clock, transport, client } = await connected();
  await clock.advance(34999);
  assert.equal(transport.connections.length, 1);
  transport.current.push({ t: 'ping' }); // any frame counts as life
  await clock.advance(34999);
  assert.equal(transport.current.closedWith, undefined);
  await clock.advance(1);
  assert.deepEqual(transport.connections[0].closedWith, { code: 4000, reason: 'no heartbeat from the server' });
  assert.equal(client.state, 'disconnected');
  await clock.advance(500);
  assert.equal(transport.connections.length, 2);
  client.close();
});

test('a probe pings when connected and drops the connection when the ping is not answered', async () => {
  const { clock, transport, client } = await connected();
  transport.probe('appShow');
  const ping = transport.current.last('ping');
  assert.ok(Number.isInteger(ping.id), 'the probe ping carries an id');
  transport.current.ok(ping.id);
  await clock.advance(5000);
  assert.equal(transport.current.closedWith, undefined, 'an answered probe keeps the connection');
  transport.probe('network');
  await clock.advance(4999);
  assert.equal(transport.current.closedWith, undefined);
  await clock.advance(1);
  assert.equal(transport.connections[0].closedWith.code, 4000);
  client.close();
});

test('a probe while waiting to reconnect reconnects at once', async () => {
  const { clock, transport, client } = await connected({ random: () => 0.99, minReconnectDelayMs: 10000, maxReconnectDelayMs: 60000 });
  transport.current.drop(1006, '');
  assert.equal(client.state, 'disconnected');
  await clock.advance(100);
  assert.equal(transport.connections.length, 1);
  transport.probe('network');
  await settle();
  assert.equal(transport.connections.length, 2);
  assert.equal(client.state, 'connecting');
  client.close();
});
