'use strict';
// ws_echo: the npm `ws` peer of the Capstan echo benchmark.
// One Node.js process (one JavaScript thread), listening on 127.0.0.1 only, compression off,
// text echoed as text and binary as binary. Otherwise ws defaults, as a typical user runs it
// (client tracking on, UTF-8 validation on; the optional native add-ons bufferutil and
// utf-8-validate are not installed).
//
// usage: node ws_echo.js PORT
const { WebSocketServer } = require('ws');

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error('usage: node ws_echo.js PORT');
  process.exit(2);
}

const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {}); // a client vanishing must not crash the server
});
wss.on('error', (err) => {
  console.error(`ws_echo: ${err.message}`);
  process.exit(1);
});

// Stopped by the runner with SIGTERM: exit with status 0 so a clean stop looks clean.
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
