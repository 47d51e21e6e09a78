// bun_fanout: the Bun peer of the Capstan fan-out benchmark (Bun's WebSocket server is
// uWebSockets, in C++, under a JavaScript API).
// One Bun process listening on 127.0.0.1 only, compression off. Otherwise Bun's defaults.
//
// Two modes:
//   raw (default)  every connection subscribes to the topic "all" when it opens; a message is
//                  re-published to it as it came in, untouched. server.publish, unlike
//                  ws.publish, includes the sender, so the publisher gets its own message too,
//                  as Capstan's relay with to = "all" does.
//   pubsub         Capstan's pubsub protocol (SPEC section 2) on Bun's topics, so that the
//                  JSON work is on both sides: {"action":"subscribe","data":{"channel":C}}
//                  -> ws.subscribe(C) and {"action":"subscribed","data":"{\"channel\":C}"};
//                  {"action":"publish","data":{"channel":C,"message":M}} -> server.publish(C,
//                  {"action":"message","data":"{\"channel\":C,\"message\":M}"}) (data as a
//                  string holding JSON, as Capstan's data_as_string default), the publisher
//                  included if it subscribed. Only what the benchmark uses: no unsubscribe,
//                  presence, history or authorization.
//
// usage: bun bun_fanout.js PORT [raw|pubsub]
const port = Number(process.argv[2]);
const mode = process.argv[3] || 'raw';
if (!Number.isInteger(port) || port <= 0 || port > 65535 || !['raw', 'pubsub'].includes(mode)) {
  console.error('usage: bun bun_fanout.js PORT [raw|pubsub]');
  process.exit(2);
}

function reply(ws, action, data) {
  ws.send(JSON.stringify({ action, data: JSON.stringify(data) }));
}

// pubsub mode: one client message. A malformed one gets an error, as in Capstan (which would
// close with fatalError; the benchmark never sends one).
function pubsubMessage(ws, text) {
  let m;
  try {
    m = JSON.parse(text);
  } catch {
    return reply(ws, 'error', { message: 'Invalid message' });
  }
  let data = m && m.data;
  if (typeof data === 'string') {
    try { data = JSON.parse(data); } catch { return reply(ws, 'error', { message: 'Invalid data' }); }
  }
  const channel = data && data.channel;
  if (typeof channel !== 'string' || channel === '') return reply(ws, 'error', { message: 'channel: required' });
  if (m.action === 'subscribe') {
    ws.subscribe(channel);
    return reply(ws, 'subscribed', { channel });
  }
  if (m.action === 'publish') {
    const frame = JSON.stringify({ action: 'message', data: JSON.stringify({ channel, message: data.message }) });
    server.publish(channel, frame);
    return undefined;
  }
  return reply(ws, 'error', { message: 'Unknown action' });
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
      if (mode === 'raw') ws.subscribe('all');
    },
    message(ws, message) {
      if (mode === 'raw') server.publish('all', message);
      else pubsubMessage(ws, message);
    },
  },
});

// Stopped by the runner with SIGTERM: exit with status 0 so a clean stop looks clean.
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
