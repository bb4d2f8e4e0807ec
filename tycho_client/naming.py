"""System names that real Tycho servers can turn into Kubernetes objects.

Why ``MAX_NAME_LENGTH`` is 30: a real Tycho server names every object it creates
``{name}-{guid}``, where ``guid`` is 32 lowercase hex digits, and it also puts that whole string
into Kubernetes *label values* (``name``, ``tycho-app``). Label values are limited to 63
characters, so ``len(name) + 1 + 32 <= 63`` gives ``len(name) <= 30``. A longer name is accepted
by the server and then fails inside Kubernetes, half-way through creating the system.

:func:`format_name` maps any text with at least one ASCII letter or digit, once accents are
taken off, to such a name.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from tycho_client import _publish
from tycho_client.errors import FieldError, TychoNameError

__all__ = ["MAX_NAME_LENGTH", "format_name", "guid_in", "is_dns_label"]

MAX_NAME_LENGTH = 30
"""Longest system name: 63 (label value limit) - 1 ('-') - 32 (the server's hex guid)."""

# What servers name a system: {name}-{guid}, the name a DNS label (as format_name makes it), the
# GUID 32 lowercase hex digits (a uuid4's hex).
_GUID_OR_FULL_NAME = re.compile(r"(?:[a-z0-9](?:[-a-z0-9]*[a-z0-9])?-)?([0-9a-f]{32})")
_HASH_LENGTH = 8
_DNS_LABEL = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?")
_NOT_LABEL_CHARS = re.compile(r"[^a-z0-9]+")
_SHOWN_INPUT = 40

# Latin letters that Unicode does not decompose into an ASCII letter and a mark, spelt as
# their usual ASCII forms; without this they would turn into separators (Straße -> stra-e).
# Capitals map to lowercase because the name is lowercased anyway.
_LETTERS = str.maketrans(
    {
        "ß": "ss", "ẞ": "ss",
        "æ": "ae", "Æ": "ae",
        "œ": "oe", "Œ": "oe",
        "ø": "o", "Ø": "o",
        "đ": "d", "Đ": "d",
        "ð": "d", "Ð": "d",
        "ł": "l", "Ł": "l",
        "þ": "th", "Þ": "th",
        "\u0131": "i",  # dotless i (Turkish); its capital is the ASCII "I"
    }
)  # fmt: skip


def is_dns_label(s: str, max_length: int = 63) -> bool:
    """True if ``s`` is an RFC 1123 label: a-z, 0-9 and '-', alphanumeric at both ends."""
    return 0 < len(s) <= max_length and _DNS_LABEL.fullmatch(s) is not None


def guid_in(text: str) -> str | None:
    """The GUID ``text`` names: a GUID itself, or the tail of a full system name ``{name}-{guid}``
    (what servers match systems by); ``None`` for anything else, such as a system name."""
    match = _GUID_OR_FULL_NAME.fullmatch(text)
    return match.group(1) if match else None


def format_name(name: str) -> str:
    """Turn ``name`` into a valid system name (an RFC 1123 label of at most 30 characters).

    Takes accents off (Unicode NFKD, marks dropped: ``café`` -> ``cafe``, ``Å`` -> ``a``) and
    spells the Latin letters that have no decomposition in ASCII (``ß`` -> ``ss``, ``æ`` ->
    ``ae``, ``ø`` -> ``o``, ``ł`` -> ``l``, ``þ`` -> ``th``, ...); lowercases; turns each run of
    anything other than a-z and 0-9 (separators, ``_``, ``.``, spaces, what is still not
    ASCII, repeated ``-``) into one ``-`` and strips ``-`` at the ends. A longer result keeps
    its start and ends in ``-`` plus 8 hex digits of the SHA-256 of the full formatted name, so
    distinct long names stay distinct and the result is stable. Idempotent: a formatted name
    formats to itself.

    >>> format_name("apps/jupyter")
    'apps-jupyter'
    >>> format_name("Mon Café ☕ app")
    'mon-cafe-app'

    Raises :class:`~tycho_client.errors.TychoNameError` if ``name`` has no ASCII letter or
    digit even then (``日本語``, ``---``).
    """
    collapsed = _NOT_LABEL_CHARS.sub("-", _transliterate(name).lower()).strip("-")
    if not collapsed:
        shown = repr(name if len(name) <= _SHOWN_INPUT else name[:_SHOWN_INPUT] + "...")
        message = (
            f"name {shown} has no ASCII letters or digits to make a system name from "
            "(system names are a-z, 0-9 and '-'); give one such as 'my-app'"
        )
        raise TychoNameError(message, [FieldError(("name",), message)])
    if len(collapsed) <= MAX_NAME_LENGTH:
        return collapsed
    digest = hashlib.sha256(collapsed.encode("utf-8")).hexdigest()[:_HASH_LENGTH]
    # The kept start begins with an alphanumeric (leading '-' were stripped), so it is never
    # empty after dropping a trailing '-'.
    head = collapsed[: MAX_NAME_LENGTH - 1 - _HASH_LENGTH].rstrip("-")
    return f"{head}-{digest}"


def _transliterate(name: str) -> str:
    """``name`` with accents off and the table's letters spelt out; other characters kept."""
    if name.isascii():
        return name  # the common case; NFKD leaves ASCII as it is
    # NFKD splits "é" into "e" and a combining acute accent, and compatibility forms (the "ﬁ"
    # ligature, full-width letters) into plain letters; the marks are then dropped.
    decomposed = unicodedata.normalize("NFKD", name)
    unmarked = "".join(
        char for char in decomposed if not unicodedata.category(char).startswith("M")
    )
    return unmarked.translate(_LETTERS)


_publish(__name__, globals())
