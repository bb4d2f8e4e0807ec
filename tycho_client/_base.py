"""What :class:`~tycho_client.TychoClient` and its async twin share: everything but the I/O.

The options (:class:`~tycho_client._config.ClientOptions`), the connection pool, ``with_options``,
request preparation (:mod:`tycho_client.build`), the retry decision (:mod:`tycho_client._retry`)
and the mapping of answers (:mod:`tycho_client._response`) meet here; the faces in
:mod:`tycho_client.aio` and :mod:`tycho_client.client` (generated from ``aio``) only send, sleep
and await.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import ssl
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar, cast

import httpx
from pydantic import BaseModel
from typing_extensions import Self

from . import build
from ._config import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_URL,
    MAX_CONCURRENCY,
    MAX_RESPONSE_BYTES,
    NOT_GIVEN,
    ClientOptions,
    NotGiven,
    check_deadline,
    check_headers,
    check_retries,
    derived_deadline,
    positive_seconds,
    resolve_timeout,
    ssl_verify,
)
from ._deadline import DEADLINE, TaskSlots, ThreadSlots, install
from ._raw import RawResponse, raw_requested
from ._response import BodyReader, parse, parse_object, readable, transport_error
from ._retry import RETRY_AFTER_STATUSES, RetryPolicy, retry_after, should_retry
from .build import PreparedRequest
from .errors import (
    TychoDownError,
    TychoError,
    TychoNotReadyError,
    TychoTimeoutError,
    TychoTransportError,
    summarize,
)
from .models import DeleteRequest, StartRequest, StatusResponse, SystemStatus
from .naming import format_name

__all__ = ["BaseTychoClient", "CallPlan", "DownTally"]

logger = logging.getLogger("tycho_client")

HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)
TransportT = TypeVar("TransportT", httpx.BaseTransport, httpx.AsyncBaseTransport)
ModelT = TypeVar("ModelT", bound=BaseModel)
T = TypeVar("T")


# A timeout this close to the deadline was the deadline's doing.
_DEADLINE_SLACK = 0.05


class CallPlan:
    """One call's budget (its per-phase timeout, its retries, when its deadline falls) and the
    headers its requests add to the pool's."""

    __slots__ = ("deadline", "ends_at", "headers", "longest", "retries", "timeout")

    def __init__(
        self,
        timeout: httpx.Timeout,
        retries: int,
        deadline: float,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.headers = headers
        self.timeout = timeout
        self.retries = retries
        self.deadline = deadline
        self.ends_at = time.monotonic() + deadline
        self.longest = max(timeout.connect or 0.0, timeout.read or 0.0, timeout.write or 0.0)

    def left(self) -> float:
        """Seconds until the deadline (negative once it has passed)."""
        return self.ends_at - time.monotonic()

    def attempt_timeout(self) -> httpx.Timeout:
        """The timeout of the next attempt: each phase capped at the time left."""
        left = self.ends_at - time.monotonic()
        timeout = self.timeout
        if left >= self.longest and left >= (timeout.pool or 0.0):
            return timeout
        left = max(left, 0.001)
        return httpx.Timeout(
            connect=min(timeout.connect or left, left),
            read=min(timeout.read or left, left),
            write=min(timeout.write or left, left),
            pool=min(timeout.pool or left, left),
        )


class BaseTychoClient(Generic[HttpT, TransportT]):
    """The options and connection pool of a Tycho client, without the I/O.

    The options are documented on :class:`~tycho_client.TychoClient`.
    """

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        headers: Mapping[str, str] | None = None,
        token: str | None = None,
        verify: bool | str = True,
        username: str | None = None,
        http_client: HttpT | None = None,
        transport: TransportT | None = None,
        retry_policy: RetryPolicy | None = None,
        deadline: float | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        max_concurrency: int = MAX_CONCURRENCY,
    ) -> None:
        self._configure(
            ClientOptions.create(
                url,
                timeout=timeout,
                max_retries=max_retries,
                headers=headers,
                token=token,
                verify=verify,
                username=username,
                http_client=http_client,
                transport=transport,
                retry_policy=retry_policy,
                deadline=deadline,
                max_response_bytes=max_response_bytes,
                max_concurrency=max_concurrency,
            )
        )

    def _configure(
        self, options: ClientOptions, shared: BaseTychoClient[Any, Any] | None = None
    ) -> None:
        self._options = options
        ours = options.http_client is None
        # On a pool we make, what every request carries (JSON, User-Agent) is set once, on the
        # httpx client; the token and the headers option go with each request, so that a
        # with_options copy on the same pool can change them. A caller's http_client keeps its
        # own timeout, User-Agent, limits, proxies and hooks: it gets only what the API needs.
        self._headers: dict[str, str] | None = options.call_headers(own_pool=ours) or None
        self._http: HttpT
        self._urls: dict[str, httpx.URL] = {}
        self._deadline_enforced = False
        """Whether every socket operation of the pool honours the deadline (our own pool)."""
        if shared is not None:
            self._http, self._owns_http = shared._http, False
            self._slots: Any = shared._slots
            self._deadline_enforced = shared._deadline_enforced
            return
        if options.http_client is not None:
            self._http, self._owns_http = options.http_client, False
        else:
            verify = ssl_verify(options.verify)
            limits = httpx.Limits(
                max_connections=options.max_concurrency,
                # Every connection may stay open for the next request: reuse, not reconnects.
                max_keepalive_connections=options.max_concurrency,
            )
            self._http = self._new_http(
                options.transport, verify, options.timeout, limits, options.pool_headers()
            )
            self._owns_http = True
            if options.transport is None:
                # Our own pools enforce each call's deadline on every socket operation.
                self._deadline_enforced = all(
                    [
                        install(pool_transport)
                        for pool_transport in (
                            getattr(self._http, "_transport", None),
                            *getattr(self._http, "_mounts", {}).values(),
                        )
                        if pool_transport is not None
                    ]
                    or [False]
                )
        # What bounds this client's requests in flight: a semaphore of its face's kind.
        is_async = isinstance(self._http, httpx.AsyncClient)
        self._slots = (TaskSlots if is_async else ThreadSlots)(options.max_concurrency)

    def _new_http(
        self,
        transport: TransportT | None,
        verify: bool | ssl.SSLContext,
        timeout: httpx.Timeout,
        limits: httpx.Limits,
        headers: Mapping[str, str],
    ) -> HttpT:
        """The connection pool this client owns (an ``httpx.Client`` or ``httpx.AsyncClient``)."""
        raise NotImplementedError

    # ----------------------------------------------------------------------------- options

    @property
    def base_url(self) -> str:
        """The server's URL, without a trailing slash."""
        return self._options.url

    @property
    def display_url(self) -> str:
        """``base_url`` with any password masked (``http://user:***@host``): what messages show."""
        return self._options.display_url

    @property
    def timeout(self) -> httpx.Timeout:
        """The default timeout of every call (a given ``http_client``'s own, unless set here)."""
        if self._options.http_client is not None and not self._options.timeout_given:
            return resolve_timeout(self._http.timeout)
        return self._options.timeout

    @property
    def max_retries(self) -> int:
        """The default number of retries of a call."""
        return self._options.max_retries

    @property
    def deadline(self) -> float:
        """The default deadline of a call in seconds, retries and waits included."""
        return self._options.call_deadline

    @property
    def max_response_bytes(self) -> int:
        """The most bytes an answer's body may have, after decompression."""
        return self._options.max_response_bytes

    @property
    def max_concurrency(self) -> int:
        """The connection pool's size: this client's requests in flight at most."""
        return self._options.max_concurrency

    @property
    def username(self) -> str | None:
        """The ``username`` option (``None``: ``TYCHO_USERNAME``, else the OS user)."""
        return self._options.username

    @property
    def http_client(self) -> HttpT:
        """The httpx client this client sends with."""
        return self._http

    def __repr__(self) -> str:
        options = self._options
        return (
            f"{type(self).__name__}(base_url={options.display_url!r}, "
            f"timeout={options.timeout!r}, deadline={options.call_deadline:g}, "
            f"max_retries={options.max_retries}, username={options.username!r})"
        )

    def with_options(
        self,
        *,
        url: str | NotGiven = NOT_GIVEN,
        timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        headers: Mapping[str, str] | NotGiven | None = NOT_GIVEN,
        token: str | NotGiven | None = NOT_GIVEN,
        verify: bool | str | NotGiven = NOT_GIVEN,
        username: str | NotGiven | None = NOT_GIVEN,
        http_client: HttpT | NotGiven | None = NOT_GIVEN,
        transport: TransportT | NotGiven | None = NOT_GIVEN,
        retry_policy: RetryPolicy | NotGiven | None = NOT_GIVEN,
        deadline: float | NotGiven | None = NOT_GIVEN,
        max_response_bytes: int | NotGiven = NOT_GIVEN,
        max_concurrency: int | NotGiven = NOT_GIVEN,
    ) -> Self:
        """A copy with some options changed.

        The copy shares this client's HTTP connection pool (and its bound on requests in flight)
        unless ``http_client``, ``transport``, ``verify`` or ``max_concurrency`` is given; a
        shared pool stays owned (and closed) by this client.
        """
        options, shares_pool = self._options.replace(
            url=url,
            timeout=timeout,
            max_retries=max_retries,
            headers=headers,
            token=token,
            verify=verify,
            username=username,
            http_client=http_client,
            transport=transport,
            retry_policy=retry_policy,
            deadline=deadline,
            max_response_bytes=max_response_bytes,
            max_concurrency=max_concurrency,
        )
        copy = object.__new__(type(self))
        copy._configure(options, self if shares_pool else None)
        return copy

    # ------------------------------------------------------------------------------ helpers

    def format_name(self, name: str) -> str:
        """``name`` as a valid system name (see :func:`tycho_client.naming.format_name`)."""
        return format_name(name)

    def parse_env(self, environment: str) -> dict[str, str]:
        """``.env`` text as a mapping (see :func:`tycho_client.envfile.parse_env`)."""
        from .envfile import parse_env

        return parse_env(environment)

    # ------------------------------------------------------------- what the faces ask of us

    def _prepare_start(self, request: StartRequest | Mapping[str, Any]) -> PreparedRequest:
        return build.prepare("start", build.start_request(request, self._options.username))

    def _up_request(
        self,
        name: str,
        system: Mapping[str, Any] | str,
        settings: str | Mapping[str, Any],
        services: Mapping[str, Any] | None,
        serviceaccount: str | None,
    ) -> StartRequest:
        return build.up_request(
            name,
            system,
            settings,
            services=services,
            serviceaccount=serviceaccount,
            username=self._options.username,
        )

    def _plan(
        self,
        timeout: float | httpx.Timeout | None,
        max_retries: int | None,
        deadline: float | None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> CallPlan:
        """The budget of one call: the options, overridden by what the call gives."""
        options = self._options
        call_timeout = self.timeout if timeout is None else resolve_timeout(timeout)
        if deadline is not None:
            seconds = check_deadline(deadline) or options.call_deadline
        elif options.deadline is not None or (timeout is None and call_timeout == options.timeout):
            seconds = options.call_deadline
        else:
            seconds = derived_deadline(call_timeout)
        retries = options.max_retries if max_retries is None else check_retries(max_retries)
        headers = self._headers
        if extra_headers is not None:
            headers = {**(headers or {}), **check_headers(extra_headers, "extra_headers")}
        return CallPlan(call_timeout, retries, seconds, headers)

    def _url(self, prepared: PreparedRequest) -> httpx.URL:
        # Parsed once per path: httpx parses a string URL on every request (~20 us).
        url = self._urls.get(prepared.path)
        if url is None:
            url = httpx.URL(self._options.send_url + prepared.path)
            if len(self._urls) < 32:  # a few operations; request() may name any service
                self._urls[prepared.path] = url
        return url

    def _begin(self, prepared: PreparedRequest, plan: CallPlan, attempt: int) -> httpx.Timeout:
        """The timeout of an attempt about to start; a TychoTimeoutError if no time is left."""
        if plan.left() <= 0:
            raise self._deadline_error(prepared, plan, attempt, sent=attempt > 0)
        return plan.attempt_timeout()

    def _reader(
        self, prepared: PreparedRequest, response: httpx.Response, plan: CallPlan
    ) -> BodyReader:
        return BodyReader(
            prepared,
            response,
            self._options.display_url,
            self._options.max_response_bytes,
            plan.ends_at,
        )

    def _read_body(
        self, prepared: PreparedRequest, response: httpx.Response, plan: CallPlan
    ) -> bytes:
        """The decoded body of a streamed answer, within the size limit and the deadline."""
        reader = self._reader(prepared, response, plan)
        if response.is_stream_consumed:
            return reader.already_read(response.content)
        for chunk in response.iter_raw():
            reader.feed(chunk)
        return reader.body()

    def _deadline_scope(self, plan: CallPlan) -> contextlib.AbstractContextManager[Any]:
        """Nothing for our own pool, which bounds every socket operation; for a transport we
        did not make, a scope cancelling the attempt at the deadline (async only: the sync face
        checks the clock between the body's chunks)."""
        if self._deadline_enforced:
            return contextlib.nullcontext()
        return self._hard_deadline(plan)

    def _hard_deadline(self, plan: CallPlan) -> contextlib.AbstractContextManager[Any]:
        return contextlib.nullcontext()

    def _enter_deadline(self, plan: CallPlan) -> Any:
        return DEADLINE.set(plan.ends_at)

    @staticmethod
    def _exit_deadline(token: Any) -> None:
        DEADLINE.reset(token)

    def _after_response(
        self,
        prepared: PreparedRequest,
        response: httpx.Response,
        attempt: int,
        plan: CallPlan,
        started: float,
    ) -> float | None:
        """Log an answer; the wait before another attempt, or None to return it.

        A ``Retry-After`` longer than the time left fails at once (TychoTimeoutError); a backoff
        longer than that makes this answer the last.
        """
        logger.debug(
            "POST %s%s -> %d in %.1f ms",
            self._options.display_url,
            prepared.path,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        if not should_retry(prepared.idempotent, attempt, plan.retries, response=response):
            return None
        left = plan.left()
        asked = retry_after(response) if response.status_code in RETRY_AFTER_STATUSES else None
        if asked is not None and asked >= left:
            url = f"{self._options.display_url}{prepared.path}"
            raise TychoTimeoutError(
                f"POST {url} answered HTTP {response.status_code} and asked to retry after "
                f"{asked:.12g} s, more than the {max(left, 0.0):.1f} s left of the call's "
                f"{plan.deadline:g} s deadline",
                url=url,
            )
        return self._delay(prepared, attempt, plan, left, response)

    def _delay(
        self,
        prepared: PreparedRequest,
        attempt: int,
        plan: CallPlan,
        left: float,
        response: httpx.Response | None = None,
    ) -> float | None:
        delay = self._options.retry_policy.backoff(attempt, response)
        if delay >= left:
            return None
        logger.debug(
            "retrying POST %s in %.3f s (attempt %d of %d)",
            prepared.path,
            delay,
            attempt + 2,
            plan.retries + 1,
        )
        return delay

    def _after_failure(
        self,
        prepared: PreparedRequest,
        error: httpx.TransportError,
        attempt: int,
        plan: CallPlan,
        started: float,
        timeout: httpx.Timeout,
    ) -> float:
        """Log a failure; the wait before another attempt, or raise the TychoTransportError."""
        logger.debug(
            "POST %s%s -> %s after %.1f ms",
            self._options.display_url,
            prepared.path,
            type(error).__name__,
            (time.perf_counter() - started) * 1000,
        )
        left = plan.left()
        if isinstance(error, httpx.TimeoutException) and left <= _DEADLINE_SLACK:
            raise self._deadline_error(prepared, plan, attempt + 1, error=error) from error
        delay = None
        if should_retry(prepared.idempotent, attempt, plan.retries, error=error):
            delay = self._delay(prepared, attempt, plan, left)
        if delay is None:
            raise self._transport_error(prepared, error, timeout) from error
        return delay

    def _deadline_error(
        self,
        prepared: PreparedRequest,
        plan: CallPlan,
        attempts: int,
        *,
        sent: bool = True,
        error: Exception | None = None,
    ) -> TychoTimeoutError:
        url = f"{self._options.display_url}{prepared.path}"
        tries = f" ({attempts} attempts)" if attempts > 1 else ""
        unknown = (
            ""
            if prepared.idempotent
            or not sent
            or (error is not None and isinstance(error, (httpx.ConnectTimeout, httpx.PoolTimeout)))
            else f"; the server may have carried out the {prepared.operation} anyway: "
            "check the systems' status before trying again"
        )
        what = "no complete answer" if sent else "not sent: no time left"
        return TychoTimeoutError(
            f"POST {url}: {what} within the call's {plan.deadline:g} s deadline{tries}{unknown}",
            url=url,
        )

    def _transport_error(
        self, prepared: PreparedRequest, error: httpx.TransportError, timeout: httpx.Timeout
    ) -> TychoTransportError:
        return transport_error(prepared, error, timeout, self._options.display_url)

    def _parse(
        self,
        prepared: PreparedRequest,
        response: httpx.Response,
        body: bytes,
        expected: type[ModelT],
    ) -> ModelT:
        """The model of an answer (or, for with_raw_response, the RawResponse behind it)."""
        where = self._options.display_url
        parsed = functools.partial(parse, prepared, response, body, expected, where)
        return _deliver(response, body, parsed)

    def _parse_object(
        self, prepared: PreparedRequest, response: httpx.Response, body: bytes
    ) -> dict[str, Any]:
        """The JSON object of an answer to a generic ``request`` (or its RawResponse)."""
        where = self._options.display_url
        return _deliver(
            response, body, functools.partial(parse_object, prepared, response, body, where)
        )

    @staticmethod
    def _guids(systems: Iterable[SystemStatus]) -> list[str]:
        """The GUIDs of ``systems``, once each (a system may have several Deployments)."""
        # A system without the tycho-guid label still needs a handle: its full name, from
        # which DeleteRequest and StatusRequest recover the GUID.
        return list(dict.fromkeys(system.sid or system.name for system in systems))

    @staticmethod
    def _all_ready(response: StatusResponse) -> bool:
        return bool(response.result) and all(system.is_ready for system in response.result)

    @staticmethod
    def _check_wait(timeout: float, interval: float) -> None:
        positive_seconds(timeout, "timeout")
        positive_seconds(interval, "interval")

    @staticmethod
    def _not_ready_error(
        guid: str, timeout: float, last: StatusResponse | None
    ) -> TychoNotReadyError:
        if last is None or not last.result:
            state = "the server does not list it"
        else:
            ready = sum(system.is_ready for system in last.result)
            state = f"{ready} of {len(last.result)} deployments ready"
        return TychoNotReadyError(
            f"system {guid} was not ready within {timeout:g} s ({state})",
            guid=guid,
            timeout=timeout,
        )


def _deliver(response: httpx.Response, body: bytes, parsed: Callable[[], T]) -> T:
    if not raw_requested():
        return parsed()
    if not response.is_success:
        parsed()  # raises the TychoHTTPError a plain call raises
    # The with_raw_response methods declare this type; the plain methods never see it.
    return cast("T", RawResponse(readable(response, body), parsed))


class DownTally:
    """What a ``down`` deleted and what failed; :meth:`result` raises if anything failed."""

    def __init__(self) -> None:
        self.deleted: list[str] = []
        self.failed: dict[str, TychoError] = {}

    def add(self, prepared: PreparedRequest, error: TychoError | None = None) -> None:
        if not isinstance(prepared.model, DeleteRequest):
            raise TypeError("DownTally counts delete requests only")
        guid = prepared.model.name
        if error is None:
            self.deleted.append(guid)
        else:
            self.failed[guid] = error

    def result(self) -> list[str]:
        if not self.failed:
            return self.deleted
        total = len(self.deleted) + len(self.failed)
        reasons = summarize(f"{guid}: {error}" for guid, error in self.failed.items())
        raise TychoDownError(
            f"could not delete {len(self.failed)} of {total} systems: {reasons}",
            deleted=self.deleted,
            failed=self.failed,
        )
