"""What every command shares: where the server is, the client, files, exit codes, errors.

Heavy modules (httpx, pydantic, kubernetes) are imported inside the functions that need them.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tycho_client.errors import (
    TychoDiscoveryError,
    TychoError,
    TychoTransportError,
    TychoValidationError,
    quote_body,
)

from ._parser import DEFAULT_URL

if TYPE_CHECKING:
    from tycho_client.client import TychoClient

EXIT_OK = 0
EXIT_SERVER_ERROR = 1
EXIT_USAGE = 2
EXIT_NO_SERVER = 3

# Long enough for a server's error text, short enough to stay one readable line.
MAX_ERROR_CHARS = 600


class CommandError(Exception):
    """A failure the CLI itself detects (a missing file, a bad option value), with its exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


@dataclass(frozen=True)
class Target:
    """The Tycho API URL and how it was chosen (for error messages)."""

    url: str
    how: str
    fallback: bool = False  # nothing named a server: the default URL was tried


class Session:
    """One command's view of the server: resolved and connected only when a command asks."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.target: Target | None = None
        self._client: TychoClient | None = None

    def resolve(self) -> Target:
        """--url, else $TYCHO_URL, else Kubernetes discovery when configured, else the default."""
        if self.target is None:
            self.target = self._find_target()
        return self.target

    def _find_target(self) -> Target:
        args = self.args
        if args.url:
            return Target(args.url, "given by --url")
        from_env = os.environ.get("TYCHO_URL", "").strip()
        if from_env:
            return Target(from_env, "given by $TYCHO_URL")
        from tycho_client.discovery import kube_config_available

        if kube_config_available():
            from tycho_client.discovery import TychoClientFactory

            factory = TychoClientFactory(context=args.context)
            url = factory.get_url(args.service_name, args.namespace)
            return Target(url, f"found by Kubernetes discovery of the Service {args.service_name}")
        return Target(
            DEFAULT_URL,
            "the default, as no --url or $TYCHO_URL was given and no Kubernetes configuration "
            "exists",
            fallback=True,
        )

    def client(self) -> TychoClient:
        if self._client is None:
            from tycho_client.client import TychoClient

            target = self.resolve()
            options: dict[str, Any] = {
                "token": self.args.token or os.environ.get("TYCHO_TOKEN") or None,
                # A plain-http URL never uses TLS (the client follows no redirects), so skip
                # building a verifying SSL context: loading the CA bundle costs ~60 ms.
                "verify": not target.url.lower().startswith("http://"),
            }
            if self.args.timeout is not None:
                options["timeout"] = options["deadline"] = self.args.timeout
            self._client = TychoClient(target.url, **options)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def read_text(path: Path, what: str) -> str:
    """A file's text, or a :class:`CommandError` (exit 2) naming the file and the reason."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CommandError(f"{what} {path} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise CommandError(f"cannot read {what} {path}: {reason}") from None


def exit_code_for(exc: BaseException) -> int:
    """The documented exit code of a failure (see the --help epilog).

    2 for bad input (nothing was sent), 3 when no server answered, else 1: the server's error
    (TychoAPIError, TychoHTTPError, TychoResponseError) or anything unexpected.
    """
    if isinstance(exc, CommandError):
        return exc.exit_code
    if isinstance(exc, TychoValidationError):
        return EXIT_USAGE
    if isinstance(exc, (TychoTransportError, TychoDiscoveryError)):
        return EXIT_NO_SERVER
    return EXIT_SERVER_ERROR


def message_for(exc: BaseException, target: Target | None) -> str:
    """One line saying what failed; for an unreachable server, which URL and why that one."""
    text = exc.message if isinstance(exc, (TychoError, CommandError)) else str(exc)
    if not isinstance(exc, (TychoError, CommandError)):
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    if isinstance(exc, TychoTransportError) and target is not None:
        if target.url not in text:
            text = f"{text} (Tycho API at {target.url})"
        text = f"{text}; the URL was {target.how}"
        if target.fallback:
            text += " (pass --url or set TYCHO_URL)"
    return quote_body(text, MAX_ERROR_CHARS)


def report(exc: BaseException, session: Session | None, debug: bool) -> int:
    """Print ``exc`` to stderr (with its traceback under --debug) and return its exit code."""
    if debug:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    target = session.target if session is not None else None
    print(f"tycho: error: {message_for(exc, target)}", file=sys.stderr)
    return exit_code_for(exc)


def enable_debug_logging() -> None:
    """DEBUG records of the ``tycho_client`` loggers on stderr."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("tycho_client")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
