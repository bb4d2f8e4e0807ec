"""An httpx answer or failure, turned into a response model or one typed TychoError.

Real Tycho servers fail with HTTP 200 and ``"status": "error"``, often with a cryptic Python error
text; :func:`explain_server_error` puts the known ones into plain words. Bodies (read by
:mod:`tycho_client._body`) are quoted only in part (:data:`~tycho_client.errors.MAX_BODY_QUOTE`,
control characters escaped), and request bodies never.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from typing import Any, Final, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from ._body import DuplicateKey, check_unique_keys, load_json
from ._generated.operations import Operation
from ._raw import readable
from ._retry import retry_after, surely_not_sent
from .build import PreparedRequest
from .errors import (
    MAX_BODY_QUOTE,
    TychoAPIError,
    TychoConnectionError,
    TychoHTTPError,
    TychoNotFoundError,
    TychoRateLimitError,
    TychoResponseError,
    TychoServerError,
    TychoTimeoutError,
    TychoTransportError,
    escape_controls,
    format_loc,
    quote_body,
)
from .models import ErrorResponse
from .releases import FEATURES, GPU_ASSERTION_ERROR, RELEASES, describe

__all__ = [
    "api_error",
    "explain_server_error",
    "http_error",
    "missing_feature",
    "outcome_adapter",
    "parse",
    "parse_object",
    "transport_error",
]

ModelT = TypeVar("ModelT", bound=BaseModel)

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
            r"name 'abort' is not defined|"
            r"'>=' not supported between instances of 'ValidationError' and 'int'",
            "the server's own schema rejected the request body: a required key is missing, "
            "or a value is null or of the wrong type",
        ),
        (
            r"'>=' not supported between instances of 'ApiException' and 'int'",
            "Kubernetes refused what the server asked of it (tycho-api 1.12.0 - 1.13.0 lose "
            "Kubernetes' reason): a name or GUID must be a label value, at most 63 letters, "
            "digits, '-', '_' or '.'",
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
_DETAIL_BYTES: Final = 64 * 1024
"""How much of an error page is searched for its message or title."""


# Errors of a release that lacks what was asked: the explanation replaces the server's text.
_MISSING: Final[Sequence[tuple[str, str]]] = (
    (
        "Limits.__init__() got an unexpected keyword argument 'ephemeralStorage'",
        "ephemeralStorage",
    ),
)


def missing_feature(error: str) -> str | None:
    """What a server refused for lack of a feature some releases have, in plain words naming
    the releases that have it; ``None`` for any other error."""
    if GPU_ASSERTION_ERROR in error:
        return (
            "this server (it behaves like tycho-api "
            f"{describe(item for item in RELEASES if item.gpu_assertion)}) needs an integer `gpus` "
            "in `deploy.resources.limits` and `reservations` of every compose service, `0` for none"
        )
    for text, name in _MISSING:
        if text in error:
            feature = FEATURES[name]
            return (
                f"this server does not support `{feature.name}` ({feature.where}): tycho-api "
                f"{feature.releases} do; leave it out for this one"
            )
    return None


def explain_server_error(error: str) -> str | None:
    """Plain words for a cryptic error text of a real Tycho server, if the cause is known."""
    missing = missing_feature(error)
    if missing is not None:
        return missing
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


def _error_detail(body: bytes) -> str:
    """What a non-2xx answer says: a JSON ``message``, an HTML title, or the text itself."""
    text = body.decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        data = None
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])
    title = re.search(r"<title>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    return title.group(1).strip() if title else text


# --------------------------------------------------------------------------------- answers


def _strict_json(
    prepared: PreparedRequest,
    response: httpx.Response,
    body: bytes,
    where: str,
    check: Any = load_json,
) -> Any:
    try:
        return check(body)
    except DuplicateKey as exc:
        key = escape_controls(exc.key)
        problem = f"an ambiguous body: the key {key!r} appears twice in one object"
        raise _response_error(prepared, response, body, where, problem) from None
    except RecursionError:
        raise _response_error(prepared, response, body, where, "JSON nested too deeply") from None
    except ValueError:
        raise _response_error(prepared, response, body, where, "a body that is not JSON") from None


@functools.cache
def outcome_adapter(operation: Operation[Any, Any]) -> TypeAdapter[Any]:
    """The parser of an operation's HTTP 200 answer (its success envelope or ``ErrorResponse``),
    built the first time it is needed."""
    return TypeAdapter(operation.outcome)


def parse(
    prepared: PreparedRequest,
    response: httpx.Response,
    body: bytes,
    operation: Operation[Any, ModelT],
    where: str,
) -> ModelT:
    """The success model of a 2xx answer (``body`` is its content); every other answer raises
    its TychoError.

    ``where`` is the server's display URL (no password), for messages.
    """
    _raise_for_status(prepared, response, body, where)
    _strict_json(prepared, response, body, where, check_unique_keys)
    try:
        # From the bytes: pydantic parses JSON twice as fast as it validates Python objects.
        outcome = outcome_adapter(operation).validate_json(body)
    except ValidationError as exc:
        raise _invalid_body(prepared, response, body, exc, where) from None
    if isinstance(outcome, ErrorResponse):
        raise api_error(prepared.operation, outcome)
    if not isinstance(outcome, operation.response):  # the table and its outcome disagree
        raise TypeError(f"{operation.name} parsed as {type(outcome).__name__}")
    return outcome


def parse_object(
    prepared: PreparedRequest, response: httpx.Response, body: bytes, where: str
) -> dict[str, Any]:
    """The JSON object of a 2xx answer to a generic request."""
    _raise_for_status(prepared, response, body, where)
    data = _strict_json(prepared, response, body, where)
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise _response_error(prepared, response, body, where, f"JSON {kind}, not an object", "")
    return data


def _raise_for_status(
    prepared: PreparedRequest, response: httpx.Response, body: bytes, where: str
) -> None:
    if not response.is_success:
        raise http_error(prepared, response, body, where)


def http_error(
    prepared: PreparedRequest, response: httpx.Response, body: bytes, where: str
) -> TychoHTTPError:
    """The TychoHTTPError (or subclass) for a non-2xx answer whose content is ``body``."""
    code = response.status_code
    reason = escape_controls(response.reason_phrase)
    request_line = f"POST {where}{prepared.path}"
    status_line = f"HTTP {code} {reason}".rstrip()
    detail = quote_body(_error_detail(body[:_DETAIL_BYTES]))
    message = f"{request_line} answered {status_line}"
    if detail and detail != f"{code} {reason}":
        message += f": {detail}"
    kwargs: dict[str, Any] = {
        "operation": prepared.operation,
        "status_code": code,
        "response": readable(response, body),
        "body": bounded_text(body),
    }
    if code == 404:
        if not prepared.routed:
            message = (
                f"this Tycho server does not support {prepared.path} ({request_line} answered "
                "HTTP 404; no tycho-api release routes it)"
            )
        return TychoNotFoundError(message, **kwargs)
    if code == 429:
        return TychoRateLimitError(message, retry_after=retry_after(response), **kwargs)
    if code >= 500:
        return TychoServerError(message, **kwargs)
    return TychoHTTPError(message, **kwargs)


def api_error(operation: str, outcome: ErrorResponse) -> TychoAPIError:
    """The TychoAPIError for an HTTP 200 answer with ``"status": "error"``."""
    error = outcome.result.error
    missing = missing_feature(error)
    if missing is not None:  # the feature and who has it, not the server's traceback
        message = f"{operation} failed: {missing}"
        return TychoAPIError(
            message, operation=operation, error=error, response=outcome, hint=missing
        )
    hint = explain_server_error(error)
    quoted = quote_body(_summarize_server_error(error))
    message = f'{operation} failed on the server: "{quoted}"'
    if hint:
        message += f" ({hint})"
    return TychoAPIError(message, operation=operation, error=error, response=outcome, hint=hint)


def _invalid_body(
    prepared: PreparedRequest,
    response: httpx.Response,
    body: bytes,
    exc: ValidationError,
    where: str,
) -> TychoResponseError:
    first = exc.errors(include_input=False, include_url=False)[0]
    if first["type"] == "json_invalid":
        return _response_error(prepared, response, body, where, "a body that is not JSON")
    loc = tuple(first["loc"])
    if first["type"].startswith("union_tag"):
        loc = ("status",)
    elif loc and loc[0] in ("success", "error"):
        loc = loc[1:]  # the discriminator's branch, not a field of the body
    path = format_loc(loc)
    problem = f"a body the Tycho API document does not allow ({path}: {first['msg']})"
    return _response_error(prepared, response, body, where, escape_controls(problem), path)


def bounded_text(body: bytes) -> str:
    """The start of ``body`` as text, raw (control characters kept), for ``.body`` attributes."""
    return body[: 4 * MAX_BODY_QUOTE].decode("utf-8", errors="replace")[:MAX_BODY_QUOTE]


def _response_error(
    prepared: PreparedRequest,
    response: httpx.Response,
    body: bytes,
    where: str,
    problem: str,
    path: str | None = None,
) -> TychoResponseError:
    quoted = quote_body(body[: 4 * MAX_BODY_QUOTE].decode("utf-8", errors="replace"))
    return TychoResponseError(
        f"POST {where}{prepared.path} answered HTTP {response.status_code} with "
        f"{problem}: {quoted or '(empty body)'}",
        operation=prepared.operation,
        path=path,
        body=bounded_text(body),
        status_code=response.status_code,
    )


# -------------------------------------------------------------------------------- failures


def transport_error(
    prepared: PreparedRequest, error: httpx.TransportError, timeout: httpx.Timeout, where: str
) -> TychoTransportError:
    """The TychoTimeoutError or TychoConnectionError for a request that got no answer."""
    url = f"{where}{prepared.path}"
    # A start or modify that may have reached the server may also have taken effect.
    unknown = (
        ""
        if prepared.idempotent or surely_not_sent(error)
        else f"; the server may have carried out the {prepared.operation} anyway: "
        "check the systems' status before trying again"
    )
    if isinstance(error, httpx.TimeoutException):
        phase, seconds = _timeout_phase(error, timeout)
        return TychoTimeoutError(
            f"POST {url}: no answer within {seconds:g} s ({phase} timeout){unknown}", url=url
        )
    reason = escape_controls(_reason(error))
    if isinstance(error, httpx.ConnectError):
        return TychoConnectionError(f"could not connect to {url}: {reason}", url=url)
    return TychoConnectionError(
        f"POST {url} failed: {type(error).__name__}: {reason}{unknown}", url=url
    )


def _reason(error: BaseException) -> str:
    """The first non-empty message down the exception chain: on trio, httpx's ConnectError is
    empty and the reason (a certificate failure, say) sits further down."""
    cause: BaseException | None = error
    while cause is not None:
        if str(cause):
            return str(cause)
        cause = cause.__cause__ or cause.__context__
    return type(error).__name__


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
