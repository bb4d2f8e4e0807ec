"""What :class:`~tycho_client.TychoClient` and its async twin share: everything but the I/O.

The options (:class:`~tycho_client._config.ClientOptions`), the connection pool, ``with_options``,
request preparation (:mod:`tycho_client.build`), the retry decision (:mod:`tycho_client._retry`)
and the mapping of answers (:mod:`tycho_client._response`) meet here; the faces in
:mod:`tycho_client.aio` and :mod:`tycho_client.client` (generated from ``aio``) only send, sleep
and await.
"""

from __future__ import annotations

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
    NOT_GIVEN,
    ClientOptions,
    NotGiven,
    check_retries,
    positive_seconds,
    resolve_timeout,
    ssl_verify,
)
from ._raw import RawResponse, raw_requested
from ._response import parse, parse_object, transport_error
from ._retry import RetryPolicy, next_delay
from .build import PreparedRequest
from .errors import TychoDownError, TychoError, TychoNotReadyError, TychoTransportError, summarize
from .models import DeleteRequest, StartRequest, StatusResponse, SystemStatus
from .naming import format_name

__all__ = ["BaseTychoClient", "DownTally"]

logger = logging.getLogger("tycho_client")

HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)
TransportT = TypeVar("TransportT", httpx.BaseTransport, httpx.AsyncBaseTransport)
ModelT = TypeVar("ModelT", bound=BaseModel)
T = TypeVar("T")


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
            )
        )

    def _configure(self, options: ClientOptions, shared_http: HttpT | None = None) -> None:
        self._options = options
        self._http: HttpT
        self._owns_http = shared_http is None and options.http_client is None
        # On a pool we make, what every client on it sends (JSON, User-Agent) and the timeout are
        # set once, on the httpx client: cheaper per call. The token and the headers option go
        # with each request, so that a with_options copy on the same pool can change them. A
        # caller's http_client keeps its own timeout, User-Agent, limits, proxies and hooks.
        ours = options.http_client is None
        if shared_http is not None:
            self._http = shared_http
        elif not ours:
            self._http = options.http_client
        else:
            self._http = self._new_http(
                options.transport,
                ssl_verify(options.verify),
                options.timeout,
                options.pool_headers(),
            )
        self._fixed: dict[str, Any] = {}
        headers = options.call_headers(own_pool=ours)
        if headers:
            self._fixed["headers"] = headers
        if (options.timeout_given or ours) and options.timeout != self._http.timeout:
            self._fixed["timeout"] = options.timeout

    def _new_http(
        self,
        transport: TransportT | None,
        verify: bool | ssl.SSLContext,
        timeout: httpx.Timeout,
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
            f"timeout={options.timeout!r}, max_retries={options.max_retries}, "
            f"username={options.username!r})"
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
    ) -> Self:
        """A copy with some options changed.

        The copy shares this client's HTTP connection pool unless ``http_client``, ``transport``
        or ``verify`` is given; a shared pool stays owned (and closed) by this client.
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
        )
        copy = object.__new__(type(self))
        copy._configure(options, self._http if shares_pool else None)
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

    def _call_timeout(self, timeout: float | httpx.Timeout | None) -> httpx.Timeout:
        return self.timeout if timeout is None else resolve_timeout(timeout)

    def _per_call(
        self, timeout: float | httpx.Timeout | None, extra_headers: Mapping[str, str] | None
    ) -> dict[str, Any]:
        """The keyword arguments of one ``post``: only what the pool does not already have."""
        if timeout is None and extra_headers is None:
            return self._fixed
        kwargs = dict(self._fixed)
        if timeout is not None:
            kwargs["timeout"] = resolve_timeout(timeout)
        if extra_headers is not None:
            kwargs["headers"] = {**kwargs.get("headers", {}), **extra_headers}
        return kwargs

    def _answer(
        self, prepared: PreparedRequest, response: httpx.Response, expected: type[ModelT]
    ) -> ModelT:
        """The model of an answer (or, for with_raw_response, the RawResponse behind it)."""
        where = self._options.display_url
        return _deliver(response, functools.partial(parse, prepared, response, expected, where))

    def _answer_object(self, prepared: PreparedRequest, response: httpx.Response) -> dict[str, Any]:
        """The JSON object of an answer to a generic ``request`` (or its RawResponse)."""
        where = self._options.display_url
        return _deliver(response, functools.partial(parse_object, prepared, response, where))

    def _call_retries(self, max_retries: int | None) -> int:
        return self._options.max_retries if max_retries is None else check_retries(max_retries)

    def _url(self, prepared: PreparedRequest) -> str:
        return self._options.url + prepared.path

    def _after_response(
        self,
        prepared: PreparedRequest,
        response: httpx.Response,
        attempt: int,
        retries: int,
        started: float,
    ) -> float | None:
        """Log an answer; the wait before another attempt, or None to return it."""
        logger.debug(
            "POST %s%s -> %d in %.1f ms",
            self._options.display_url,
            prepared.path,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return next_delay(
            self._options.retry_policy,
            prepared.path,
            prepared.idempotent,
            attempt,
            retries,
            response=response,
        )

    def _after_failure(
        self,
        prepared: PreparedRequest,
        error: httpx.TransportError,
        attempt: int,
        retries: int,
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
        delay = next_delay(
            self._options.retry_policy,
            prepared.path,
            prepared.idempotent,
            attempt,
            retries,
            error=error,
        )
        if delay is None:
            raise self._transport_error(prepared, error, timeout) from error
        return delay

    def _transport_error(
        self, prepared: PreparedRequest, error: httpx.TransportError, timeout: httpx.Timeout
    ) -> TychoTransportError:
        return transport_error(prepared, error, timeout, self._options.display_url)

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


def _deliver(response: httpx.Response, parsed: Callable[[], T]) -> T:
    if not raw_requested():
        return parsed()
    if not response.is_success:
        parsed()  # raises the TychoHTTPError a plain call raises
    # The with_raw_response wrappers declare this type; the plain methods never see it.
    return cast("T", RawResponse(response, parsed))


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
