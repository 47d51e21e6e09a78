"""python-websockets helpers shared by the tests: bounded runs, connects and echoes."""
import asyncio
import threading

import websockets


def run(coro, timeout=30.0):
    """Runs a coroutine to completion, bounded in time."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


def connect(url, **kwargs):
    """websockets.connect with bounded timeouts; pass max_size=..., subprotocols=..."""
    kwargs.setdefault("open_timeout", 5)
    kwargs.setdefault("close_timeout", 3)
    kwargs.setdefault("ping_interval", None)
    return websockets.connect(url, **kwargs)


async def receive_until_quiet(ws, quiet=0.5):
    """Every message that arrives until none has come for `quiet` seconds."""
    got = []
    try:
        while True:
            got.append(await asyncio.wait_for(ws.recv(), quiet))
    except asyncio.TimeoutError:
        return got


async def echo_roundtrip(ws, message, timeout=5.0):
    await asyncio.wait_for(ws.send(message), timeout)
    return await asyncio.wait_for(ws.recv(), timeout)


class Bystander:
    """A python-websockets client living on its own event-loop thread, so synchronous raw
    socket tests can check that the server keeps serving an already-connected client."""

    def __init__(self, url):
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._count = 0
        self.ws = self._call(self._open(url))
        self.assert_echoes()

    @staticmethod
    async def _open(url):
        return await connect(url)

    def _call(self, coro, timeout=10.0):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def assert_echoes(self):
        self._count += 1
        message = f"bystander message {self._count}"
        assert self._call(echo_roundtrip(self.ws, message)) == message

    def close(self):
        try:
            self._call(self.ws.close(), timeout=5)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
            self._loop.close()
