"""The domain's exception tree; the web layer maps it to HTTP in one place."""

from __future__ import annotations


class DomainError(Exception):
    code = "error"


class InvalidInput(DomainError):
    code = "invalid"


class NotFound(DomainError):
    code = "not_found"


class PermissionDenied(DomainError):
    code = "forbidden"


class Conflict(DomainError):
    code = "conflict"


class Throttled(DomainError):
    code = "throttled"
