// Node `ws` broadcast peer for bench/hub_fanout.py: every message a client sends is sent to
// every open client (the sender included), as wshub's `broadcast` route does. One Node
// process, permessage-deflate off. Knows nothing about wshub.
import { WebSocketServer, WebSocket } from 'ws';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  console.error('usage: node broadcast.mjs PORT');
  process.exit(2);
}

const server = new WebSocketServer({
  host: '127.0.0.1',
  port,
  perMessageDeflate: false,
  maxPayload: 64 << 20,
  backlog: 4096,
});

server.on('connection', (socket) => {
  socket.on('message', (data, isBinary) => {
    for (const client of server.clients) {
      if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
    }
  });
  socket.on('error', () => {});
});
