// The Node SDK's quick start (../README.md): a backend that decides who connects (the connect
// webhook), answers the rpc "hello" by publishing a greeting to the channel "news", and logs
// disconnects. Run wshub with sdk/examples/backend-hello.toml first.
const { createServer } = require('node:http');
const { WshubClient, createWebhookHandler, refuse, Codes } = require('@wshub/node');

const api = new WshubClient({ url: 'http://127.0.0.1:8078', apiKey: 'dev-api-key' });
const hooks = createWebhookHandler({
  secret: 'hello-webhook-secret',
  // Every client is who its token says; a real backend looks the token up.
  connect: (event) => {
    if (!event.token) throw refuse(4001, 'send a token');
    console.log(`${event.token} connected`);
    return { user: event.token };
  },
  rpc: async (event) => {
    if (event.m !== 'hello') throw refuse(Codes.METHOD_NOT_FOUND, `no method ${event.m}`);
    const position = await api.publish('news', { greeting: `hello, ${event.user}`, data: event.data });
    return { published_at: position.offset };
  },
  disconnect: (event) => console.log(`${event.user} disconnected`),
});

createServer((req, res) => (req.url === '/wshub' ? hooks(req, res) : res.writeHead(404).end()))
  .listen(9000, '127.0.0.1', () => console.log('webhooks on http://127.0.0.1:9000/wshub'));
