'use strict';
// ws_fanout: the npm `ws` peer of the Capstan fan-out benchmark.
// One Node.js process (one JavaScript thread), listening on 127.0.0.1 only, compression off.
// Every message is sent, as text, to every client in wss.clients, the sender included (the
// broadcast of ws's own README), as Capstan's relay with to = "all" does. Otherwise ws
// defaults, as in ws_echo.js (no bufferutil / utf-8-validate add-ons).
//
// usage: node ws_fanout.js PORT
const { WebSocketServer, WebSocket } = require('ws');

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error('usage: node ws_fanout.js PORT');
  process.exit(2);
}

const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false });
wss.on('connection', (ws) => {
  ws.on('message', (data) => {
    for (const client of wss.clients) {
      if (client.readyState === WebSocket.OPEN) client.send(data, { binary: false });
    }
  });
  ws.on('error', () => {}); // a client vanishing must not crash the server
});
wss.on('error', (err) => {
  console.error(`ws_fanout: ${err.message}`);
  process.exit(1);
});

process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
