// Channel resume state: the cursor {ep, off} follows delivered publications, goes out as
// `since` after a reconnect, filters duplicates, reports a lost position (rec: false), and
// survives in a CursorStorage. Fake transport and clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, memoryStorage, ServerError } from '../../dist/esm/index.js';
import { record, settle, startClient } from '../support/fakes.mjs';

const answer = (fields) => ({ ep: 'e1', off: 0, rec: false, pubs: [], more: false, ...fields });

async function connected(options = {}) {
  return startClient(Client, options);
}

async function reconnect(clock, transport) {
  transport.current.drop(1006, '');
  await clock.advance(500);
  transport.current.open();
  return transport.current.last('connect');
}

test('resume: since goes out on reconnect, duplicates are dropped, the stream goes on', async () => {
  const { clock, transport, client } = await connected();
  const got = [];
  const sub = client.subscribe('news', (pub) => got.push(pub.off));
  const subscribed = record(sub, ['subscribed']);
  transport.current.open();
  const first = transport.current.last('connect');
  assert.deepEqual(first.subs, { news: {} });
  transport.current.ok(first.id, { cid: '0-1', user: 'u', device: '', hb: { iv: 25000, to: 10000 }, subs: { news: answer({ off: 3 }) } });
  await settle();
  assert.equal(sub.state, 'subscribed');
  assert.deepEqual(subscribed[0].value, { ch: 'news', ep: 'e1', off: 3, recovered: false, positionLost: false });
  for (const off of [4, 5]) transport.current.push({ t: 'pub', ch: 'news', off, data: { n: off }, ts: 1 });
  assert.deepEqual(sub.position(), { ep: 'e1', off: 5 });

  const again = await reconnect(clock, transport);
  assert.deepEqual(again.subs, { news: { since: { ep: 'e1', off: 5 } } });
  assert.equal(sub.state, 'subscribing');
  transport.current.ok(again.id, { cid: '0-2', user: 'u', device: '', hb: { iv: 25000, to: 10000 }, subs: { news: answer({ off: 5, rec: true }) } });
  await settle();
  assert.equal(subscribed[1].value.recovered, true);
  assert.equal(subscribed[1].value.positionLost, false);
  for (const off of [5, 6, 6, 7]) transport.current.push({ t: 'pub', ch: 'news', off, data: null, ts: 1 });
  assert.deepEqual(got, [4, 5, 6, 7]);
  client.close();
});

test('resume: publications missed and sent in the answer (pubs) are delivered once, in order', async () => {
  const { clock, transport, client } = await connected();
  const got = [];
  client.subscribe('news', (pub) => got.push([pub.off, pub.data]));
  transport.current.accept({ subs: { news: answer({ off: 2 }) } });
  await settle();
  const again = await reconnect(clock, transport);
  assert.deepEqual(again.subs.news.since, { ep: 'e1', off: 2 });
  transport.current.ok(again.id, { cid: '0-2', user: 'u', device: '', hb: { iv: 25000, to: 10000 },
    subs: { news: answer({ off: 4, rec: true, pubs: [{ off: 3, data: 'c', ts: 1 }, { off: 4, data: 'd', ts: 1 }] }) } });
  await settle();
  transport.current.push({ t: 'pub', ch: 'news', off: 4, data: 'dup', ts: 1 });
  transport.current.push({ t: 'pub', ch: 'news', off: 5, data: 'e', ts: 1 });
  assert.deepEqual(got, [[3, 'c'], [4, 'd'], [5, 'e']]);
  client.close();
});

test('resume with more: true keeps the cursor at the last delivered and takes the rest as pushes', async () => {
  const { clock, transport, client } = await connected();
  const got = [];
  client.subscribe('news', (pub) => got.push(pub.off));
  transport.current.accept({ subs: { news: answer({ off: 1 }) } });
  await settle();
  const again = await reconnect(clock, transport);
  transport.current.ok(again.id, { cid: '0-2', user: 'u', device: '', hb: { iv: 25000, to: 10000 },
    subs: { news: answer({ off: 5, rec: true, pubs: [{ off: 2, data: 0, ts: 1 }], more: true }) } });
  await settle();
  for (const off of [3, 4, 5, 6]) transport.current.push({ t: 'pub', ch: 'news', off, data: 0, ts: 1 });
  assert.deepEqual(got, [2, 3, 4, 5, 6]);
  client.close();
});

test('rec: false after since reports a lost position and restarts from the new epoch', async () => {
  const { clock, transport, client } = await connected();
  const got = [];
  const sub = client.subscribe('news', (pub) => got.push(pub.off));
  const subscribed = record(sub, ['subscribed']);
  transport.current.accept({ subs: { news: answer({ off: 9 }) } });
  await settle();
  transport.current.push({ t: 'pub', ch: 'news', off: 10, data: 0, ts: 1 });
  const again = await reconnect(clock, transport);
  assert.deepEqual(again.subs.news.since, { ep: 'e1', off: 10 });
  // The server restarted: another epoch, offsets from 0 again.
  transport.current.ok(again.id, { cid: '0-1', user: 'u', device: '', hb: { iv: 25000, to: 10000 }, subs: { news: answer({ ep: 'e2', off: 0 }) } });
  await settle();
  assert.deepEqual(subscribed[1].value, { ch: 'news', ep: 'e2', off: 0, recovered: false, positionLost: true });
  transport.current.push({ t: 'pub', ch: 'news', off: 1, data: 0, ts: 1 });
  assert.deepEqual(got, [10, 1]);
  assert.deepEqual(sub.position(), { ep: 'e2', off: 1 });
  client.close();
});

test('pushes that overtake a held-back subscribe answer are kept and delivered after it', async () => {
  const { transport, client } = await connected();
  transport.current.accept();
  await settle();
  const got = [];
  client.subscribe('feed', (pub) => got.push(pub.off));
  const request = transport.current.last('subscribe');
  assert.equal(request.since, undefined);
  transport.current.push({ t: 'pub', ch: 'feed', off: 8, data: 0, ts: 1 });
  transport.current.push({ t: 'pub', ch: 'feed', off: 9, data: 0, ts: 1 });
  assert.deepEqual(got, []);
  transport.current.ok(request.id, answer({ off: 7 }));
  await settle();
  assert.deepEqual(got, [8, 9]);
  client.close();
});

test('cursors persist in the storage: a new client resumes from them', async () => {
  const storage = memoryStorage();
  const one = await connected({ storage });
  one.client.subscribe('news', () => {});
  one.transport.current.accept({ subs: { news: answer({ ep: 'abc', off: 4 }) } });
  await settle();
  one.transport.current.push({ t: 'pub', ch: 'news', off: 5, data: 0, ts: 1 });
  one.client.close();
  assert.equal(storage.get('wshub:sub:news'), JSON.stringify({ ep: 'abc', off: 5 }));

  const two = await connected({ storage });
  two.client.subscribe('news', () => {});
  two.transport.current.open();
  assert.deepEqual(two.transport.current.last('connect').subs, { news: { since: { ep: 'abc', off: 5 } } });
  two.client.close();
});

test('a damaged stored cursor is ignored rather than sent (a bad since closes the connection)', async () => {
  const storage = memoryStorage();
  storage.set('wshub:sub:a', '{"ep":5,"off":"x"}');
  storage.set('wshub:sub:b', 'not json');
  const { transport, client } = await connected({ storage });
  client.subscribe('a');
  client.subscribe('b');
  transport.current.open();
  assert.deepEqual(transport.current.last('connect').subs, { a: {}, b: {} });
  client.close();
});

test('a webhook namespace refused in connect (108) is subscribed on its own, with since', async () => {
  const { clock, transport, client } = await connected();
  client.subscribe('feed:x');
  transport.current.accept({ subs: { 'feed:x': { err: { code: 108, msg: 'not available' } } } });
  await settle();
  const request = transport.current.last('subscribe');
  assert.equal(request.ch, 'feed:x');
  transport.current.ok(request.id, answer({ off: 2 }));
  await settle();
  await reconnect(clock, transport);
  transport.current.ok(transport.current.last('connect').id, { cid: '0-2', user: 'u', device: '', hb: { iv: 1, to: 1 },
    subs: { 'feed:x': { err: { code: 108, msg: 'not available' } } } });
  await settle();
  assert.deepEqual(transport.current.last('subscribe').since, { ep: 'e1', off: 2 });
  client.close();
});

test('a refused subscription fails for good; a retryable one is tried again', async () => {
  const { clock, transport, client } = await connected();
  transport.current.accept();
  await settle();
  const denied = client.subscribe('secret');
  transport.current.err(transport.current.last('subscribe').id, 103, 'permission denied');
  await assert.rejects(denied.ready(), (e) => e instanceof ServerError && e.code === 103 && e.retry === false);
  assert.equal(denied.state, 'failed');
  assert.equal(client.subscription('secret'), undefined);

  const flaky = client.subscribe('feed:y');
  const errors = record(flaky, ['error']);
  const firstId = transport.current.last('subscribe').id;
  transport.current.err(firstId, 116, 'backend unavailable', true);
  await settle();
  assert.equal(errors[0].value.code, 116);
  await clock.advance(2500);
  const second = transport.current.last('subscribe');
  assert.notEqual(second.id, firstId);
  transport.current.ok(second.id, answer({ off: 0 }));
  assert.equal((await flaky.ready()).ch, 'feed:y');
  client.close();
});

test('unsubscribe sends the request, forgets the cursor, and leaves the channel out of the next connect', async () => {
  const storage = memoryStorage();
  const { clock, transport, client } = await connected({ storage });
  const sub = client.subscribe('news');
  const other = client.subscribe('other');
  transport.current.accept({ subs: { news: answer({ off: 1 }), other: answer({ off: 1 }) } });
  await settle();
  const ended = record(sub, ['unsubscribed']);
  const pending = client.subscribe('later');
  pending.unsubscribe();
  await assert.rejects(pending.ready(), (e) => e.kind === 'closed');
  sub.unsubscribe();
  assert.equal(transport.current.last('unsubscribe').ch, 'news');
  assert.deepEqual(ended[0].value, { ch: 'news', code: 0, reason: 'unsubscribed' });
  assert.equal(storage.get('wshub:sub:news'), null);
  // The server ends the other one.
  transport.current.push({ t: 'unsub', ch: 'other', code: 3000, reason: 'unsubscribed by the server' });
  assert.equal(other.state, 'unsubscribed');
  const again = await reconnect(clock, transport);
  assert.equal(again.subs, undefined);
  client.close();
});

test('pushes for channels without a Subscription (personal, /api/subscribe) reach client events', async () => {
  const { transport, client } = await connected();
  const seen = record(client, ['publication', 'sub', 'join']);
  transport.current.accept();
  await settle();
  transport.current.push({ t: 'sub', ch: 'alerts', ep: 'b7', off: 0 });
  transport.current.push({ t: 'pub', ch: '$user:u', off: 1, data: { to: 'u' }, ts: 5 });
  transport.current.push({ t: 'join', ch: 'room', cid: '0-2', user: 'bob', device: '' });
  transport.current.push({ t: 'future-push', x: 1 }); // unknown: ignored
  assert.deepEqual(seen.map((s) => s.name), ['sub', 'publication', 'join']);
  assert.deepEqual(seen[1].value, { ch: '$user:u', off: 1, data: { to: 'u' }, ts: 5 });
  client.close();
});

test('a retryable refusal in connect subs (116) is tried again with its own subscribe', async () => {
  const { clock, transport, client } = await connected();
  const sub = client.subscribe('news');
  const errors = record(sub, ['error']);
  transport.current.accept({ subs: { news: { err: { code: 116, msg: 'backend unavailable' } } } });
  await settle();
  assert.equal(errors[0].value.retry, true);
  assert.equal(sub.state, 'subscribing');
  await clock.advance(2500);
  const request = transport.current.last('subscribe');
  assert.equal(request.ch, 'news');
  transport.current.ok(request.id, answer({ off: 3 }));
  assert.equal((await sub.ready()).off, 3);
  client.close();
});
