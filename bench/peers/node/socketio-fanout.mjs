// Socket.IO rooms peer for bench/hub_fanout.py: every socket joins the room `bench`, and every
// `pub` event a socket emits is emitted to the room (the sender included, as wshub's
// `broadcast` route does). WebSocket transport only (no long-polling upgrade dance),
// permessage-deflate off, one Node process. Knows nothing about wshub.
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  console.error('usage: node socketio-fanout.mjs PORT');
  process.exit(2);
}

const http = createServer();
const io = new Server(http, {
  transports: ['websocket'],
  perMessageDeflate: false,
  serveClient: false,
  maxHttpBufferSize: 64 << 20,
});

io.on('connection', (socket) => {
  socket.join('bench');
  socket.on('pub', (data) => io.to('bench').emit('pub', data));
});

http.listen({ host: '127.0.0.1', port, backlog: 4096 });
