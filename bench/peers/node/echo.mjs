// Node `ws` echo peer for bench/run.sh: one Node process (single-threaded event loop),
// echoes text and binary messages on any path, permessage-deflate off.
// Knows nothing about wshub.
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  console.error('usage: node echo.mjs PORT');
  process.exit(2);
}

// maxPayload is larger than any message the benchmarks send (16 MiB).
const server = new WebSocketServer({
  host: '127.0.0.1',
  port,
  perMessageDeflate: false,
  maxPayload: 64 << 20,
  backlog: 4096,
});

server.on('connection', (socket) => {
  socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  socket.on('error', () => {});
});
