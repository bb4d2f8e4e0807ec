"""Kubernetes resource quantities (``500m``, ``1.5``, ``512Mi``, ``1e3``): the one parser.

The rules compare reservations with limits by it, the fake renders what Kubernetes reports from
it, and the tests' fake Kubernetes API validates and canonicalizes with it.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import NamedTuple

__all__ = ["BINARY_POWERS", "DECIMAL_EXPONENTS", "MAX_QUANTITY_TEXT", "Quantity", "parse_quantity"]

DECIMAL_EXPONENTS = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12}
DECIMAL_EXPONENTS.update({"P": 15, "E": 18})
BINARY_POWERS = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
"""Each binary suffix as a power of 1024."""
MAX_QUANTITY_TEXT = 64
"""Longer texts are no quantity (the API server's own bound)."""
_MAX_EXPONENT = 30
_QUANTITY = re.compile(
    r"(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?"
)


class Quantity(NamedTuple):
    """A parsed quantity: its exact ``value`` and apimachinery's name for how it was written."""

    value: Fraction
    format: str
    """``DecimalSI`` (``500m``, ``1G``), ``BinarySI`` (``512Mi``) or ``DecimalExponent``
    (``1e3``)."""


def parse_quantity(text: str) -> Quantity | None:
    """``text`` as a Kubernetes quantity, or ``None`` if it is none (or absurdly long or large)."""
    match = _QUANTITY.fullmatch(text) if len(text) <= MAX_QUANTITY_TEXT else None
    if match is None:
        return None
    number, suffix = Fraction(match["number"]), match["suffix"] or ""
    if suffix in BINARY_POWERS:
        return Quantity(number * 1024 ** BINARY_POWERS[suffix], "BinarySI")
    if len(suffix) > 1:  # an exponent; "E" alone is the exa suffix
        exponent = int(suffix[1:])
        if abs(exponent) > _MAX_EXPONENT:
            return None
        return Quantity(number * Fraction(10) ** exponent, "DecimalExponent")
    return Quantity(number * Fraction(10) ** DECIMAL_EXPONENTS[suffix], "DecimalSI")
