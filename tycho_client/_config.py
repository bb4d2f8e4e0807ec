"""A client's options: declared once, as the keywords the constructors take; what they resolve to.

:class:`ClientKwargs` and :class:`AsyncClientKwargs` declare every option (its name, type and
meaning): the constructors and ``with_options`` take them as ``**options``, the factory's
``get_client`` passes them on, and the repr shows the ones given. :class:`Settings` is what they
resolve to, checked once: a copy made by ``with_options`` resolves the merged options again.
:class:`CallOptions` are what each operation takes for one call. Nothing here sends anything.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import math
import os
import re
import ssl
from collections.abc import Mapping
from typing import Any, Final

import httpx
from typing_extensions import TypedDict

from ._defaults import DEFAULT_URL
from ._limits import MAX_CONCURRENCY, MAX_RESPONSE_BYTES
from ._retry import RetryPolicy
from ._version import __version__
from .errors import FieldError, TychoValidationError

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "DEFAULT_URL",
    "AsyncClientKwargs",
    "CallOptions",
    "ClientKwargs",
    "CommonClientKwargs",
    "Settings",
    "check_headers",
    "display_url",
    "positive_seconds",
]

DEFAULT_TIMEOUT: Final = httpx.Timeout(30.0, connect=5.0)
"""Connect within 5 s; 30 s for each read/write, well above the 3+ s a real ``start`` takes."""
DEFAULT_MAX_RETRIES: Final = 2
USER_AGENT: Final = f"tycho-client/{__version__}"
JSON_HEADERS: Final = {
    "Accept": "application/json",
    # What the bounded body reader decodes; httpx would also offer br and zstd.
    "Accept-Encoding": "gzip, deflate",
    "Content-Type": "application/json",
}

Timeout = float | httpx.Timeout | None


class CallOptions(TypedDict, total=False):
    """What every operation takes besides its request: the client's options, for one call."""

    timeout: Timeout
    """Seconds for each phase (connect, read, write, pool), or an :class:`httpx.Timeout`;
    ``None``: no timeout per phase (the deadline still bounds the call)."""
    max_retries: int
    """How often a failed attempt may be repeated (only where that is safe); 0: never."""
    deadline: float | None
    """Seconds the whole call may take, every attempt and wait included; ``None``: no bound."""
    extra_headers: Mapping[str, str] | None
    """Headers added to this call's requests."""


class CommonClientKwargs(TypedDict, total=False):
    """The options both faces take; see :class:`~tycho_client.TychoClient`."""

    timeout: Timeout
    """Seconds for each phase, or an :class:`httpx.Timeout` (default: connect 5 s, the rest 30 s);
    ``None``: no timeout per phase, as in httpx."""
    max_retries: int
    """Retries of one call (default 2; only what is safe to repeat); 0 disables them."""
    headers: Mapping[str, str] | None
    """Headers added to every request."""
    token: str | None
    """Sent as ``Authorization: Bearer``; never shown."""
    verify: bool | str | ssl.SSLContext
    """``True``: the system CAs; a CA bundle path; an SSL context; ``False``: no verification."""
    username: str | None
    """The principal of started systems (default: ``TYCHO_USERNAME``, else the OS user)."""
    retry_policy: RetryPolicy | None
    """The backoff between retries."""
    deadline: float | None
    """Seconds a whole call may take (default: connect plus read timeout, 35 s); ``None``: none."""
    max_response_bytes: int
    """The most bytes an answer's body may have after decompression (default 64 MiB)."""
    max_concurrency: int
    """The connection pool's size: requests in flight at most (default 10)."""


class ClientKwargs(CommonClientKwargs, total=False):
    """The keyword options of :class:`~tycho_client.TychoClient`."""

    http_client: httpx.Client | None
    """An httpx client to send with, used as given (not closed by the Tycho client)."""
    transport: httpx.BaseTransport | None
    """An httpx transport for the client's own pool (a mock, a test server)."""


class AsyncClientKwargs(CommonClientKwargs, total=False):
    """The keyword options of :class:`~tycho_client.AsyncTychoClient`."""

    http_client: httpx.AsyncClient | None
    """An httpx client to send with, used as given (not closed by the Tycho client)."""
    transport: httpx.AsyncBaseTransport | None
    """An httpx transport for the client's own pool (a mock, a test server)."""


OPTION_NAMES: Final = frozenset(ClientKwargs.__optional_keys__)
CALL_OPTION_NAMES: Final = frozenset(CallOptions.__optional_keys__)
# A copy made by with_options keeps the connection pool unless one of these changes.
_POOL_OPTIONS: Final = frozenset({"http_client", "transport", "verify", "max_concurrency"})
# What a repr never shows: secrets, and objects whose repr says nothing useful.
_NOT_SHOWN: Final = frozenset({"token", "headers", "http_client", "transport"})
# RFC 9110 header names; values: visible ASCII and inner blanks (httpx refuses the rest, quoting
# the value, which may be a secret, in its error).
_HEADER_NAME: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE: Final = re.compile(r"(?:[\x21-\x7e](?:[\x20-\x7e\t]*[\x21-\x7e])?)?")


def unknown_keywords(given: Mapping[str, Any], known: frozenset[str], where: str) -> None:
    """A TypeError naming a keyword ``where`` does not take, as Python's own would."""
    unknown = sorted(set(given) - known)
    if unknown:
        raise TypeError(f"{where} got an unexpected keyword argument {unknown[0]!r}")


def positive_seconds(value: object, name: str) -> float:
    """``value`` if it is a finite number of seconds > 0, else a TychoValidationError naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TychoValidationError(
            f"{name} must be a number of seconds, not {type(value).__name__}"
        )
    if not (math.isfinite(value) and value > 0):
        raise TychoValidationError(f"{name} must be a finite number of seconds > 0")
    return float(value)


def resolve_timeout(value: object) -> httpx.Timeout:
    """``value`` as an :class:`httpx.Timeout`: a number is every phase, ``None`` no phase."""
    if value is None:
        return httpx.Timeout(None)
    if isinstance(value, httpx.Timeout):
        for phase in (value.connect, value.read, value.write, value.pool):
            if phase is not None:
                positive_seconds(phase, "timeout")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TychoValidationError(
            f"timeout must be a number of seconds or an httpx.Timeout, not {type(value).__name__}"
        )
    return httpx.Timeout(positive_seconds(value, "timeout"))


def derived_deadline(timeout: httpx.Timeout) -> float | None:
    """The default deadline of a call: what one attempt may take (connect, then the answer);
    ``None`` when either has no bound."""
    if timeout.connect is None or timeout.read is None:
        return None
    return float(timeout.connect) + float(timeout.read)


def check_deadline(value: object) -> float | None:
    """``value`` if it is ``None`` (no deadline) or a finite number of seconds > 0."""
    return None if value is None else positive_seconds(value, "deadline")


def _count(value: object, name: str, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise TychoValidationError(f"{name} must be an integer >= {least}")
    return value


def check_retries(value: object) -> int:
    return _count(value, "max_retries", 0)


@functools.lru_cache(maxsize=4)
def _system_ssl_context(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    # httpx's own default (certifi, or SSL_CERT_FILE / SSL_CERT_DIR: hence the cache key).
    return httpx.create_ssl_context(verify=True, trust_env=True)


def ssl_context(verify: bool | str | ssl.SSLContext) -> ssl.SSLContext:
    """The SSL context ``verify`` names; ``True`` gives one shared verifying context (loading
    the CA bundle costs ~50 ms per client)."""
    if verify is True:
        return _system_ssl_context(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
    if verify is False:
        return httpx.create_ssl_context(verify=False)
    if isinstance(verify, str):
        try:
            return ssl.create_default_context(cafile=verify)
        except (OSError, ssl.SSLError) as exc:
            raise TychoValidationError(
                f"verify: cannot load the CA bundle {verify!r}: {exc.strerror or exc}"
            ) from None
    return verify


def display_url(url: httpx.URL) -> str:
    """``url`` with its password masked (``http://user:***@host``), for messages, logs, reprs."""
    if url.password:
        # The user name given again: httpx drops it when only the password is replaced.
        url = url.copy_with(username=url.username, password="***")  # noqa: S106 - a mask
    return str(url).rstrip("/")


def _url_problem(message: str) -> TychoValidationError:
    return TychoValidationError(message, [FieldError(("url",), message)])


def _parse_url(url: object) -> httpx.URL:
    """``url`` checked: http(s), a host (IDNA-valid), no query or fragment."""
    try:
        parsed = httpx.URL(url) if isinstance(url, str) else None
        # Reading .host decodes it: an IDNA-invalid one raises idna's errors (ValueErrors).
        host = parsed.host if parsed is not None else ""
    except (httpx.InvalidURL, ValueError):
        parsed, host = None, ""
    if parsed is None or parsed.scheme not in ("http", "https") or not host:
        raise _url_problem("url must be an http:// or https:// URL with a valid host name")
    if parsed.query or parsed.fragment or "?" in str(url) or "#" in str(url):
        # /system/... is appended to the path: a query would swallow it.
        raise _url_problem("url must not have a query string or fragment (? or #)")
    return parsed


def check_header_value(value: object, name: str) -> None:
    """A TychoValidationError naming ``name`` (never quoting ``value``) unless httpx can send it."""
    problem = None
    if not isinstance(value, str):
        problem = f"{name} must be a string"
    elif not value:
        problem = f"{name} must not be empty"
    elif not _HEADER_VALUE.fullmatch(value):
        problem = (
            f"{name} must be printable ASCII without leading or trailing whitespace "
            "(it has a non-ASCII or control character, or surrounding whitespace)"
        )
    if problem:
        raise TychoValidationError(problem, [FieldError((name,), problem)])


def check_headers(headers: Mapping[str, str], option: str = "headers") -> dict[str, str]:
    """``headers`` if httpx can send every one; else a TychoValidationError naming ``option``."""
    checked: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            message = (
                f"{option}: a header name must be a token of ASCII letters, digits and "
                "!#$%&'*+-.^_`|~"
            )
            raise TychoValidationError(message, [FieldError((option,), message)])
        check_header_value(value, f"{option}[{name!r}]")
        checked[name] = value
    return checked


@dataclasses.dataclass(frozen=True)
class Settings:
    """The options a client was given, resolved and checked once (:meth:`resolve`)."""

    given: Mapping[str, Any] = dataclasses.field(repr=False)
    """The keyword options as given (``with_options`` merges into these)."""
    url: str = dataclasses.field(repr=False)
    """The server's base URL as given (userinfo included), without a trailing slash."""
    display_url: str
    """``url`` with any password masked: what messages, logs and reprs show."""
    send_url: str = dataclasses.field(repr=False)
    """``url`` without userinfo: what httpx is given (and logs)."""
    authorization: str | None = dataclasses.field(repr=False)
    """The ``Authorization`` value: the token's, or the one the URL's userinfo makes."""
    timeout: httpx.Timeout
    deadline: float | None
    """Seconds a call may take: the option, or derived from ``timeout``."""
    max_retries: int
    headers: Mapping[str, str] = dataclasses.field(repr=False)
    username: str | None
    retry_policy: RetryPolicy
    max_response_bytes: int
    max_concurrency: int

    @classmethod
    def resolve(cls, url: str, given: Mapping[str, Any]) -> Settings:
        """The settings of ``given`` options; a :class:`~tycho_client.TychoValidationError`
        names a bad one, a TypeError an unknown one."""
        unknown_keywords(given, OPTION_NAMES, "a Tycho client")
        if given.get("http_client") is not None and (
            given.get("transport") is not None or given.get("verify", True) is not True
        ):
            raise ValueError("give either http_client or transport/verify, not both")
        parsed = _parse_url(url)
        token = given.get("token")
        if token is not None:
            check_header_value(token, "token")
            if parsed.userinfo:
                message = "give either a token or user:password in the url, not both"
                raise TychoValidationError(message, [FieldError(("url",), message)])
        headers = given.get("headers")
        timeout = resolve_timeout(given["timeout"]) if "timeout" in given else DEFAULT_TIMEOUT
        return cls(
            given=dict(given),
            url=str(url).rstrip("/"),
            display_url=display_url(parsed),
            send_url=str(parsed.copy_with(username=None, password=None)).rstrip("/"),
            authorization=_authorization(token, parsed),
            timeout=timeout,
            deadline=(
                check_deadline(given["deadline"])
                if "deadline" in given
                else derived_deadline(timeout)
            ),
            max_retries=check_retries(given.get("max_retries", DEFAULT_MAX_RETRIES)),
            headers={} if headers is None else check_headers(headers),
            username=given.get("username"),
            retry_policy=given.get("retry_policy") or RetryPolicy(),
            max_response_bytes=_count(
                given.get("max_response_bytes", MAX_RESPONSE_BYTES), "max_response_bytes", 1
            ),
            max_concurrency=_count(
                given.get("max_concurrency", MAX_CONCURRENCY), "max_concurrency", 1
            ),
        )

    def changed(self, url: str | None, changes: Mapping[str, Any]) -> tuple[Settings, bool]:
        """These settings with ``url`` and ``changes``, and whether the copy can share this
        client's connection pool (unless ``http_client``, ``transport``, ``verify`` or
        ``max_concurrency`` changes)."""
        shares_pool = not (changes.keys() & _POOL_OPTIONS)
        merged = {**self.given, **changes}
        if not shares_pool and "http_client" not in changes:
            merged.pop("http_client", None)  # a new transport or verify needs a new pool
        return Settings.resolve(self.url if url is None else url, merged), shares_pool

    @property
    def http_client(self) -> Any:
        return self.given.get("http_client")

    @property
    def timeout_given(self) -> bool:
        """Whether the caller chose ``timeout`` (only then does it override an http_client's)."""
        return "timeout" in self.given

    def pool_headers(self) -> dict[str, str]:
        """What every request on a connection pool we make carries: JSON both ways, who we are."""
        return {**JSON_HEADERS, "User-Agent": USER_AGENT}

    def call_headers(self, *, own_pool: bool) -> dict[str, str]:
        """What this client adds to each request: the caller's ``headers`` and the credentials,
        and on a caller's ``http_client`` (``own_pool=False``) the JSON headers too."""
        headers = {} if own_pool else dict(JSON_HEADERS)
        headers.update(self.headers)
        if self.authorization is not None:
            headers["Authorization"] = self.authorization
        return headers

    def shown(self) -> str:
        """The options given, as a repr shows them: no secrets, no objects."""
        parts = [repr(self.display_url)]
        parts += [
            f"{name}={value!r}" for name, value in self.given.items() if name not in _NOT_SHOWN
        ]
        return ", ".join(parts)


def _authorization(token: str | None, url: httpx.URL) -> str | None:
    """The token as a Bearer header, or the URL's userinfo as a Basic one.

    The credentials never reach httpx's URL, so neither its log lines nor its errors show them.
    """
    if token is not None:
        return f"Bearer {token}"
    if not url.userinfo:
        return None
    pair = f"{url.username}:{url.password}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")
