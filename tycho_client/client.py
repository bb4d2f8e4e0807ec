# Generated from aio.py by scripts/unasync.py: edit aio.py, not this file.
"""TychoClient: the typed, validating, retrying client of the Tycho API, with blocking I/O.

Every method validates its input before anything is sent (a
:class:`~tycho_client.errors.TychoValidationError` names the field path), sends with finite
timeouts, retries what is safe to retry, and returns the response model of the OpenAPI document or
raises one error of :mod:`tycho_client.errors`. Every decision is made in
:mod:`tycho_client._base`; this face only sends and sleeps.

Generated from :mod:`tycho_client.aio` by ``scripts/unasync.py``: edit that file.
"""

from __future__ import annotations

import builtins
import functools
import ssl
import time
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any, Literal, TypeVar, overload

import httpx
from pydantic import BaseModel

from ._base import BaseTychoClient, CallPlan, DownTally
from ._raw import RawResponse, to_raw
from .build import PreparedRequest, prepare_down, prepare_operation, prepare_raw
from .errors import TychoError, TychoTimeoutError
from .models import (
    DeleteRequest,
    DeleteResponse,
    ModifyRequest,
    ModifyResponse,
    StartRequest,
    StartResponse,
    StatusRequest,
    StatusResponse,
    SystemStatus,
)

__all__ = ["TychoClient", "TychoClientWithRawResponse"]

ModelT = TypeVar("ModelT", bound=BaseModel)
Timeout = float | httpx.Timeout | None
Headers = Mapping[str, str] | None

# Module level so tests can replace the waits between retries.
_sleep = time.sleep


class TychoClient(BaseTychoClient[httpx.Client, httpx.BaseTransport]):
    """A client of one Tycho API server.

    ``url`` is the server's base URL (``/system/...`` is appended). ``timeout`` is a number of
    seconds for every phase or an :class:`httpx.Timeout`; ``None`` means the default (connect 5 s,
    read 30 s): a call never waits forever. ``max_retries`` bounds the retries of one call (see
    :meth:`status`); 0 disables them. ``headers`` are added to every request; ``token`` is sent as
    ``Authorization: Bearer`` and never shown. ``verify`` is ``True`` (system CAs), a CA bundle
    path, or ``False``. ``username`` names the principal of started systems (default: the
    ``TYCHO_USERNAME`` environment variable, else the OS user, read at call time).
    ``http_client`` is used as given (not closed by :meth:`close`), else one is made with
    ``transport`` and ``verify``. ``retry_policy`` sets the backoff between retries.

    ``deadline`` bounds each call as a whole, in seconds: every attempt, every read and every
    wait between retries (default: the connect plus the read timeout, 35 s); a call that runs out
    raises :class:`~tycho_client.errors.TychoTimeoutError`. ``max_response_bytes`` bounds an
    answer's body after decompression (default 64 MiB; over it:
    :class:`~tycho_client.errors.TychoResponseError`). ``max_concurrency`` is the connection
    pool's size and the most requests this client has in flight (default 10); more calls wait
    for a free slot, within their deadline. ``timeout``, ``max_retries`` and ``deadline`` can
    also be given per call.

    Use it as a context manager, or call :meth:`close`.
    """

    def _new_http(
        self,
        transport: httpx.BaseTransport | None,
        verify: bool | ssl.SSLContext,
        timeout: httpx.Timeout,
        limits: httpx.Limits,
        headers: Mapping[str, str],
    ) -> httpx.Client:
        return httpx.Client(
            transport=transport, verify=verify, timeout=timeout, limits=limits, headers=headers
        )

    @functools.cached_property
    def with_raw_response(self) -> TychoClientWithRawResponse:
        """The same operations, each returning the :class:`~tycho_client.RawResponse` (the
        httpx response and ``.parse()`` for the model) instead of the model."""
        return TychoClientWithRawResponse(self)

    # ---------------------------------------------------------------------------- plumbing

    def _send(self, prepared: PreparedRequest, plan: CallPlan) -> tuple[httpx.Response, bytes]:
        """Send until an answer is final: the answer and its body, or a TychoTransportError."""
        token = self._enter_deadline(plan)
        try:
            attempt = 0
            while True:
                timeout = self._begin(prepared, plan, attempt)
                started = time.perf_counter()
                try:
                    with self._deadline_scope(plan):
                        response, body = self._attempt(prepared, plan, timeout)
                except httpx.TransportError as exc:
                    delay = self._after_failure(prepared, exc, attempt, plan, started, timeout)
                except TimeoutError:
                    raise self._deadline_error(prepared, plan, attempt + 1) from None
                else:
                    after = self._after_response(prepared, response, attempt, plan, started)
                    if after is None:
                        return response, body
                    delay = after
                _sleep(delay)
                attempt += 1
        finally:
            self._exit_deadline(token)

    def _attempt(
        self, prepared: PreparedRequest, plan: CallPlan, timeout: httpx.Timeout
    ) -> tuple[httpx.Response, bytes]:
        """One exchange: a slot in the pool, the request, the whole (bounded) body."""
        with (
            self._slots,
            self._http.stream(
                "POST",
                self._url(prepared),
                content=prepared.content,
                headers=plan.headers,
                timeout=timeout,
            ) as response,
        ):
            return response, self._read_body(prepared, response, plan)

    def _call(
        self,
        prepared: PreparedRequest,
        expected: type[ModelT],
        plan: CallPlan,
    ) -> ModelT:
        response, body = self._send(prepared, plan)
        return self._parse(prepared, response, body, expected)

    # -------------------------------------------------------------------------- operations

    def request(
        self,
        service: str,
        request: Mapping[str, Any] | BaseModel | None = None,
        *,
        timeout: Timeout = None,
        max_retries: int | None = None,
        deadline: float | None = None,
        extra_headers: Headers = None,
    ) -> dict[str, Any]:
        """``POST {url}/system/{service}`` with ``request`` as JSON; the answer's JSON object.

        The generic layer under the typed methods: no model validation and no ``"status":
        "error"`` check, but the same transport, HTTP and retry rules (only ``status`` and
        ``delete`` are retried once they may have reached the server).
        """
        prepared = prepare_raw(service, request)
        response, body = self._send(
            prepared, self._plan(timeout, max_retries, deadline, extra_headers)
        )
        return self._parse_object(prepared, response, body)

    def start(
        self,
        request: StartRequest | Mapping[str, Any],
        *,
        timeout: Timeout = None,
        max_retries: int | None = None,
        deadline: float | None = None,
        extra_headers: Headers = None,
    ) -> StartResponse:
        """Start a system. ``request`` is a :class:`StartRequest` or a mapping validated into one.

        A missing ``principal`` becomes ``{"username": <username>}`` (see the class), a missing
        ``serviceaccount`` ``"default"``. ``env`` may be ``.env`` text. Retried only when the
        request surely never reached the server (the connection failed).
        """
        prepared = self._prepare_start(request)
        return self._call(
            prepared, StartResponse, self._plan(timeout, max_retries, deadline, extra_headers)
        )

    def status(
        self,
        request: StatusRequest | Mapping[str, Any] | None = None,
        *,
        timeout: Timeout = None,
        max_retries: int | None = None,
        deadline: float | None = None,
        extra_headers: Headers = None,
    ) -> StatusResponse:
        """The systems running: all (``None``), by ``name`` (GUID) or by ``username``.

        Retried with backoff on connection errors, timeouts, 502/503/504 and 429 (honouring
        ``Retry-After``), up to ``max_retries`` times.
        """
        prepared = prepare_operation("status", request)
        return self._call(
            prepared, StatusResponse, self._plan(timeout, max_retries, deadline, extra_headers)
        )

    def delete(
        self,
        request: DeleteRequest | Mapping[str, Any],
        *,
        timeout: Timeout = None,
        max_retries: int | None = None,
        deadline: float | None = None,
        extra_headers: Headers = None,
    ) -> DeleteResponse:
        """Delete the system whose GUID is ``request["name"]`` (a full name is reduced to it)."""
        prepared = prepare_operation("delete", request)
        return self._call(
            prepared, DeleteResponse, self._plan(timeout, max_retries, deadline, extra_headers)
        )

    def modify(
        self,
        request: ModifyRequest | Mapping[str, Any],
        *,
        timeout: Timeout = None,
        max_retries: int | None = None,
        deadline: float | None = None,
        extra_headers: Headers = None,
    ) -> ModifyResponse:
        """Add labels and set cpu/memory of a running system.

        Servers without the route (tycho-api 1.17.3) raise
        :class:`~tycho_client.errors.TychoNotFoundError`.
        """
        prepared = prepare_operation("modify", request)
        return self._call(
            prepared, ModifyResponse, self._plan(timeout, max_retries, deadline, extra_headers)
        )

    def up(
        self,
        name: str,
        system: Mapping[str, Any] | str,
        settings: str | Mapping[str, Any] = "",
        *,
        services: Mapping[str, Any] | None = None,
        serviceaccount: str | None = None,
        timeout: Timeout = None,
        max_retries: int | None = None,
        deadline: float | None = None,
        extra_headers: Headers = None,
    ) -> StartResponse:
        """Start a compose document (a mapping, or YAML text) with its ``.env`` ``settings``.

        The name is formatted (:func:`~tycho_client.format_name`), ``settings`` parsed
        (:func:`~tycho_client.parse_env`, or given as a mapping), ``${VAR}`` in the document
        substituted from ``settings`` only, ``services`` derived from each compose service's
        first ``ports`` entry unless given, and ``principal`` and ``serviceaccount`` filled in.
        """
        model = self._up_request(name, system, settings, services, serviceaccount)
        return self.start(
            model,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            extra_headers=extra_headers,
        )

    @overload
    def list(
        self,
        name: str | None = None,
        terse: Literal[False] = False,
        *,
        timeout: Timeout = None,
        max_retries: int | None = None,
        deadline: float | None = None,
        extra_headers: Headers = None,
    ) -> builtins.list[SystemStatus]: ...

    @overload
    def list(
        self,
        name: str | None,
        terse: Literal[True],
        *,
        timeout: Timeout = None,
        max_retries: int | None = None,
        deadline: float | None = None,
        extra_headers: Headers = None,
    ) -> builtins.list[str]: ...

    @overload
    def list(
        self,
        name: str | None = None,
        *,
        terse: Literal[True],
        timeout: Timeout = None,
        max_retries: int | None = None,
        deadline: float | None = None,
        extra_headers: Headers = None,
    ) -> builtins.list[str]: ...

    @overload
    def list(
        self,
        name: str | None = None,
        terse: bool = False,
        *,
        timeout: Timeout = None,
        max_retries: int | None = None,
        deadline: float | None = None,
        extra_headers: Headers = None,
    ) -> builtins.list[SystemStatus] | builtins.list[str]: ...

    def list(
        self,
        name: str | None = None,
        terse: bool = False,
        *,
        timeout: Timeout = None,
        max_retries: int | None = None,
        deadline: float | None = None,
        extra_headers: Headers = None,
    ) -> builtins.list[SystemStatus] | builtins.list[str]:
        """The running systems (all, or the one whose GUID is ``name``); ``terse``: GUIDs only.

        One entry per Deployment, as the server reports them; with ``terse`` each GUID once.
        """
        request = None if name is None else {"name": name}
        response = self.status(
            request,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            extra_headers=extra_headers,
        )
        return self._guids(response.result) if terse else response.result

    def down(
        self,
        names: Iterable[str] | str,
        *,
        timeout: Timeout = None,
        max_retries: int | None = None,
        deadline: float | None = None,
        extra_headers: Headers = None,
    ) -> builtins.list[str]:
        """Delete the systems with these GUIDs (or full names); the GUIDs deleted, in order.

        Every name is validated before any request is sent. Every delete is tried; if any
        failed, :class:`~tycho_client.errors.TychoDownError` is raised afterwards, carrying
        ``deleted`` and ``failed`` (GUID -> error). Real servers answer success for unknown
        GUIDs, so an unknown GUID counts as deleted. The deadline bounds the whole ``down``: a
        delete left without time fails at once with
        :class:`~tycho_client.errors.TychoTimeoutError` (in ``failed``).
        """
        tally = DownTally()
        prepared_deletes = prepare_down(names)
        plan = self._plan(
            timeout, max_retries, deadline, extra_headers
        )  # one deadline for all of them
        for prepared in prepared_deletes:
            try:
                self._call(prepared, DeleteResponse, plan)
            except TychoError as exc:
                tally.add(prepared, exc)
            else:
                tally.add(prepared)
        return tally.result()

    def wait_ready(
        self, guid: str, timeout: float = 300.0, interval: float = 2.0
    ) -> builtins.list[SystemStatus]:
        """Poll ``status`` until every Deployment of system ``guid`` is ready; return them.

        Raises :class:`~tycho_client.errors.TychoNotReadyError` naming the GUID after ``timeout``
        seconds. ``timeout`` bounds the whole wait: each poll's deadline is the client's, cut
        to the time left.
        """
        self._check_wait(timeout, interval)
        deadline = time.monotonic() + timeout
        last: StatusResponse | None = None
        while True:
            poll = min(self.deadline, max(deadline - time.monotonic(), 0.001))
            try:
                last = self.status({"name": guid}, deadline=poll)
            except TychoTimeoutError:
                # A poll cut short by the end of the wait: the server did answer before.
                if last is None or time.monotonic() < deadline:
                    raise
                raise self._not_ready_error(guid, timeout, last) from None
            if self._all_ready(last):
                return last.result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._not_ready_error(guid, timeout, last)
            _sleep(min(interval, remaining))

    # --------------------------------------------------------------------------- lifecycle

    def close(self) -> None:
        """Close the HTTP connection pool, if this client made it."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> TychoClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class TychoClientWithRawResponse:
    """``client.with_raw_response``: each single-request operation of the client, with the same
    parameters and checks, answering with the :class:`~tycho_client.RawResponse` behind its
    model (``tests/test_options.py`` keeps the signatures equal to the client's)."""

    def __init__(self, client: TychoClient) -> None:
        self._client = client

    def request(
        self,
        service: str,
        request: Mapping[str, Any] | BaseModel | None = None,
        *,
        timeout: Timeout = None,
        max_retries: int | None = None,
        deadline: float | None = None,
        extra_headers: Headers = None,
    ) -> RawResponse[dict[str, Any]]:
        """:meth:`TychoClient.request`, answering with its RawResponse."""
        call = to_raw(self._client.request)
        return call(
            service,
            request,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            extra_headers=extra_headers,
        )

    def start(
        self,
        request: StartRequest | Mapping[str, Any],
        *,
        timeout: Timeout = None,
        max_retries: int | None = None,
        deadline: float | None = None,
        extra_headers: Headers = None,
    ) -> RawResponse[StartResponse]:
        """:meth:`TychoClient.start`, answering with its RawResponse."""
        call = to_raw(self._client.start)
        return call(
            request,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            extra_headers=extra_headers,
        )

    def status(
        self,
        request: StatusRequest | Mapping[str, Any] | None = None,
        *,
        timeout: Timeout = None,
        max_retries: int | None = None,
        deadline: float | None = None,
        extra_headers: Headers = None,
    ) -> RawResponse[StatusResponse]:
        """:meth:`TychoClient.status`, answering with its RawResponse."""
        call = to_raw(self._client.status)
        return call(
            request,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            extra_headers=extra_headers,
        )

    def delete(
        self,
        request: DeleteRequest | Mapping[str, Any],
        *,
        timeout: Timeout = None,
        max_retries: int | None = None,
        deadline: float | None = None,
        extra_headers: Headers = None,
    ) -> RawResponse[DeleteResponse]:
        """:meth:`TychoClient.delete`, answering with its RawResponse."""
        call = to_raw(self._client.delete)
        return call(
            request,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            extra_headers=extra_headers,
        )

    def modify(
        self,
        request: ModifyRequest | Mapping[str, Any],
        *,
        timeout: Timeout = None,
        max_retries: int | None = None,
        deadline: float | None = None,
        extra_headers: Headers = None,
    ) -> RawResponse[ModifyResponse]:
        """:meth:`TychoClient.modify`, answering with its RawResponse."""
        call = to_raw(self._client.modify)
        return call(
            request,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            extra_headers=extra_headers,
        )

    def up(
        self,
        name: str,
        system: Mapping[str, Any] | str,
        settings: str | Mapping[str, Any] = "",
        *,
        services: Mapping[str, Any] | None = None,
        serviceaccount: str | None = None,
        timeout: Timeout = None,
        max_retries: int | None = None,
        deadline: float | None = None,
        extra_headers: Headers = None,
    ) -> RawResponse[StartResponse]:
        """:meth:`TychoClient.up`, answering with its RawResponse."""
        call = to_raw(self._client.up)
        return call(
            name,
            system,
            settings,
            services=services,
            serviceaccount=serviceaccount,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            extra_headers=extra_headers,
        )
