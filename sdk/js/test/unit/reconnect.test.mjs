// Reconnecting: full-jitter delays between the floor and the cap, the server's retry_after,
// which close codes stop the client, and the token's expiry. Fake transport and clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff, Client, DisconnectedError } from '../../dist/esm/index.js';
import { FakeClock, FakeTransport, record, settle } from '../support/fakes.mjs';

function makeClient(options = {}) {
  const clock = new FakeClock();
  const transport = new FakeTransport();
  const client = new Client('ws://hub.test/hub', { transport, clock, token: 't', ...options });
  client.on('error', () => {});
  return { clock, transport, client };
}

test('backoff draws stay between the floor and a ceiling that doubles up to the cap', () => {
  for (const r of [0, 0.25, 0.5, 0.999999]) {
    const backoff = new Backoff({ minDelayMs: 500, maxDelayMs: 20000 }, () => r);
    let ceiling = 500;
    for (let i = 0; i < 12; i += 1) {
      assert.equal(backoff.ceiling(), ceiling);
      const delay = backoff.next();
      assert.ok(delay >= 500 && delay <= ceiling, `draw ${i}: ${delay} not in [500, ${ceiling}]`);
      if (r === 0) assert.equal(delay, 500);
      if (r === 0.999999) assert.ok(delay >= ceiling - 1);
      ceiling = Math.min(20000, ceiling * 2);
    }
    assert.equal(backoff.ceiling(), 20000);
    backoff.reset();
    assert.equal(backoff.ceiling(), 500);
  }
});

test('backoff spreads: many clients do not pick the same delay', () => {
  const backoff = new Backoff({ minDelayMs: 500, maxDelayMs: 20000 });
  const draws = new Set();
  for (let i = 0; i < 50; i += 1) {
    backoff.reset();
    for (let k = 0; k < 5; k += 1) backoff.next();
    draws.add(backoff.next()); // ceiling 16000
  }
  assert.ok(draws.size > 30, `only ${draws.size} distinct delays in 50 draws`);
});

test('a failed connection is retried after the drawn delay, not before; success resets the backoff', async () => {
  const { clock, transport, client } = makeClient({ random: () => 0.5, maxReconnectDelayMs: 4000 });
  const events = record(client, ['disconnected']);
  client.connect();
  await settle();
  assert.equal(transport.connections.length, 1);
  const expected = [500, 750, 1250, 2250, 2250];
  for (const [i, delay] of expected.entries()) {
    transport.current.drop(1006, '');
    assert.equal(events[i].value.delayMs, delay);
    assert.equal(events[i].value.reconnect, true);
    assert.equal(client.state, 'disconnected');
    await clock.advance(delay - 1);
    assert.equal(transport.connections.length, i + 1, 'reconnected early');
    await clock.advance(1);
    assert.equal(transport.connections.length, i + 2, 'did not reconnect');
  }
  transport.current.accept();
  await settle();
  assert.equal(client.state, 'connected');
  transport.current.drop(1006, '');
  assert.equal(events.at(-1).value.delayMs, 500, 'backoff not reset by a connection');
  client.close();
});

test("the server's retry_after replaces the drawn delay", async () => {
  const { clock, transport, client } = makeClient({ random: () => 0 });
  const events = record(client, ['disconnected']);
  client.connect();
  await settle();
  transport.current.accept();
  await settle();
  transport.current.push({ t: 'disconnect', code: 3000, reason: 'busy', retry_after: 7000 });
  transport.current.drop(1006, ''); // the transport saw no clean close: the push still names it
  assert.deepEqual(events[0].value, { code: 3000, reason: 'busy', reconnect: true, delayMs: 7000 });
  await clock.advance(6999);
  assert.equal(transport.connections.length, 1);
  await clock.advance(1);
  assert.equal(transport.connections.length, 2);
  client.close();
});

for (const code of [3500, 3501, 3502, 3520, 4500, 4999]) {
  test(`close ${code} stops reconnecting`, async () => {
    const { clock, transport, client } = makeClient();
    const events = record(client, ['disconnected', 'state']);
    client.connect();
    await settle();
    transport.current.accept();
    await settle();
    transport.current.push({ t: 'disconnect', code, reason: 'no' });
    transport.current.drop(code, 'no');
    assert.equal(client.state, 'closed');
    assert.deepEqual(events.find((e) => e.name === 'disconnected').value, { code, reason: 'no', reconnect: false });
    await clock.advance(200000);
    assert.equal(transport.connections.length, 1);
  });
}

for (const code of [1001, 1006, 3000, 3001, 3008, 3012, 4000, 4499]) {
  test(`close ${code} reconnects`, async () => {
    const { clock, transport, client } = makeClient();
    client.connect();
    await settle();
    transport.current.accept();
    await settle();
    transport.current.drop(code, '');
    assert.equal(client.state, 'disconnected');
    await clock.advance(500); // the first retry waits the floor: its ceiling is the floor
    assert.equal(transport.connections.length, 2);
    client.close();
  });
}

test('3005 with getToken: a fresh token is fetched for the reconnect', async () => {
  let n = 0;
  const { clock, transport, client } = makeClient({ token: undefined, getToken: async () => `token-${++n}` });
  client.connect();
  await settle();
  assert.equal(transport.current.accept().token, 'token-1');
  await settle();
  transport.current.push({ t: 'disconnect', code: 3005, reason: 'token expired' });
  transport.current.drop(3005, 'token expired');
  await clock.advance(500); // the first retry waits the floor: its ceiling is the floor
  assert.equal(transport.connections.length, 2);
  assert.equal(transport.current.accept().token, 'token-2');
  client.close();
});

test('3005 with a fixed token: the client stops and says why', async () => {
  const { clock, transport, client } = makeClient();
  const errors = record(client, ['error']);
  client.connect();
  await settle();
  transport.current.accept();
  await settle();
  transport.current.drop(3005, 'token expired');
  assert.equal(client.state, 'closed');
  assert.equal(errors[0].value.kind, 'token');
  await clock.advance(60000);
  assert.equal(transport.connections.length, 1);
});

test('a connect refused as expired (109) marks the token stale for the next attempt', async () => {
  let n = 0;
  const { clock, transport, client } = makeClient({ token: undefined, getToken: () => `token-${++n}` });
  const errors = record(client, ['error']);
  client.connect();
  await settle();
  transport.current.open();
  transport.current.err(transport.current.last('connect').id, 109, 'expired: the token has expired');
  await settle();
  assert.equal(errors[0].value.code, 109);
  transport.current.drop(3005, 'expired');
  await clock.advance(500); // the first retry waits the floor: its ceiling is the floor
  transport.current.open();
  assert.equal(transport.current.last('connect').token, 'token-2');
  client.close();
});

test('close() ends for good: no reconnect, requests reject as closed', async () => {
  const { clock, transport, client } = makeClient();
  const states = record(client, ['state']);
  client.connect();
  await settle();
  const queued = client.rpc('m', 1);
  client.close();
  await assert.rejects(queued, (e) => e instanceof DisconnectedError && e.kind === 'closed');
  assert.equal(transport.current.closedWith.code, 1000);
  assert.deepEqual(states.map((s) => s.value.state), ['connecting', 'closed']);
  await clock.advance(60000);
  assert.equal(transport.connections.length, 1);
});

test('the connect request offers the subprotocol and names the SDK', async () => {
  const { transport, client } = makeClient();
  client.connect();
  await settle();
  assert.deepEqual(transport.current.protocols, ['wshub.v1.json']);
  transport.current.open();
  const connect = transport.current.last('connect');
  assert.equal(connect.client.sdk, 'js');
  assert.equal(connect.token, 't');
  assert.deepEqual(connect.inbox, {});
  assert.equal(connect.subs, undefined);
  client.close();
});

test('without a WebSocket class (Node without ws) the client stops with a fatal TransportError',
  { skip: typeof globalThis.WebSocket === 'function' && 'this Node has a global WebSocket' }, async () => {
    const client = new Client('ws://127.0.0.1:9/hub', { token: 't', clock: new FakeClock() });
    const errors = record(client, ['error']);
    client.connect();
    await settle();
    assert.equal(client.state, 'closed');
    assert.equal(errors[0].value.name, 'TransportError');
    assert.equal(errors[0].value.fatal, true);
    assert.match(errors[0].value.message, /'ws' package/);
  });
