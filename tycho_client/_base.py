"""What :class:`~tycho_client.TychoClient` and :class:`~tycho_client.AsyncTychoClient` share.

Options (:mod:`tycho_client._config`), the connection pool (:mod:`tycho_client._transport`),
request building (:mod:`tycho_client.build`), the budget of each call (:mod:`tycho_client._call`)
and the mapping of answers (:mod:`tycho_client._response`) meet here. The faces in
:mod:`tycho_client.aio` and :mod:`tycho_client.client` (generated from ``aio``) add the sending
loop, the sleeps and the operations.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import httpx
from pydantic import BaseModel
from typing_extensions import Self

from . import build
from ._body import BodyReader
from ._call import CallPlan
from ._config import (
    CALL_OPTION_NAMES,
    CallOptions,
    Settings,
    check_deadline,
    check_headers,
    check_retries,
    derived_deadline,
    positive_seconds,
    resolve_timeout,
    ssl_context,
    unknown_keywords,
)
from ._conversation import Conversation, Exchange
from ._generated.operations import Operation
from ._knowledge import ServerKnowledge
from ._raw import RawResponse
from ._response import http_error, parse, parse_object
from ._transport import TaskSlots, ThreadSlots
from .build import PreparedRequest
from .errors import (
    FieldError,
    TychoAmbiguousNameError,
    TychoAPIError,
    TychoDownError,
    TychoError,
    TychoNotReadyError,
    TychoReadinessUnknownError,
    TychoSystemNotFoundError,
    TychoValidationError,
    escape_controls,
    summarize,
)
from .models import DeleteRequest, StartRequest, StatusResponse, SystemStatus
from .naming import format_name, guid_in
from .releases import RELEASES, describe

if TYPE_CHECKING:
    from .traits import ServerTraits
    from .verify import Check, VerificationReport

__all__ = ["BaseTychoClient", "DownTally"]

HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)
TransportT = TypeVar("TransportT", httpx.BaseTransport, httpx.AsyncBaseTransport)
ResponseT = TypeVar("ResponseT", bound=BaseModel)


class BaseTychoClient(Generic[HttpT, TransportT]):
    """The options and connection pool of a Tycho client, without the I/O.

    The options are documented on :class:`~tycho_client.TychoClient`.
    """

    def __init__(self, url: str, options: Mapping[str, Any]) -> None:
        self._configure(Settings.resolve(url, options))

    def _configure(
        self, settings: Settings, shared: BaseTychoClient[Any, Any] | None = None
    ) -> None:
        self._settings = settings
        ours = settings.http_client is None
        # On a pool we make, what every request carries (JSON, User-Agent) is set once, on the
        # httpx client; the credentials and the headers option go with each request, so that a
        # with_options copy on the same pool can change them. A caller's http_client keeps its
        # own timeout, User-Agent, limits, proxies and hooks: it gets only what the API needs.
        self._headers: dict[str, str] | None = settings.call_headers(own_pool=ours) or None
        self._urls: dict[str, httpx.URL] = {}
        # What answers taught about the server (traits.py): the same server, the same knowledge.
        same_server = shared is not None and shared._settings.url == settings.url
        self._knowledge: ServerKnowledge = (
            shared._knowledge if shared is not None and same_server else ServerKnowledge()
        )
        if shared is not None:
            self._http: HttpT = shared._http
            self._owns_http = False
            self._slots: Any = shared._slots
            self._deadline_enforced: bool = shared._deadline_enforced
            return
        transport = settings.given.get("transport")
        # Our own transport bounds every socket operation by the call's deadline.
        self._deadline_enforced = ours and transport is None
        if settings.http_client is not None:
            self._http, self._owns_http = settings.http_client, False
        else:
            verify = settings.given.get("verify", True)
            # The system CAs are loaded on the first https request (~50 ms of a command's
            # start-up); a CA bundle given is loaded now, so that a bad one fails here.
            context = None if verify is True else ssl_context(verify)
            limits = httpx.Limits(
                max_connections=settings.max_concurrency,
                # Every connection may stay open for the next request: reuse, not reconnects.
                max_keepalive_connections=settings.max_concurrency,
            )
            self._http = self._new_http(
                transport,
                functools.partial(ssl_context, True) if context is None else lambda: context,
                settings.timeout,
                limits,
                settings.pool_headers(),
            )
            self._owns_http = True
        # What bounds this client's requests in flight: a semaphore of its face's kind.
        is_async = isinstance(self._http, httpx.AsyncClient)
        self._slots = (TaskSlots if is_async else ThreadSlots)(settings.max_concurrency)

    def _new_http(
        self,
        transport: TransportT | None,
        verify: Any,
        timeout: httpx.Timeout,
        limits: httpx.Limits,
        headers: Mapping[str, str],
    ) -> HttpT:
        """The connection pool this client owns (an ``httpx.Client`` or ``httpx.AsyncClient``);
        ``verify`` makes the SSL context, called only for an https request."""
        raise NotImplementedError

    # ----------------------------------------------------------------------------- options

    @property
    def base_url(self) -> str:
        """The server's URL, without a trailing slash."""
        return self._settings.url

    @property
    def display_url(self) -> str:
        """``base_url`` with any password masked (``http://user:***@host``): what messages show."""
        return self._settings.display_url

    @property
    def timeout(self) -> httpx.Timeout:
        """The default timeout of every call (a given ``http_client``'s own, unless set here)."""
        if self._settings.http_client is not None and not self._settings.timeout_given:
            return self._http.timeout
        return self._settings.timeout

    @property
    def max_retries(self) -> int:
        """The default number of retries of a call."""
        return self._settings.max_retries

    @property
    def deadline(self) -> float | None:
        """The default deadline of a call in seconds, retries and waits included (``None``: no
        deadline)."""
        if "deadline" in self._settings.given:
            return self._settings.deadline
        return derived_deadline(self.timeout)

    @property
    def max_response_bytes(self) -> int:
        """The most bytes an answer's body may have, after decompression."""
        return self._settings.max_response_bytes

    @property
    def max_concurrency(self) -> int:
        """The connection pool's size: this client's requests in flight at most."""
        return self._settings.max_concurrency

    @property
    def username(self) -> str | None:
        """The ``username`` option (``None``: ``TYCHO_USERNAME``, else the OS user)."""
        return self._settings.username

    @property
    def http_client(self) -> HttpT:
        """The httpx client this client sends with."""
        return self._http

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._settings.shown()})"

    def _copy(self, url: str | None, changes: Mapping[str, Any]) -> Self:
        """``with_options``: a copy sharing this client's pool unless the pool's options change
        (``http_client``, ``transport``, ``verify``, ``max_concurrency``); a shared pool stays
        owned (and closed) by this client."""
        settings, shares_pool = self._settings.changed(url, changes)
        copy = object.__new__(type(self))
        copy._configure(settings, self if shares_pool else None)
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

    def _start_request(self, request: StartRequest | Mapping[str, Any]) -> StartRequest:
        return build.start_request(request, self._settings.username)

    def _up_request(
        self,
        name: str,
        system: Mapping[str, Any] | str | os.PathLike[str] | BaseModel,
        settings: str | Mapping[str, Any] | None,
        services: Mapping[str, Any] | None,
        serviceaccount: str | None,
    ) -> StartRequest:
        return build.up_request(
            name,
            system,
            settings,
            services=services,
            serviceaccount=serviceaccount,
            username=self._settings.username,
        )

    def _for_server(self, request: StartRequest) -> StartRequest:
        """A start as this server needs it: with integer GPUs where it asserts them."""
        return build.for_gpu_assertion(request) if self._knowledge.gpu_assertion else request

    def _learned_from(self, raw: RawResponse[Any]) -> bool:
        """Learn from a start's answer; ``True``: the GPU assertion refused it just now, before
        creating anything, and it is to be sent again with integer GPUs."""
        try:
            started = raw.parse()
        except TychoAPIError as exc:
            return self._knowledge.refused_for_gpus(exc)
        except TychoError:
            return False
        ports = [endpoint.port_1 for endpoint in started.result.containers.values()]
        self._knowledge.saw_endpoints(ports)
        return False

    def _probe_traits(self, options: Mapping[str, Any]) -> Conversation[ServerTraits]:
        from .traits import probe_traits  # pydantic models that status and down never need

        return probe_traits(self.display_url, self._knowledge, None, self._plan(options).deadline)

    def _verification(
        self, write: bool, deadline: float, on_check: Callable[[Check], object] | None
    ) -> Conversation[VerificationReport]:
        from .verify import verification

        positive_seconds(deadline, "deadline")
        return verification(
            self.display_url,
            self._knowledge,
            write=write,
            seconds=deadline,
            per_call=self.deadline,
            on_check=on_check,
        )

    def _step_options(self, step: Exchange, options: CallOptions) -> CallOptions:
        return options if step.deadline is None else {**options, "deadline": step.deadline}

    def _shielded(self) -> contextlib.AbstractContextManager[Any]:
        """Where an interrupted conversation cleans up (async: shielded from cancellation)."""
        return contextlib.nullcontext()

    def _plan(self, options: Mapping[str, Any]) -> CallPlan:
        """The budget of one call: the client's options, overridden by what the call gives."""
        settings = self._settings
        if not options:
            return CallPlan(
                timeout=self.timeout,
                retries=settings.max_retries,
                deadline=self.deadline,
                headers=self._headers,
                policy=settings.retry_policy,
                where=settings.display_url,
            )
        unknown_keywords(options, CALL_OPTION_NAMES, "a Tycho operation")
        timeout = resolve_timeout(options["timeout"]) if "timeout" in options else self.timeout
        if "deadline" in options:
            deadline = check_deadline(options["deadline"])
        elif "deadline" in settings.given:
            deadline = settings.deadline
        else:
            deadline = derived_deadline(timeout)
        retries = check_retries(options.get("max_retries", settings.max_retries))
        headers = self._headers
        extra = options.get("extra_headers")
        if extra is not None:
            headers = {**(headers or {}), **check_headers(extra, "extra_headers")}
        return CallPlan(
            timeout=timeout,
            retries=retries,
            deadline=deadline,
            headers=headers,
            policy=settings.retry_policy,
            where=settings.display_url,
        )

    def _url(self, prepared: PreparedRequest) -> httpx.URL:
        # Parsed once per path: httpx parses a string URL on every request (~20 us).
        url = self._urls.get(prepared.path)
        if url is None:
            url = httpx.URL(self._settings.send_url + prepared.path)
            if len(self._urls) < 32:  # a few operations; request() may name any service
                self._urls[prepared.path] = url
        return url

    def _reader(
        self, prepared: PreparedRequest, response: httpx.Response, plan: CallPlan
    ) -> BodyReader:
        return BodyReader(
            prepared, response, plan.where, self._settings.max_response_bytes, plan.ends_at
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
        if self._deadline_enforced or plan.deadline is None:
            return contextlib.nullcontext()
        return self._hard_deadline(plan)

    def _hard_deadline(self, plan: CallPlan) -> contextlib.AbstractContextManager[Any]:
        return contextlib.nullcontext()

    def _answer(
        self,
        prepared: PreparedRequest,
        response: httpx.Response,
        body: bytes,
        operation: Operation[Any, ResponseT],
        plan: CallPlan,
    ) -> RawResponse[ResponseT]:
        """A final answer as a RawResponse parsing into ``operation``'s model; a non-2xx
        answer raises its TychoHTTPError here."""
        if not response.is_success:
            raise http_error(prepared, response, body, plan.where)
        return RawResponse(
            response,
            body,
            functools.partial(parse, prepared, response, body, operation, plan.where),
        )

    def _answer_object(
        self, prepared: PreparedRequest, response: httpx.Response, body: bytes, plan: CallPlan
    ) -> RawResponse[dict[str, Any]]:
        """A final answer to a generic ``request`` as a RawResponse parsing into its JSON."""
        if not response.is_success:
            raise http_error(prepared, response, body, plan.where)
        return RawResponse(
            response, body, functools.partial(parse_object, prepared, response, body, plan.where)
        )

    @staticmethod
    def _by_guid(request: Any, key: str, instead: str) -> Any:
        """``request``, or ``{key: request}`` when it is a GUID or a full name given alone."""
        if not isinstance(request, str):
            return request
        if guid_in(request) is None:
            message = (
                f"{request!r} is not a GUID or a full system name such as "
                f"'web-0123456789abcdef0123456789abcdef': to find systems by the name status "
                f"shows, use {instead}(name)"
            )
            raise TychoValidationError(escape_controls(message), [FieldError((key,), message)])
        return {key: request}

    @staticmethod
    def _named(systems: Iterable[SystemStatus], name: str) -> list[SystemStatus]:
        """The systems ``name`` names as ``status`` shows them (or as it would be formatted)."""
        try:
            formatted = format_name(name)
        except TychoValidationError:
            formatted = name
        return [system for system in systems if system.app_id in (name, formatted)]

    def _resolved(
        self, names: list[str], running: list[SystemStatus], all_matching: bool
    ) -> list[str]:
        """``names`` with each system name replaced by the GUIDs of the systems it names; a
        name that names none, or several without ``all_matching``, is an error."""
        resolved: list[str] = []
        for name in names:
            if not isinstance(name, str) or guid_in(name) is not None:
                resolved.append(name)
                continue
            found = self._guids(self._named(running, name))
            if not found:
                raise TychoSystemNotFoundError(
                    f"no running system is named {escape_controls(repr(name))}", name=name
                )
            if len(found) > 1 and not all_matching:
                shown = sorted({s.name for s in self._named(running, name) if s.name is not None})
                raise TychoAmbiguousNameError(
                    f"{escape_controls(repr(name))} names {len(found)} running systems "
                    f"({', '.join(shown)}): name one by its GUID, or take them all",
                    name=name,
                    systems=shown,
                )
            resolved.extend(found)
        return list(dict.fromkeys(resolved))

    @staticmethod
    def _guids(systems: Iterable[SystemStatus]) -> list[str]:
        """The GUIDs of ``systems``, once each (a system may have several Deployments)."""
        # A system without the tycho-guid label still needs a handle: its full name, from
        # which DeleteRequest and StatusRequest recover the GUID.
        return list(dict.fromkeys(system.sid or system.name for system in systems))

    @staticmethod
    def _ready(guid: str, deadline: float, response: StatusResponse) -> bool:
        """Whether every Deployment of the system is ready. A server that lists it without
        ``is_ready`` does not report readiness, which no wait changes: that raises
        TychoReadinessUnknownError."""
        systems = response.result
        if any(system.is_ready is None for system in systems):
            silent = describe(item for item in RELEASES if not item.reports_readiness)
            raise TychoReadinessUnknownError(
                f"cannot tell whether system {guid} is ready: the server lists it ("
                f"{len(systems)} deployment{'s' if len(systems) > 1 else ''}) without readiness, "
                f"as tycho-api {silent} do",
                guid=guid,
                deadline=deadline,
                systems=systems,
            )
        return bool(systems) and all(system.is_ready for system in systems)

    @staticmethod
    def _not_ready_error(
        guid: str, deadline: float, last: StatusResponse | None
    ) -> TychoNotReadyError:
        if last is None or not last.result:
            state = "the server does not list it"
        else:
            ready = sum(bool(system.is_ready) for system in last.result)
            state = f"{ready} of {len(last.result)} deployments ready"
        return TychoNotReadyError(
            f"system {guid} was not ready within {deadline:g} s ({state})",
            guid=guid,
            deadline=deadline,
        )


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
