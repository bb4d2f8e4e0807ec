"""The options of a Tycho client, in one frozen object, and the defaults they start from.

:class:`ClientOptions` holds what a client was configured with, validated and normalized once
(a finite :class:`httpx.Timeout`, a checked URL and token); ``with_options`` is
:meth:`ClientOptions.replace`. Nothing here sends anything.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import functools
import math
import os
import re
import ssl
from collections.abc import Mapping
from typing import Any, Final

import httpx
from typing_extensions import TypedDict

from ._limits import MAX_CONCURRENCY, MAX_RESPONSE_BYTES
from ._retry import RetryPolicy
from ._version import __version__
from .errors import FieldError, TychoValidationError

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "DEFAULT_URL",
    "MAX_CONCURRENCY",
    "MAX_RESPONSE_BYTES",
    "NOT_GIVEN",
    "AsyncClientKwargs",
    "ClientKwargs",
    "ClientOptions",
    "CommonClientKwargs",
    "NotGiven",
    "check_deadline",
    "derived_deadline",
    "display_url",
    "positive_seconds",
    "resolve_timeout",
    "ssl_verify",
]

DEFAULT_URL: Final = "http://localhost:5000"
DEFAULT_TIMEOUT: Final = httpx.Timeout(30.0, connect=5.0)
"""Connect within 5 s; 30 s for each read/write, well above the 3+ s a real ``start`` takes."""
DEFAULT_MAX_RETRIES: Final = 2
USER_AGENT: Final = f"tycho-client/{__version__}"
_JSON_HEADERS: Final = {
    "Accept": "application/json",
    # What the bounded body reader decodes; httpx would also offer br and zstd.
    "Accept-Encoding": "gzip, deflate",
    "Content-Type": "application/json",
}


class NotGiven(enum.Enum):
    """Marks an option ``with_options`` leaves as it is (``None`` is a value there)."""

    NOT_GIVEN = "NOT_GIVEN"

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven.NOT_GIVEN

# A copy made by with_options keeps the connection pool unless one of these changes.
_POOL_OPTIONS: Final = frozenset({"http_client", "transport", "verify", "max_concurrency"})
# RFC 9110 header names; values: visible ASCII and inner blanks (httpx refuses the rest, quoting
# the value, which may be a secret, in its error).
_HEADER_NAME: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE: Final = re.compile(r"(?:[\x21-\x7e](?:[\x20-\x7e\t]*[\x21-\x7e])?)?")


def positive_seconds(value: float, name: str) -> float:
    """``value`` if it is a finite number of seconds > 0, else a TychoValidationError naming it."""
    if not (math.isfinite(value) and value > 0):
        raise TychoValidationError(f"{name} must be a finite number of seconds > 0")
    return value


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
    return httpx.Timeout(positive_seconds(float(value), "timeout"))


def _finite(value: float | None, default: float | None) -> float | None:
    return default if value is None else positive_seconds(value, "timeout")


def derived_deadline(timeout: httpx.Timeout) -> float:
    """The default deadline of a call: what one attempt may take (connect, then the answer)."""
    return float(timeout.connect or 0.0) + float(timeout.read or 0.0)


def check_deadline(value: float | None) -> float | None:
    """``value`` if it is ``None`` (derived from the timeout) or a finite number of seconds > 0."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TychoValidationError(
            f"deadline must be a number of seconds, not {type(value).__name__}"
        )
    return positive_seconds(float(value), "deadline")


def _positive_int(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise TychoValidationError(f"{name} must be an integer >= 1")
    return value


def check_retries(value: int) -> int:
    """``value`` if it is a whole number >= 0, else a TychoValidationError."""
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


def _credentials_header(url: httpx.URL) -> tuple[str, str | None]:
    """``url`` without userinfo, and the Basic ``Authorization`` value its userinfo makes.

    The credentials never reach httpx's URL, so neither its log lines nor its errors show them.
    """
    if not url.userinfo:
        return str(url).rstrip("/"), None
    pair = f"{url.username}:{url.password}".encode()
    bare = str(url.copy_with(username=None, password=None)).rstrip("/")
    return bare, "Basic " + base64.b64encode(pair).decode("ascii")


def check_header_value(value: object, name: str) -> None:
    """A TychoValidationError naming ``name`` (never quoting ``value``) unless httpx can send it.

    Visible ASCII and inner blanks only: httpx refuses the rest with an error quoting the value.
    """
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


def _check_token(token: str | None) -> str | None:
    if token is not None:
        check_header_value(token, "token")
    return token


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
class ClientOptions:
    """Everything a client is configured with; see :class:`~tycho_client.TychoClient`.

    Built by :meth:`create`, which validates and normalizes each value once; immutable, so that a
    ``with_options`` copy is :meth:`replace` and a shared connection pool never sees a change.
    """

    url: str = dataclasses.field(repr=False)
    """The server's base URL as given (userinfo included), without a trailing slash."""
    timeout: httpx.Timeout
    timeout_given: bool
    """Whether the caller chose ``timeout`` (only then does it override an ``http_client``s)."""
    max_retries: int
    headers: Mapping[str, str] | None
    token: str | None = dataclasses.field(repr=False)
    verify: bool | str | ssl.SSLContext
    username: str | None
    retry_policy: RetryPolicy
    http_client: Any = dataclasses.field(repr=False, compare=False)
    transport: Any = dataclasses.field(repr=False, compare=False)
    deadline: float | None = None
    """Seconds a whole call may take, retries and waits included (None: derived from timeout)."""
    max_response_bytes: int = MAX_RESPONSE_BYTES
    max_concurrency: int = MAX_CONCURRENCY
    display_url: str = dataclasses.field(init=False)
    """``url`` with any password masked: what messages, logs and reprs show."""
    send_url: str = dataclasses.field(init=False, repr=False)
    """``url`` without userinfo: what httpx is given (and logs)."""
    basic_auth: str | None = dataclasses.field(init=False, repr=False)
    """The ``Authorization: Basic`` value made from the URL's userinfo, if it has any."""
    call_deadline: float = dataclasses.field(init=False)
    """``deadline``, or the one derived from ``timeout``: the default of every call."""

    def __post_init__(self) -> None:
        # Frozen: the derived values are set once, here.
        parsed = httpx.URL(self.url)
        send_url, basic_auth = _credentials_header(parsed)
        object.__setattr__(self, "display_url", display_url(parsed))
        object.__setattr__(self, "send_url", send_url)
        object.__setattr__(self, "basic_auth", basic_auth)
        deadline = self.deadline if self.deadline is not None else derived_deadline(self.timeout)
        object.__setattr__(self, "call_deadline", deadline)

    @classmethod
    def create(
        cls,
        url: str = DEFAULT_URL,
        *,
        timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        headers: Mapping[str, str] | None = None,
        token: str | None = None,
        verify: bool | str | ssl.SSLContext = True,
        username: str | None = None,
        retry_policy: RetryPolicy | None = None,
        http_client: Any = None,
        transport: Any = None,
        deadline: float | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        max_concurrency: int = MAX_CONCURRENCY,
    ) -> ClientOptions:
        """Validated options; a :class:`~tycho_client.TychoValidationError` names a bad one."""
        if http_client is not None and (transport is not None or verify is not True):
            raise ValueError("give either http_client or transport/verify, not both")
        parsed = _parse_url(url)
        token = _check_token(token)
        if token is not None and parsed.userinfo:
            message = "give either a token or user:password in the url, not both"
            raise TychoValidationError(message, [FieldError(("url",), message)])
        return cls(
            url=str(url).rstrip("/"),
            timeout=DEFAULT_TIMEOUT if timeout is NOT_GIVEN else resolve_timeout(timeout),
            timeout_given=timeout is not NOT_GIVEN,
            max_retries=check_retries(max_retries),
            headers=None if headers is None else check_headers(headers),
            token=token,
            verify=verify,
            username=username,
            retry_policy=retry_policy or RetryPolicy(),
            http_client=http_client,
            transport=transport,
            deadline=check_deadline(deadline),
            max_response_bytes=_positive_int(max_response_bytes, "max_response_bytes"),
            max_concurrency=_positive_int(max_concurrency, "max_concurrency"),
        )

    def replace(self, **changes: Any) -> tuple[ClientOptions, bool]:
        """These options with ``changes`` (:data:`NOT_GIVEN` ones ignored), and whether the copy
        can share this client's connection pool (it can unless ``http_client``, ``transport`` or
        ``verify`` changes)."""
        given = {key: value for key, value in changes.items() if value is not NOT_GIVEN}
        shares_pool = not (given.keys() & _POOL_OPTIONS)
        current = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}
        if not current.pop("timeout_given"):
            current["timeout"] = NOT_GIVEN
        if not shares_pool and "http_client" not in given:
            current["http_client"] = None  # a new transport or verify needs a new pool
        return ClientOptions.create(**{**current, **given}), shares_pool

    def pool_headers(self) -> dict[str, str]:
        """What every request on a connection pool we make carries: JSON both ways, who we are."""
        return {**_JSON_HEADERS, "User-Agent": USER_AGENT}

    def call_headers(self, *, own_pool: bool) -> dict[str, str]:
        """What this client adds to each request: the caller's ``headers`` and the token, and on
        a caller's ``http_client`` (``own_pool=False``) the JSON headers, but not our User-Agent."""
        headers = {} if own_pool else dict(_JSON_HEADERS)
        headers.update(self.headers or {})
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        elif self.basic_auth is not None:
            headers["Authorization"] = self.basic_auth
        return headers


# ----------------------------------------------- the constructor's keywords, as TypedDicts
# For ``**options: Unpack[ClientKwargs]`` (TychoClientFactory.get_client): a misspelled or
# mistyped option is a type error. tests/test_discovery.py keeps them equal to the constructors'.


class CommonClientKwargs(TypedDict, total=False):
    """The options both faces take (see :class:`~tycho_client.TychoClient`)."""

    timeout: float | httpx.Timeout | None
    max_retries: int
    headers: Mapping[str, str] | None
    token: str | None
    verify: bool | str
    username: str | None
    retry_policy: RetryPolicy | None
    deadline: float | None
    max_response_bytes: int
    max_concurrency: int


class ClientKwargs(CommonClientKwargs, total=False):
    """The keyword options of :class:`~tycho_client.TychoClient`."""

    http_client: httpx.Client | None
    transport: httpx.BaseTransport | None


class AsyncClientKwargs(CommonClientKwargs, total=False):
    """The keyword options of :class:`~tycho_client.AsyncTychoClient`."""

    http_client: httpx.AsyncClient | None
    transport: httpx.AsyncBaseTransport | None
