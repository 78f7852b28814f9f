"""A request body that does not fit its declared type, told in the project's own words
rather than Litestar's."""

from __future__ import annotations

import re

from litestar.exceptions import ValidationException

from inbox.errors import InvalidInput

_FIELD_PROBLEMS = {
    re.compile(r"Object contains unknown field `(.+)`"): "unknown field(s): {}",
    re.compile(r"Object missing required field `(.+)`"): "missing field(s): {}",
}


def body_refusal(exc: ValidationException) -> InvalidInput | None:
    """A request body that does not fit its struct, as ``InvalidInput`` (422 ``invalid``,
    as the actions refuse a bad value); None for other validation errors (a bad query
    parameter), which stay 400."""
    problems = [e for e in exc.extra or [] if isinstance(e, dict) and e.get("source") == "body"]
    if not problems:
        return None
    message, key = str(problems[0].get("message", "")), str(problems[0].get("key", ""))
    for pattern, detail in _FIELD_PROBLEMS.items():
        if match := pattern.fullmatch(message):
            return InvalidInput(detail.format(match.group(1)))
    return InvalidInput(f"{key}: {message}" if key and key != "data" else message)
