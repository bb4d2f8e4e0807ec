"""What every command shares: where the server is, the client, files, exit codes, errors.

Heavy modules (httpx, pydantic, kubernetes) are imported inside the functions that need them.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tycho_client._defaults import DEFAULT_URL
from tycho_client._files import FileReadError, decode_text, read_text as read_regular_text
from tycho_client._limits import MAX_FILE_BYTES
from tycho_client.errors import (
    TychoDiscoveryError,
    TychoError,
    TychoHTTPError,
    TychoMissingDependencyError,
    TychoTransportError,
    TychoValidationError,
    escape_controls,
    quote_body,
)

from ._output import error_line, tell
from ._parser import MAX_FILE_MIB

if TYPE_CHECKING:
    from tycho_client.client import TychoClient

EXIT_OK = 0
EXIT_SERVER_ERROR = 1
EXIT_USAGE = 2
EXIT_NO_SERVER = 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a command Ctrl-C ended

HTTP_NOT_FOUND = 404

# Long enough for a server's error text, short enough to stay one readable line.
MAX_ERROR_CHARS = 600
STDIN = "-"


class CommandError(Exception):
    """A failure the CLI itself detects (a missing file, a bad option value), with its exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class Interrupted(KeyboardInterrupt):
    """Ctrl-C where the person must be told something: that a start was sent and may have
    taken effect, or which system is left running and how to remove it. Still an interruption
    (exit 130); ``message`` is printed as ``tycho: interrupted: message``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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
            # --timeout bounds the discovery as a whole too (its GETs, a trickling API server).
            url = factory.get_url(args.service_name, args.namespace, timeout=args.timeout)
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
            }
            if self.args.timeout is not None:
                # --timeout bounds each command's wait on the server as a whole.
                options["timeout"] = options["deadline"] = self.args.timeout
            if target.fallback:
                # Nothing named a server: a refused connection to the default URL means no
                # server is there, and retrying it only delays saying so.
                options["max_retries"] = 0
            self._client = TychoClient(target.url, **options)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def read_text(path: str, what: str) -> str:
    """The UTF-8 text of a regular file (or of stdin for ``-``), at most ``MAX_FILE_BYTES``,
    read by the product's one file reader (:mod:`tycho_client._files`).

    Anything else is a :class:`CommandError` (exit 2) naming the file and the reason: a FIFO,
    a device such as /dev/zero or a directory is refused without reading from it.
    """
    try:
        if path == STDIN:
            return decode_text(_read_stdin(what), f"{what} on stdin")
        return read_regular_text(path, what, MAX_FILE_BYTES)
    except FileReadError as exc:
        raise CommandError(exc.message) from None


def _read_stdin(what: str) -> bytes:
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:
        raise CommandError(f"cannot read {what} from stdin: no stdin")
    data: bytes = stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise CommandError(f"{what} on stdin is larger than {MAX_FILE_MIB} MiB")
    return data


def exit_code_for(exc: BaseException) -> int:
    """The documented exit code of a failure (see the --help epilog).

    2 for bad input (nothing was sent), 3 when no server answered, else 1: the server's error
    (TychoAPIError, TychoHTTPError, TychoResponseError) or anything unexpected.
    """
    if isinstance(exc, CommandError):
        return exc.exit_code
    if isinstance(exc, (TychoValidationError, TychoMissingDependencyError)):
        return EXIT_USAGE
    if isinstance(exc, (TychoTransportError, TychoDiscoveryError)):
        return EXIT_NO_SERVER
    return EXIT_SERVER_ERROR


def message_for(exc: BaseException, target: Target | None) -> str:
    """One line saying what failed; for an unreachable server, which URL and why that one; for
    the URL slips people make, what the URL should have been (:func:`url_hint`)."""
    text = exc.message if isinstance(exc, (TychoError, CommandError)) else str(exc)
    if not isinstance(exc, (TychoError, CommandError)):
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    hint = url_hint(exc, target) if target is not None else None
    if hint is not None and not isinstance(exc, TychoTransportError):
        text = hint if isinstance(exc, TychoValidationError) else f"{text}; {hint}"
    if isinstance(exc, TychoTransportError) and target is not None:
        import httpx  # loaded already: a transport error came through it

        from tycho_client._config import display_url

        shown = display_url(httpx.URL(target.url))  # never a URL's password
        if hint is not None:
            text = f"could not connect to {shown}: {hint}"
        elif shown not in text:
            text = f"{text} (Tycho API at {shown})"
        text = f"{text}; the URL was {target.how}"
        if target.fallback:
            text += " (pass --url or set TYCHO_URL)"
    return quote_body(text, MAX_ERROR_CHARS)


# A scheme (ftp://, file:/), or http mistyped (http:host, http:/host, https//host): not "no
# scheme", so no http:// is suggested (localhost:5000 and user:pw@host are no scheme).
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:/")
_MANGLED_HTTP = re.compile(r"https?[:/]", re.IGNORECASE)
# What OpenSSL says when the answer to its hello is not TLS: an https:// URL to a plain-http
# server (1.1 and 3.0: WRONG_VERSION_NUMBER; 3.2 and later: record layer failure).
_PLAIN_HTTP_SIGNS = ("wrong_version_number", "wrong version number", "record layer failure")
# A path ending in /system or /system/...: the client adds /system/<operation> itself.
_SYSTEM_PATH = re.compile(r"(?P<base>.*?)(?P<tail>/system(?:/.*)?)")


def url_hint(exc: BaseException, target: Target) -> str | None:
    """What the URL should have been, for three slips: no scheme (``localhost:5000``), a path
    ending in ``/system`` (found by the server's 404), ``https://`` to a server that speaks plain
    http. None for any other failure. A password in the URL is shown masked."""
    if isinstance(exc, TychoValidationError) and any(e.loc == ("url",) for e in exc.errors):
        return _no_scheme_hint(target)
    if isinstance(exc, TychoHTTPError) and exc.status_code == HTTP_NOT_FOUND:
        return _system_path_hint(target)
    if isinstance(exc, TychoTransportError):
        signs = exc.message.lower()
        if any(sign in signs for sign in _PLAIN_HTTP_SIGNS):
            return _plain_http_hint(target)
    return None


def _no_scheme_hint(target: Target) -> str | None:
    if _SCHEME.match(target.url) or _MANGLED_HTTP.match(target.url):
        return None  # a scheme, or a mistyped one: the library's message says what is wrong
    import httpx

    from tycho_client._config import display_url

    try:
        meant = httpx.URL(f"http://{target.url}")
        if not meant.host or meant.query or meant.fragment:
            return None
    except (httpx.InvalidURL, ValueError):
        return None
    shown = display_url(meant)
    given = shown.removeprefix("http://")
    return f"the URL {target.how}, {given}, does not say http:// or https://: did you mean {shown}?"


def _system_path_hint(target: Target) -> str | None:
    import httpx

    from tycho_client._config import display_url

    url = httpx.URL(target.url)
    found = _SYSTEM_PATH.fullmatch(url.path.rstrip("/"))
    if found is None:
        return None
    meant = display_url(url.copy_with(path=found["base"] or "/"))
    tail = escape_controls(found["tail"])
    return f"the URL {target.how} ends in {tail}, which the client adds itself: try {meant}"


def _plain_http_hint(target: Target) -> str | None:
    import httpx

    from tycho_client._config import display_url

    url = httpx.URL(target.url)
    if url.scheme != "https":
        return None
    # The same port: without one, https's 443, where this plain-http server answered.
    meant = display_url(url.copy_with(scheme="http", port=url.port or 443))
    return f"the server speaks plain http, not https: try {meant}"


def interrupted(exc: KeyboardInterrupt, debug: bool) -> int:
    """Ctrl-C: exit 130, with one line if something was left behind (:class:`Interrupted`);
    the traceback only under --debug."""
    if debug:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    if isinstance(exc, Interrupted):
        tell(f"tycho: interrupted: {exc.message}")
    return EXIT_INTERRUPTED


def report(exc: BaseException, session: Session | None, debug: bool) -> int:
    """Print ``exc`` to stderr (with its traceback under --debug) and return its exit code."""
    if debug:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    target = session.target if session is not None else None
    error_line(message_for(exc, target))
    return exit_code_for(exc)


def enable_debug_logging() -> None:
    """DEBUG records of the ``tycho_client`` loggers on stderr."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("tycho_client")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
