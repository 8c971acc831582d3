// @wshub/node's send() and message() against the real wshub (its SQLite store, in the server's
// temporary folder) and the inbox.* receipts through createWebhookHandler's `inbox`: the device
// form with a ttl, the user form with an idempotencyKey repeated, a collapseKey replacing a
// message never pushed, and the receipts as a hub client is pushed the messages and acks them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Wshub } from '../../../js/test/support/wshub.mjs';
import { HubClient } from '../support/hub_client.mjs';
import wshub from '../../index.js';

const { WshubClient, WshubError, createWebhookHandler, Codes } = wshub;
const API_KEY = 'sdk-node-api-key';
const WEBHOOK_SECRET = 'sdk-node-webhook-secret';

async function untilState(api, id, device, state) {
  const deadline = Date.now() + 15000;
  for (;;) {
    const status = await api.message(id);
    if (status.states[device] === state) return status;
    if (Date.now() > deadline) throw new Error(`message ${id}: ${JSON.stringify(status)}; want ${state} for ${device}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('send, message and the inbox receipts against the real wshub', async () => {
  const receipts = [];
  const backend = createServer(createWebhookHandler({
    secret: WEBHOOK_SECRET,
    log: () => {},
    connect: () => ({ user: 'alice', device: 'phone-1' }),
    inbox: (event, meta) => { receipts.push({ ...event, attempt: meta.attempt, deliveryId: meta.deliveryId }); },
  }));
  await new Promise((resolve) => backend.listen(0, '127.0.0.1', resolve));
  const config = readFileSync(new URL('../../../testing/webhook_hub.toml', import.meta.url), 'utf8')
    .replaceAll('API_KEY', API_KEY)
    .replaceAll('WEBHOOK_URL', `http://127.0.0.1:${backend.address().port}/hooks/wshub`)
    .replaceAll('WEBHOOK_SECRET', WEBHOOK_SECRET)
    .replace('"disconnect"]', '"disconnect", "inbox.delivered", "inbox.acked", "inbox.expired", "inbox.undelivered"]');
  const hub = new Wshub(config, { threads: 2 });
  let api;
  let client;
  try {
    await hub.start();
    api = new WshubClient({ url: `http://127.0.0.1:${hub.ports.api}`, apiKey: API_KEY });
    client = new HubClient(hub.url('/hub'));
    client.send({ t: 'connect', id: 1, token: 'alice-session', inbox: {} });
    const connected = await client.next('ok');
    assert.equal(connected.device, 'phone-1');
    assert.deepEqual([connected.inbox.head, connected.inbox.pending], [0, 0]);

    // The device form with a ttl: pushed at once, exp = ts + ttl.
    const first = await api.send({ device: 'phone-1', data: { n: 1 }, ttl: 60 });
    assert.equal(typeof first.id, 'string');
    assert.equal(first.seq, 1);
    const msg1 = await client.next('msg');
    assert.deepEqual([msg1.seq, msg1.id, msg1.data], [1, first.id, { n: 1 }]);
    assert.equal(msg1.exp - msg1.ts, 60000);

    // The user form: a copy per device; a repeat of the idempotencyKey queues nothing.
    const second = await api.send({ user: 'alice', data: 'two', idempotencyKey: 'welcome-alice' });
    assert.deepEqual(second.copies, [{ device: 'phone-1', seq: 2 }]);
    assert.deepEqual(await api.send({ user: 'alice', data: 'two', idempotencyKey: 'welcome-alice' }), second);
    const msg2 = await client.next('msg');
    assert.deepEqual([msg2.seq, msg2.id, msg2.data], [2, second.id, 'two']);
    await untilState(api, first.id, 'phone-1', 'delivered');
    client.send({ t: 'ack', upto: 2 });
    client.send({ t: 'ping', id: 2 });
    assert.deepEqual(await client.next('ok'), { t: 'ok', id: 2 }, 'the ack was taken; no third msg came');
    await untilState(api, first.id, 'phone-1', 'acked');
    const status = await untilState(api, second.id, 'phone-1', 'acked');
    assert.equal(status.id, second.id);
    assert.ok(status.created > 0);

    // collapseKey: the newer message replaces one the offline device was never pushed.
    const badge1 = await api.send({ device: 'watch-9', data: 1, collapseKey: 'badge' });
    const badge2 = await api.send({ device: 'watch-9', data: 2, collapseKey: 'badge' });
    assert.notEqual(badge2.id, badge1.id);
    await untilState(api, badge1.id, 'watch-9', 'replaced');
    await untilState(api, badge2.id, 'watch-9', 'queued');
    await assert.rejects(api.send({ device: 'phone-1', data: 1, ttl: -1 }),
      (error) => error instanceof WshubError && error.status === 400 && error.code === Codes.BAD_REQUEST && /ttl/.test(error.serverMessage));

    // The receipts as webhooks: delivered and acked for both of phone-1's messages.
    const deadline = Date.now() + 15000;
    const want = [first, second].flatMap((m) => [`inbox.delivered ${m.id}`, `inbox.acked ${m.id}`]).sort();
    for (;;) {
      const seen = [...new Set(receipts.map((r) => `${r.type} ${r.id}`))].sort();
      if (want.every((key) => seen.includes(key))) break;
      if (Date.now() > deadline) assert.fail(`receipts ${JSON.stringify(receipts)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const r of receipts) {
      assert.deepEqual([r.user, r.device, r.seq], ['alice', 'phone-1', r.id === first.id ? 1 : 2], JSON.stringify(r));
      assert.match(r.deliveryId, /^[0-9a-f]{16}$/);
      assert.ok(r.attempt >= 1);
    }
  } finally {
    await client?.close();
    api?.close();
    await hub.stop();
    await new Promise((resolve) => { backend.closeAllConnections?.(); backend.close(resolve); });
  }
});
