"""Reading a file a person pointed us at: a regular file only, bounded, without ever blocking.

One reader for the whole product (the CLI's compose and ``.env`` files, discovery's kubeconfig,
tokens, certificates and service-account files). A path can name anything: a FIFO whose
``open()`` waits for a writer forever, ``/dev/zero`` that never ends, a directory, a socket, or a
terminal that ``open()`` would make our controlling terminal. So the file is opened with
``O_NONBLOCK | O_NOCTTY`` and the *descriptor* is ``fstat``-ed: anything but a regular file is
refused before a byte is read. (Checking the path first and opening it after would let it be
swapped in between.) Each read is bounded by a size given by the caller.

Failures are a :class:`FileReadError` whose ``message`` is a sentence for people naming the file
and the problem; each caller wraps it in its own error type (the CLI's usage error, exit 2;
discovery's :class:`~tycho_client.errors.TychoDiscoveryError`, exit 3).
"""

from __future__ import annotations

import errno
import os
import stat
from typing import Literal

from tycho_client.errors import escape_controls

__all__ = ["FileReadError", "decode_text", "read_file", "read_text"]

Problem = Literal["missing", "special", "too-large", "binary", "not-utf8", "unreadable"]

# O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused right after, unread).
# O_NOCTTY: opening a terminal must not make it ours. Neither exists on Windows, nor FIFOs.
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class FileReadError(Exception):
    """A file that could not be read as text or bytes: ``message`` says which and why.

    ``problem`` is the kind of failure (``missing`` lets a caller treat an absent file as
    "not configured"); ``path`` is the path as given.
    """

    def __init__(self, message: str, *, path: str, problem: Problem) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.problem = problem

    def __str__(self) -> str:
        return self.message


def read_file(path: str | os.PathLike[str], what: str, limit: int) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    ``what`` names the file in messages (``"compose file"``, ``"the token file"``).

    :raises FileReadError: the file is missing, not a regular file (a FIFO, a device, a
        directory, a socket: refused without blocking or reading), unreadable, or larger than
        ``limit`` bytes.
    """
    name = os.fspath(path)
    shown = f"{what} {escape_controls(name)}"
    try:
        fd = os.open(name, _OPEN_FLAGS)
    except FileNotFoundError:
        raise FileReadError(f"{shown} not found", path=name, problem="missing") from None
    except OSError as exc:
        kind = _socket_kind(name) if exc.errno == errno.ENXIO else None
        if kind is not None:  # a socket cannot be opened at all: say what it is
            raise _special(shown, name, kind) from None
        raise _unreadable(shown, name, exc) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((k for test, k in _KINDS if test(mode)), "a special file")
            raise _special(shown, name, kind)
        # A regular file ignores O_NONBLOCK, so this read is an ordinary one.
        with os.fdopen(fd, "rb", closefd=True) as stream:
            fd = -1  # closed by the stream from now on
            data = stream.read(limit + 1)
    except OSError as exc:
        raise _unreadable(shown, name, exc) from None
    finally:
        if fd >= 0:
            os.close(fd)
    if len(data) > limit:
        raise FileReadError(
            f"{shown} is larger than {_size(limit)}", path=name, problem="too-large"
        )
    return data


def read_text(path: str | os.PathLike[str], what: str, limit: int) -> str:
    """The UTF-8 text of the regular file ``path`` (see :func:`read_file` and
    :func:`decode_text`, whose :class:`FileReadError` it raises)."""
    data = read_file(path, what, limit)
    return decode_text(data, f"{what} {escape_controls(os.fspath(path))}", os.fspath(path))


def decode_text(data: bytes, shown: str, path: str = "") -> str:
    """``data`` as UTF-8 text; ``shown`` names it in the message (``"env file on stdin"``).

    :raises FileReadError: ``data`` holds NUL bytes (a binary file) or is not UTF-8.
    """
    if b"\0" in data:
        raise FileReadError(
            f"{shown} is binary, not text (it holds NUL bytes)", path=path, problem="binary"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileReadError(
            f"{shown} is not UTF-8 text (byte {exc.start})", path=path, problem="not-utf8"
        ) from None


def _special(shown: str, path: str, kind: str) -> FileReadError:
    return FileReadError(
        f"cannot read {shown}: not a regular file ({kind})", path=path, problem="special"
    )


def _unreadable(shown: str, path: str, exc: OSError) -> FileReadError:
    return FileReadError(
        f"cannot read {shown}: {exc.strerror or exc}", path=path, problem="unreadable"
    )


def _socket_kind(path: str) -> str | None:
    """ "a socket" if ``path`` is one (opening it failed with ENXIO); stat-ing only to explain
    a failure already had, never to decide what to open."""
    try:
        return "a socket" if stat.S_ISSOCK(os.stat(path).st_mode) else None
    except OSError:
        return None


def _size(limit: int) -> str:
    mib = 1024 * 1024
    return f"{limit // mib} MiB" if limit >= mib and limit % mib == 0 else f"{limit} bytes"
