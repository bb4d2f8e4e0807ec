"""An httpx answer or failure, turned into a response model or one typed TychoError.

Real Tycho servers fail with HTTP 200 and ``"status": "error"``, often with a cryptic Python error
text; :func:`explain_server_error` puts the known ones into plain words. Bodies are quoted only in
part (:data:`~tycho_client.errors.MAX_BODY_QUOTE`), and request bodies never.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, Final, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from ._retry import retry_after, surely_not_sent
from .build import PreparedRequest
from .errors import (
    TychoAPIError,
    TychoConnectionError,
    TychoHTTPError,
    TychoNotFoundError,
    TychoRateLimitError,
    TychoResponseError,
    TychoServerError,
    TychoTimeoutError,
    TychoTransportError,
    format_loc,
    quote_body,
)
from .models import ErrorResponse, outcome_adapter

__all__ = [
    "api_error",
    "explain_server_error",
    "http_error",
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


# --------------------------------------------------------------------------------- answers


def parse(
    prepared: PreparedRequest, response: httpx.Response, expected: type[ModelT], where: str
) -> ModelT:
    """The success model of a 2xx answer; every other answer raises its TychoError.

    ``where`` is the server's display URL (no password), for messages.
    """
    _raise_for_status(prepared, response, where)
    adapter = outcome_adapter(prepared.operation)
    try:
        outcome = adapter.validate_json(response.content)
    except ValidationError as exc:
        raise _invalid_body(prepared, response, exc, where) from None
    if isinstance(outcome, ErrorResponse):
        raise api_error(prepared.operation, outcome)
    if not isinstance(outcome, expected):  # the adapter and `expected` disagree: a bug here
        raise TypeError(f"{prepared.operation} parsed as {type(outcome).__name__}")
    return outcome


def parse_object(prepared: PreparedRequest, response: httpx.Response, where: str) -> dict[str, Any]:
    """The JSON object of a 2xx answer to a generic request."""
    _raise_for_status(prepared, response, where)
    try:
        data = json.loads(response.content)
    except ValueError:
        raise _response_error(prepared, response, where, "a body that is not JSON") from None
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise _response_error(prepared, response, where, f"JSON {kind}, not an object", "")
    return data


def _raise_for_status(prepared: PreparedRequest, response: httpx.Response, where: str) -> None:
    if not response.is_success:
        raise http_error(prepared, response, where)


def http_error(prepared: PreparedRequest, response: httpx.Response, where: str) -> TychoHTTPError:
    """The TychoHTTPError (or subclass) for a non-2xx answer."""
    code = response.status_code
    request_line = f"POST {where}{prepared.path}"
    status_line = f"HTTP {code} {response.reason_phrase}".rstrip()
    detail = quote_body(_error_detail(response))
    message = f"{request_line} answered {status_line}"
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
                f"this Tycho server does not support /system/modify ({request_line} answered "
                "HTTP 404; tycho-api 1.17.3 has no modify route)"
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
    hint = explain_server_error(error)
    quoted = quote_body(_summarize_server_error(error))
    message = f'{operation} failed on the server: "{quoted}"'
    if hint:
        message += f" ({hint})"
    return TychoAPIError(message, operation=operation, error=error, response=outcome, hint=hint)


def _invalid_body(
    prepared: PreparedRequest, response: httpx.Response, exc: ValidationError, where: str
) -> TychoResponseError:
    first = exc.errors(include_input=False, include_url=False)[0]
    if first["type"] == "json_invalid":
        return _response_error(prepared, response, where, "a body that is not JSON")
    loc = tuple(first["loc"])
    if first["type"].startswith("union_tag"):
        loc = ("status",)
    elif loc and loc[0] in ("success", "error"):
        loc = loc[1:]  # the discriminator's branch, not a field of the body
    path = format_loc(loc)
    problem = f"a body the Tycho API document does not allow ({path}: {first['msg']})"
    return _response_error(prepared, response, where, problem, path)


def _response_error(
    prepared: PreparedRequest,
    response: httpx.Response,
    where: str,
    problem: str,
    path: str | None = None,
) -> TychoResponseError:
    body = quote_body(response.content.decode("utf-8", errors="replace"))
    return TychoResponseError(
        f"POST {where}{prepared.path} answered HTTP {response.status_code} with "
        f"{problem}: {body or '(empty body)'}",
        operation=prepared.operation,
        path=path,
        body=body,
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
    reason = _reason(error)
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
