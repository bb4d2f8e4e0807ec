"""The files a Kubernetes configuration names, and the TLS contexts built from their bytes.

Every file discovery reads -- kubeconfigs, tokens, CAs, client certificates and keys, the
service account's files -- goes through :func:`read`: the product's one reader
(:func:`tycho_client._files.read_file`: regular files only, refused without blocking, bounded),
run within the discovery :class:`~tycho_client.kube.Deadline` (a file on a hung network mount
must not outlast it either). TLS material is then loaded from those bytes, never from a path
that :mod:`ssl` would open itself, blocking: a CA through ``cadata``, a client certificate and key
through a private temporary file handed to ``load_cert_chain``.
"""

from __future__ import annotations

import functools
import os
import ssl
import tempfile
from pathlib import Path

from tycho_client import _files
from tycho_client.kube import Deadline

__all__ = [
    "MAX_CREDENTIAL_BYTES",
    "EncryptedKeyError",
    "ca_context",
    "load_cert_chain",
    "read",
    "read_text",
]

MAX_CREDENTIAL_BYTES = 4 * 1024 * 1024
"""The largest token, certificate, key, CA bundle or namespace file read (4 MiB: a system CA
bundle is 0.2 MiB)."""


class EncryptedKeyError(Exception):
    """The client key is encrypted: OpenSSL would prompt for its passphrase on the terminal."""


def read(path: Path, what: str, deadline: Deadline) -> bytes:
    """The bytes of the regular file ``path`` (at most :data:`MAX_CREDENTIAL_BYTES`), read
    before the ``deadline``.

    :raises tycho_client._files.FileReadError: missing, not a regular file, unreadable, too big.
    :raises tycho_client.errors.TychoDiscoveryError: the read outlasted the deadline.
    """
    work = functools.partial(_files.read_file, path, what, MAX_CREDENTIAL_BYTES)
    return deadline.run(f"reading {what} {path}", work, reason="no-config")


def read_text(path: Path, what: str, deadline: Deadline) -> str:
    """The UTF-8 text of the regular file ``path``, read before the ``deadline`` (as :func:`read`;
    a binary or undecodable file is a :class:`~tycho_client._files.FileReadError` too)."""
    work = functools.partial(_files.read_text, path, what, MAX_CREDENTIAL_BYTES)
    return deadline.run(f"reading {what} {path}", work, reason="no-config")


def ca_context(pem: bytes) -> ssl.SSLContext:
    """A verifying context that trusts only the PEM certificates in ``pem``.

    :raises ValueError: ``pem`` holds no PEM certificate (``create_default_context`` would
        quietly trust the system's CAs for an empty ``cadata``).
    :raises ssl.SSLError: a certificate in it is not valid.
    """
    text = _ascii(pem)
    if "-----BEGIN" not in text:
        raise ValueError("it holds no PEM certificate")
    return ssl.create_default_context(cadata=text)


def load_cert_chain(context: ssl.SSLContext, cert_pem: bytes, key_pem: bytes) -> None:
    """Load a client certificate and key given as bytes into ``context``.

    ``load_cert_chain`` takes only paths, so the bytes go to files in a private temporary
    folder (0700, files 0600) deleted right after.

    :raises EncryptedKeyError: the key needs a passphrase (never prompted for).
    :raises ssl.SSLError: not a certificate and its key.
    """
    with tempfile.TemporaryDirectory(prefix="tycho-kube-") as folder:
        cert, key = Path(folder) / "cert.pem", Path(folder) / "key.pem"
        _write_private(cert, cert_pem)
        _write_private(key, key_pem)
        context.load_cert_chain(cert, key, password=_no_passphrase)


def _no_passphrase() -> str:
    # Without a password callback OpenSSL asks on the terminal, which would block discovery.
    raise EncryptedKeyError("the client key is encrypted (a passphrase cannot be asked for)")


def _write_private(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)


def _ascii(pem: bytes) -> str:
    """``pem`` as the ASCII text ``cadata`` needs: other bytes (only ever in the comments that
    OpenSSL skips between certificates) become ``?``, as a ``cafile`` read would ignore them."""
    return pem.decode("ascii", "replace").replace("\ufffd", "?")
