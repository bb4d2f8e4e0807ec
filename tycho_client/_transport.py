"""Our HTTP stack: httpcore's connection pool, under a network backend that keeps each deadline.

httpx bounds each read by a timeout, so a server sending one byte a second never times out. The
faces set :data:`DEADLINE` (a :func:`time.monotonic` instant) for the duration of a call; the
network backends here cap every connect, read and write at the time left, and fail once none is.
A context variable: each thread and each task sees its own call's deadline, and a pooled
connection serves whichever call uses it.

Everything here uses public APIs only: :func:`connection_pool` is httpcore's
``ConnectionPool(network_backend=...)``, and :class:`DeadlineTransport` and
:class:`AsyncDeadlineTransport` put it under an :class:`httpx.Client` as httpx's own transport
would. Discovery (:mod:`tycho_client.kube`) sends its GETs over the same pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import select
import ssl
import threading
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpcore
import httpx
import sniffio

__all__ = [
    "DEADLINE",
    "AsyncDeadlineTransport",
    "DeadlineTransport",
    "TaskSlots",
    "ThreadSlots",
    "capped",
    "connection_pool",
    "environment_proxy",
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


# -------------------------------------------------------------------------- network backends


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

    def __init__(self, backend: httpcore.NetworkBackend | None = None) -> None:
        self._backend = backend or httpcore.SyncBackend()

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
        # httpcore asks "is_readable" of every pooled connection each time it assigns one, and
        # anyio answers by building a table of attributes each time: measured as 20% of P4's
        # CPU (bench/README.md). Ask for the socket once and poll it.
        if info == "is_readable":
            if self._socket is None:
                # asyncio gives a TransportSocket, which has fileno() too.
                self._socket = self._stream.get_extra_info("socket")
            if self._socket is not None:
                return _readable(self._socket)
        return self._stream.get_extra_info(info)


class AsyncDeadlineBackend(httpcore.AsyncNetworkBackend):
    """An async network backend whose streams honour :data:`DEADLINE` (asyncio or trio)."""

    def __init__(self, backend: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._backend = backend or httpcore.AnyIOBackend()

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


# ------------------------------------------------------------------------------------- pools


def connection_pool(
    *,
    ssl_context: ssl.SSLContext | None,
    proxy: str | None = None,
    max_connections: int = 10,
    max_keepalive_connections: int | None = None,
) -> httpcore.ConnectionPool:
    """A sync httpcore pool whose every socket operation waits at most until :data:`DEADLINE`."""
    return httpcore.ConnectionPool(
        ssl_context=ssl_context,
        proxy=httpcore.Proxy(proxy) if proxy else None,
        max_connections=max_connections,
        max_keepalive_connections=max_keepalive_connections,
        network_backend=DeadlineBackend(),
    )


def async_connection_pool(
    *,
    ssl_context: ssl.SSLContext | None,
    proxy: str | None = None,
    max_connections: int = 10,
    max_keepalive_connections: int | None = None,
) -> httpcore.AsyncConnectionPool:
    """:func:`connection_pool` for async code."""
    return httpcore.AsyncConnectionPool(
        ssl_context=ssl_context,
        proxy=httpcore.Proxy(proxy) if proxy else None,
        max_connections=max_connections,
        max_keepalive_connections=max_keepalive_connections,
        network_backend=AsyncDeadlineBackend(),
    )


def environment_proxy(url: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The proxy the environment names for ``url`` (``HTTPS_PROXY``, ``HTTP_PROXY``,
    ``ALL_PROXY``), unless ``NO_PROXY`` exempts its host: as httpx, kubectl and curl read them."""
    environ = os.environ if environ is None else environ
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    for name in ("no_proxy", "NO_PROXY"):
        for entry in environ.get(name, "").split(","):
            entry = entry.strip().lower().lstrip(".")
            if entry == "*" or (entry and (host == entry or host.endswith("." + entry))):
                return None
            if "/" in entry and _in_network(host, entry):
                return None
    scheme = parts.scheme.lower()
    for name in (f"{scheme}_proxy", f"{scheme.upper()}_PROXY", "all_proxy", "ALL_PROXY"):
        if environ.get(name):
            return environ[name]
    return None


def _in_network(host: str, network: str) -> bool:
    """Whether ``host`` is an IP address inside the CIDR ``network`` (a ``NO_PROXY`` entry)."""
    import ipaddress

    try:
        return ipaddress.ip_address(host) in ipaddress.ip_network(network, strict=False)
    except ValueError:
        return False


# ---------------------------------------------------------------------------- event loops


def event_loop() -> object:
    """What the running task's connections belong to: asyncio's loop, or trio's run."""
    if sniffio.current_async_library() == "trio":
        import trio

        return trio.lowlevel.current_trio_token()
    return asyncio.get_running_loop()


def loop_alive(loop: object) -> bool:
    """Whether ``loop`` (from :func:`event_loop`) may still run tasks (a trio run: assumed)."""
    return not (isinstance(loop, asyncio.AbstractEventLoop) and loop.is_closed())


# ------------------------------------------------------------------------------ transports

# httpcore's errors as httpx's, most specific first (what httpx's own transport raises).
_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


@contextlib.contextmanager
def _as_httpx_errors(request: httpx.Request) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        for core, mapped in _ERRORS:
            if isinstance(exc, core):
                raise mapped(str(exc), request=request) from exc
        raise


def _core_request(request: httpx.Request, content: Any) -> httpcore.Request:
    url = request.url
    return httpcore.Request(
        method=request.method,
        url=httpcore.URL(
            scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
        ),
        headers=request.headers.raw,
        content=content,
        extensions=request.extensions,
    )


class _Proxies:
    """Which proxy each request goes through: the environment's, read once (as httpx does)."""

    def __init__(self, trust_env: bool) -> None:
        self._environ = dict(os.environ) if trust_env else {}

    def __call__(self, url: httpx.URL) -> str | None:
        return environment_proxy(str(url), self._environ) if self._environ else None


class DeadlineTransport(httpx.BaseTransport):
    """An httpx transport over :func:`connection_pool`: every socket operation keeps the call's
    deadline. Plain-http requests never build an SSL context (loading CA certificates costs
    ~50 ms of a command's start-up); one pool per proxy the environment names."""

    def __init__(
        self,
        *,
        ssl_context: Any,
        limits: httpx.Limits,
        trust_env: bool = True,
    ) -> None:
        self._ssl_context = ssl_context
        self._limits = limits
        self._proxies = _Proxies(trust_env)
        self._pools: dict[tuple[str | None, bool], httpcore.ConnectionPool] = {}
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def _pool(self, url: httpx.URL) -> httpcore.ConnectionPool:
        if os.getpid() != self._pid:
            self._after_fork()
        key = (self._proxies(url), url.scheme == "https")
        pool = self._pools.get(key)
        if pool is None:
            with self._lock:
                pool = self._pools.get(key)
                if pool is None:
                    pool = self._pools[key] = connection_pool(
                        ssl_context=self._ssl_context() if key[1] or key[0] else None,
                        proxy=key[0],
                        max_connections=self._limits.max_connections or 10,
                        max_keepalive_connections=self._limits.max_keepalive_connections,
                    )
        return pool

    def _after_fork(self) -> None:
        """In a forked child: forget the parent's connections, never use or close them.

        Parent and child would otherwise read each other's answers from the shared sockets; and
        closing them here could end the parent's TLS sessions. The child opens its own.
        """
        self._pools = {}
        self._lock = threading.Lock()  # another thread of the parent may have held it
        self._pid = os.getpid()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(request.stream, httpx.SyncByteStream):
            raise TypeError("DeadlineTransport sends sync request bodies only")
        core = _core_request(request, request.stream)
        with _as_httpx_errors(request):
            answer = self._pool(request.url).handle_request(core)
        return httpx.Response(
            status_code=answer.status,
            headers=answer.headers,
            stream=_ResponseStream(answer.stream, request),
            extensions=answer.extensions,
        )

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, stream: Any, request: httpx.Request) -> None:
        self._stream = stream
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        with _as_httpx_errors(self._request):
            yield from self._stream

    def close(self) -> None:
        if hasattr(self._stream, "close"):
            self._stream.close()


class AsyncDeadlineTransport(httpx.AsyncBaseTransport):
    """:class:`DeadlineTransport` for :class:`httpx.AsyncClient` (asyncio or trio)."""

    def __init__(
        self,
        *,
        ssl_context: Any,
        limits: httpx.Limits,
        trust_env: bool = True,
    ) -> None:
        self._ssl_context = ssl_context
        self._limits = limits
        self._proxies = _Proxies(trust_env)
        self._pools: dict[tuple[object, str | None, bool], httpcore.AsyncConnectionPool] = {}
        self._pid = os.getpid()

    def _pool(self, url: httpx.URL) -> httpcore.AsyncConnectionPool:
        # No lock: between two awaits an event loop runs nothing else, and each loop has its own
        # pools (a connection belongs to the loop that opened it: asyncio.run twice, or loops in
        # two threads, each get theirs).
        loop = event_loop()
        key = (loop, self._proxies(url), url.scheme == "https")
        pool = self._pools.get(key)
        if pool is None:
            if os.getpid() != self._pid:  # a forked child: see DeadlineTransport._after_fork
                self._pools, self._pid = {}, os.getpid()
            # Pools of an event loop that has ended cannot be used or closed: let them go.
            self._pools = {k: p for k, p in self._pools.items() if loop_alive(k[0])}
            _, proxy, https = key
            pool = self._pools[key] = async_connection_pool(
                ssl_context=self._ssl_context() if https or proxy else None,
                proxy=proxy,
                max_connections=self._limits.max_connections or 10,
                max_keepalive_connections=self._limits.max_keepalive_connections,
            )
        return pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(request.stream, httpx.AsyncByteStream):
            raise TypeError("AsyncDeadlineTransport sends async request bodies only")
        core = _core_request(request, request.stream)
        with _as_httpx_errors(request):
            answer = await self._pool(request.url).handle_async_request(core)
        return httpx.Response(
            status_code=answer.status,
            headers=answer.headers,
            stream=_AsyncResponseStream(answer.stream, request),
            extensions=answer.extensions,
        )

    async def aclose(self) -> None:
        # Only this loop's connections can be closed from here; another loop's are let go.
        loop = event_loop()
        pools, self._pools = self._pools, {}
        for (owner, _, _), pool in pools.items():
            if owner is loop:
                await pool.aclose()


class _AsyncResponseStream(httpx.AsyncByteStream):
    def __init__(self, stream: Any, request: httpx.Request) -> None:
        self._stream = stream
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _as_httpx_errors(self._request):
            async for part in self._stream:
                yield part

    async def aclose(self) -> None:
        if hasattr(self._stream, "aclose"):
            await self._stream.aclose()


# ----------------------------------------------------------------------- requests in flight


class ThreadSlots:
    """At most ``size`` requests of a sync client in flight; waiting ends at the deadline."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._semaphore = threading.BoundedSemaphore(size)
        self._pid = os.getpid()

    def __enter__(self) -> None:
        if os.getpid() != self._pid:
            # A forked child: the parent's threads holding slots do not exist here.
            self.__init__(self._size)  # type: ignore[misc]
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
        self._size = size
        # One semaphore per event loop: a semaphore belongs to the loop that first waits on it.
        self._semaphores: dict[object, anyio.Semaphore] = {}

    def _semaphore(self) -> anyio.Semaphore:
        loop = event_loop()
        semaphore = self._semaphores.get(loop)
        if semaphore is None:
            live = {k: s for k, s in self._semaphores.items() if loop_alive(k)}
            semaphore = live[loop] = anyio.Semaphore(self._size)
            self._semaphores = live
        return semaphore

    async def __aenter__(self) -> None:
        semaphore = self._semaphore()
        try:
            semaphore.acquire_nowait()  # the usual case: no cancel scope needed
        except anyio.WouldBlock:
            with anyio.move_on_after(capped(None, httpx.PoolTimeout)):
                await semaphore.acquire()
                return
            raise httpx.PoolTimeout("no free connection before the call's deadline") from None

    async def __aexit__(self, *exc: object) -> None:
        self._semaphores[event_loop()].release()
