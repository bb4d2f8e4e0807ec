"""The one core of :class:`~tycho_client.client.TychoClient` and its async twin: all but the I/O.

Both faces run the same loop, and ask this module every question in it::

    prepared = core.prepare_start(request)          # validate into the model, build the body
    for attempt in 0, 1, ...:
        try:      response = POST core.url(prepared) (headers=core.headers, timeout=...)
        except httpx.TransportError as exc:
            delay = core.next_delay(prepared, attempt, retries, error=exc)
            if delay is None: raise core.transport_error(prepared, exc, timeout)
        else:
            delay = core.next_delay(prepared, attempt, retries, response=response)
            if delay is None: return core.parse(prepared, response, StartResponse)
        sleep(delay)

so request building, validation, the retry policy, error mapping, response parsing and logging
exist once; :mod:`tycho_client.client` and :mod:`tycho_client.aio` only send, sleep and await.
"""

from __future__ import annotations

import email.utils
import enum
import functools
import getpass
import json
import logging
import math
import os
import random
import re
import ssl
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Final, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from ._version import __version__
from .compose import derive_services, interpolate, load_compose
from .envfile import parse_env
from .errors import (
    FieldError,
    TychoAPIError,
    TychoConnectionError,
    TychoDownError,
    TychoError,
    TychoHTTPError,
    TychoNotFoundError,
    TychoNotReadyError,
    TychoRateLimitError,
    TychoResponseError,
    TychoServerError,
    TychoTimeoutError,
    TychoTransportError,
    TychoValidationError,
    format_loc,
    quote_body,
)
from .models import (
    DeleteRequest,
    ErrorResponse,
    ModifyRequest,
    StartRequest,
    StatusRequest,
    StatusResponse,
    SystemStatus,
    make_principal,
    outcome_adapter,
    wire_dict,
)
from .naming import format_name

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "DEFAULT_URL",
    "NOT_GIVEN",
    "DownTally",
    "NotGiven",
    "PreparedRequest",
    "RetryPolicy",
    "TychoCore",
    "copy_options",
    "explain_server_error",
    "resolve_timeout",
    "ssl_verify",
]

logger = logging.getLogger("tycho_client")

DEFAULT_URL: Final = "http://localhost:5000"
DEFAULT_TIMEOUT: Final = httpx.Timeout(30.0, connect=5.0)
"""Connect within 5 s; 30 s for each read/write, well above the 3+ s a real ``start`` takes."""
DEFAULT_MAX_RETRIES: Final = 2
DEFAULT_SERVICE_ACCOUNT: Final = "default"
FALLBACK_USERNAME: Final = "anonymous"
"""The principal's user when no option, ``TYCHO_USERNAME`` nor OS user is available."""

# Answers that say "try again later" rather than "this request is wrong".
RETRY_STATUSES: Final = frozenset({429, 502, 503, 504})
RETRY_AFTER_STATUSES: Final = frozenset({429, 503})
# Only operations safe to repeat once the server may have seen them; start and modify are
# resent only when the request surely never left (see TychoCore.should_retry).
IDEMPOTENT: Final = frozenset({"status", "delete"})

_SERVICE = re.compile(r"[A-Za-z0-9_-]+")

ModelT = TypeVar("ModelT", bound=BaseModel)


class NotGiven(enum.Enum):
    """Marks an option ``with_options`` leaves as it is (``None`` is a value there)."""

    NOT_GIVEN = "NOT_GIVEN"

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven.NOT_GIVEN


@dataclass(frozen=True)
class RetryPolicy:
    """How long to wait between attempts.

    Attempt ``n`` (0-based) waits ``backoff_base * 2**n`` seconds, capped at ``backoff_max``, of
    which the upper half is random (jitter, so many clients do not retry in step). A 429 or 503
    with ``Retry-After`` waits what the server asked, capped at ``retry_after_max``.
    """

    backoff_base: float = 0.5
    backoff_max: float = 8.0
    retry_after_max: float = 30.0

    def __post_init__(self) -> None:
        for name in ("backoff_base", "backoff_max", "retry_after_max"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"RetryPolicy.{name} must be a finite number >= 0")


@dataclass(frozen=True)
class PreparedRequest:
    """A validated request, ready to send: what the faces hand back to the core."""

    operation: str
    """``start``, ``status``, ``delete``, ``modify``, or the service of a generic ``request``."""
    path: str
    content: bytes = field(repr=False)
    idempotent: bool
    model: BaseModel | None = field(default=None, repr=False)


def resolve_timeout(value: float | httpx.Timeout | None) -> httpx.Timeout:
    """A finite :class:`httpx.Timeout`: ``None`` means the default, a number every phase.

    An :class:`httpx.Timeout` with an unset (infinite) phase gets the default for that phase, so
    no call can wait forever.
    """
    if value is None:
        return DEFAULT_TIMEOUT
    if isinstance(value, httpx.Timeout):
        return httpx.Timeout(
            connect=_finite(value.connect, DEFAULT_TIMEOUT.connect),
            read=_finite(value.read, DEFAULT_TIMEOUT.read),
            write=_finite(value.write, DEFAULT_TIMEOUT.write),
            pool=_finite(value.pool, DEFAULT_TIMEOUT.pool),
        )
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TychoValidationError(
            f"timeout must be a number of seconds or an httpx.Timeout, not {type(value).__name__}"
        )
    return httpx.Timeout(_positive_seconds(float(value), "timeout"))


def _finite(value: float | None, default: float | None) -> float | None:
    return default if value is None else _positive_seconds(value, "timeout")


def _positive_seconds(value: float, name: str) -> float:
    if not (math.isfinite(value) and value > 0):
        raise TychoValidationError(f"{name} must be a finite number of seconds > 0")
    return value


def _retries(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TychoValidationError("max_retries must be an integer >= 0")
    return value


@functools.lru_cache(maxsize=4)
def _system_ssl_context(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    # httpx's own default (certifi, or SSL_CERT_FILE / SSL_CERT_DIR: hence the cache key).
    return httpx.create_ssl_context(verify=True, trust_env=True)


def ssl_verify(verify: bool | str | ssl.SSLContext) -> bool | ssl.SSLContext:
    """httpx's ``verify``: a CA bundle path becomes an SSL context (httpx deprecates paths).

    ``True`` gives one shared verifying context: loading the CA bundle costs ~50 ms per client.
    """
    if verify is True:
        return _system_ssl_context(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
    if isinstance(verify, str):
        try:
            return ssl.create_default_context(cafile=verify)
        except (OSError, ssl.SSLError) as exc:
            raise TychoValidationError(
                f"verify: cannot load the CA bundle {verify!r}: {exc.strerror or exc}"
            ) from None
    return verify


_POOL_OPTIONS: Final = ("http_client", "transport", "verify")


def copy_options(current: Mapping[str, Any], **given: Any) -> tuple[dict[str, Any], bool]:
    """The constructor options of a ``with_options`` copy, and whether it shares the pool.

    Options given as :data:`NOT_GIVEN` keep their current value. The copy shares the connection
    pool unless one of ``http_client``, ``transport`` or ``verify`` is given.
    """
    changed = {key: value for key, value in given.items() if value is not NOT_GIVEN}
    options = {**current, **changed}
    shares_pool = not any(key in changed for key in _POOL_OPTIONS)
    if not shares_pool and "http_client" not in changed:
        options["http_client"] = None  # a new transport or verify needs a new pool
    return options, shares_pool


def _display_url(url: httpx.URL) -> str:
    """``url`` without a password, for messages, logs and reprs."""
    if url.password:
        url = url.copy_with(password="***")  # noqa: S106 - a mask, not a password
    return str(url).rstrip("/")


# ------------------------------------------------------------------------- server error hints

_HINTS: Final[Sequence[tuple[re.Pattern[str], str]]] = tuple(
    (re.compile(pattern), hint)
    for pattern, hint in (
        (
            r"argument of type 'int' is not iterable",
            "the server found a number where it needs a string: compose `ports` entries and "
            "`env` values must be strings, and at least one service needs `ports` (the "
            "server's fallback port is a number)",
        ),
        (
            r"name 'abort' is not defined",
            "the server's own schema rejected the request body: a required key is missing, "
            "or a value is null or of the wrong type",
        ),
        (
            r"the JSON object must be str, bytes or bytearray",
            "`principal` is required and must be a JSON *string* such as "
            '\'{"username": "renci"}\', not an object',
        ),
        (
            r"No template policy/|netpolicy",
            "a non-empty `clients` list needs a network-policy template this server does not "
            "have: leave `clients` empty",
        ),
        (
            r"unsupported operand type\(s\) for \+: 'dict' and 'list'",
            "a compose `environment` must be a list of KEY=value strings, not a mapping",
        ),
        (
            r"'NoneType' object is not iterable",
            'a key was sent as null (such as "env": null): leave it out instead',
        ),
        (
            r"cannot access local variable 'spec'",
            "the compose document has no `services`",
        ),
    )
)
_BARE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def explain_server_error(error: str) -> str | None:
    """Plain words for a cryptic error text of a real Tycho server, if the cause is known."""
    text = error.strip()
    # Servers answer a missing required key with the bare key name (a KeyError's text).
    key = text.strip("'\"")
    if _BARE_KEY.fullmatch(key):
        return f"the server missed the required key `{key}` (it answers with the bare key name)"
    for pattern, hint in _HINTS:
        if pattern.search(text):
            return hint
    return None


def _summarize_server_error(error: str) -> str:
    """The server's error text with a traceback reduced to its head and its last line."""
    head, marker, trace = error.partition("Traceback (most recent call last):")
    if not marker:
        return error
    last = next((line.strip() for line in reversed(trace.splitlines()) if line.strip()), "")
    return f"{head.strip()} … {last}" if head.strip() else last


def _error_detail(response: httpx.Response) -> str:
    """What a non-2xx answer says: a JSON ``message``, an HTML title, or the text itself."""
    text = response.content.decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])
    title = re.search(r"<title>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    return title.group(1).strip() if title else text


def _retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (delta or HTTP date), or None if absent or unreadable."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - datetime.now(timezone.utc)).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None


# --------------------------------------------------------------------------------- the core


class TychoCore:
    """Options and every decision of a Tycho client; no I/O. Shared by the sync and async faces."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        headers: Mapping[str, str] | None = None,
        token: str | None = None,
        username: str | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        try:
            parsed = httpx.URL(url) if isinstance(url, str) else None
        except httpx.InvalidURL:
            parsed = None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
            raise TychoValidationError("url must be an http:// or https:// URL with a host")
        self.base_url = str(url).rstrip("/")
        self.display_url = _display_url(parsed)
        self.timeout = resolve_timeout(timeout)
        self.max_retries = _retries(max_retries)
        self.username = username
        self.retry_policy = retry_policy or RetryPolicy()
        if token is not None and (not token.strip() or any(c in token for c in "\r\n")):
            raise TychoValidationError("token must be a non-empty single-line string")
        self.headers: dict[str, str] = {
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": f"tycho-client/{__version__}",
            **dict(headers or {}),
        }
        if token is not None:
            self.headers["Authorization"] = f"Bearer {token}"

    def __repr__(self) -> str:
        return (
            f"base_url={self.display_url!r}, timeout={self.timeout!r}, "
            f"max_retries={self.max_retries}, username={self.username!r}"
        )

    # ------------------------------------------------------------------ per-call options

    def url(self, prepared: PreparedRequest) -> str:
        return self.base_url + prepared.path

    def call_timeout(self, timeout: float | httpx.Timeout | None) -> httpx.Timeout:
        return self.timeout if timeout is None else resolve_timeout(timeout)

    def call_retries(self, max_retries: int | None) -> int:
        return self.max_retries if max_retries is None else _retries(max_retries)

    def resolve_username(self) -> str:
        """The principal's user, read at call time: option, ``TYCHO_USERNAME``, OS user."""
        if self.username:
            return self.username
        from_env = os.environ.get("TYCHO_USERNAME", "").strip()
        if from_env:
            return from_env
        try:
            return getpass.getuser() or FALLBACK_USERNAME
        except (OSError, KeyError, ImportError):
            # No login name (a container running as an unnamed uid).
            return FALLBACK_USERNAME

    # --------------------------------------------------------------------------- requests

    def prepare_start(self, request: StartRequest | Mapping[str, Any]) -> PreparedRequest:
        """Validate a start request, filling ``principal`` and ``serviceaccount`` if absent."""
        if isinstance(request, StartRequest):
            model = request
            if model.serviceaccount is None:
                model = model.model_copy(update={"serviceaccount": DEFAULT_SERVICE_ACCOUNT})
        elif isinstance(request, Mapping):
            data = dict(request)
            if data.get("principal") is None:
                data["principal"] = make_principal(self.resolve_username())
            if data.get("serviceaccount") is None:
                data["serviceaccount"] = DEFAULT_SERVICE_ACCOUNT
            model = validate_request(StartRequest, data)
        else:
            model = validate_request(StartRequest, request)
        return self._prepared("start", model)

    def prepare_status(self, request: StatusRequest | Mapping[str, Any] | None) -> PreparedRequest:
        model = StatusRequest() if request is None else validate_request(StatusRequest, request)
        return self._prepared("status", model)

    def prepare_delete(self, request: DeleteRequest | Mapping[str, Any]) -> PreparedRequest:
        return self._prepared("delete", validate_request(DeleteRequest, request))

    def prepare_modify(self, request: ModifyRequest | Mapping[str, Any]) -> PreparedRequest:
        return self._prepared("modify", validate_request(ModifyRequest, request))

    def prepare_raw(
        self, service: str, request: Mapping[str, Any] | BaseModel | None
    ) -> PreparedRequest:
        """A generic ``POST /system/{service}`` with any JSON object (no model validation)."""
        if not isinstance(service, str) or not _SERVICE.fullmatch(service):
            raise TychoValidationError(
                "service must be a path segment such as 'start' or 'status'",
                [FieldError(("service",), "must match [A-Za-z0-9_-]+")],
            )
        if request is None:
            data: Any = {}
        elif isinstance(request, BaseModel):
            data = wire_dict(request)
        elif isinstance(request, Mapping):
            data = dict(request)
        else:
            raise _not_a_mapping("request", type(request))
        try:
            content = json.dumps(data, allow_nan=False).encode("utf-8")
        except (TypeError, ValueError) as exc:
            # The message names a type or a float, never a value that may be secret.
            raise TychoValidationError(f"request is not JSON-serializable: {exc}") from None
        return PreparedRequest(service, f"/system/{service}", content, service in IDEMPOTENT)

    def _prepared(self, operation: str, model: BaseModel) -> PreparedRequest:
        content = json.dumps(wire_dict(model)).encode("utf-8")
        return PreparedRequest(
            operation, f"/system/{operation}", content, operation in IDEMPOTENT, model
        )

    def build_up_request(
        self,
        name: str,
        system: Mapping[str, Any] | str,
        settings: str | Mapping[str, Any],
        *,
        services: Mapping[str, Any] | None,
        serviceaccount: str | None,
    ) -> StartRequest:
        """The start request real servers expect for a compose document and its ``.env``."""
        formatted = format_name(name)
        if isinstance(settings, str):
            env: dict[str, Any] = parse_env(settings)
        elif isinstance(settings, Mapping):
            env = {key: _as_env_text(value) for key, value in settings.items()}
        else:
            raise _not_a_mapping("settings", type(settings), "or .env text")
        if isinstance(system, str):
            document: Mapping[str, Any] = load_compose(system)
        elif isinstance(system, Mapping):
            document = system
        else:
            raise _not_a_mapping("system", type(system), "or compose YAML text")
        # Only the .env mapping feeds ${VAR}: a compose file must not read the caller's env.
        document = interpolate(document, {k: v for k, v in env.items() if isinstance(v, str)})
        data = {
            "name": formatted,
            "system": document,
            "env": env,
            "services": derive_services(document) if services is None else dict(services),
            "principal": make_principal(self.resolve_username()),
            "serviceaccount": serviceaccount or DEFAULT_SERVICE_ACCOUNT,
        }
        return validate_request(StartRequest, data)

    def prepare_down(self, names: Iterable[str] | str) -> list[PreparedRequest]:
        """One delete per name, every name validated before any is sent."""
        listed = [names] if isinstance(names, str) else list(names)
        prepared: list[PreparedRequest] = []
        errors: list[FieldError] = []
        for index, name in enumerate(listed):
            try:
                prepared.append(self.prepare_delete({"name": name}))
            except TychoValidationError as exc:
                errors.extend(FieldError(("names", index, *e.loc[1:]), e.msg) for e in exc.errors)
        if errors:
            shown = "; ".join(f"{e.path}: {e.msg}" for e in errors[:3])
            raise TychoValidationError(f"invalid names for down: {shown}", errors)
        return prepared

    # ----------------------------------------------------------------------------- retries

    def should_retry(
        self,
        prepared: PreparedRequest,
        attempt: int,
        max_retries: int,
        *,
        response: httpx.Response | None = None,
        error: Exception | None = None,
    ) -> bool:
        """Whether attempt ``attempt`` (0-based) deserves another try."""
        if attempt >= max_retries:
            return False
        if error is not None:
            if _surely_not_sent(error):
                # Safe for every operation. A TLS verification failure is also a ConnectError,
                # but retrying it cannot help.
                return not _is_certificate_error(error)
            return prepared.idempotent and isinstance(
                error, (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
            )
        return (
            response is not None and prepared.idempotent and response.status_code in RETRY_STATUSES
        )

    def backoff(self, attempt: int, response: httpx.Response | None = None) -> float:
        """Seconds to wait before attempt ``attempt + 1``."""
        policy = self.retry_policy
        if response is not None and response.status_code in RETRY_AFTER_STATUSES:
            asked = _retry_after(response)
            if asked is not None:
                return min(asked, policy.retry_after_max)
        delay = min(policy.backoff_max, policy.backoff_base * 2.0**attempt)
        return delay / 2 + random.uniform(0, delay / 2)  # noqa: S311 - jitter, not crypto

    def next_delay(
        self,
        prepared: PreparedRequest,
        attempt: int,
        max_retries: int,
        *,
        response: httpx.Response | None = None,
        error: Exception | None = None,
    ) -> float | None:
        """The wait before the next attempt, or None when this outcome is final."""
        if not self.should_retry(prepared, attempt, max_retries, response=response, error=error):
            return None
        delay = self.backoff(attempt, response)
        logger.debug(
            "retrying POST %s in %.3f s (attempt %d of %d)",
            prepared.path,
            delay,
            attempt + 2,
            max_retries + 1,
        )
        return delay

    # ----------------------------------------------------------------------------- logging

    def log_response(
        self, prepared: PreparedRequest, response: httpx.Response, started: float
    ) -> None:
        logger.debug(
            "POST %s%s -> %d in %.1f ms",
            self.display_url,
            prepared.path,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )

    def log_failure(self, prepared: PreparedRequest, error: Exception, started: float) -> None:
        logger.debug(
            "POST %s%s -> %s after %.1f ms",
            self.display_url,
            prepared.path,
            type(error).__name__,
            (time.perf_counter() - started) * 1000,
        )

    # --------------------------------------------------------------------------- responses

    def parse(
        self, prepared: PreparedRequest, response: httpx.Response, expected: type[ModelT]
    ) -> ModelT:
        """The success model of a 2xx answer; every other answer raises its TychoError."""
        self.raise_for_status(prepared, response)
        adapter = outcome_adapter(prepared.operation)
        try:
            outcome = adapter.validate_json(response.content)
        except ValidationError as exc:
            raise self.response_error(prepared, response, exc) from None
        if isinstance(outcome, ErrorResponse):
            raise self.api_error(prepared.operation, outcome)
        if not isinstance(outcome, expected):  # the adapter and `expected` disagree: a bug here
            raise TypeError(f"{prepared.operation} parsed as {type(outcome).__name__}")
        return outcome

    def parse_object(self, prepared: PreparedRequest, response: httpx.Response) -> dict[str, Any]:
        """The JSON object of a 2xx answer to a generic request."""
        self.raise_for_status(prepared, response)
        try:
            data = json.loads(response.content)
        except ValueError:
            raise self._response_error(prepared, response, "a body that is not JSON") from None
        if not isinstance(data, dict):
            kind = type(data).__name__
            raise self._response_error(prepared, response, f"JSON {kind}, not an object", "")
        return data

    def raise_for_status(self, prepared: PreparedRequest, response: httpx.Response) -> None:
        if not response.is_success:
            raise self.http_error(prepared, response)

    def http_error(self, prepared: PreparedRequest, response: httpx.Response) -> TychoHTTPError:
        code = response.status_code
        where = f"POST {self.display_url}{prepared.path}"
        status_line = f"HTTP {code} {response.reason_phrase}".rstrip()
        detail = quote_body(_error_detail(response))
        message = f"{where} answered {status_line}"
        if detail and detail != f"{code} {response.reason_phrase}":
            message += f": {detail}"
        kwargs: dict[str, Any] = {
            "operation": prepared.operation,
            "status_code": code,
            "response": response,
            "body": quote_body(response.content.decode("utf-8", errors="replace")),
        }
        if code == 404:
            if prepared.operation == "modify":
                message = (
                    f"this Tycho server does not support /system/modify ({where} answered "
                    "HTTP 404; tycho-api 1.17.3 has no modify route)"
                )
            return TychoNotFoundError(message, **kwargs)
        if code == 429:
            return TychoRateLimitError(message, retry_after=_retry_after(response), **kwargs)
        if code >= 500:
            return TychoServerError(message, **kwargs)
        return TychoHTTPError(message, **kwargs)

    def api_error(self, operation: str, outcome: ErrorResponse) -> TychoAPIError:
        error = outcome.result.error
        hint = explain_server_error(error)
        quoted = quote_body(_summarize_server_error(error))
        message = f'{operation} failed on the server: "{quoted}"'
        if hint:
            message += f" ({hint})"
        return TychoAPIError(message, operation=operation, error=error, response=outcome, hint=hint)

    def response_error(
        self, prepared: PreparedRequest, response: httpx.Response, exc: ValidationError
    ) -> TychoResponseError:
        first = exc.errors(include_input=False, include_url=False)[0]
        if first["type"] == "json_invalid":
            return self._response_error(prepared, response, "a body that is not JSON")
        loc = tuple(first["loc"])
        if first["type"].startswith("union_tag"):
            loc = ("status",)
        elif loc and loc[0] in ("success", "error"):
            loc = loc[1:]  # the discriminator's branch, not a field of the body
        path = format_loc(loc)
        problem = f"a body the Tycho API document does not allow ({path}: {first['msg']})"
        return self._response_error(prepared, response, problem, path)

    def _response_error(
        self,
        prepared: PreparedRequest,
        response: httpx.Response,
        problem: str,
        path: str | None = None,
    ) -> TychoResponseError:
        body = quote_body(response.content.decode("utf-8", errors="replace"))
        return TychoResponseError(
            f"POST {self.display_url}{prepared.path} answered HTTP {response.status_code} with "
            f"{problem}: {body or '(empty body)'}",
            operation=prepared.operation,
            path=path,
            body=body,
            status_code=response.status_code,
        )

    def transport_error(
        self, prepared: PreparedRequest, error: httpx.TransportError, timeout: httpx.Timeout
    ) -> TychoTransportError:
        url = f"{self.display_url}{prepared.path}"
        # A start or modify that may have reached the server may also have taken effect.
        unknown = (
            ""
            if prepared.idempotent or _surely_not_sent(error)
            else f"; the server may have carried out the {prepared.operation} anyway: "
            "check the systems' status before trying again"
        )
        if isinstance(error, httpx.TimeoutException):
            phase, seconds = _timeout_phase(error, timeout)
            return TychoTimeoutError(
                f"POST {url}: no answer within {seconds:g} s ({phase} timeout){unknown}", url=url
            )
        reason = str(error) or type(error).__name__
        if isinstance(error, httpx.ConnectError):
            return TychoConnectionError(f"could not connect to {url}: {reason}", url=url)
        return TychoConnectionError(
            f"POST {url} failed: {type(error).__name__}: {reason}{unknown}", url=url
        )

    # ----------------------------------------------------------------------- list and wait

    @staticmethod
    def guids(systems: Iterable[SystemStatus]) -> list[str]:
        """The GUIDs of ``systems``, once each (a system may have several Deployments)."""
        # A system without the tycho-guid label still needs a handle: its full name, from
        # which DeleteRequest and StatusRequest recover the GUID.
        return list(dict.fromkeys(system.sid or system.name for system in systems))

    @staticmethod
    def all_ready(response: StatusResponse) -> bool:
        return bool(response.result) and all(system.is_ready for system in response.result)

    @staticmethod
    def check_wait(timeout: float, interval: float) -> None:
        _positive_seconds(timeout, "timeout")
        _positive_seconds(interval, "interval")

    def not_ready_error(
        self, guid: str, timeout: float, last: StatusResponse | None
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


def _surely_not_sent(error: Exception) -> bool:
    """Whether the request cannot have reached the server (no connection was made)."""
    return isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))


def _timeout_phase(error: httpx.TimeoutException, timeout: httpx.Timeout) -> tuple[str, float]:
    for kind, phase in (
        (httpx.ConnectTimeout, "connect"),
        (httpx.ReadTimeout, "read"),
        (httpx.WriteTimeout, "write"),
        (httpx.PoolTimeout, "pool"),
    ):
        if isinstance(error, kind):
            return phase, float(getattr(timeout, phase) or 0.0)
    return "read", float(timeout.read or 0.0)


def _is_certificate_error(error: Exception) -> bool:
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return True
        cause = cause.__cause__ or cause.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(error)


def _as_env_text(value: Any) -> Any:
    # Numbers in a settings mapping become strings here so ${VAR} can use them; anything else
    # is left for StartRequest to reject with its field path.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def _not_a_mapping(what: str, kind: type, alternative: str = "") -> TychoValidationError:
    wanted = f"a mapping {alternative}".strip()
    message = f"{what} must be {wanted}, not {kind.__name__}"
    return TychoValidationError(message, [FieldError((what,), message)])


# ------------------------------------------------------------------------------- validation


def validate_request(model: type[ModelT], request: object) -> ModelT:
    """``request`` (a model or a mapping) as ``model``; a TychoValidationError names the path."""
    if isinstance(request, model):
        return request
    if isinstance(request, BaseModel):  # e.g. the generated model: re-check it with ours
        data: Any = request.model_dump(mode="json", by_alias=True, exclude_none=True)
    elif isinstance(request, Mapping):
        data = request
    else:
        raise _not_a_mapping("request", type(request), f"or a {model.__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        # `from None`: the pydantic error (and the input it may hold) stays out of tracebacks.
        raise unwrap_validation_error(exc, model.__name__) from None


def unwrap_validation_error(exc: ValidationError, model: str) -> TychoValidationError:
    """The pydantic error as a TychoValidationError, or as the specific one a validator raised.

    Our validators raise TychoNameError, TychoEnvError and TychoComposeError, which pydantic
    wraps; the caller gets that error back (with its line or paths) under the field's path, and
    the other problems appended to its ``errors``.
    """
    details = exc.errors(include_input=False, include_url=False)
    specific: tuple[tuple[int | str, ...], TychoValidationError] | None = None
    others: list[FieldError] = []
    for detail in details:
        cause = detail.get("ctx", {}).get("error")
        if specific is None and isinstance(cause, TychoValidationError):
            specific = (tuple(detail["loc"]), cause)
        else:
            others.append(FieldError(tuple(detail["loc"]), str(detail["msg"]), detail["type"]))
    if specific is None:
        return TychoValidationError.from_pydantic(exc, model)
    loc, error = specific
    relocated = [
        item if item.loc[: len(loc)] == loc else FieldError((*loc, *item.loc), item.msg, item.type)
        for item in error.errors
    ] or [FieldError(loc, error.message)]
    path = format_loc(loc)
    where = "" if not loc or path in error.message else f"{path}: "
    error.message = f"invalid {model}: {where}{error.message}"
    error.args = (error.message,)
    error.errors = [*relocated, *others]
    return error


# -------------------------------------------------------------------------------------- down


class DownTally:
    """What a ``down`` deleted and what failed; :meth:`result` raises if anything failed."""

    def __init__(self) -> None:
        self.deleted: list[str] = []
        self.failed: dict[str, TychoError] = {}

    def add(self, prepared: PreparedRequest, error: TychoError | None = None) -> None:
        assert isinstance(prepared.model, DeleteRequest)
        guid = prepared.model.name
        if error is None:
            self.deleted.append(guid)
        else:
            self.failed[guid] = error

    def result(self) -> list[str]:
        if not self.failed:
            return self.deleted
        total = len(self.deleted) + len(self.failed)
        reasons = "; ".join(f"{guid}: {error}" for guid, error in list(self.failed.items())[:3])
        more = f" (and {len(self.failed) - 3} more)" if len(self.failed) > 3 else ""
        raise TychoDownError(
            f"could not delete {len(self.failed)} of {total} systems: {reasons}{more}",
            deleted=self.deleted,
            failed=self.failed,
        )
