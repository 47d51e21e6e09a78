// bun_fanout: the Bun peer of the Capstan fan-out benchmark (Bun's WebSocket server is
// uWebSockets, in C++, under a JavaScript API).
// One Bun process listening on 127.0.0.1 only, compression off. Every connection subscribes
// to the topic "all"; a message is re-published to it as it came in. server.publish, unlike
// ws.publish, includes the sender, so the publisher gets its own message too, as Capstan's
// relay with to = "all" does. Otherwise Bun's defaults.
//
// usage: bun bun_fanout.js PORT
const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error('usage: bun bun_fanout.js PORT');
  process.exit(2);
}

const server = Bun.serve({
  hostname: '127.0.0.1',
  port,
  fetch(req, srv) {
    if (srv.upgrade(req)) return undefined;
    return new Response('WebSocket only', { status: 426 });
  },
  websocket: {
    perMessageDeflate: false,
    open(ws) {
      ws.subscribe('all');
    },
    message(ws, message) {
      server.publish('all', message);
    },
  },
});

// Stopped by the runner with SIGTERM: exit with status 0 so a clean stop looks clean.
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
