"""Every error tycho-client raises.

One hierarchy, so callers can catch as broadly or as narrowly as they need::

    TychoError                          anything from tycho-client
    ├── TychoValidationError            bad input; nothing was sent (also a ValueError)
    │   ├── TychoNameError              a name with nothing usable for a DNS label
    │   ├── TychoEnvError               a malformed .env line (carries .line)
    │   ├── TychoComposeError           a compose file that cannot be read (YAML, aliases, shape)
    │   └── TychoAmbiguousNameError     a system name that names several systems (.systems)
    ├── TychoTransportError             no answer from the server
    │   ├── TychoConnectionError        could not connect (refused, DNS, TLS)
    │   └── TychoTimeoutError           connected, but no answer in time
    ├── TychoHTTPError                  the server answered with a non-2xx status
    │   ├── TychoNotFoundError          404 (on /system/modify: the server does not route modify)
    │   ├── TychoRateLimitError         429
    │   └── TychoServerError            5xx
    ├── TychoAPIError                   HTTP 200 with "status": "error" (how real Tycho fails)
    ├── TychoResponseError              a body that is not JSON, or not what the document allows
    ├── TychoDownError                  `down` could not delete some systems (.deleted, .failed)
    ├── TychoNotReadyError              `wait_ready` ran out of time; the server did answer (.guid)
    │   └── TychoReadinessUnknownError  the server does not report readiness (tycho-api < 1.16.1)
    ├── TychoSystemNotFoundError        a system name that names no running system (.name)
    ├── TychoDiscoveryError             the Tycho API could not be found in Kubernetes
    └── TychoMissingDependencyError     an optional extra is not installed (.extra; also a
                                        ModuleNotFoundError)

    TychoComposeWarning                 a compose document that runs, but maybe not as written:
                                        a key no compose file has, a ${VAR} no setting sets
                                        (a UserWarning, emitted with warnings.warn)

Messages never carry `.env` values or tokens: request bodies are not quoted in errors, and
response bodies are quoted only in part (`MAX_BODY_QUOTE` characters), with a server's control
characters escaped (`escape_controls`); attributes such as `.error` and `.body` keep its text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tycho_client import _publish

if TYPE_CHECKING:
    import httpx

__all__ = [
    "MAX_BODY_QUOTE",
    "FieldError",
    "Loc",
    "TychoAPIError",
    "TychoAmbiguousNameError",
    "TychoComposeError",
    "TychoComposeWarning",
    "TychoConnectionError",
    "TychoDiscoveryError",
    "TychoDownError",
    "TychoEnvError",
    "TychoError",
    "TychoHTTPError",
    "TychoMissingDependencyError",
    "TychoNameError",
    "TychoNotFoundError",
    "TychoNotReadyError",
    "TychoRateLimitError",
    "TychoReadinessUnknownError",
    "TychoResponseError",
    "TychoServerError",
    "TychoSystemNotFoundError",
    "TychoTimeoutError",
    "TychoTransportError",
    "TychoValidationError",
    "escape_controls",
    "format_loc",
    "quote_body",
    "summarize",
]

Loc = tuple[int | str, ...]
"""Where a value sits in a request: ``("system", "services", "web", "ports", 0)``."""

MAX_BODY_QUOTE = 300
"""How many characters of a response body an error message may quote."""


def format_loc(loc: Sequence[int | str]) -> str:
    """Render a pydantic error location as a field path: ``system.services.web.ports[0]``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(root)"


def summarize(problems: Iterable[str], shown: int = 3) -> str:
    """The first ``shown`` problems joined by ``;``, and how many more there are."""
    listed = list(problems)
    more = f" (and {len(listed) - shown} more)" if len(listed) > shown else ""
    return "; ".join(listed[:shown]) + more


# C0 and C1 control characters, DEL, and the Unicode controls that reorder or hide text.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


def _escape(match: re.Match[str]) -> str:
    # As Python writes the character in a string's repr: \n, \r, \t, \x1b, \u202e.
    return repr(match.group())[1:-1]


def escape_controls(text: str) -> str:
    """``text`` with control characters escaped as Python writes them (``\\n``, ``\\x1b``,
    ``\\u202e``): safe on a terminal, and one line. The CLI prints a server's text through it."""
    return _CONTROLS.sub(_escape, text)


def quote_body(text: str, limit: int = MAX_BODY_QUOTE) -> str:
    """A bounded, single-line quotation of a response body for an error message.

    Runs of whitespace become one space and other control characters are escaped (a server's
    text never reaches a terminal raw).
    """
    flat = escape_controls(" ".join(text.split()))
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class TychoError(Exception):
    """Base class of every error raised by tycho-client."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class FieldError:
    """One problem with one field of a request: where (``loc``) and what (``msg``)."""

    __slots__ = ("loc", "msg", "type")
    loc: Loc
    msg: str
    type: str

    def __init__(self, loc: Loc, msg: str, type: str = "value_error") -> None:
        self.loc = loc
        self.msg = msg
        self.type = type

    @property
    def path(self) -> str:
        return format_loc(self.loc)

    def __repr__(self) -> str:
        return f"FieldError(path={self.path!r}, msg={self.msg!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FieldError) and (self.loc, self.msg) == (other.loc, other.msg)

    def __hash__(self) -> int:
        return hash((self.loc, self.msg))


class TychoValidationError(TychoError, ValueError):
    """A request, name, .env text or compose document is invalid; nothing was sent.

    ``errors`` lists every problem with its field path; ``str()`` names the first ones.
    """

    def __init__(self, message: str, errors: Sequence[FieldError] = ()) -> None:
        super().__init__(message)
        self.errors: list[FieldError] = list(errors)

    @property
    def paths(self) -> list[str]:
        return [e.path for e in self.errors]

    @classmethod
    def from_pydantic(cls, exc: Any, model: str) -> TychoValidationError:
        """Wrap a pydantic ``ValidationError``, not echoing input values (they may be secrets)."""
        errors = [
            FieldError(tuple(e["loc"]), str(e["msg"]), str(e["type"]))
            for e in exc.errors(include_input=False, include_url=False)
        ]
        return cls(f"invalid {model}: {summarize(f'{e.path}: {e.msg}' for e in errors)}", errors)


class TychoNameError(TychoValidationError):
    """A system name from which no DNS label can be made."""


class TychoEnvError(TychoValidationError):
    """A malformed line in .env text. ``line`` is 1-based; the value is never quoted."""

    def __init__(self, message: str, line: int, source: str | None = None) -> None:
        where = f"{source}:{line}" if source else f"line {line}"
        super().__init__(f"{where}: {message}", [FieldError(("env", f"line {line}"), message)])
        self.line = line
        self.source = source


class TychoComposeError(TychoValidationError):
    """A compose document that cannot be loaded or normalized.

    For a document that is not valid YAML (or breaks the loader's bounds), ``line`` and
    ``column`` (1-based) say where, and ``excerpt`` is that line, control characters escaped,
    with a caret under the column below it (two lines); it is not in the message, which a log
    may keep, because the line may hold a secret.
    """

    def __init__(
        self,
        message: str,
        errors: Sequence[FieldError] = (),
        *,
        line: int | None = None,
        column: int | None = None,
        excerpt: str | None = None,
    ) -> None:
        super().__init__(message, errors)
        self.line = line
        self.column = column
        self.excerpt = excerpt


class TychoComposeWarning(UserWarning):
    """A compose document that runs, but perhaps not as its author meant; nothing is refused.

    Emitted with :func:`warnings.warn` while a request is built: a key that is no compose key
    (real servers ignore it), a ``${VAR}`` the settings do not set (sent as written). ``path``
    is the field's path, ``variable`` the variable's name (for an unset one). Turn them into
    errors with ``warnings.simplefilter("error", TychoComposeWarning)`` (``tycho up --strict``).
    """

    def __init__(self, message: str, *, path: str = "", variable: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.variable = variable

    def __str__(self) -> str:
        return self.message


class TychoAmbiguousNameError(TychoValidationError):
    """A system name (as ``status`` shows it) that several running systems share, where one was
    meant. ``systems`` are their full names ``{name}-{guid}``; nothing was changed."""

    def __init__(self, message: str, *, name: str, systems: Sequence[str]) -> None:
        super().__init__(message, [FieldError(("name",), message)])
        self.name = name
        self.systems: list[str] = list(systems)


class TychoTransportError(TychoError):
    """The request got no HTTP answer. ``url`` is where it was going."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class TychoConnectionError(TychoTransportError):
    """Could not connect to the server (refused, unknown host, TLS failure)."""


class TychoTimeoutError(TychoTransportError):
    """The server did not answer within the timeout."""


class TychoHTTPError(TychoError):
    """The server answered with a status outside 2xx."""

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        status_code: int,
        response: httpx.Response | None = None,
        body: str = "",
    ) -> None:
        super().__init__(message)
        self.operation = operation
        self.status_code = status_code
        self.response = response
        self.body = body


class TychoNotFoundError(TychoHTTPError):
    """404. On ``/system/modify`` it means the server does not support modify."""


class TychoRateLimitError(TychoHTTPError):
    """429. ``retry_after`` is the server's Retry-After in seconds, if it gave one."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class TychoServerError(TychoHTTPError):
    """5xx: the server failed."""


class TychoAPIError(TychoError):
    """The server answered HTTP 200 with ``"status": "error"``, the way real Tycho fails.

    ``error`` is the server's own error text (often a bare key name or a traceback); ``message``
    explains it in plain words where the cause is known; ``response`` is the parsed envelope.
    """

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        error: str,
        response: Any = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.operation = operation
        self.error = error
        self.response = response
        self.hint = hint


class TychoResponseError(TychoError):
    """The answer is not JSON, or not what the OpenAPI document allows.

    ``path`` names the offending field (when known); ``body`` is a bounded quotation.
    """

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        path: str | None = None,
        body: str = "",
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.operation = operation
        self.path = path
        self.body = body
        self.status_code = status_code


class TychoDownError(TychoError):
    """``down`` tried every system; some could not be deleted.

    ``deleted`` lists the GUIDs that were deleted, in order; ``failed`` maps each other GUID to
    the error its delete raised.
    """

    def __init__(
        self, message: str, *, deleted: Sequence[str], failed: Mapping[str, TychoError]
    ) -> None:
        super().__init__(message)
        self.deleted: list[str] = list(deleted)
        self.failed: dict[str, TychoError] = dict(failed)


class TychoNotReadyError(TychoError):
    """A system was not ready before ``wait_ready``'s deadline (the server kept answering)."""

    def __init__(self, message: str, *, guid: str, deadline: float) -> None:
        super().__init__(message)
        self.guid = guid
        self.deadline = deadline


class TychoReadinessUnknownError(TychoNotReadyError):
    """``wait_ready`` cannot tell whether a system is ready: the server lists it without
    ``is_ready`` (tycho-api 1.15.0 and older do not report readiness). Raised at the first poll
    that shows it, instead of waiting in vain; ``systems`` are the entries that poll listed."""

    def __init__(
        self, message: str, *, guid: str, deadline: float, systems: Sequence[Any] = ()
    ) -> None:
        super().__init__(message, guid=guid, deadline=deadline)
        self.systems: list[Any] = list(systems)


class TychoSystemNotFoundError(TychoError):
    """No running system has the name given (as ``status`` shows it: ``name``)."""

    def __init__(self, message: str, *, name: str) -> None:
        super().__init__(message)
        self.name = name


class TychoDiscoveryError(TychoError):
    """The Tycho API could not be located through the Kubernetes API.

    ``reason`` is one of ``"no-config"``, ``"not-found"``, ``"forbidden"``, ``"unreachable"``,
    ``"no-external-address"`` or ``"error"``, so the CLI can map it to an exit code.
    """

    def __init__(self, message: str, *, reason: str = "error") -> None:
        super().__init__(message)
        self.reason = reason


class TychoMissingDependencyError(TychoError, ModuleNotFoundError):
    """A feature needs a package from an optional extra that is not installed.

    ``extra`` is the extra that provides it (``"kubernetes"``, ``"testing"``), ``name`` the
    module that is missing, ``install`` the command that fixes it, e.g.
    ``pip install 'tycho-client[kubernetes]'``. Also a :class:`ModuleNotFoundError`, so code
    written for the bare import failure keeps working.
    """

    name: str | None  # ImportError's; always set here
    extra: str

    def __init__(self, message: str, *, name: str, extra: str) -> None:
        super().__init__(message)
        self.name = name
        self.extra = extra

    @property
    def install(self) -> str:
        return f"pip install 'tycho-client[{self.extra}]'"


_publish(__name__, globals())
