"""Errors that services raise and views/API turn into clear answers for people."""

from __future__ import annotations


class JasaError(Exception):
    """A business rule said no. ``message`` is safe to show; ``code`` is stable for API clients."""

    code = "error"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.field = field


class ValidationError(JasaError):
    code = "invalid"
    status = 422


class Conflict(JasaError):
    """The world changed under the request (slot taken, state moved on)."""

    code = "conflict"
    status = 409


class NotFound(JasaError):
    code = "not_found"
    status = 404


class PermissionDenied(JasaError):
    code = "forbidden"
    status = 403


class InvalidTransition(Conflict):
    code = "invalid_transition"
