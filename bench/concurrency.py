"""Many concurrent calls of one AsyncTychoClient against raw httpx, on loopback.

    python bench/concurrency.py [--calls 1000] [--pool 10] [--rounds 3]

A healthy keep-alive HTTP server (asyncio, in a child process, answering every POST with the
recorded status answer) serves both. ``raw httpx`` is ``httpx.AsyncClient`` with the same
``httpx.Limits`` as the client's pool, ``asyncio.gather``-ing ``calls`` POSTs; ``tycho`` is
``AsyncTychoClient(max_concurrency=pool)`` gathering ``calls`` typed ``status()`` calls (each
one parsed into a StatusResponse). Prints calls per second, CPU seconds and the connections the
server saw for each. httpcore's pool does work per queued request each time a connection frees
up, so with many more calls than connections raw httpx spends its time in that bookkeeping; the
client keeps at most ``pool`` requests in httpcore's queue.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BODY = json.loads((ROOT / "tests/fixtures/wire/03-status-all.json").read_text())["response"]["text"]


def _serve(port: Any, connections: Any, ready: Any) -> None:
    answer = (
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(BODY.encode())}\r\n\r\n"
    ).encode() + BODY.encode()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with connections.get_lock():
            connections.value += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=2048)
        port.value = server.sockets[0].getsockname()[1]
        ready.set()
        async with server:
            await server.serve_forever()

    asyncio.run(main())


async def _raw(url: str, calls: int, pool: int) -> None:
    import httpx

    limits = httpx.Limits(max_connections=pool, max_keepalive_connections=pool)
    async with httpx.AsyncClient(limits=limits, timeout=60) as http:
        responses = await asyncio.gather(
            *(http.post(f"{url}/system/status", content=b"{}") for _ in range(calls))
        )
    assert all(response.status_code == 200 for response in responses)


async def _tycho(url: str, calls: int, pool: int) -> None:
    from tycho_client import AsyncTychoClient

    async with AsyncTychoClient(url, max_concurrency=pool, deadline=60) as tycho:
        answers = await asyncio.gather(*(tycho.status() for _ in range(calls)))
    assert all(answer.status == "success" for answer in answers)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--pool", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    port = multiprocessing.Value("i", 0)
    connections = multiprocessing.Value("i", 0)
    ready = multiprocessing.Event()
    server = multiprocessing.Process(target=_serve, args=(port, connections, ready), daemon=True)
    server.start()
    try:
        if not ready.wait(10):
            raise SystemExit("the loopback server did not start")
        url = f"http://127.0.0.1:{port.value}"
        best: dict[str, float] = {}
        for _ in range(args.rounds):
            for name, run in (("raw httpx", _raw), ("tycho", _tycho)):
                with connections.get_lock():
                    connections.value = 0
                wall, cpu = time.perf_counter(), time.process_time()
                asyncio.run(run(url, args.calls, args.pool))
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                rate = args.calls / wall
                best[name] = max(best.get(name, 0.0), rate)
                print(
                    f"{name:10} {args.calls} calls, pool {args.pool}: {rate:8.0f} calls/s, "
                    f"{cpu:5.2f} s CPU, {connections.value} connections"
                )
        print(f"tycho / raw httpx (best rounds): {best['tycho'] / best['raw httpx']:.1f}x")
    finally:
        server.terminate()
        server.join(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
