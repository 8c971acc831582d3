// The Node SDK's quick start (../README.md): a backend that decides who connects (the connect
// webhook) and gives each a device, answers the rpc "hello" by publishing a greeting to the
// channel "news" and sending a welcome to the caller's device inbox, and logs the inbox receipts
// and disconnects. Run wshub with sdk/examples/backend-hello.toml first.
const { createServer } = require('node:http');
const { WshubClient, createWebhookHandler, refuse, Codes } = require('@wshub/node');

const api = new WshubClient({ url: 'http://127.0.0.1:8078', apiKey: 'dev-api-key' });
const hooks = createWebhookHandler({
  secret: 'hello-webhook-secret',
  // Every client is who its token says; a real backend looks the token up.
  connect: (event) => {
    if (!event.token) throw refuse(4001, 'send a token');
    console.log(`${event.token} connected`);
    return { user: event.token, device: `${event.token}-phone` };
  },
  rpc: async (event) => {
    if (event.m !== 'hello') throw refuse(Codes.METHOD_NOT_FOUND, `no method ${event.m}`);
    const position = await api.publish('news', { greeting: `hello, ${event.user}`, data: event.data });
    // Durable: kept until the device acks it, pushed again after a reconnect.
    const sent = await api.send({ device: event.device, data: { text: 'welcome' }, ttl: 3600 });
    return { published_at: position.offset, sent: sent.id };
  },
  inbox: (event) => console.log(`${event.type}: ${event.id} (seq ${event.seq}) for ${event.device}`),
  disconnect: (event) => console.log(`${event.user} disconnected`),
});

createServer((req, res) => (req.url === '/wshub' ? hooks(req, res) : res.writeHead(404).end()))
  .listen(9000, '127.0.0.1', () => console.log('webhooks on http://127.0.0.1:9000/wshub'));
