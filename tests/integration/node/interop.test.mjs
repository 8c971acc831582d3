// Node's `ws` (pinned in package.json) and, when node runs with --experimental-websocket,
// Node's built-in WebSocket, against the real wshub binary: echo at every length encoding,
// fragments, ping/pong, close codes, the seed's `new WebSocket("ws://host/login")`, and the
// permessage-deflate offer declined by the default config ([compression] off; the compressed
// cases live in tests/compression/).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';

import { Wshub, next } from './harness.mjs';

const MIB = 1 << 20;
// 0 and 125: 7-bit length; 126 and 65535: 16-bit; 65536 and 16 MiB: 64-bit.
const SIZES = [0, 125, 126, 65535, 65536, 16 * MIB];

// Exactly `size` UTF-8 bytes, with 2-, 3- and 4-byte characters throughout.
function textOf(size) {
  const unit = 'abc\u00e9\u20ac\u{1F600}xyz'; // 15 bytes
  const text = unit.repeat(Math.floor(size / 15));
  return text + 'z'.repeat(size - Buffer.byteLength(text));
}

function binaryOf(size) {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; ++i) out[i] = (i * 31 + 7) & 0xff;
  return out;
}

const server = new Wshub();
before(async () => { await server.start(); });
after(async () => {
  const code = await server.stop();
  assert.equal(code, 0, `wshub exit code after SIGTERM; stderr:\n${server.log}`);
});

async function open(path, options) {
  const ws = new WebSocket(server.url(path), options);
  await next(ws, 'open');
  return ws;
}

async function closeNormally(ws) {
  ws.close(1000);
  const [code] = await next(ws, 'close');
  assert.equal(code, 1000);
}

describe('ws', () => {
  test('echoes text at every length encoding', async () => {
    const ws = await open('/echo');
    for (const size of SIZES) {
      const message = textOf(size);
      assert.equal(Buffer.byteLength(message), size);
      ws.send(message);
      const [data, isBinary] = await next(ws, 'message');
      assert.equal(isBinary, false, `size ${size}`);
      assert.ok(data.toString('utf8') === message, `text echo of ${size} bytes differs`);
    }
    await closeNormally(ws);
  });

  test('echoes binary at every length encoding', async () => {
    const ws = await open('/echo');
    for (const size of SIZES) {
      const message = binaryOf(size);
      ws.send(message);
      const [data, isBinary] = await next(ws, 'message');
      assert.equal(isBinary, true, `size ${size}`);
      assert.equal(data.length, size);
      assert.ok(Buffer.compare(data, message) === 0, `binary echo of ${size} bytes differs`);
    }
    await closeNormally(ws);
  });

  test('reassembles fragmented sends (fin: false)', async () => {
    const ws = await open('/echo');
    const euro = Buffer.from('\u20ac');
    // Text whose euro sign is split across fragments: UTF-8 is checked per message.
    ws.send(Buffer.concat([Buffer.from('frag'), euro.subarray(0, 1)]), { binary: false, fin: false });
    ws.send(euro.subarray(1), { fin: false });
    ws.send('', { fin: false });
    ws.send('mented text', { fin: true });
    let [data, isBinary] = await next(ws, 'message');
    assert.equal(isBinary, false);
    assert.equal(data.toString(), 'frag\u20acmented text');

    const parts = [binaryOf(10), binaryOf(70000), binaryOf(1)];
    parts.forEach((part, i) => ws.send(part, { binary: true, fin: i === parts.length - 1 }));
    [data, isBinary] = await next(ws, 'message');
    assert.equal(isBinary, true);
    assert.ok(Buffer.compare(data, Buffer.concat(parts)) === 0);

    // A ping between fragments is answered and the message still arrives whole.
    // Both listeners first: the pong and the message may arrive in one read, one tick.
    const pong = next(ws, 'pong');
    const message = next(ws, 'message');
    ws.send('a', { fin: false });
    ws.ping(Buffer.from('mid'));
    ws.send('b', { fin: true });
    assert.equal((await pong).toString(), 'mid');
    [data] = await message;
    assert.equal(data.toString(), 'ab');
    await closeNormally(ws);
  });

  test('ping is answered with a pong carrying its payload', async () => {
    const ws = await open('/echo');
    for (const payload of [Buffer.from('are you there'), Buffer.alloc(0), binaryOf(125)]) {
      const pong = next(ws, 'pong');
      ws.ping(payload);
      assert.ok(Buffer.compare(await pong, payload) === 0);
    }
    await closeNormally(ws);
  });

  test('close with a code and a reason: the server echoes the code', async () => {
    for (const [code, reason] of [[4000, 'done here'], [1001, 'going away \u00e9'], [3999, '']]) {
      const ws = await open('/echo');
      ws.send('before close');
      const [data] = await next(ws, 'message');
      assert.equal(data.toString(), 'before close');
      ws.close(code, reason);
      const [closeCode] = await next(ws, 'close');
      assert.equal(closeCode, code);
    }
  });

  test("the seed's new WebSocket(\"ws://host/login\") works unchanged", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/login`);
    await next(ws, 'open');
    for (const message of ['hello', '', binaryOf(300)]) {
      ws.send(message);
      const [data, isBinary] = await next(ws, 'message');
      assert.equal(isBinary, false);
      assert.equal(data.toString(), 'reply');
    }
    await closeNormally(ws);
  });

  test('permessage-deflate is offered by ws and declined by the server', async () => {
    const ws = new WebSocket(server.url('/echo')); // perMessageDeflate defaults to true
    const upgrade = next(ws, 'upgrade');
    await next(ws, 'open');
    const response = await upgrade;
    assert.equal(response.headers['sec-websocket-extensions'], undefined);
    assert.equal(ws.extensions, '');
    ws.send('plain '.repeat(1000));
    const [data] = await next(ws, 'message');
    assert.equal(data.toString(), 'plain '.repeat(1000));
    await closeNormally(ws);
  });

  test('an unknown path fails the handshake with 404', async () => {
    const ws = new WebSocket(server.url('/nope'));
    const [, response] = await next(ws, 'unexpected-response');
    assert.equal(response.statusCode, 404);
    response.destroy();
  });
});

const builtin = typeof globalThis.WebSocket === 'function' ? globalThis.WebSocket : undefined;
describe("Node's built-in WebSocket", { skip: !builtin && 'run node with --experimental-websocket' }, () => {
  async function openBuiltin(path) {
    const ws = new builtin(server.url(path));
    ws.binaryType = 'arraybuffer';
    await next(ws, 'open');
    return ws;
  }

  test("the seed's new WebSocket(\"ws://host/login\") works unchanged", async () => {
    // What the seed typed into Chrome's console, with the global WebSocket of the runtime.
    const browserLike = new globalThis.WebSocket(`ws://127.0.0.1:${server.port}/login`);
    await next(browserLike, 'open');
    browserLike.send('hello');
    const event = await next(browserLike, 'message');
    assert.equal(event.data, 'reply');
    browserLike.close(1000);
    await next(browserLike, 'close');
  });

  test('permessage-deflate is offered and declined', async () => {
    const ws = await openBuiltin('/echo');
    assert.equal(ws.extensions, '');
    ws.close(1000);
    await next(ws, 'close');
  });

  test('echoes text and binary at every length encoding', async () => {
    const ws = await openBuiltin('/echo');
    for (const size of SIZES) {
      const text = textOf(size);
      ws.send(text);
      const textEvent = await next(ws, 'message');
      assert.ok(textEvent.data === text, `text echo of ${size} bytes differs`);
      const binary = binaryOf(size);
      ws.send(binary);
      const binaryEvent = await next(ws, 'message');
      assert.ok(binaryEvent.data instanceof ArrayBuffer);
      assert.ok(Buffer.compare(Buffer.from(binaryEvent.data), binary) === 0,
        `binary echo of ${size} bytes differs`);
    }
    ws.close(1000);
    await next(ws, 'close');
  });

  test('close with a code and a reason: the server echoes the code', async () => {
    const ws = await openBuiltin('/echo');
    ws.close(4000, 'done here');
    const event = await next(ws, 'close');
    assert.equal(event.code, 4000);
    assert.equal(event.wasClean, true);
  });
});
