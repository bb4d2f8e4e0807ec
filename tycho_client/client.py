# Generated from aio.py by scripts/generate.py: edit aio.py, not this file.
"""TychoClient: the typed, validating, retrying client of the Tycho API.

For blocking code; generated from :mod:`tycho_client.aio` by ``scripts/generate.py``: edit
that file, not this one.
"""

from __future__ import annotations

import builtins
import functools
import os
import time
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

import httpx
from pydantic import BaseModel
from typing_extensions import Self, Unpack

from . import _publish
from ._base import BaseTychoClient, DownTally
from ._call import CallPlan
from ._config import CallOptions, ClientKwargs, positive_seconds
from ._conversation import PAUSED, Conversation, Exchange, Pause, Reply, ending
from ._defaults import DEFAULT_URL
from ._generated.operations import DELETE, MODIFY, START, STATUS, Operation
from ._raw import RawResponse
from ._transport import DEADLINE, DeadlineTransport
from .build import PreparedRequest, prepare, prepare_down, prepare_service
from .errors import TychoError, TychoTimeoutError, TychoTransportError
from .models import (
    ComposeSystem,
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
from .naming import guid_in

if TYPE_CHECKING:
    from .traits import ServerTraits
    from .verify import Check, VerificationReport

__all__ = ["TychoClient"]

ResponseT = TypeVar("ResponseT", bound=BaseModel)
T = TypeVar("T")

# Module level so tests can replace the waits between retries.
_sleep = time.sleep


class TychoClient(BaseTychoClient[httpx.Client, httpx.BaseTransport]):
    """A client of one Tycho API server.

    ``url`` is the server's base URL (``/system/...`` is appended). The options are keywords,
    each documented in :class:`~tycho_client._config.ClientKwargs`: ``timeout`` (seconds
    for every phase, or an :class:`httpx.Timeout`; ``None``: none, as in httpx), ``deadline``
    (seconds a whole call may take, retries included; ``None``: none), ``max_retries``,
    ``retry_policy``, ``headers``, ``token`` (never shown), ``verify``, ``username``,
    ``http_client`` (used as given, never closed here), ``transport``, ``max_response_bytes``
    and ``max_concurrency``.

    Every operation takes ``timeout``, ``deadline``, ``max_retries`` and ``extra_headers`` for one
    call (:class:`~tycho_client._config.CallOptions`). Use the client as a context manager, or
    call :meth:`close`.
    """

    def __init__(self, url: str = DEFAULT_URL, **options: Unpack[ClientKwargs]) -> None:
        super().__init__(url, options)

    def with_options(self, url: str | None = None, **changes: Unpack[ClientKwargs]) -> Self:
        """A copy with some options changed.

        The copy shares this client's HTTP connection pool (and its bound on requests in flight)
        unless ``http_client``, ``transport``, ``verify`` or ``max_concurrency`` is given; a
        shared pool stays owned (and closed) by this client.
        """
        return self._copy(url, changes)

    def _new_http(
        self,
        transport: httpx.BaseTransport | None,
        verify: Callable[[], Any],
        timeout: httpx.Timeout,
        limits: httpx.Limits,
        headers: Mapping[str, str],
    ) -> httpx.Client:
        if transport is None:
            transport = DeadlineTransport(ssl_context=verify, limits=limits)
        return httpx.Client(transport=transport, timeout=timeout, headers=headers)

    @functools.cached_property
    def with_raw_response(self) -> TychoClientWithRawResponse:
        """The same operations, each answering with the :class:`~tycho_client.RawResponse` (the
        httpx response, and ``.parse()`` for the model) instead of the model."""
        return TychoClientWithRawResponse(self)

    # ---------------------------------------------------------------------------- plumbing

    def _send(self, prepared: PreparedRequest, plan: CallPlan) -> tuple[httpx.Response, bytes]:
        """Send until an answer is final: the answer and its body, or a TychoTransportError."""
        token = DEADLINE.set(plan.ends_at if plan.deadline is not None else None)
        try:
            attempt = 0
            while True:
                timeout = plan.attempt_timeout(prepared, attempt)
                started = time.perf_counter()
                try:
                    with self._deadline_scope(plan):
                        response, body = self._attempt(prepared, plan, timeout)
                except httpx.TransportError as exc:
                    delay = plan.after_failure(prepared, exc, attempt, started, timeout)
                except TimeoutError:
                    raise plan.deadline_error(prepared, attempt + 1) from None
                except BaseException as interruption:  # Ctrl-C, a cancellation: noted, not kept
                    plan.note_interruption(prepared, interruption)
                    raise
                else:
                    after = plan.after_response(prepared, response, attempt, started)
                    if after is None:
                        return response, body
                    delay = after
                _sleep(delay)
                attempt += 1
        finally:
            DEADLINE.reset(token)

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

    def _exchange(
        self, operation: Operation[Any, ResponseT], request: object, options: CallOptions
    ) -> RawResponse[ResponseT]:
        """Send ``request`` as ``operation`` and receive its answer (what the raw views return)."""
        prepared = prepare(operation, request)
        plan = self._plan(options)
        response, body = self._send(prepared, plan)
        return self._answer(prepared, response, body, operation, plan)

    def _call(
        self, operation: Operation[Any, ResponseT], request: object, options: CallOptions
    ) -> ResponseT:
        return (self._exchange(operation, request, options)).parse()

    def _exchange_start(
        self, request: StartRequest, options: CallOptions
    ) -> RawResponse[StartResponse]:
        """A start, sent again with integer GPUs if the GPU assertion refused it (one deadline)."""
        plan = self._plan(options)
        while True:
            prepared = prepare(START, self._for_server(request))
            response, body = self._send(prepared, plan)
            raw = self._answer(prepared, response, body, START, plan)
            if not self._learned_from(raw):
                return raw

    def _call_start(self, request: StartRequest, options: CallOptions) -> StartResponse:
        return (self._exchange_start(request, options)).parse()

    def _converse(self, conversation: Conversation[T], options: CallOptions) -> T:
        """Send what a conversation (:mod:`tycho_client._conversation`) asks and hand it the
        answers; interrupted (Ctrl-C, a cancelled task), it still sends what it asks to clean up."""
        reply: Reply | TychoTransportError | None = None
        while True:
            try:
                if reply is None:
                    asked = next(conversation)
                elif isinstance(reply, TychoTransportError):
                    asked = conversation.throw(reply)
                else:
                    asked = conversation.send(reply)
            except StopIteration as done:
                result: T = done.value
                return result
            try:
                reply = self._reply(asked, options)
            except TychoTransportError as exc:
                reply = exc
            except BaseException as exc:
                with self._shielded():
                    self._converse(ending(conversation, exc), options)
                raise

    def _reply(self, asked: Exchange | Pause, options: CallOptions) -> Reply:
        if isinstance(asked, Pause):
            _sleep(asked.seconds)
            return PAUSED
        prepared = prepare_service(asked.operation, asked.body)
        response, body = self._send(prepared, self._plan(self._step_options(asked, options)))
        return Reply(response.status_code, response.headers.get("content-type", ""), body)

    def _exchange_service(
        self, service: str, request: Mapping[str, Any] | BaseModel | None, options: CallOptions
    ) -> RawResponse[dict[str, Any]]:
        prepared = prepare_service(service, request)
        plan = self._plan(options)
        response, body = self._send(prepared, plan)
        return self._answer_object(prepared, response, body, plan)

    def _call_service(
        self, service: str, request: Mapping[str, Any] | BaseModel | None, options: CallOptions
    ) -> dict[str, Any]:
        return (self._exchange_service(service, request, options)).parse()

    # -------------------------------------------------------------------------- operations

    def request(
        self,
        service: str,
        request: Mapping[str, Any] | BaseModel | None = None,
        **options: Unpack[CallOptions],
    ) -> dict[str, Any]:
        """``POST {url}/system/{service}`` with ``request`` as JSON; the answer's JSON object.

        The generic layer under the typed methods: no model validation and no ``"status":
        "error"`` check, but the same transport, HTTP and retry rules (only operations the
        document marks safe to retry are retried once they may have reached the server).
        """
        return self._call_service(service, request, options)

    def start(
        self, request: StartRequest | Mapping[str, Any], **options: Unpack[CallOptions]
    ) -> StartResponse:
        """Start a system. ``request`` is a :class:`StartRequest` or a mapping validated into one.

        A missing ``principal`` becomes ``{"username": <username>}`` (see the class), a missing
        ``serviceaccount`` ``"default"``. ``env`` may be ``.env`` text. Retried only when the
        request surely never reached the server (the connection failed), or once when a server
        that asserts integer GPUs (tycho-api 1.14.0 - 1.17.1) refused it for them while reading
        it: then it is sent with integer ``gpus`` in every compose service (``0`` where none is
        asked for), as every later start of this client is.
        """
        return self._call_start(self._start_request(request), options)

    def status(
        self,
        request: StatusRequest | Mapping[str, Any] | str | None = None,
        **options: Unpack[CallOptions],
    ) -> StatusResponse:
        """The systems running: all (``None``), by ``name`` (a GUID, or a full name
        ``{name}-{guid}``, also given alone as ``request``) or by ``username``. For a system
        name as ``status`` shows it, see :meth:`list`.

        Retried with backoff on connection errors, timeouts, 502/503/504 and 429 (honouring
        ``Retry-After``), up to ``max_retries`` times.
        """
        return self._call(STATUS, self._by_guid(request, "name", "list"), options)

    def delete(
        self, request: DeleteRequest | Mapping[str, Any] | str, **options: Unpack[CallOptions]
    ) -> DeleteResponse:
        """Delete the system whose GUID is ``request["name"]`` (or ``request`` itself; a full
        name is reduced to its GUID). For a system name as ``status`` shows it, see :meth:`down`."""
        return self._call(DELETE, self._by_guid(request, "name", "down"), options)

    def modify(
        self, request: ModifyRequest | Mapping[str, Any], **options: Unpack[CallOptions]
    ) -> ModifyResponse:
        """Add labels and set cpu/memory of a running system.

        No tycho-api release routes it: those servers raise
        :class:`~tycho_client.errors.TychoNotFoundError`.
        """
        return self._call(MODIFY, request, options)

    def up(
        self,
        name: str,
        system: Mapping[str, Any] | str | os.PathLike[str] | ComposeSystem,
        settings: str | Mapping[str, Any] | None = None,
        *,
        services: Mapping[str, Any] | None = None,
        serviceaccount: str | None = None,
        **options: Unpack[CallOptions],
    ) -> StartResponse:
        """Start a compose document with its ``.env`` ``settings``.

        ``system`` is a mapping, YAML text, a compose file's path (:class:`pathlib.Path`; its
        folder's ``.env`` is read unless ``settings`` are given) or a :class:`ComposeSystem`.
        The name is formatted (:func:`~tycho_client.format_name`), ``settings`` parsed
        (:func:`~tycho_client.parse_env`, or given as a mapping), ``${VAR}`` in the document
        substituted from ``settings`` only, ``services`` derived from each compose service's
        first ``ports`` entry unless given, and ``principal`` and ``serviceaccount`` filled in.
        """
        return self._call_start(
            self._up_request(name, system, settings, services, serviceaccount), options
        )

    @overload
    def list(
        self, name: str | None = None, terse: Literal[False] = False, **options: Unpack[CallOptions]
    ) -> builtins.list[SystemStatus]: ...

    @overload
    def list(
        self, name: str | None, terse: Literal[True], **options: Unpack[CallOptions]
    ) -> builtins.list[str]: ...

    @overload
    def list(
        self, name: str | None = None, *, terse: Literal[True], **options: Unpack[CallOptions]
    ) -> builtins.list[str]: ...

    @overload
    def list(
        self, name: str | None = None, terse: bool = False, **options: Unpack[CallOptions]
    ) -> builtins.list[SystemStatus] | builtins.list[str]: ...

    def list(
        self, name: str | None = None, terse: bool = False, **options: Unpack[CallOptions]
    ) -> builtins.list[SystemStatus] | builtins.list[str]:
        """The running systems: all, or those ``name`` names (a GUID, a full name
        ``{name}-{guid}``, or a system name as ``status`` shows it, which several systems may
        share); ``terse``: GUIDs only.

        One entry per Deployment, as the server reports them; with ``terse`` each GUID once.
        """
        guid = None if name is None else guid_in(name)
        response = self._call(STATUS, None if guid is None else {"name": guid}, options)
        systems = response.result if name is None or guid else self._named(response.result, name)
        return self._guids(systems) if terse else systems

    def down(
        self,
        names: Iterable[str] | str,
        *,
        all_matching: bool = False,
        **options: Unpack[CallOptions],
    ) -> builtins.list[str]:
        """Delete the systems these names name; the GUIDs deleted, in order.

        A name is a GUID, a full name ``{name}-{guid}``, or a system name as ``status`` shows
        it: that must name one running system (else
        :class:`~tycho_client.errors.TychoSystemNotFoundError`), or several with
        ``all_matching`` (else :class:`~tycho_client.errors.TychoAmbiguousNameError`, listing
        them). Every name is checked before any delete is sent. Every delete is tried; if any
        failed, :class:`~tycho_client.errors.TychoDownError` is raised afterwards, carrying
        ``deleted`` and ``failed`` (GUID -> error). Real servers answer success for unknown
        GUIDs, so an unknown GUID counts as deleted. The deadline bounds the whole ``down``: a
        delete left without time fails at once with
        :class:`~tycho_client.errors.TychoTimeoutError` (in ``failed``).
        """
        tally = DownTally()
        listed = [names] if isinstance(names, str) else builtins.list(names)
        deletes = prepare_down(listed)  # every name checked before anything is sent
        plan = self._plan(options)  # one deadline for all of them
        if any(guid_in(name) is None for name in listed):
            lookup = prepare(STATUS, None)
            response, body = self._send(lookup, plan)
            running = self._answer(lookup, response, body, STATUS, plan).parse().result
            deletes = prepare_down(self._resolved(listed, running, all_matching))
        for prepared in deletes:
            try:
                response, body = self._send(prepared, plan)
                self._answer(prepared, response, body, DELETE, plan).parse()
            except TychoError as exc:
                tally.add(prepared, exc)
            else:
                tally.add(prepared)
        return tally.result()

    def wait_ready(
        self,
        guid: str,
        *,
        deadline: float = 300.0,
        interval: float = 2.0,
        on_poll: Callable[[builtins.list[SystemStatus]], object] | None = None,
    ) -> builtins.list[SystemStatus]:
        """Poll ``status`` until every Deployment of system ``guid`` is ready; return them.

        ``deadline`` bounds the whole wait in seconds: each poll's deadline is the client's, cut
        to the time left; then :class:`~tycho_client.errors.TychoNotReadyError` names the GUID
        and what the last poll saw. A server that lists the system without ``is_ready`` does not
        report readiness (tycho-api 1.15.0 and older): that poll raises
        :class:`~tycho_client.errors.TychoReadinessUnknownError` at once. ``on_poll`` is called
        with each poll's systems (to show progress).
        """
        positive_seconds(deadline, "deadline")
        positive_seconds(interval, "interval")
        ends_at = time.monotonic() + deadline
        last: StatusResponse | None = None
        while True:
            left = max(ends_at - time.monotonic(), 0.001)
            poll = left if self.deadline is None else min(self.deadline, left)
            try:
                last = self._call(STATUS, {"name": guid}, {"deadline": poll})
            except TychoTimeoutError:
                # A poll cut short by the end of the wait: the server did answer before.
                if last is None or time.monotonic() < ends_at:
                    raise
                raise self._not_ready_error(guid, deadline, last) from None
            if on_poll is not None:
                on_poll(last.result)
            if self._ready(guid, deadline, last):
                return last.result
            remaining = ends_at - time.monotonic()
            if remaining <= 0:
                raise self._not_ready_error(guid, deadline, last)
            _sleep(min(interval, remaining))

    def server_traits(self, **options: Unpack[CallOptions]) -> ServerTraits:
        """What this server does and the tycho-api releases it behaves like, learned from four
        answers that change nothing on it (:mod:`tycho_client.traits` lists them): its error
        format, the GPU assertion, ``ephemeralStorage``, readiness (shown by a running system),
        modify, and ambassador mode when a start of this client showed it. No release reports
        its version. The client remembers the GPU assertion for its starts.
        """
        return self._converse(self._probe_traits(options), options)

    def verify(
        self,
        *,
        write: bool = False,
        deadline: float = 120.0,
        on_check: Callable[[Check], object] | None = None,
    ) -> VerificationReport:
        """Check this server against the document: each promise its answers bear on, and the
        releases it behaves like (:mod:`tycho_client.verify`). Read-only unless ``write``: then
        a tiny probe system is started, found in status and deleted, and deleted in any case,
        also on failure, timeout or interruption (the ``cleanup`` check says whether it could).

        ``deadline`` bounds the verification (the clean-up has 30 s more); each call also has
        the client's. ``on_check`` is called with each check as it is made. An unreachable
        server raises :class:`~tycho_client.errors.TychoTransportError`.
        """
        return self._converse(self._verification(write, deadline, on_check), {})

    # --------------------------------------------------------------------------- lifecycle

    def close(self) -> None:
        """Close the HTTP connection pool, if this client made it."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


_publish(__name__, globals())


# ---- generated by scripts/generate.py from the methods above: do not edit below ----


class TychoClientWithRawResponse:
    """``client.with_raw_response`` of :class:`~tycho_client.TychoClient`: each operation
    with the same parameters and checks, answering with the
    :class:`~tycho_client.RawResponse` behind its model."""

    def __init__(self, client: TychoClient) -> None:
        self._client = client

    def request(
        self,
        service: str,
        request: Mapping[str, Any] | BaseModel | None = None,
        **options: Unpack[CallOptions],
    ) -> RawResponse[dict[str, Any]]:
        """:meth:`TychoClient.request`, answering with its RawResponse."""
        return self._client._exchange_service(service, request, options)

    def start(
        self, request: StartRequest | Mapping[str, Any], **options: Unpack[CallOptions]
    ) -> RawResponse[StartResponse]:
        """:meth:`TychoClient.start`, answering with its RawResponse."""
        return self._client._exchange_start(self._client._start_request(request), options)

    def status(
        self,
        request: StatusRequest | Mapping[str, Any] | str | None = None,
        **options: Unpack[CallOptions],
    ) -> RawResponse[StatusResponse]:
        """:meth:`TychoClient.status`, answering with its RawResponse."""
        return self._client._exchange(
            STATUS, self._client._by_guid(request, "name", "list"), options
        )

    def delete(
        self, request: DeleteRequest | Mapping[str, Any] | str, **options: Unpack[CallOptions]
    ) -> RawResponse[DeleteResponse]:
        """:meth:`TychoClient.delete`, answering with its RawResponse."""
        return self._client._exchange(
            DELETE, self._client._by_guid(request, "name", "down"), options
        )

    def modify(
        self, request: ModifyRequest | Mapping[str, Any], **options: Unpack[CallOptions]
    ) -> RawResponse[ModifyResponse]:
        """:meth:`TychoClient.modify`, answering with its RawResponse."""
        return self._client._exchange(MODIFY, request, options)

    def up(
        self,
        name: str,
        system: Mapping[str, Any] | str | os.PathLike[str] | ComposeSystem,
        settings: str | Mapping[str, Any] | None = None,
        *,
        services: Mapping[str, Any] | None = None,
        serviceaccount: str | None = None,
        **options: Unpack[CallOptions],
    ) -> RawResponse[StartResponse]:
        """:meth:`TychoClient.up`, answering with its RawResponse."""
        return self._client._exchange_start(
            self._client._up_request(name, system, settings, services, serviceaccount), options
        )
