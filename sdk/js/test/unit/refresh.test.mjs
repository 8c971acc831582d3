// Token refresh before exp through getToken: when it happens, what it sends, what follows a
// refusal. Fake transport and clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, ServerError } from '../../dist/esm/index.js';
import { FakeClock, FakeTransport, record, settle } from '../support/fakes.mjs';

async function connected(expInMs, options = {}) {
  const clock = new FakeClock();
  const transport = new FakeTransport();
  let n = 0;
  const tokens = [];
  const client = new Client('ws://hub.test/hub', {
    transport, clock, random: () => 0,
    getToken: async () => { const t = `token-${++n}`; tokens.push(t); return t; },
    ...options,
  });
  const errors = record(client, ['error']);
  client.connect();
  await settle();
  // A heartbeat slower than the test, so that silence does not end the connection.
  transport.current.accept({ exp: clock.now() + expInMs, hb: { iv: 1e9, to: 0 } });
  await settle();
  return { clock, transport, client, tokens, errors };
}

test('the token is refreshed refreshMarginMs before exp, and again before the new exp', async () => {
  const { clock, transport, client, tokens } = await connected(120000, { refreshMarginMs: 60000 });
  assert.deepEqual(tokens, ['token-1']);
  await clock.advance(59999);
  assert.equal(transport.current.frames('refresh').length, 0);
  await clock.advance(1);
  const refresh = transport.current.last('refresh');
  assert.equal(refresh.token, 'token-2');
  transport.current.ok(refresh.id, { exp: clock.now() + 120000 });
  await settle();
  assert.equal(client.connectedAs.exp, clock.now() + 120000);
  await clock.advance(59999);
  assert.equal(transport.current.frames('refresh').length, 1);
  await clock.advance(1);
  assert.equal(transport.current.frames('refresh').length, 2);
  assert.equal(transport.connections.length, 1, 'refreshing never reconnects');
  client.close();
});

test('a short-lived token is refreshed at half its remaining life', async () => {
  const { clock, transport, client } = await connected(10000, { refreshMarginMs: 60000 });
  await clock.advance(4999);
  assert.equal(transport.current.frames('refresh').length, 0);
  await clock.advance(1);
  assert.equal(transport.current.frames('refresh').length, 1);
  client.close();
});

test('a refused refresh is reported and tried again while time remains', async () => {
  const { clock, transport, client, errors } = await connected(20000, { refreshMarginMs: 10000 });
  await clock.advance(10000);
  transport.current.err(transport.current.last('refresh').id, 101, 'bad_signature: no', false);
  await settle();
  assert.ok(errors.some((e) => e.value instanceof ServerError && e.value.code === 101));
  await clock.advance(5000);
  assert.equal(transport.current.frames('refresh').length, 2);
  client.close();
});

test('no refresh without getToken, nor for an identity without exp, nor where tokens are not used (108)', async () => {
  const clock = new FakeClock();
  const transport = new FakeTransport();
  const fixed = new Client('ws://hub.test/hub', { transport, clock, token: 'fixed' });
  fixed.connect();
  await settle();
  transport.current.accept({ exp: clock.now() + 10000 });
  await clock.advance(9999);
  assert.equal(transport.current.frames('refresh').length, 0);
  fixed.close();

  const noExp = await connected(0, {});
  noExp.transport.current.frames().length = 0;
  // connected() passed exp = now: an identity with exp always refreshes; one without never does.
  const plain = new Client('ws://hub.test/hub', { transport: noExp.transport, clock: noExp.clock, getToken: () => 'x' });
  plain.connect();
  await settle();
  noExp.transport.current.accept({ hb: { iv: 1e9, to: 0 } });
  await noExp.clock.advance(3600000);
  assert.equal(noExp.transport.current.frames('refresh').length, 0);
  plain.close();
  noExp.client.close();

  const webhook = await connected(20000, { refreshMarginMs: 10000 });
  await webhook.clock.advance(10000);
  webhook.transport.current.err(webhook.transport.current.last('refresh').id, 108, 'tokens are not used here');
  await webhook.clock.advance(10000);
  assert.equal(webhook.transport.current.frames('refresh').length, 1, 'no retry after 108');
  webhook.client.close();
});

test('a device clock far ahead of the server does not refresh in a loop: at most once a second', async () => {
  const { clock, transport, client } = await connected(-3600000); // exp an hour "ago" by this clock
  await clock.advance(999);
  assert.equal(transport.current.frames('refresh').length, 0);
  await clock.advance(1);
  const first = transport.current.last('refresh');
  transport.current.ok(first.id, { exp: clock.now() - 3600000 });
  await clock.advance(999);
  assert.equal(transport.current.frames('refresh').length, 1);
  await clock.advance(1);
  assert.equal(transport.current.frames('refresh').length, 2);
  client.close();
});
