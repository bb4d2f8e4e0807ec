"""The deadline of the call in progress, enforced on every socket operation of our own pools.

httpx bounds each read by a timeout, so a server sending one byte a second never times out. The
faces set :data:`DEADLINE` (a :func:`time.monotonic` instant) for the duration of a call; the
network backends here cap every connect, read and write at the time left, and fail once none
is. A context variable: each thread and each task sees its own call's deadline, and a pooled
connection serves whichever call uses it.
"""

from __future__ import annotations

import contextvars
import select
import ssl
import threading
import time
from collections.abc import Iterable
from typing import Any

import anyio
import httpcore
import httpx

__all__ = [
    "DEADLINE",
    "AsyncDeadlineBackend",
    "DeadlineBackend",
    "TaskSlots",
    "ThreadSlots",
    "capped",
    "install",
]

DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "tycho_client_deadline", default=None
)


def capped(timeout: float | None, error: type[Exception]) -> float | None:
    """``timeout`` capped at the time left before the current deadline; ``error`` if none is."""
    deadline = DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the call's deadline has passed")
    return left if timeout is None or timeout > left else timeout


class _Stream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, capped(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, capped(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        timeout = capped(timeout, httpcore.ConnectTimeout)
        return _Stream(self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """A sync network backend whose streams honour :data:`DEADLINE`."""

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        timeout = capped(timeout, httpcore.ConnectTimeout)
        stream = self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        return _Stream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        timeout = capped(timeout, httpcore.ConnectTimeout)
        return _Stream(self._backend.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def _readable(sock: Any) -> bool:
    """Whether a read would return at once (data, or the b"" of a closed connection)."""
    fileno = sock.fileno()
    if fileno < 0:
        return True
    if hasattr(select, "poll"):
        poll = select.poll()
        poll.register(fileno, select.POLLIN)
        return bool(poll.poll(0))
    return bool(select.select([fileno], [], [], 0)[0])  # pragma: no cover - Windows


class _AsyncStream(httpcore.AsyncNetworkStream):
    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream
        self._socket: Any = None

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._stream.read(max_bytes, capped(timeout, httpcore.ReadTimeout))

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.write(buffer, capped(timeout, httpcore.WriteTimeout))

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        timeout = capped(timeout, httpcore.ConnectTimeout)
        return _AsyncStream(await self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        # httpcore asks "is_readable" of every pooled connection each time it assigns one;
        # anyio answers by building a table of attributes each time. Ask for the socket once.
        if info == "is_readable":
            if self._socket is None:
                # asyncio gives a TransportSocket, which has fileno() too.
                self._socket = self._stream.get_extra_info("socket")
            if self._socket is not None:
                return _readable(self._socket)
        return self._stream.get_extra_info(info)


class AsyncDeadlineBackend(httpcore.AsyncNetworkBackend):
    """An async network backend whose streams honour :data:`DEADLINE`."""

    def __init__(self, backend: httpcore.AsyncNetworkBackend) -> None:
        self._backend = backend

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        timeout = capped(timeout, httpcore.ConnectTimeout)
        stream = await self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        return _AsyncStream(stream)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        timeout = capped(timeout, httpcore.ConnectTimeout)
        return _AsyncStream(await self._backend.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


def install(transport: Any) -> bool:
    """Make the connection pool of an httpx transport we created honour :data:`DEADLINE`.

    httpx offers no public way to give its pool a network backend, so the pool's backend is
    wrapped in place; if httpx ever changes that attribute, calls fall back to per-read caps
    (``False``).
    """
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if isinstance(backend, httpcore.AsyncNetworkBackend):
        pool._network_backend = AsyncDeadlineBackend(backend)  # type: ignore[union-attr]
        return True
    if isinstance(backend, httpcore.NetworkBackend):
        pool._network_backend = DeadlineBackend(backend)  # type: ignore[union-attr]
        return True
    return False


class ThreadSlots:
    """At most ``size`` requests of a sync client in flight; waiting ends at the deadline."""

    def __init__(self, size: int) -> None:
        self._semaphore = threading.BoundedSemaphore(size)

    def __enter__(self) -> None:
        wait = capped(None, httpx.PoolTimeout)
        if not self._semaphore.acquire(timeout=wait):
            raise httpx.PoolTimeout("no free connection before the call's deadline")

    def __exit__(self, *exc: object) -> None:
        self._semaphore.release()


class TaskSlots:
    """At most ``size`` requests of an async client in flight; waiting ends at the deadline.

    Keeps httpcore's own queue short: its pool does work for every queued request each time a
    connection frees up, which with 1,000 waiting calls costs more than the calls themselves.
    """

    def __init__(self, size: int) -> None:
        self._semaphore = anyio.Semaphore(size)

    async def __aenter__(self) -> None:
        try:
            self._semaphore.acquire_nowait()  # the usual case: no cancel scope needed
        except anyio.WouldBlock:
            with anyio.move_on_after(capped(None, httpx.PoolTimeout)):
                await self._semaphore.acquire()
                return
            raise httpx.PoolTimeout("no free connection before the call's deadline") from None

    async def __aexit__(self, *exc: object) -> None:
        self._semaphore.release()
