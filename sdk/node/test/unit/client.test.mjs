// WshubClient against a fake API on loopback: what each method sends, how answers decode, and
// how refusals, timeouts, aborts and refused connections become typed errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import wshub from '../../index.js';

const { WshubClient, WshubError, WshubTransportError, Codes, isRetryable } = wshub;

/** A fake API answering every request with `status` and `body`; `seen` records the requests. */
async function fakeApi(status, body, { delayMs = 0 } = {}) {
  const seen = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => { text += chunk; });
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, key: req.headers['x-api-key'],
        type: req.headers['content-type'], body: text ? JSON.parse(text) : undefined });
      setTimeout(() => { res.writeHead(status); res.end(body); }, delayMs);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/`;
  return {
    url, seen,
    client: (options = {}) => new WshubClient({ url, apiKey: 'the-key', ...options }),
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); }),
  };
}

const cases = [
  ['publish', '{"epoch":"32a4d5ca","offset":1}', (c) => c.publish('news', { text: 'hello' }),
    { epoch: '32a4d5ca', offset: 1 }, ['POST', '/api/publish', { channel: 'news', data: { text: 'hello' } }]],
  ['publish with an idempotency key', '{"epoch":"e","offset":2}', (c) => c.publish('news', 1, { idempotencyKey: 'k-1' }),
    { epoch: 'e', offset: 2 }, ['POST', '/api/publish', { channel: 'news', data: 1, idempotency_key: 'k-1' }]],
  ['broadcast', '{"results":[{"channel":"news","epoch":"a","offset":2}]}', (c) => c.broadcast(['news'], 'both'),
    [{ channel: 'news', epoch: 'a', offset: 2 }], ['POST', '/api/broadcast', { channels: ['news'], data: 'both' }]],
  ['subscribe', '{"subscribed":2}', (c) => c.subscribe('alice', 'alerts'),
    2, ['POST', '/api/subscribe', { user: 'alice', channel: 'alerts' }]],
  ['unsubscribe', '{"unsubscribed":1}', (c) => c.unsubscribe('alice', 'alerts'),
    1, ['POST', '/api/unsubscribe', { user: 'alice', channel: 'alerts' }]],
  ['disconnect', '{"disconnected":1}', (c) => c.disconnect({ device: 'term-7', code: 4001, reason: 'account closed' }),
    1, ['POST', '/api/disconnect', { device: 'term-7', code: 4001, reason: 'account closed' }]],
  ['presence of a personal channel', '{"clients":{"0-1":{"user":"alice","device":"d"}},"total":1}', (c) => c.presence('$device:term 7'),
    { clients: { '0-1': { user: 'alice', device: 'd' } }, total: 1 }, ['GET', '/api/presence?channel=%24device%3Aterm+7', undefined]],
  ['channels', '{"channels":[{"channel":"news","subscribers":3,"offset":9}]}', (c) => c.channels(),
    [{ channel: 'news', subscribers: 3, offset: 9 }], ['GET', '/api/channels', undefined]],
  ['info', '{"hub":{"sessions":1,"connected":1,"subscriptions":3,"publications_delivered":2,"backend_unavailable":0}}', (c) => c.info(),
    { sessions: 1, connected: 1, subscriptions: 3, publications_delivered: 2, backend_unavailable: 0 }, ['GET', '/api/info', undefined]],
  ['send to a user', '{"id":"m-1","copies":[{"device":"a","seq":4}]}',
    (c) => c.send({ user: 'alice', data: 1, ttl: 60, idempotencyKey: 'i', collapseKey: 'c' }),
    { id: 'm-1', copies: [{ device: 'a', seq: 4 }] },
    ['POST', '/api/send', { user: 'alice', data: 1, ttl: 60, idempotency_key: 'i', collapse_key: 'c' }]],
  ['history', '{"publications":[],"epoch":"e","offset":8}', (c) => c.history('news', { epoch: 'e', since: 7, limit: 10 }),
    { publications: [], epoch: 'e', offset: 8 }, ['GET', '/api/history?channel=news&epoch=e&since=7&limit=10', undefined]],
  ['message', '{"id":"m/1","created":1,"states":{"a":"acked"}}', (c) => c.message('m/1'),
    { id: 'm/1', created: 1, states: { a: 'acked' } }, ['GET', '/api/messages/m%2F1', undefined]],
  ['ready', '{"ready":true}', (c) => c.ready(), true, ['GET', '/ready', undefined]],
  ['health', '{"status":"ok"}', (c) => c.health(), { status: 'ok' }, ['GET', '/health', undefined]],
  ['metrics', 'wshub_connections 1\n', (c) => c.metrics(), 'wshub_connections 1\n', ['GET', '/metrics', undefined]],
];

test('each method sends what docs/api.md says and decodes the answer', async () => {
  for (const [name, answer, call, want, [method, url, body]] of cases) {
    const api = await fakeApi(200, answer);
    const client = api.client();
    try {
      assert.deepEqual(await call(client), want, name);
      assert.equal(api.seen.length, 1, name);
      const [seen] = api.seen;
      assert.deepEqual([seen.method, seen.url, seen.body], [method, url, body], name);
      assert.equal(seen.key, 'the-key', name);
      assert.equal(seen.type, method === 'POST' ? 'application/json' : undefined, name);
    } finally {
      client.close();
      await api.close();
    }
  }
});

test('refusals become WshubError with status, code, message and retryable', async () => {
  const refusals = [
    ['bad key', 401, '{"error":{"code":101,"message":"missing or wrong API key"}}', Codes.UNAUTHORIZED, 'missing or wrong API key', false, false],
    ['bad channel', 400, `{"error":{"code":107,"message":"the channel name has a character outside A-Z a-z 0-9 - _ . : @ = / # , $: 'a b'"}}`,
      Codes.BAD_REQUEST, "the channel name has a character outside A-Z a-z 0-9 - _ . : @ = / # , $: 'a b'", false, false],
    ['unknown namespace', 404, '{"error":{"code":102,"message":"no namespace \'chat\' is configured ([[hub.namespace]])"}}',
      Codes.UNKNOWN_CHANNEL, "no namespace 'chat' is configured ([[hub.namespace]])", false, false],
    ['store not in this build', 501, '{"error":{"code":108,"message":"the durable store (inbox, history, receipts) is not part of this build yet"}}',
      Codes.NOT_AVAILABLE, 'the durable store (inbox, history, receipts) is not part of this build yet', false, true],
    ['broker down', 503, '{"error":{"code":116,"message":"backend unavailable"}}', Codes.BACKEND_UNAVAILABLE, 'backend unavailable', true, false],
    ['not answered in time', 504, '{"error":{"code":504,"message":"the request was not answered in time"}}', Codes.TIMEOUT,
      'the request was not answered in time', true, false],
    ['plain text framing error', 413, 'The body is larger than the server\'s limit (max_body_bytes); send a smaller body or raise the limit.\n', 0,
      "The body is larger than the server's limit (max_body_bytes); send a smaller body or raise the limit.", false, false],
    ['empty body', 502, '', 0, 'Bad Gateway', true, false],
  ];
  for (const [name, status, body, code, message, retryable, notImplemented] of refusals) {
    const api = await fakeApi(status, body);
    const client = api.client();
    try {
      await assert.rejects(client.publish('news', 1), (error) => {
        assert.ok(error instanceof WshubError, name);
        assert.deepEqual([error.status, error.code, error.serverMessage, error.method, error.path], [status, code, message, 'POST', '/api/publish'], name);
        assert.equal(error.retryable, retryable, name);
        assert.equal(isRetryable(error), retryable, name);
        assert.equal(error.notImplemented, notImplemented, name);
        return true;
      });
    } finally {
      client.close();
      await api.close();
    }
  }
});

test('ready() is false while the server starts (503)', async () => {
  const api = await fakeApi(503, '{"ready":false}');
  const client = api.client();
  assert.equal(await client.ready(), false);
  client.close();
  await api.close();
});

test('an answer that is not JSON is a transport error', async () => {
  const api = await fakeApi(200, '<html>a proxy page</html>');
  const client = api.client();
  await assert.rejects(client.info(), (error) => error instanceof WshubTransportError && error.path === '/api/info');
  client.close();
  await api.close();
});

test('timeout, abort and a refused connection are transport errors', async () => {
  const api = await fakeApi(200, '{"hub":{}}', { delayMs: 2000 });
  const slow = api.client({ timeoutMs: 50 });
  await assert.rejects(slow.info(), (error) => error instanceof WshubTransportError && error.timedOut && error.retryable);
  slow.close();

  const client = api.client();
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 20);
  await assert.rejects(client.info({ signal: controller.signal }),
    (error) => error instanceof WshubTransportError && error.aborted && !error.retryable && !isRetryable(error));
  client.close();
  await api.close();

  const gone = new WshubClient({ url: api.url, apiKey: 'k' }); // nothing listens there now
  await assert.rejects(gone.publish('news', 1),
    (error) => error instanceof WshubTransportError && !error.timedOut && error.retryable && error.cause?.code === 'ECONNREFUSED');
  gone.close();
});

test('the constructor refuses a bad URL or no key', () => {
  for (const options of [{ url: '127.0.0.1:8078', apiKey: 'k' }, { url: 'ftp://h', apiKey: 'k' }, { url: 'http://h:1', apiKey: '' }, {}]) {
    assert.throws(() => new WshubClient(options), TypeError, JSON.stringify(options));
  }
});
