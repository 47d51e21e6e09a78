#!/usr/bin/env python3
"""Cross-node delivery latency through Redis (SPEC section 4, [cluster] redis).

Starts redis-server and two capstan nodes (one loop each) on loopback, SUBSCRIBERS clients
subscribed to a pubsub channel on node B, and one publisher on node A sending COUNT
publications at RATE per second, each carrying its send time. Every subscriber notes when
each arrives; the figures are send-to-receive times over all deliveries, p50 and p99, beside
the same run within one node (publisher and subscribers on node A) and on a channel with
history (numbered in Redis). Python clients (python3-websockets): the figures include their
own overhead, the same in every column. Every process started here is stopped by its PID.

Environment: SUBSCRIBERS (default 10), COUNT (default 1000), RATE (default 200; the Python clients must keep up, or their queue is what is measured), CAPSTAN
(default build/release/capstan).
"""
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import websockets

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CAPSTAN = os.environ.get("CAPSTAN", os.path.join(ROOT, "build/release/capstan"))
SUBSCRIBERS = int(os.environ.get("SUBSCRIBERS", "10"))
COUNT = int(os.environ.get("COUNT", "1000"))
RATE = float(os.environ.get("RATE", "200"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def start_node(workdir, name, redis_port):
    port = free_port()
    cfg = os.path.join(workdir, f"{name}.toml")
    with open(cfg, "w") as f:
        f.write(f"""[server]
listen = "127.0.0.1:{port}"
threads = 1
name = "{name}"
runtime_dir = "{workdir}"
[limits]
messages_per_second = 0
[cluster]
redis = "redis://127.0.0.1:{redis_port}"
[[routes]]
path = "/live"
component = "pubsub"
auth = false
  [[routes.channels]]
  pattern = "hist.*"
  history_size = 1000
""")
    proc = subprocess.Popen([CAPSTAN, "start", "-c", cfg], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wait_port(port)
    return proc, port


async def measure(pub_port, sub_port, channel):
    subs = [await websockets.connect(f"ws://127.0.0.1:{sub_port}/live", max_size=None) for _ in range(SUBSCRIBERS)]
    for ws in subs:
        await ws.send(json.dumps({"action": "subscribe", "data": {"channel": channel}}))
        while json.loads(await ws.recv())["action"] != "subscribed":
            pass
    pub = await websockets.connect(f"ws://127.0.0.1:{pub_port}/live")
    await asyncio.sleep(0.3)  # the subscription reached Redis
    latencies = []

    async def reader(ws):
        got = 0
        while got < COUNT:
            m = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if m["action"] != "message":
                continue
            sent = json.loads(m["data"])["message"]
            latencies.append(time.perf_counter() - sent)
            got += 1

    readers = [asyncio.create_task(reader(ws)) for ws in subs]
    interval = 1.0 / RATE
    start = time.perf_counter()
    for i in range(COUNT):
        await pub.send(json.dumps({"action": "publish", "data": {"channel": channel, "message": time.perf_counter()}}))
        delay = start + (i + 1) * interval - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
    await asyncio.gather(*readers)
    for ws in subs + [pub]:
        await ws.close()
    latencies.sort()
    q = statistics.quantiles(latencies, n=100)
    return len(latencies), q[49] * 1e6, q[98] * 1e6


def main():
    if not shutil.which("redis-server"):
        sys.exit("redis-server is not installed (scripts/install-deps.sh)")
    procs = []
    with tempfile.TemporaryDirectory() as workdir:
        try:
            redis_port = free_port()
            redis = subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no"], stdout=subprocess.DEVNULL)
            procs.append(redis)
            wait_port(redis_port)
            a, a_port = start_node(workdir, "lat-a", redis_port)
            b, b_port = start_node(workdir, "lat-b", redis_port)
            procs += [a, b]
            time.sleep(0.5)
            rows = [("one node (A to A)", measure(a_port, a_port, "plain.1")),
                    ("across nodes (A to B)", measure(a_port, b_port, "plain.2")),
                    ("across nodes, history (A to B)", measure(a_port, b_port, "hist.1"))]
            print(f"\n{SUBSCRIBERS} subscribers, {COUNT} publications at {RATE:.0f}/s, python3-websockets clients\n")
            print("| path | deliveries | p50 µs | p99 µs |")
            print("|---|---|---|---|")
            for name, coro in rows:
                n, p50, p99 = asyncio.run(coro)
                print(f"| {name} | {n} | {p50:.0f} | {p99:.0f} |")
        finally:
            for p in reversed(procs):
                if p.poll() is None:
                    p.terminate()
                    try:
                        p.wait(10)
                    except subprocess.TimeoutExpired:
                        p.kill()


if __name__ == "__main__":
    main()
