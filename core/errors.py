"""Errors that services raise; the web layer turns each into the status code a person expects."""

from __future__ import annotations


class PortalError(Exception):
    """Base of every error meant for a person: ``detail`` says what went wrong, ``field`` where."""

    status_code = 400

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class InvalidInput(PortalError):
    """The request is well-formed but a value breaks a rule (422)."""

    status_code = 422


class NotFound(PortalError):
    """The object does not exist or belongs to someone the actor may not see (404)."""

    status_code = 404

    def __init__(self, what: str = "Object") -> None:
        super().__init__(f"{what} not found")


class Conflict(PortalError):
    """The change clashes with existing data or with the object's state (409)."""

    status_code = 409


class Forbidden(PortalError):
    """The actor is known but its role does not allow the action (403)."""

    status_code = 403


class Unauthenticated(PortalError):
    """No valid session, token or key (401)."""

    status_code = 401


class ProviderError(PortalError):
    """A vendor refused or failed a request; the message fails."""

    status_code = 502


class TemporaryProviderError(ProviderError):
    """A vendor is busy or unreachable; the work is retried later."""

    status_code = 503
