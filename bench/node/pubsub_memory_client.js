'use strict';
// pubsub_memory_client: the client side of bench/pubsub-memory.sh. Opens N WebSocket
// connections (npm ws, compression off) to a Capstan pubsub route, then subscribes them in
// stages, and reads the server's memory (/proc/PID/status: VmRSS and RssAnon) before the
// first connection and after each stage, once every acknowledgement has arrived and the
// server has had SETTLE_MS to settle. Stages, cumulative:
//   connect   N connections, none subscribed
//   shared1   each connection subscribes to "bench" (one channel, N subscribers)
//   own10     each connection subscribes to 10 channels of its own, "c.<i>.<k>" (10 N
//             channels of one subscriber each)
//   shared10  each connection subscribes to "s.0" .. "s.9" (10 channels, N subscribers each)
// Every subscription must be answered by {"action":"subscribed",...}; anything else (an error,
// a close) ends the run with status 1. Prints one line per reading and, last, one
// "RESULT key=value ..." line.
//
// usage: node pubsub_memory_client.js PORT SERVER_PID [CONNS=5000] [PATH=/live] [SETTLE_MS=1000]
const fs = require('fs');
const WebSocket = require('ws');

const [port, pid] = [Number(process.argv[2]), Number(process.argv[3])];
const conns = Number(process.argv[4] || 5000);
const path = process.argv[5] || '/live';
const settleMs = Number(process.argv[6] || 1000);
if (!Number.isInteger(port) || !Number.isInteger(pid) || !Number.isInteger(conns) || conns <= 0) {
  console.error('usage: node pubsub_memory_client.js PORT SERVER_PID [CONNS] [PATH] [SETTLE_MS]');
  process.exit(2);
}

function fail(why) {
  console.error(`pubsub_memory_client: error: ${why}`);
  process.exit(1);
}

// VmRSS and RssAnon of the server, in bytes.
function memory() {
  let text;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    fail(`cannot read /proc/${pid}/status (server gone?)`);
  }
  const kib = (key) => {
    const m = text.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
    if (!m) fail(`no ${key} in /proc/${pid}/status`);
    return Number(m[1]) * 1024;
  };
  return { rss: kib('VmRSS'), anon: kib('RssAnon') };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sockets = [];
let pendingAcks = 0;
let onAllAcked = null;

function open(i) {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { perMessageDeflate: false });
    ws.on('open', () => resolve(ws));
    ws.on('message', (data, isBinary) => {
      const text = data.toString();
      if (isBinary || !text.startsWith('{"action":"subscribed"'))
        fail(`connection ${i}: unexpected ${isBinary ? 'binary ' : ''}message ${text.slice(0, 300)}`);
      if (--pendingAcks === 0 && onAllAcked) onAllAcked();
    });
    ws.on('close', (code, reason) => fail(`connection ${i} closed: ${code} ${reason}`));
    ws.on('error', (err) => fail(`connection ${i}: ${err.message}`));
  });
}

// Opens every connection, at most 200 handshakes in flight (the listen backlog must not
// overflow: a dropped SYN costs a 1 s retransmit).
async function connectAll() {
  let next = 0;
  const worker = async () => {
    while (next < conns) {
      const i = next++;
      sockets[i] = await open(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(200, conns) }, worker));
}

// Sends channels(i) as subscriptions on every connection i and waits for all the acks.
async function subscribeAll(channels) {
  const done = new Promise((resolve) => { onAllAcked = resolve; });
  let count = 0;
  for (let i = 0; i < conns; ++i) count += channels(i).length;
  pendingAcks = count;
  for (let i = 0; i < conns; ++i)
    for (const channel of channels(i))
      sockets[i].send(JSON.stringify({ action: 'subscribe', data: { channel } }));
  await done;
  onAllAcked = null;
  return count;
}

const ten = Array.from({ length: 10 }, (_, k) => k);

async function main() {
  const readings = [];
  const read = async (stage, subscriptions, seconds) => {
    await sleep(settleMs);
    const m = memory();
    readings.push({ stage, subscriptions, seconds, ...m });
    console.log(`${stage}: VmRSS ${(m.rss / 1024).toFixed(0)} KiB, RssAnon ${(m.anon / 1024).toFixed(0)} KiB` +
      (subscriptions ? ` (${subscriptions} subscriptions in ${seconds.toFixed(2)} s)` : ''));
  };
  const timed = async (f) => {
    const t = process.hrtime.bigint();
    const n = await f();
    return [n, Number(process.hrtime.bigint() - t) / 1e9];
  };
  readings.push({ stage: 'before', subscriptions: 0, seconds: 0, ...memory() });
  console.log(`before: VmRSS ${(readings[0].rss / 1024).toFixed(0)} KiB, RssAnon ${(readings[0].anon / 1024).toFixed(0)} KiB`);
  const [, tc] = await timed(async () => { await connectAll(); return conns; });
  await read('connect', 0, tc);
  let [n, t] = await timed(() => subscribeAll(() => ['bench']));
  await read('shared1', n, t);
  [n, t] = await timed(() => subscribeAll((i) => ten.map((k) => `c.${i}.${k}`)));
  await read('own10', n, t);
  [n, t] = await timed(() => subscribeAll(() => ten.map((k) => `s.${k}`)));
  await read('shared10', n, t);

  const fields = [`conns=${conns}`];
  for (const r of readings) fields.push(`${r.stage}_rss=${r.rss}`, `${r.stage}_anon=${r.anon}`, `${r.stage}_s=${r.seconds.toFixed(2)}`);
  console.log(`RESULT ${fields.join(' ')}`);
  for (const ws of sockets) ws.terminate();
  process.exit(0);
}

main().catch((err) => fail(err.stack || String(err)));
