// The SDK in Node (on `ws`) against the real wshub binary: subscribe and receive API
// publications, client publish/presence/rpc, a stream that survives a cut connection and a
// killed and restarted server (resumed without duplicates; a gap this build cannot fill is
// reported as positionLost), a graceful stop's retry_after waited out before reconnecting,
// token refresh through getToken, and typed errors when the rpc webhook backend fails or is
// down. Each test starts its own wshub on loopback ports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { Client, ServerError, ErrorCode } from '../../dist/esm/index.js';
import { hubConfig, startBackend, tokenFor, until, Wshub } from '../support/wshub.mjs';

const opened = [];
function client(server, options = {}) {
  const c = new Client(server.url(), { WebSocket, minReconnectDelayMs: 100, maxReconnectDelayMs: 1000, ...options });
  c.errors = [];
  c.on('error', (e) => c.errors.push(e));
  opened.push(c);
  return c;
}

async function connected(c) {
  c.connect();
  await until(() => c.state === 'connected', `${c.url} to connect`);
  return c;
}

/** Collects a subscription's publications and its subscribed events, in one ordered log. */
function follow(c, ch) {
  const log = [];
  const sub = c.subscribe(ch, (pub) => log.push({ off: pub.off, data: pub.data }));
  sub.on('subscribed', (e) => log.push({ subscribed: e }));
  return { sub, log, offs: () => log.filter((e) => 'off' in e).map((e) => e.off) };
}

async function withServer(options, body) {
  const server = await new Wshub(hubConfig(options)).start();
  try {
    await body(server);
  } finally {
    for (const c of opened.splice(0)) c.close();
    await server.stop();
  }
}

test('subscribe, an API publish arrives; publish, presence and rpc from the client', async () => {
  const backend = await startBackend((body) => ({ data: { echo: body.data, m: body.m, user: body.user } }));
  try {
    await withServer({ webhookUrl: backend.url }, async (server) => {
      const alice = await connected(client(server, { token: tokenFor('alice') }));
      assert.equal(alice.connectedAs.user, 'alice');
      const news = follow(alice, 'news');
      await news.sub.ready();
      const published = await server.api('/api/publish', { channel: 'news', data: { text: 'hello' } });
      assert.equal(published.status, 200);
      await until(() => news.offs().length === 1, 'the API publication');
      assert.deepEqual(news.log[1], { off: published.body.offset, data: { text: 'hello' } });

      const own = await alice.publish('news', { text: 'mine' }, { mid: 'm-1' });
      assert.equal(own.off, published.body.offset + 1);
      assert.equal(own.ep, published.body.epoch);
      await until(() => news.offs().length === 2, 'the own publication');

      const presence = await alice.presence('news');
      assert.equal(presence.total, 1);
      assert.equal(Object.values(presence.clients)[0].user, 'alice');

      assert.deepEqual(await alice.rpc('getOrder', { order: 7 }), { echo: { order: 7 }, m: 'getOrder', user: 'alice' });
      assert.equal(backend.calls.at(-1).type, 'rpc');
    });
  } finally {
    await backend.close();
  }
});

test('a connection cut mid-stream reconnects and resumes without duplicates; what the server cannot fill is reported', async () => {
  await withServer({}, async (server) => {
    const bob = await connected(client(server, { token: tokenFor('bob') }));
    const stream = follow(bob, 'ticks');
    await stream.sub.ready();
    const publish = (n) => server.api('/api/publish', { channel: 'ticks', data: { n } });
    for (let n = 1; n <= 5; n += 1) await publish(n);
    await until(() => stream.offs().length === 5, 'five ticks');

    // Cut: the backend disconnects bob with a reconnect code; nothing is published meanwhile.
    const disconnected = new Promise((resolve) => bob.once('disconnected', resolve));
    assert.deepEqual((await server.api('/api/disconnect', { user: 'bob', code: 3000, reason: 'cut' })).body, { disconnected: 1 });
    const cut = await disconnected;
    assert.equal(cut.code, 3000);
    assert.equal(cut.reconnect, true);
    await until(() => bob.state === 'connected' && stream.sub.state === 'subscribed', 'the reconnect');
    const resumed = stream.log.filter((e) => e.subscribed)[1].subscribed;
    assert.equal(resumed.recovered, true, 'since = the current position: nothing missed');
    for (let n = 6; n <= 10; n += 1) await publish(n);
    await until(() => stream.offs().length === 10, 'ten ticks');
    assert.deepEqual(stream.offs(), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    // A live stream (published every few ms) while the connection is cut twice.
    let publishing = true;
    const publisher = (async () => {
      for (let n = 11; publishing && n < 2000; n += 1) {
        await publish(n);
        await new Promise((r) => setTimeout(r, 3));
      }
    })();
    let connects = 0;
    bob.on('connected', () => { connects += 1; });
    for (let cutNo = 1; cutNo <= 2; cutNo += 1) {
      await new Promise((r) => setTimeout(r, 150));
      await server.api('/api/disconnect', { user: 'bob', code: 3000 });
      await until(() => connects === cutNo && stream.sub.state === 'subscribed', 'a reconnect during the stream');
    }
    await new Promise((r) => setTimeout(r, 150));
    publishing = false;
    await publisher;
    const last = (await publish(-1)).body.offset;
    await until(() => stream.offs().at(-1) === last, 'the last tick');

    assert.equal(stream.log.filter((e) => e.subscribed).length, 4, 'subscribed once, then once per reconnect');
    assert.ok(stream.offs().length > 20, `only ${stream.offs().length} publications arrived`);
    // Offsets only grow; every jump follows a subscribed event that says the position was lost.
    let previous = 0;
    let lostSince = false;
    for (const entry of stream.log) {
      if (entry.subscribed) {
        lostSince = entry.subscribed.positionLost;
        continue;
      }
      assert.ok(entry.off > previous, `offset ${entry.off} after ${previous}: a duplicate or a step back`);
      if (entry.off !== previous + 1) assert.ok(lostSince, `a gap ${previous} -> ${entry.off} nobody was told about`);
      previous = entry.off;
      lostSince = false;
    }
  });
});

test('the server killed and restarted on the same port: the client comes back, learns its position is gone, and goes on', async () => {
  const first = await new Wshub(hubConfig({})).start();
  const ports = first.ports;
  const carol = await connected(client(first, { token: tokenFor('carol') }));
  const stream = follow(carol, 'news');
  await stream.sub.ready();
  await first.api('/api/publish', { channel: 'news', data: 1 });
  await first.api('/api/publish', { channel: 'news', data: 2 });
  await until(() => stream.offs().length === 2, 'two publications');
  const states = [];
  carol.on('state', (s) => states.push(s.state));
  await first.stop('SIGKILL');
  await until(() => states.includes('disconnected'), 'the client to notice the kill');

  const second = await new Wshub(hubConfig({ wsPort: ports.ws, apiPort: ports.api })).start();
  try {
    await until(() => carol.state === 'connected' && stream.sub.state === 'subscribed', 'the reconnect to the new server', 20000);
    const resumed = stream.log.filter((e) => e.subscribed)[1].subscribed;
    assert.equal(resumed.positionLost, true, 'a restart starts every channel anew');
    assert.notEqual(resumed.ep, stream.log[0].subscribed.ep);
    await second.api('/api/publish', { channel: 'news', data: 3 });
    await until(() => stream.offs().length === 3, 'a publication from the new server');
    assert.deepEqual(stream.log.filter((e) => 'off' in e).map((e) => e.data), [1, 2, 3]);
    assert.deepEqual(stream.sub.position(), { ep: resumed.ep, off: 1 });
  } finally {
    carol.close();
    opened.splice(0);
    await second.stop();
  }
});

test('a graceful stop sends retry_after: the client waits at least that long before reconnecting', async () => {
  // The server's window (1.5 to 2.5 s) is above the client's own backoff (at most 1 s here), so
  // only retry_after can hold the reconnect back that long.
  const first = await new Wshub(hubConfig({ hub: 'retry_after_min_ms = 1500\nretry_after_max_ms = 2500' })).start();
  const ports = first.ports;
  const dave = await connected(client(first, { token: tokenFor('dave') }));
  const gone = [];
  const attempts = [];
  dave.on('disconnected', (e) => gone.push({ ...e, at: Date.now() }));
  dave.on('state', (s) => {
    if (s.state === 'connecting') attempts.push(Date.now());
  });
  await first.stop();  // SIGTERM: disconnect 3001 with retry_after, then the close
  await until(() => gone.length === 1, 'the client to see the disconnect');
  assert.equal(gone[0].code, 3001);
  assert.equal(gone[0].reconnect, true);
  assert.ok(gone[0].delayMs >= 1500 && gone[0].delayMs <= 2500, `reconnect delay ${gone[0].delayMs} is the server's retry_after`);
  // The new server is up long before retry_after has passed.
  const second = await new Wshub(hubConfig({ wsPort: ports.ws, apiPort: ports.api })).start();
  try {
    await until(() => dave.state === 'connected', 'the reconnect to the new server', 20000);
    assert.equal(attempts.length, 1, 'one attempt, after retry_after');
    // Timers may fire up to a millisecond early (they are rounded): 2 ms of slack.
    assert.ok(attempts[0] - gone[0].at >= gone[0].delayMs - 2,
      `reconnected ${attempts[0] - gone[0].at} ms after the disconnect, retry_after ${gone[0].delayMs}`);
  } finally {
    dave.close();
    opened.splice(0);
    await second.stop();
  }
});

test('getToken refreshes a short-lived token before exp: the connection outlives several tokens', async () => {
  await withServer({ hub: '' }, async (server) => {
    let fetched = 0;
    const dave = client(server, { getToken: () => { fetched += 1; return tokenFor('dave', 3); } });
    const disconnects = [];
    dave.on('disconnected', (e) => disconnects.push(e));
    await connected(dave);
    const cid = dave.connectedAs.cid;
    const firstExp = dave.connectedAs.exp;
    await new Promise((r) => setTimeout(r, 7000));
    assert.deepEqual(disconnects, []);
    assert.equal(dave.connectedAs.cid, cid, 'the same connection');
    assert.ok(dave.connectedAs.exp > firstExp + 2000, 'exp moved on');
    assert.ok(fetched >= 3, `getToken called ${fetched} times`);
    assert.equal(await dave.rpc('none').catch((e) => e.code), ErrorCode.notAvailable, 'and it still answers');
  });
});

test('a fixed token that expires ends the connection with 3005 and the client stops', async () => {
  await withServer({}, async (server) => {
    const erin = client(server, { token: tokenFor('erin', 2) });
    const disconnected = new Promise((resolve) => erin.once('disconnected', resolve));
    await connected(erin);
    const event = await disconnected;
    assert.deepEqual(event, { code: 3005, reason: 'token expired', reconnect: false });
    assert.equal(erin.state, 'closed');
    assert.ok(erin.errors.some((e) => e.kind === 'token'));
  });
});

test('rpc errors are typed: the backend refusing, the backend down', async () => {
  const backend = await startBackend((body) => (body.m === 'fail'
    ? { error: { code: 1001, message: 'no such order' } }
    : { data: 'fine' }));
  await withServer({ webhookUrl: backend.url }, async (server) => {
    const frank = await connected(client(server, { token: tokenFor('frank') }));
    assert.equal(await frank.rpc('ok'), 'fine');
    await assert.rejects(frank.rpc('fail'), (e) => e instanceof ServerError && e.code === 1001
      && e.retry === false && e.message === 'no such order');
    await backend.close();
    await assert.rejects(frank.rpc('ok'), (e) => e instanceof ServerError && e.code === ErrorCode.backendUnavailable
      && e.retry === true && e.kind === 'server');
    assert.equal(frank.state, 'connected', 'a failing backend does not end the connection');
  });
});
