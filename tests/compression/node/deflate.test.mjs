// Node's `ws` (pinned in package.json) with perMessageDeflate against the real wshub binary:
// every combination of the parameters its client offers, under the server's default policy
// (no context takeover) and with context takeover allowed; the negotiated response header;
// echoes of text and binary messages from 16 B to 128 KiB, with ws compressing every message
// (threshold 0) or only large ones (its default 1 KiB); and a decompression bomb closed 1009.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import WebSocket from 'ws';

import { Wshub, next } from '../../integration/node/harness.mjs';

const SIZES = [16, 200, 1024, 8192, 65536, 131072];

const POLICIES = {
  no_takeover: '[compression]\nenabled = true\n',
  takeover: '[compression]\nenabled = true\nserver_no_context_takeover = false\n' +
            'client_no_context_takeover = false\nclient_max_window_bits = 12\n' +
            '[limits]\nmax_message_bytes = "1MiB"\nmax_frame_bytes = "1MiB"\n',
};

// Device reports with Chinese place names: exactly `size` UTF-8 bytes.
function textOf(size, seed) {
  const places = ['上海市浦东新区', '北京市海淀区', '深圳市南山区'];
  let s = '';
  for (let i = 0; Buffer.byteLength(s) < size; ++i) {
    s += JSON.stringify({ device: `dev-${(seed + i) % 97}`, ts: 1700000000 + i * 13,
                          battery: (seed * 7 + i) % 101, place: places[i % 3] });
  }
  let b = Buffer.from(s).subarray(0, size);
  while (b.toString() !== Buffer.from(b.toString()).subarray(0, b.length).toString() ||
         Buffer.byteLength(b.toString()) !== b.length) b = b.subarray(0, b.length - 1);
  return b.toString() + 'x'.repeat(size - b.length);
}

function binaryOf(size, seed) {
  const out = Buffer.alloc(size);
  let x = seed * 2654435761 >>> 0;
  for (let i = 0; i < size; ++i) {
    if (i < size / 2) out[i] = i & 0xff;
    else { x = (x * 1664525 + 1013904223) >>> 0; out[i] = x >>> 24; }
  }
  return out;
}

// What ws's client can offer; `undefined` leaves a parameter out (ws then offers the bare
// client_max_window_bits by itself).
const COMBINATIONS = [];
for (const serverNoContextTakeover of [undefined, true])
  for (const clientNoContextTakeover of [undefined, true])
    for (const serverMaxWindowBits of [undefined, 9, 12])
      for (const clientMaxWindowBits of [undefined, 10, 15])
        COMBINATIONS.push({ serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits,
                            clientMaxWindowBits });

async function connect(server, perMessageDeflate) {
  const ws = new WebSocket(server.url('/echo'), { perMessageDeflate });
  const [response] = await Promise.all([next(ws, 'upgrade'), next(ws, 'open')]);
  return { ws, answer: response.headers['sec-websocket-extensions'] };
}

async function echo(ws, data, binary) {
  ws.send(data, { binary });
  const [reply, isBinary] = await next(ws, 'message');
  assert.equal(isBinary, binary);
  return reply;
}

for (const [policy, config] of Object.entries(POLICIES)) {
  describe(`ws perMessageDeflate, server policy ${policy}`, () => {
    const server = new Wshub({ config });
    before(async () => { await server.start(); });
    after(async () => {
      const code = await server.stop();
      assert.equal(code, 0, `wshub exit code after SIGTERM; stderr:\n${server.log}`);
    });

    for (const combo of COMBINATIONS) {
      for (const threshold of [0, 1024]) {
        const name = JSON.stringify(combo) + ` threshold ${threshold}`;
        test(name, async () => {
          const options = { threshold };
          for (const [k, v] of Object.entries(combo)) if (v !== undefined) options[k] = v;
          const { ws, answer } = await connect(server, options);
          assert.ok(answer && answer.startsWith('permessage-deflate'), `no extension: ${answer}`);
          const params = Object.fromEntries(answer.split(';').slice(1).map((p) => {
            const [k, v] = p.trim().split('=');
            return [k, v === undefined ? true : Number(v)];
          }));
          const takeover = policy === 'takeover';
          assert.equal(!!params.server_no_context_takeover, !!combo.serverNoContextTakeover || !takeover, answer);
          assert.equal(!!params.client_no_context_takeover, !!combo.clientNoContextTakeover || !takeover, answer);
          if (combo.serverMaxWindowBits) assert.ok(params.server_max_window_bits <= combo.serverMaxWindowBits, answer);
          else assert.equal(params.server_max_window_bits, undefined, answer);
          if (combo.clientMaxWindowBits) assert.ok((params.client_max_window_bits ?? 15) <= combo.clientMaxWindowBits, answer);
          if (takeover) assert.ok((params.client_max_window_bits ?? 15) <= 12, answer);
          assert.equal(ws.extensions, 'permessage-deflate');
          for (const size of SIZES) {
            const text = textOf(size, size);
            assert.equal((await echo(ws, text, false)).toString(), text, `text ${size}`);
            const data = binaryOf(size, size);
            assert.ok((await echo(ws, data, true)).equals(data), `binary ${size}`);
          }
          ws.close(1000);
          const [code] = await next(ws, 'close');
          assert.equal(code, 1000);
        });
      }
    }

    test('20 KiB that inflate to 20 MiB, past the limit, are closed with 1009', async () => {
      const { ws } = await connect(server, { threshold: 0 });
      // Sent through ws's own compressor, which does not know the server's limit.
      const bomb = Buffer.alloc(20 << 20);
      assert.ok(zlib.deflateRawSync(bomb, { level: 9 }).length < 25 * 1024);
      ws.send(bomb, { binary: true });
      const [code] = await next(ws, 'close');
      assert.equal(code, 1009);
    });
  });
}
