"""Ticket references: short, random, readable over the phone, self-checking.

A reference is ``PREFIX-XXXX-XXXXC``: eight random Crockford base32 symbols
(no I, L, O, U) and one check symbol. The check is a weighted sum in GF(32)
with distinct non-zero weights, so it catches every single wrong symbol
(a non-zero weight times a non-zero difference is non-zero in a field) and
every swap of neighbours (weights of neighbours differ, including the check
symbol's own weight of 1).

People type references back in any case, with or without dashes and spaces,
and confuse O with 0 and I or L with 1: ``normalize_reference`` accepts all of
that and returns the canonical form, or None when the check fails.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUE = {symbol: value for value, symbol in enumerate(ALPHABET)}
_VALUE.update({"O": 0, "I": 1, "L": 1})
BODY_LENGTH = 8
_POLY = 0b100101  # x^5 + x^2 + 1, primitive over GF(2)


def _gf_mul(a: int, b: int) -> int:
    result = 0
    while b:
        if b & 1:
            result ^= a
        b >>= 1
        a <<= 1
        if a & 0b100000:
            a ^= _POLY
    return result


def _weights(n: int) -> list[int]:
    """Powers alpha^1 .. alpha^n of the generator: distinct, non-zero, never 1."""
    weights, w = [], 1
    for _ in range(n):
        w = _gf_mul(w, 2)
        weights.append(w)
    return weights


_WEIGHTS = _weights(BODY_LENGTH)


def check_symbol(body: str) -> str:
    total = 0
    for weight, symbol in zip(_WEIGHTS, body, strict=True):
        total ^= _gf_mul(weight, _VALUE[symbol])
    return ALPHABET[total]


def new_reference(prefix: str) -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return format_reference(prefix, body + check_symbol(body))


def format_reference(prefix: str, symbols: str) -> str:
    return f"{prefix}-{symbols[:4]}-{symbols[4:]}"


_SEPARATORS = re.compile(r"[\s\-_.]+")


def normalize_reference(text: str, prefix: str) -> str | None:
    """The canonical reference for any tolerated spelling, or None."""
    compact = _SEPARATORS.sub("", text.strip().upper())
    if compact.startswith(prefix) and len(compact) == len(prefix) + BODY_LENGTH + 1:
        compact = compact[len(prefix) :]
    if len(compact) != BODY_LENGTH + 1 or any(c not in _VALUE for c in compact):
        return None
    canonical = "".join(ALPHABET[_VALUE[c]] for c in compact)
    if check_symbol(canonical[:BODY_LENGTH]) != canonical[BODY_LENGTH]:
        return None
    return format_reference(prefix, canonical)


def reference_pattern(prefix: str) -> re.Pattern[str]:
    """Finds a bracketed reference tag such as ``[HD-7K4Q-2M9XC]`` in a subject."""
    return re.compile(
        r"\[\s*(" + re.escape(prefix) + r"[\s\-]*[0-9A-Z][0-9A-Z\s\-]{7,14})\s*\]", re.IGNORECASE
    )


def find_reference_tags(subject: str, prefix: str) -> list[str]:
    found = []
    for match in reference_pattern(prefix).finditer(subject):
        ref = normalize_reference(match.group(1), prefix)
        if ref:
            found.append(ref)
    return found
