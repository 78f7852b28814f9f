"""The domain's exception tree. Each error carries the HTTP status it answers with, read by
the JSON API's error handler and by the pages that show a refused form alike."""

from __future__ import annotations


class DomainError(Exception):
    code = "error"
    status = 400


class InvalidInput(DomainError):
    code = "invalid"
    status = 422


class NotFound(DomainError):
    code = "not_found"
    status = 404


class PermissionDenied(DomainError):
    code = "forbidden"
    status = 403


class Conflict(DomainError):
    code = "conflict"
    status = 409


class Throttled(DomainError):
    code = "throttled"
    status = 429
