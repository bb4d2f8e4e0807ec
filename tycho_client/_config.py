"""The options of a Tycho client, in one frozen object, and the defaults they start from.

:class:`ClientOptions` holds what a client was configured with, validated and normalized once
(a finite :class:`httpx.Timeout`, a checked URL and token); ``with_options`` is
:meth:`ClientOptions.replace`. Nothing here sends anything.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import math
import os
import ssl
from collections.abc import Mapping
from typing import Any, Final

import httpx
from typing_extensions import TypedDict

from ._retry import RetryPolicy
from ._version import __version__
from .errors import TychoValidationError

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "DEFAULT_URL",
    "NOT_GIVEN",
    "AsyncClientKwargs",
    "ClientKwargs",
    "ClientOptions",
    "CommonClientKwargs",
    "NotGiven",
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
_JSON_HEADERS: Final = {"Accept": "application/json", "Content-Type": "application/json"}


class NotGiven(enum.Enum):
    """Marks an option ``with_options`` leaves as it is (``None`` is a value there)."""

    NOT_GIVEN = "NOT_GIVEN"

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven.NOT_GIVEN

# A copy made by with_options keeps the connection pool unless one of these changes.
_POOL_OPTIONS: Final = frozenset({"http_client", "transport", "verify"})


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
    """``url`` without a password, for messages, logs and reprs."""
    if url.password:
        url = url.copy_with(password="***")  # noqa: S106 - a mask, not a password
    return str(url).rstrip("/")


def _check_url(url: object) -> None:
    try:
        parsed = httpx.URL(url) if isinstance(url, str) else None
    except httpx.InvalidURL:
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise TychoValidationError("url must be an http:// or https:// URL with a host")


def _check_token(token: str | None) -> str | None:
    if token is not None and (not token.strip() or any(c in token for c in "\r\n")):
        raise TychoValidationError("token must be a non-empty single-line string")
    return token


@dataclasses.dataclass(frozen=True)
class ClientOptions:
    """Everything a client is configured with; see :class:`~tycho_client.TychoClient`.

    Built by :meth:`create`, which validates and normalizes each value once; immutable, so that a
    ``with_options`` copy is :meth:`replace` and a shared connection pool never sees a change.
    """

    url: str
    """The server's base URL, without a trailing slash."""
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
    display_url: str = dataclasses.field(init=False)
    """``url`` with any password masked: what messages, logs and reprs show."""

    def __post_init__(self) -> None:
        # Frozen: the one derived value is set once, here.
        object.__setattr__(self, "display_url", display_url(httpx.URL(self.url)))

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
    ) -> ClientOptions:
        """Validated options; a :class:`~tycho_client.TychoValidationError` names a bad one."""
        if http_client is not None and (transport is not None or verify is not True):
            raise ValueError("give either http_client or transport/verify, not both")
        _check_url(url)
        return cls(
            url=str(url).rstrip("/"),
            timeout=DEFAULT_TIMEOUT if timeout is NOT_GIVEN else resolve_timeout(timeout),
            timeout_given=timeout is not NOT_GIVEN,
            max_retries=check_retries(max_retries),
            headers=dict(headers) if headers is not None else None,
            token=_check_token(token),
            verify=verify,
            username=username,
            retry_policy=retry_policy or RetryPolicy(),
            http_client=http_client,
            transport=transport,
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


class ClientKwargs(CommonClientKwargs, total=False):
    """The keyword options of :class:`~tycho_client.TychoClient`."""

    http_client: httpx.Client | None
    transport: httpx.BaseTransport | None


class AsyncClientKwargs(CommonClientKwargs, total=False):
    """The keyword options of :class:`~tycho_client.AsyncTychoClient`."""

    http_client: httpx.AsyncClient | None
    transport: httpx.AsyncBaseTransport | None
