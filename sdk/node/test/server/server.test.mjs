// @wshub/node against the real wshub ($WSHUB_BIN): a hub client (sdk/testing/hub_client.py,
// python3-websockets: Node 18 has no WebSocket client and this package takes no dependency)
// connects through the connect webhook answered by createWebhookHandler, gets a publication
// made with WshubClient, calls an rpc and publishes through webhooks, and is disconnected by the
// API; the API's refusals come back as WshubError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Wshub } from '../../../js/test/support/wshub.mjs';
import { HubClient } from '../support/hub_client.mjs';
import wshub from '../../index.js';

const { WshubClient, WshubError, createWebhookHandler, refuse, Codes } = wshub;
const API_KEY = 'sdk-node-api-key';
const WEBHOOK_SECRET = 'sdk-node-webhook-secret';

test('the client and the webhook handler against the real wshub', async () => {
  const disconnects = [];
  const backend = createServer(createWebhookHandler({
    secret: WEBHOOK_SECRET,
    log: () => {},
    connect: (event, meta) => {
      assert.match(meta.deliveryId, /^[0-9a-f]{16}$/);
      if (event.token !== 'alice-session') throw refuse(4001, 'unknown session');
      return { user: 'alice', device: 'phone-1', channels: ['news'], info: { name: 'Alice' } };
    },
    rpc: (event) => (event.m === 'getOrder' && event.user === 'alice'
      ? { order: event.data, state: 'shipped' }
      : refuse(1001, `no method ${event.m} for ${event.user}`)),
    subscribe: (event) => {
      if (event.ch === 'room:secret') throw refuse(Codes.PERMISSION_DENIED, `room:secret is not for ${event.user}`);
    },
    publish: (event) => ({ text: String(event.data).toUpperCase(), by: event.user }),
    disconnect: (event, meta) => { disconnects.push([event, meta.attempt]); },
  }));
  await new Promise((resolve) => backend.listen(0, '127.0.0.1', resolve));
  const config = readFileSync(new URL('../../../testing/webhook_hub.toml', import.meta.url), 'utf8')
    .replaceAll('API_KEY', API_KEY)
    .replaceAll('WEBHOOK_URL', `http://127.0.0.1:${backend.address().port}/hooks/wshub`)
    .replaceAll('WEBHOOK_SECRET', WEBHOOK_SECRET);
  const hub = new Wshub(config, { threads: 2 });
  let api;
  let client;
  try {
    await hub.start();
    api = new WshubClient({ url: `http://127.0.0.1:${hub.ports.api}`, apiKey: API_KEY });
    client = new HubClient(hub.url('/hub'));
    // The connect webhook's channels let alice subscribe to news (subscribe = "token"), not sports.
    client.send({ t: 'connect', id: 1, token: 'alice-session', subs: { news: {}, sports: {} } });
    const connected = await client.next('ok');
    assert.deepEqual([connected.user, connected.device], ['alice', 'phone-1']);
    assert.deepEqual(connected.subs.news, { ep: connected.subs.news.ep, off: 0, rec: false, pubs: [], more: false });
    assert.equal(connected.subs.sports.err.code, 103);

    // publish reaches the subscribed client.
    const position = await api.publish('news', { text: 'hello' });
    assert.equal(position.offset, 1);
    assert.match(position.epoch, /^[0-9a-f]+$/);
    const pub = await client.next('pub');
    assert.deepEqual([pub.ch, pub.off, pub.data], ['news', 1, { text: 'hello' }]);
    const results = await api.broadcast(['sports', 'news'], 2);
    assert.deepEqual(results.map((r) => [r.channel, r.offset]), [['sports', 1], ['news', 2]]);
    assert.deepEqual((await client.next('pub')).data, 2);

    // rpc through the handler, and a refusal passed on with its code.
    client.send({ t: 'rpc', id: 2, m: 'getOrder', data: { order: 7 } });
    assert.deepEqual((await client.next('ok')).data, { order: { order: 7 }, state: 'shipped' });
    client.send({ t: 'rpc', id: 3, m: 'deleteEverything' });
    const refusedRpc = await client.next('err');
    assert.deepEqual([refusedRpc.code, refusedRpc.msg], [1001, 'no method deleteEverything for alice']);

    // subscribe and publish webhooks.
    client.send({ t: 'subscribe', id: 4, ch: 'room:secret' });
    assert.equal((await client.next('err')).code, 103);
    client.send({ t: 'subscribe', id: 5, ch: 'room:1' });
    await client.next('ok');
    client.send({ t: 'publish', id: 6, ch: 'room:1', data: 'hi' });
    await client.next('ok');
    assert.deepEqual((await client.next('pub')).data, { text: 'HI', by: 'alice' });

    // presence, channels, info.
    const presence = await api.presence('room:1');
    assert.equal(presence.total, 1);
    assert.deepEqual(Object.values(presence.clients), [{ user: 'alice', device: 'phone-1', info: { name: 'Alice' } }]);
    assert.equal((await api.presence('$device:phone-1')).total, 1);
    const channels = await api.channels();
    assert.ok(channels.some((c) => c.channel === 'news' && c.subscribers === 1 && c.offset === 2), JSON.stringify(channels));
    const info = await api.info();
    assert.equal(info.connected, 1);

    // the backend subscribes and unsubscribes alice.
    assert.equal(await api.subscribe('alice', 'alerts'), 1);
    assert.equal((await client.next('sub')).ch, 'alerts');
    assert.equal(await api.unsubscribe('alice', 'alerts'), 1);
    const unsub = await client.next('unsub');
    assert.deepEqual([unsub.ch, unsub.code], ['alerts', 3000]);

    // refusals, typed.
    const expectRefusal = async (what, promise, status, code, message) => {
      await assert.rejects(promise, (error) => {
        assert.ok(error instanceof WshubError, `${what}: ${error}`);
        assert.deepEqual([error.status, error.code], [status, code], what);
        assert.ok(error.serverMessage.startsWith(message), `${what}: ${error.serverMessage}`);
        return true;
      });
    };
    const wrongKey = new WshubClient({ url: `http://127.0.0.1:${hub.ports.api}`, apiKey: 'not-the-key' });
    await expectRefusal('a bad key', wrongKey.publish('news', 1), 401, Codes.UNAUTHORIZED, 'missing or wrong API key');
    wrongKey.close();
    await expectRefusal('a bad channel', api.publish('a b', 1), 400, Codes.BAD_REQUEST, 'the channel name has a character outside');
    await expectRefusal('an unknown namespace', api.publish('chat:1', 1), 404, Codes.UNKNOWN_CHANNEL, "no namespace 'chat' is configured");
    await expectRefusal('user and device', api.disconnect({ user: 'alice', device: 'phone-1' }), 400, Codes.BAD_REQUEST, 'give exactly one of user or device');
    await expectRefusal('presence off', api.presence('news'), 400, Codes.NOT_AVAILABLE, 'presence is off');
    // The device inbox (docs/api.md): a user with no device gets nothing queued.
    await expectRefusal('send', api.send({ user: 'nobody', data: 1 }), 404, Codes.UNKNOWN_CHANNEL, "user 'nobody' has no device seen");
    await expectRefusal('history where none is kept', api.history('news'), 400, Codes.NOT_AVAILABLE, 'history is not kept for this channel');
    await api.publish('log:1', { n: 1 });
    await api.publish('log:1', { n: 2 });
    const history = await api.history('log:1');
    assert.deepEqual(history.publications.map((p) => [p.offset, p.data]), [[1, { n: 1 }], [2, { n: 2 }]]);
    assert.equal(history.offset, 2);
    const later = await api.history('log:1', { epoch: history.epoch, since: 1 });
    assert.deepEqual([later.recovered, later.publications.map((p) => p.offset)], [true, [2]]);
    await expectRefusal('messages', api.message('m-1'), 404, Codes.UNKNOWN_CHANNEL, "no message 'm-1' is known");

    assert.equal(await api.ready(), true);
    assert.equal((await api.health()).status, 'ok');
    assert.match(await api.metrics(), /wshub_api_requests_total/);

    // disconnect: the client gets the code, and the notice reaches the handler.
    assert.equal(await api.disconnect({ user: 'alice', code: 4001, reason: 'account closed' }), 1);
    const notice = await client.next('disconnect');
    assert.deepEqual([notice.code, notice.reason], [4001, 'account closed']);
    const deadline = Date.now() + 15000;
    while (disconnects.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(disconnects, [[{ type: 'disconnect', cid: connected.cid, user: 'alice', device: 'phone-1' }, 1]]);
  } catch (error) {
    console.error(hub.log);
    throw error;
  } finally {
    await client?.close();
    api?.close();
    if (hub.process) await hub.stop();
    backend.closeAllConnections?.();
    await new Promise((resolve) => backend.close(resolve));
  }
});
