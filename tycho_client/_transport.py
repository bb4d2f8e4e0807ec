"""Our HTTP stack: httpx transports over httpcore's public connection pool, on our network backends.

:class:`DeadlineTransport` and :class:`AsyncDeadlineTransport` put httpcore's
``ConnectionPool(network_backend=...)`` under an :class:`httpx.Client` as httpx's own transport
would, with the backends of :mod:`tycho_client._deadline`: every socket operation keeps the
call's deadline. Public APIs only. Discovery (:mod:`tycho_client.kube`) sends its GETs over the
same pool (:func:`connection_pool`). Also here: the environment's proxies, a pool per event loop
and per process, and the bound on requests in flight.
"""

from __future__ import annotations

import contextlib
import os
import ssl
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

import anyio
import httpcore
import httpx

from ._deadline import DEADLINE, AsyncDeadlineBackend, DeadlineBackend, capped

PoolT = TypeVar("PoolT", httpcore.ConnectionPool, httpcore.AsyncConnectionPool)

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
    # Imported here: async code only, and asyncio costs the blocking CLI ~10 ms (P1).
    import asyncio

    import sniffio

    if sniffio.current_async_library() == "trio":
        import trio

        return trio.lowlevel.current_trio_token()
    return asyncio.get_running_loop()


def loop_alive(loop: object) -> bool:
    """Whether ``loop`` (from :func:`event_loop`) may still run tasks (a trio run: assumed)."""
    asyncio = sys.modules.get("asyncio")  # a loop of asyncio's means asyncio is imported
    return not (
        asyncio is not None and isinstance(loop, asyncio.AbstractEventLoop) and loop.is_closed()
    )


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


class _Pools(Generic[PoolT]):
    """What both transports share: which pool a request goes to. One per proxy the environment
    names (read once, as httpx does) and per scheme: plain-http pools never build an SSL context
    (loading CA certificates costs ~50 ms of a command's start-up). A forked child forgets the
    parent's pools: see :meth:`DeadlineTransport._after_fork`."""

    def __init__(
        self,
        *,
        ssl_context: Callable[[], ssl.SSLContext],
        limits: httpx.Limits,
        trust_env: bool = True,
    ) -> None:
        self._ssl_context = ssl_context
        self._limits = limits
        self._environ = dict(os.environ) if trust_env else {}
        self._pid = os.getpid()
        self._pools: dict[Any, PoolT] = {}
        self._lock = threading.Lock()  # the sync transport's: tasks of one loop need none

    def _key(self, url: httpx.URL) -> tuple[str | None, bool]:
        proxy = environment_proxy(str(url), self._environ) if self._environ else None
        return proxy, url.scheme == "https"

    def _options(self, proxy: str | None, https: bool) -> dict[str, Any]:
        """The settings of a new pool for requests of that proxy and scheme."""
        return {
            "ssl_context": self._ssl_context() if https or proxy else None,
            "proxy": httpcore.Proxy(proxy) if proxy else None,
            "max_connections": self._limits.max_connections or 10,
            "max_keepalive_connections": self._limits.max_keepalive_connections,
        }

    def _forked(self) -> bool:
        return os.getpid() != self._pid


class DeadlineTransport(_Pools[httpcore.ConnectionPool], httpx.BaseTransport):
    """An httpx transport over httpcore's pool whose every socket operation keeps the call's
    deadline (:func:`connection_pool`)."""

    def _pool(self, url: httpx.URL) -> httpcore.ConnectionPool:
        if self._forked():
            self._after_fork()
        key = self._key(url)
        pool = self._pools.get(key)
        if pool is None:
            with self._lock:
                pool = self._pools.get(key)
                if pool is None:
                    pool = self._pools[key] = httpcore.ConnectionPool(
                        **self._options(*key), network_backend=DeadlineBackend()
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


class AsyncDeadlineTransport(_Pools[httpcore.AsyncConnectionPool], httpx.AsyncBaseTransport):
    """:class:`DeadlineTransport` for :class:`httpx.AsyncClient` (asyncio or trio)."""

    def _pool(self, url: httpx.URL) -> httpcore.AsyncConnectionPool:
        # No lock: between two awaits an event loop runs nothing else, and each loop has its own
        # pools (a connection belongs to the loop that opened it: asyncio.run twice, or loops in
        # two threads, each get theirs).
        loop = event_loop()
        key = (loop, *self._key(url))
        pool = self._pools.get(key)
        if pool is None:
            if self._forked():
                self._pools, self._pid = {}, os.getpid()
            # Pools of an event loop that has ended cannot be used or closed: let them go.
            self._pools = {k: p for k, p in self._pools.items() if loop_alive(k[0])}
            pool = self._pools[key] = httpcore.AsyncConnectionPool(
                **self._options(*key[1:]), network_backend=AsyncDeadlineBackend()
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
