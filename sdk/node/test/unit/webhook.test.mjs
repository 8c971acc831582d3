// createWebhookHandler on a real http.Server: each webhook kind decoded and answered, refusals,
// failures, and calls wshub did not sign.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import wshub from '../../index.js';

const { createWebhookHandler, sign, refuse, WebhookRefusal, Codes } = wshub;
const secret = 'hook-secret-of-16-bytes';
const seen = [];
const logged = [];

const handler = createWebhookHandler({
  secret,
  maxBodyBytes: 200,
  log: (line) => logged.push(line),
  connect: (event, meta) => {
    seen.push([event, meta.deliveryId, meta.attempt]);
    if (event.token === 'banned') throw new WebhookRefusal(4001, 'banned until Monday');
    return { user: 'carol', device: 'c1', channels: ['feed:carol'], info: { name: 'Carol' }, exp: 1796592607 };
  },
  rpc: async (event, meta) => {
    seen.push([event, meta.deliveryId, meta.attempt]);
    if (event.m === 'fail') return refuse(1001, 'no such order');
    if (event.m === 'crash') throw new Error('the database is down');
    if (event.m === 'nothing') return undefined;
    return { echo: event.data };
  },
  subscribe: (event) => {
    seen.push([event]);
    if (event.ch === 'room:secret') throw refuse(Codes.PERMISSION_DENIED, `not for ${event.user}`);
  },
  publish: (event) => {
    seen.push([event]);
    if (event.ch === 'room:rewrite') return { rewritten: true };
    if (event.ch === 'room:null') return null;
    return undefined;
  },
  disconnect: (event) => { seen.push([event]); },
});

let port;
let server;
before(async () => {
  server = createServer(handler);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = server.address().port;
});
after(() => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); }));

function post(body, headers = {}, method = 'POST') {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/hooks/wshub', method, headers }, (res) => {
      let text = '';
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], allow: res.headers.allow, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const signed = (body, at = Math.floor(Date.now() / 1000)) => ({
  'x-wshub-signature': sign(secret, body, at), 'x-wshub-delivery': '0e384b8cd75913e1', 'x-wshub-attempt': '2',
});

test('each kind is decoded, handed on, and answered as wshub reads it', async () => {
  const identity = '{"result":{"user":"carol","device":"c1","channels":["feed:carol"],"info":{"name":"Carol"},"exp":1796592607}}';
  const kinds = [
    ['connect', '{"type":"connect","cid":"0-4","token":"opaque-123","client":{"sdk":"js","version":"0.1"}}', identity, true],
    ['connect at the upgrade', '{"type":"connect","stage":"upgrade","ip":"10.0.0.7","path":"/hub","headers":{"Cookie":"s=1"}}', identity, true],
    ['connect refused', '{"type":"connect","cid":"0-5","token":"banned"}', '{"error":{"code":4001,"message":"banned until Monday"}}', true],
    ['rpc', '{"type":"rpc","cid":"0-1","user":"alice","device":"d","m":"getOrder","data":{"order":7},"mid":"r-1"}', '{"data":{"echo":{"order":7}}}', true],
    ['rpc refused', '{"type":"rpc","cid":"0-1","user":"alice","device":"","m":"fail","data":null}', '{"error":{"code":1001,"message":"no such order"}}', true],
    ['rpc without data', '{"type":"rpc","cid":"0-1","user":"alice","device":"","m":"nothing","data":null}', '{"data":null}', true],
    ['subscribe allowed', '{"type":"subscribe","cid":"0-1","user":"alice","device":"","ch":"room:1"}', '{}', false],
    ['subscribe refused', '{"type":"subscribe","cid":"0-1","user":"alice","device":"","ch":"room:secret"}', '{"error":{"code":103,"message":"not for alice"}}', false],
    ['publish allowed', '{"type":"publish","cid":"0-1","user":"alice","device":"","ch":"room:1","data":[1]}', '{}', false],
    ['publish rewritten', '{"type":"publish","cid":"0-1","user":"alice","device":"","ch":"room:rewrite","data":[1]}', '{"result":{"data":{"rewritten":true}}}', false],
    ['publish replaced by null', '{"type":"publish","cid":"0-1","user":"alice","device":"","ch":"room:null","data":[1]}', '{"result":{"data":null}}', false],
    ['disconnect', '{"type":"disconnect","cid":"0-1","user":"alice","device":"d"}', '{}', false],
  ];
  for (const [name, body, answer, checksMeta] of kinds) {
    seen.length = 0;
    const reply = await post(body, signed(body));
    assert.deepEqual([reply.status, reply.type, reply.text], [200, 'application/json', answer], name);
    assert.equal(seen.length, 1, name);
    assert.deepEqual(seen[0][0], JSON.parse(body), name);
    if (checksMeta) assert.deepEqual(seen[0].slice(1), ['0e384b8cd75913e1', 2], name);
  }
});

test('calls wshub did not sign are refused with 401 before any function runs', async () => {
  const body = '{"type":"rpc","cid":"0-1","user":"alice","device":"","m":"getOrder","data":1}';
  const now = Math.floor(Date.now() / 1000);
  const unsigned = {
    unsigned: [body, {}],
    'another secret': [body, { 'x-wshub-signature': sign('not-the-secret-16b', body, now) }],
    'tampered body': [body.replace('alice', 'mallory'), signed(body)],
    'tampered timestamp': [body, { 'x-wshub-signature': sign(secret, body, now).replace(`t=${now}`, `t=${now + 1}`) }],
    'replayed 10 minutes on': [body, signed(body, now - 600)],
    malformed: [body, { 'x-wshub-signature': 'v1=zz' }],
  };
  for (const [name, [b, headers]] of Object.entries(unsigned)) {
    seen.length = 0;
    const reply = await post(b, headers);
    assert.equal(reply.status, 401, `${name}: ${reply.text}`);
    assert.equal(seen.length, 0, name);
  }
  assert.ok(logged.some((line) => line.includes('answered 401')));
});

test('failures, unknown kinds, bad bodies and other methods', async () => {
  const statuses = [
    ['a function that throws: 500, the client sees 116', '{"type":"rpc","cid":"0-1","user":"a","device":"","m":"crash","data":1}', 500],
    ['a kind nobody takes', '{"type":"inbox.acked","id":"m-1"}', 404],
    ['not an object', '[1,2]', 400],
    ['no type', '{"cid":"0-1"}', 400],
    ['larger than maxBodyBytes', JSON.stringify({ type: 'rpc', data: 'a'.repeat(300) }), 413],
  ];
  for (const [name, body, status] of statuses) {
    const reply = await post(body, signed(body));
    assert.equal(reply.status, status, `${name}: ${reply.text}`);
  }
  const get = await post(undefined, {}, 'GET');
  assert.deepEqual([get.status, get.allow], [405, 'POST']);
});

test('other() takes kinds this version does not decode', async () => {
  const withOther = createWebhookHandler({ secret: ['old-secret-16-bytes', secret], other: (event) => ({ kind: event.type }) });
  const other = createServer(withOther);
  await new Promise((resolve) => other.listen(0, '127.0.0.1', resolve));
  const body = '{"type":"inbox.acked","id":"m-1"}';
  const reply = await new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: other.address().port, method: 'POST', headers: signed(body) }, (res) => {
      let text = '';
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
  assert.deepEqual(reply, { status: 200, text: '{"kind":"inbox.acked"}' });
  await new Promise((resolve) => other.close(resolve));
});

test('inbox() takes the four receipt kinds, typed, and answers {}; a receipt without id or seq is a 400', async () => {
  const receipts = [];
  const withInbox = createWebhookHandler({ secret, log: () => {}, inbox: (event, meta) => { receipts.push([event, meta.attempt]); } });
  const server = createServer(withInbox);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const call = (body) => new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.address().port, method: 'POST', headers: signed(body) }, (res) => {
      let text = '';
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
  try {
    const kinds = ['inbox.delivered', 'inbox.acked', 'inbox.expired', 'inbox.undelivered'];
    for (const type of kinds) {
      const event = { type, user: 'alice', device: 'phone-1', id: 'm-1a24e58a071-5902fa', seq: 7 };
      assert.deepEqual(await call(JSON.stringify(event)), { status: 200, text: '{}' }, type);
    }
    assert.deepEqual(receipts.map(([event]) => event.type), kinds);
    assert.deepEqual(receipts[0], [{ type: 'inbox.delivered', user: 'alice', device: 'phone-1', id: 'm-1a24e58a071-5902fa', seq: 7 }, 2]);
    const bad = await call('{"type":"inbox.acked","user":"alice","device":"phone-1","id":"m-1","seq":"7"}');
    assert.equal(bad.status, 400);
    assert.match(bad.text, /seq \(an integer\)/);
    assert.equal(receipts.length, 4, 'the function is not called for a bad body');
    assert.equal((await call('{"type":"inbox.later","id":"m-1"}')).status, 404, 'other kinds still need other()');
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

test('a refusal code outside 1..65535 is a programming error', () => {
  assert.throws(() => refuse(0, 'x'), RangeError);
  assert.throws(() => refuse(70000, 'x'), RangeError);
  assert.throws(() => createWebhookHandler({}), TypeError);
});
