"""AsyncTychoClient: the typed, validating, retrying client of the Tycho API, for async code.

The one source of both faces: ``scripts/generate.py`` makes the raw view at its end and the sync
face (:mod:`tycho_client.client`) from it. Each operation is its signature, its documentation and
one line handing the request to ``_call`` with its entry in the operations table.
"""

from __future__ import annotations

import builtins
import functools
import os
import time
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

import anyio
import httpx
from pydantic import BaseModel
from typing_extensions import Self, Unpack

from . import _publish
from ._base import BaseTychoClient, DownTally
from ._call import CallPlan
from ._config import AsyncClientKwargs, CallOptions, positive_seconds
from ._conversation import PAUSED, Conversation, Exchange, Pause, Reply, ending
from ._defaults import DEFAULT_URL
from ._generated.operations import DELETE, MODIFY, START, STATUS, Operation
from ._raw import RawResponse
from ._transport import DEADLINE, AsyncDeadlineTransport
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

__all__ = ["AsyncTychoClient"]

ResponseT = TypeVar("ResponseT", bound=BaseModel)
T = TypeVar("T")

# Module level so tests can replace the waits between retries.
_sleep = anyio.sleep


class AsyncTychoClient(BaseTychoClient[httpx.AsyncClient, httpx.AsyncBaseTransport]):
    """A client of one Tycho API server.

    ``url`` is the server's base URL (``/system/...`` is appended). The options are keywords,
    each documented in :class:`~tycho_client._config.AsyncClientKwargs`: ``timeout`` (seconds
    for every phase, or an :class:`httpx.Timeout`; ``None``: none, as in httpx), ``deadline``
    (seconds a whole call may take, retries included; ``None``: none), ``max_retries``,
    ``retry_policy``, ``headers``, ``token`` (never shown), ``verify``, ``username``,
    ``http_client`` (used as given, never closed here), ``transport``, ``max_response_bytes``
    and ``max_concurrency``.

    Every operation takes ``timeout``, ``deadline``, ``max_retries`` and ``extra_headers`` for one
    call (:class:`~tycho_client._config.CallOptions`). Use the client as a context manager, or
    call :meth:`aclose`.
    """

    def __init__(self, url: str = DEFAULT_URL, **options: Unpack[AsyncClientKwargs]) -> None:
        super().__init__(url, options)

    def with_options(self, url: str | None = None, **changes: Unpack[AsyncClientKwargs]) -> Self:
        """A copy with some options changed.

        The copy shares this client's HTTP connection pool (and its bound on requests in flight)
        unless ``http_client``, ``transport``, ``verify`` or ``max_concurrency`` is given; a
        shared pool stays owned (and closed) by this client.
        """
        return self._copy(url, changes)

    def _new_http(
        self,
        transport: httpx.AsyncBaseTransport | None,
        verify: Callable[[], Any],
        timeout: httpx.Timeout,
        limits: httpx.Limits,
        headers: Mapping[str, str],
    ) -> httpx.AsyncClient:
        if transport is None:
            transport = AsyncDeadlineTransport(ssl_context=verify, limits=limits)
        return httpx.AsyncClient(transport=transport, timeout=timeout, headers=headers)

    @functools.cached_property
    def with_raw_response(self) -> AsyncTychoClientWithRawResponse:
        """The same operations, each answering with the :class:`~tycho_client.RawResponse` (the
        httpx response, and ``.parse()`` for the model) instead of the model."""
        return AsyncTychoClientWithRawResponse(self)

    # async-only: begin
    def _hard_deadline(self, plan: CallPlan) -> Any:
        return anyio.fail_after(max(plan.left(), 0.0))

    def _shielded(self) -> Any:
        return anyio.CancelScope(shield=True)

    # The sync face inherits the blocking twin from the base: hence the override of its type.
    async def _read_body(  # type: ignore[override]
        self, prepared: PreparedRequest, response: httpx.Response, plan: CallPlan
    ) -> bytes:
        reader = self._reader(prepared, response, plan)
        if response.is_stream_consumed:
            return reader.already_read(response.content)
        async for chunk in response.aiter_raw():
            reader.feed(chunk)
        return reader.body()

    # async-only: end

    # ---------------------------------------------------------------------------- plumbing

    async def _send(
        self, prepared: PreparedRequest, plan: CallPlan
    ) -> tuple[httpx.Response, bytes]:
        """Send until an answer is final: the answer and its body, or a TychoTransportError."""
        token = DEADLINE.set(plan.ends_at if plan.deadline is not None else None)
        try:
            attempt = 0
            while True:
                timeout = plan.attempt_timeout(prepared, attempt)
                started = time.perf_counter()
                try:
                    with self._deadline_scope(plan):
                        response, body = await self._attempt(prepared, plan, timeout)
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
                await _sleep(delay)
                attempt += 1
        finally:
            DEADLINE.reset(token)

    async def _attempt(
        self, prepared: PreparedRequest, plan: CallPlan, timeout: httpx.Timeout
    ) -> tuple[httpx.Response, bytes]:
        """One exchange: a slot in the pool, the request, the whole (bounded) body."""
        async with (
            self._slots,
            self._http.stream(
                "POST",
                self._url(prepared),
                content=prepared.content,
                headers=plan.headers,
                timeout=timeout,
            ) as response,
        ):
            return response, await self._read_body(prepared, response, plan)

    async def _exchange(
        self, operation: Operation[Any, ResponseT], request: object, options: CallOptions
    ) -> RawResponse[ResponseT]:
        """Send ``request`` as ``operation`` and receive its answer (what the raw views return)."""
        prepared = prepare(operation, request)
        plan = self._plan(options)
        response, body = await self._send(prepared, plan)
        return self._answer(prepared, response, body, operation, plan)

    async def _call(
        self, operation: Operation[Any, ResponseT], request: object, options: CallOptions
    ) -> ResponseT:
        return (await self._exchange(operation, request, options)).parse()

    async def _exchange_start(
        self, request: StartRequest, options: CallOptions
    ) -> RawResponse[StartResponse]:
        """A start, sent again with integer GPUs if the GPU assertion refused it (one deadline)."""
        plan = self._plan(options)
        while True:
            prepared = prepare(START, self._for_server(request))
            response, body = await self._send(prepared, plan)
            raw = self._answer(prepared, response, body, START, plan)
            if not self._learned_from(raw):
                return raw

    async def _call_start(self, request: StartRequest, options: CallOptions) -> StartResponse:
        return (await self._exchange_start(request, options)).parse()

    async def _converse(self, conversation: Conversation[T], options: CallOptions) -> T:
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
                reply = await self._reply(asked, options)
            except TychoTransportError as exc:
                reply = exc
            except BaseException as exc:
                with self._shielded():
                    await self._converse(ending(conversation, exc), options)
                raise

    async def _reply(self, asked: Exchange | Pause, options: CallOptions) -> Reply:
        if isinstance(asked, Pause):
            await _sleep(asked.seconds)
            return PAUSED
        prepared = prepare_service(asked.operation, asked.body)
        response, body = await self._send(prepared, self._plan(self._step_options(asked, options)))
        return Reply(response.status_code, response.headers.get("content-type", ""), body)

    async def _exchange_service(
        self, service: str, request: Mapping[str, Any] | BaseModel | None, options: CallOptions
    ) -> RawResponse[dict[str, Any]]:
        prepared = prepare_service(service, request)
        plan = self._plan(options)
        response, body = await self._send(prepared, plan)
        return self._answer_object(prepared, response, body, plan)

    async def _call_service(
        self, service: str, request: Mapping[str, Any] | BaseModel | None, options: CallOptions
    ) -> dict[str, Any]:
        return (await self._exchange_service(service, request, options)).parse()

    # -------------------------------------------------------------------------- operations

    async def request(
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
        return await self._call_service(service, request, options)

    async def start(
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
        return await self._call_start(self._start_request(request), options)

    async def status(
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
        return await self._call(STATUS, self._by_guid(request, "name", "list"), options)

    async def delete(
        self, request: DeleteRequest | Mapping[str, Any] | str, **options: Unpack[CallOptions]
    ) -> DeleteResponse:
        """Delete the system whose GUID is ``request["name"]`` (or ``request`` itself; a full
        name is reduced to its GUID). For a system name as ``status`` shows it, see :meth:`down`."""
        return await self._call(DELETE, self._by_guid(request, "name", "down"), options)

    async def modify(
        self, request: ModifyRequest | Mapping[str, Any], **options: Unpack[CallOptions]
    ) -> ModifyResponse:
        """Add labels and set cpu/memory of a running system.

        No tycho-api release routes it: those servers raise
        :class:`~tycho_client.errors.TychoNotFoundError`.
        """
        return await self._call(MODIFY, request, options)

    async def up(
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
        return await self._call_start(
            self._up_request(name, system, settings, services, serviceaccount), options
        )

    @overload
    async def list(
        self, name: str | None = None, terse: Literal[False] = False, **options: Unpack[CallOptions]
    ) -> builtins.list[SystemStatus]: ...

    @overload
    async def list(
        self, name: str | None, terse: Literal[True], **options: Unpack[CallOptions]
    ) -> builtins.list[str]: ...

    @overload
    async def list(
        self, name: str | None = None, *, terse: Literal[True], **options: Unpack[CallOptions]
    ) -> builtins.list[str]: ...

    @overload
    async def list(
        self, name: str | None = None, terse: bool = False, **options: Unpack[CallOptions]
    ) -> builtins.list[SystemStatus] | builtins.list[str]: ...

    async def list(
        self, name: str | None = None, terse: bool = False, **options: Unpack[CallOptions]
    ) -> builtins.list[SystemStatus] | builtins.list[str]:
        """The running systems: all, or those ``name`` names (a GUID, a full name
        ``{name}-{guid}``, or a system name as ``status`` shows it, which several systems may
        share); ``terse``: GUIDs only.

        One entry per Deployment, as the server reports them; with ``terse`` each GUID once.
        """
        guid = None if name is None else guid_in(name)
        response = await self._call(STATUS, None if guid is None else {"name": guid}, options)
        systems = response.result if name is None or guid else self._named(response.result, name)
        return self._guids(systems) if terse else systems

    async def down(
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
            response, body = await self._send(lookup, plan)
            running = self._answer(lookup, response, body, STATUS, plan).parse().result
            deletes = prepare_down(self._resolved(listed, running, all_matching))
        for prepared in deletes:
            try:
                response, body = await self._send(prepared, plan)
                self._answer(prepared, response, body, DELETE, plan).parse()
            except TychoError as exc:
                tally.add(prepared, exc)
            else:
                tally.add(prepared)
        return tally.result()

    async def wait_ready(
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
                last = await self._call(STATUS, {"name": guid}, {"deadline": poll})
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
            await _sleep(min(interval, remaining))

    async def server_traits(self, **options: Unpack[CallOptions]) -> ServerTraits:
        """What this server does and the tycho-api releases it behaves like, learned from four
        answers that change nothing on it (:mod:`tycho_client.traits` lists them): its error
        format, the GPU assertion, ``ephemeralStorage``, readiness (shown by a running system),
        modify, and ambassador mode when a start of this client showed it. No release reports
        its version. The client remembers the GPU assertion for its starts.
        """
        return await self._converse(self._probe_traits(options), options)

    async def verify(
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
        return await self._converse(self._verification(write, deadline, on_check), {})

    # --------------------------------------------------------------------------- lifecycle

    async def aclose(self) -> None:
        """Close the HTTP connection pool, if this client made it."""
        if self._owns_http:
            await self._http.aclose()

    # async-only: begin
    async def close(self) -> None:
        """The same as :meth:`aclose`."""
        await self.aclose()

    # async-only: end

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


_publish(__name__, globals())


# ---- generated by scripts/generate.py from the methods above: do not edit below ----


class AsyncTychoClientWithRawResponse:
    """``client.with_raw_response`` of :class:`~tycho_client.AsyncTychoClient`: each operation
    with the same parameters and checks, answering with the
    :class:`~tycho_client.RawResponse` behind its model."""

    def __init__(self, client: AsyncTychoClient) -> None:
        self._client = client

    async def request(
        self,
        service: str,
        request: Mapping[str, Any] | BaseModel | None = None,
        **options: Unpack[CallOptions],
    ) -> RawResponse[dict[str, Any]]:
        """:meth:`AsyncTychoClient.request`, answering with its RawResponse."""
        return await self._client._exchange_service(service, request, options)

    async def start(
        self, request: StartRequest | Mapping[str, Any], **options: Unpack[CallOptions]
    ) -> RawResponse[StartResponse]:
        """:meth:`AsyncTychoClient.start`, answering with its RawResponse."""
        return await self._client._exchange_start(self._client._start_request(request), options)

    async def status(
        self,
        request: StatusRequest | Mapping[str, Any] | str | None = None,
        **options: Unpack[CallOptions],
    ) -> RawResponse[StatusResponse]:
        """:meth:`AsyncTychoClient.status`, answering with its RawResponse."""
        return await self._client._exchange(
            STATUS, self._client._by_guid(request, "name", "list"), options
        )

    async def delete(
        self, request: DeleteRequest | Mapping[str, Any] | str, **options: Unpack[CallOptions]
    ) -> RawResponse[DeleteResponse]:
        """:meth:`AsyncTychoClient.delete`, answering with its RawResponse."""
        return await self._client._exchange(
            DELETE, self._client._by_guid(request, "name", "down"), options
        )

    async def modify(
        self, request: ModifyRequest | Mapping[str, Any], **options: Unpack[CallOptions]
    ) -> RawResponse[ModifyResponse]:
        """:meth:`AsyncTychoClient.modify`, answering with its RawResponse."""
        return await self._client._exchange(MODIFY, request, options)

    async def up(
        self,
        name: str,
        system: Mapping[str, Any] | str | os.PathLike[str] | ComposeSystem,
        settings: str | Mapping[str, Any] | None = None,
        *,
        services: Mapping[str, Any] | None = None,
        serviceaccount: str | None = None,
        **options: Unpack[CallOptions],
    ) -> RawResponse[StartResponse]:
        """:meth:`AsyncTychoClient.up`, answering with its RawResponse."""
        return await self._client._exchange_start(
            self._client._up_request(name, system, settings, services, serviceaccount), options
        )
