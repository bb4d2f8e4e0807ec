"""What :class:`~tycho_client.client.TychoClient` and its async twin share apart from I/O.

The options, the core they configure, the connection pool and ``with_options``: the two faces
only add the methods that send (and ``await``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar

import httpx
from typing_extensions import Self

from ._core import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    DEFAULT_URL,
    NOT_GIVEN,
    NotGiven,
    RetryPolicy,
    TychoCore,
    copy_options,
    ssl_verify,
)
from .envfile import parse_env
from .naming import format_name

__all__ = ["BaseTychoClient"]

HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)
TransportT = TypeVar("TransportT", httpx.BaseTransport, httpx.AsyncBaseTransport)


class BaseTychoClient(Generic[HttpT, TransportT]):
    """The options and connection pool of a Tycho client, without the I/O.

    The options are documented on :class:`~tycho_client.client.TychoClient`.
    """

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        headers: Mapping[str, str] | None = None,
        token: str | None = None,
        verify: bool | str = True,
        username: str | None = None,
        http_client: HttpT | None = None,
        transport: TransportT | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self._core = TychoCore(
            url,
            timeout=timeout,
            max_retries=max_retries,
            headers=headers,
            token=token,
            username=username,
            retry_policy=retry_policy,
        )
        self._options: dict[str, Any] = {
            "url": url,
            "timeout": timeout,
            "max_retries": max_retries,
            "headers": headers,
            "token": token,
            "verify": verify,
            "username": username,
            "http_client": http_client,
            "transport": transport,
            "retry_policy": retry_policy,
        }
        self._http: HttpT
        if http_client is not None:
            if transport is not None or verify is not True:
                raise ValueError("give either http_client or transport/verify, not both")
            self._http = http_client
            self._owns_http = False
        else:
            self._http = self._new_http(transport, ssl_verify(verify), self._core.timeout)
            self._owns_http = True

    def _new_http(self, transport: TransportT | None, verify: Any, timeout: httpx.Timeout) -> HttpT:
        """The connection pool this client owns (an ``httpx.Client`` or ``httpx.AsyncClient``)."""
        raise NotImplementedError

    # ----------------------------------------------------------------------------- options

    @property
    def base_url(self) -> str:
        """The server's URL, without a trailing slash."""
        return self._core.base_url

    @property
    def timeout(self) -> httpx.Timeout:
        """The default timeout of every call."""
        return self._core.timeout

    @property
    def max_retries(self) -> int:
        """The default number of retries of a call."""
        return self._core.max_retries

    @property
    def username(self) -> str | None:
        """The ``username`` option (``None``: ``TYCHO_USERNAME``, else the OS user)."""
        return self._core.username

    @property
    def http_client(self) -> HttpT:
        """The httpx client this client sends with."""
        return self._http

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._core!r})"

    def with_options(
        self,
        *,
        url: str | NotGiven = NOT_GIVEN,
        timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        headers: Mapping[str, str] | NotGiven | None = NOT_GIVEN,
        token: str | NotGiven | None = NOT_GIVEN,
        verify: bool | str | NotGiven = NOT_GIVEN,
        username: str | NotGiven | None = NOT_GIVEN,
        http_client: HttpT | NotGiven | None = NOT_GIVEN,
        transport: TransportT | NotGiven | None = NOT_GIVEN,
        retry_policy: RetryPolicy | NotGiven | None = NOT_GIVEN,
    ) -> Self:
        """A copy with some options changed.

        The copy shares this client's HTTP connection pool unless ``http_client``, ``transport``
        or ``verify`` is given; a shared pool stays owned (and closed) by this client.
        """
        options, shares_pool = copy_options(
            self._options,
            url=url,
            timeout=timeout,
            max_retries=max_retries,
            headers=headers,
            token=token,
            verify=verify,
            username=username,
            http_client=http_client,
            transport=transport,
            retry_policy=retry_policy,
        )
        if not shares_pool:
            return type(self)(**options)
        shared = {"http_client": self._http, "transport": None, "verify": True}
        copy = type(self)(**{**options, **shared})
        copy._options = options
        return copy

    # ------------------------------------------------------------------------------ helpers

    def format_name(self, name: str) -> str:
        """``name`` as a valid system name (see :func:`tycho_client.naming.format_name`)."""
        return format_name(name)

    def parse_env(self, environment: str) -> dict[str, str]:
        """``.env`` text as a mapping (see :func:`tycho_client.envfile.parse_env`)."""
        return parse_env(environment)
