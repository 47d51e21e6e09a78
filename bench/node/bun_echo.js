// bun_echo: the Bun peer of the Capstan TLS benchmark (bench/tls.sh). Bun's WebSocket server
// is uWebSockets (C++) and its TLS is BoringSSL, under a JavaScript API.
// One Bun process with two servers on 127.0.0.1: a plain one (ws://) and, with a certificate
// and key, a TLS one (wss://, Bun.serve's `tls: { cert, key }`), both echoing every message
// back as it came (text as text, binary as binary). Compression off; otherwise Bun's defaults.
//
// usage: bun bun_echo.js PLAIN_PORT [TLS_PORT CERT_FILE KEY_FILE]
const [plainPort, tlsPort] = [Number(process.argv[2]), Number(process.argv[3] || 0)];
const [certFile, keyFile] = [process.argv[4], process.argv[5]];
const isPort = (p) => Number.isInteger(p) && p > 0 && p <= 65535;
if (!isPort(plainPort) || (process.argv.length > 3 && (!isPort(tlsPort) || !certFile || !keyFile))) {
  console.error('usage: bun bun_echo.js PLAIN_PORT [TLS_PORT CERT_FILE KEY_FILE]');
  process.exit(2);
}

const handlers = {
  hostname: '127.0.0.1',
  fetch(req, srv) {
    if (srv.upgrade(req)) return undefined;
    return new Response('WebSocket only', { status: 426 });
  },
  websocket: {
    perMessageDeflate: false,
    message(ws, message) {
      ws.send(message);
    },
  },
};

Bun.serve({ ...handlers, port: plainPort });
if (tlsPort) Bun.serve({ ...handlers, port: tlsPort, tls: { cert: Bun.file(certFile), key: Bun.file(keyFile) } });

// Stopped by the runner with SIGTERM: exit with status 0 so a clean stop looks clean.
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
