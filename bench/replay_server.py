"""A loopback HTTP/1.1 server that answers every POST with a recorded body; run by bench/run.py.

    python bench/replay_server.py BODY_DIR

``BODY_DIR`` holds ``<key>.json`` files (status answers FakeTycho gave). A POST to
``/<key>/system/...`` is answered 200 with ``<key>.json``, on a kept-alive connection. It runs
in its own process, so that the client under test has a CPU and the interpreter lock to itself,
and it costs a few microseconds a request (FakeTycho validates every answer against the
document: 10 ms for 100 systems, which would hide the client's cost).

``GET /_stats`` answers ``{"connections": N, "requests": M}``: connections accepted that carried
an API request, and API requests, since the last ``POST /_reset``.

It prints its port on stdout when listening, and stops by itself: when its stdin closes (the
benchmark ended or died), after IDLE_SECONDS without a request, or after MAX_SECONDS.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

IDLE_SECONDS = 300.0
MAX_SECONDS = 3600.0
MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 1024 * 1024


class Replay:
    def __init__(self, bodies: dict[str, bytes]) -> None:
        self.bodies = bodies
        self.connections = 0
        self.requests = 0
        self.last_request = 0.0

    def answer(self, method: str, path: str) -> tuple[int, bytes]:
        if path == "/_stats":
            stats = {"connections": self.connections, "requests": self.requests}
            return 200, json.dumps(stats).encode()
        if path == "/_reset" and method == "POST":
            self.connections = self.requests = 0
            return 200, b"{}"
        key = path.strip("/").split("/", 1)[0]
        if method != "POST" or key not in self.bodies:
            return 404, b'{"message": "not found"}'
        self.requests += 1
        return 200, self.bodies[key]

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        counted = False
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if len(head) > MAX_HEADER_BYTES:
                    break
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = dict(
                    (name.strip().lower(), value.strip())
                    for name, _, value in (line.partition(":") for line in lines[1:] if line)
                )
                length = int(headers.get("content-length", "0"))
                if length > MAX_BODY_BYTES:
                    break
                if length:
                    await reader.readexactly(length)
                self.last_request = asyncio.get_running_loop().time()
                status, body = self.answer(method, path)
                if status == 200 and not path.startswith("/_") and not counted:
                    self.connections += 1
                    counted = True
                close = headers.get("connection", "").lower() == "close"
                writer.write(
                    (
                        f"HTTP/1.1 {status} {'OK' if status == 200 else 'Not Found'}\r\n"
                        "Content-Type: application/json\r\n"
                        f"Content-Length: {len(body)}\r\n"
                        f"Connection: {'close' if close else 'keep-alive'}\r\n\r\n"
                    ).encode("latin-1")
                    + body
                )
                await writer.drain()
                if close:
                    break
        except (
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            ConnectionError,
            ValueError,
        ):
            pass
        finally:
            writer.close()


async def main(body_dir: Path) -> None:
    bodies = {path.stem: path.read_bytes() for path in body_dir.glob("*.json")}
    replay = Replay(bodies)
    loop = asyncio.get_running_loop()
    server = await asyncio.start_server(
        replay.serve, "127.0.0.1", 0, backlog=4096, limit=MAX_HEADER_BYTES
    )
    print(server.sockets[0].getsockname()[1], flush=True)
    stdin_closed = loop.create_future()

    def on_stdin() -> None:
        if not sys.stdin.buffer.read1(4096) and not stdin_closed.done():
            stdin_closed.set_result(None)

    loop.add_reader(sys.stdin.fileno(), on_stdin)
    started = replay.last_request = loop.time()
    async with server:
        while not stdin_closed.done():
            now = loop.time()
            if now - started > MAX_SECONDS or now - replay.last_request > IDLE_SECONDS:
                break
            await asyncio.wait([stdin_closed], timeout=1.0)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
