"""The client constructor's keyword options as ``TypedDict`` s, for ``**options: Unpack[...]``.

:meth:`TychoClientFactory.get_client <tycho_client.discovery.TychoClientFactory.get_client>` and
``get_async_client`` pass their options on to the client; typed this way, a misspelled or
mistyped option is a type error instead of passing silently. The names and types are those of
``BaseTychoClient.__init__``; the sync and async faces differ only in ``http_client`` and
``transport``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from typing_extensions import TypedDict

if TYPE_CHECKING:
    import httpx

    from tycho_client._core import RetryPolicy

__all__ = ["AsyncClientOptions", "ClientOptions", "CommonClientOptions"]


class CommonClientOptions(TypedDict, total=False):
    """The options both faces take (see :class:`~tycho_client.client.TychoClient`)."""

    timeout: float | httpx.Timeout | None
    max_retries: int
    headers: Mapping[str, str] | None
    token: str | None
    verify: bool | str
    username: str | None
    retry_policy: RetryPolicy | None


class ClientOptions(CommonClientOptions, total=False):
    """The keyword options of :class:`~tycho_client.client.TychoClient`."""

    http_client: httpx.Client | None
    transport: httpx.BaseTransport | None


class AsyncClientOptions(CommonClientOptions, total=False):
    """The keyword options of :class:`~tycho_client.aio.AsyncTychoClient`."""

    http_client: httpx.AsyncClient | None
    transport: httpx.AsyncBaseTransport | None
