"""Reading JSON request bodies: declared fields only, each of the type it must be."""

from __future__ import annotations

from collections.abc import Set
from typing import Any

from inbox.errors import InvalidInput


def only_fields(body: Any, allowed: Set[str], required: Set[str] = frozenset()) -> dict[str, Any]:
    """Accept declared fields only: no mass assignment."""
    if not isinstance(body, dict):
        raise InvalidInput("expected a JSON object")
    unknown = set(body) - allowed
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(sorted(unknown))}")
    missing = required - set(body)
    if missing:
        raise InvalidInput(f"missing field(s): {', '.join(sorted(missing))}")
    return body


def whole_number(body: dict[str, Any], key: str, default: int | None = None) -> int:
    """A JSON field that must be an integer (``true`` is not one), ``default`` if absent."""
    value = body.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInput(f"{key} must be a whole number")
    return value
