"""Domain errors: services raise them, one handler turns them into a page or fragment."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal the user can understand; `message` is already translated."""

    status_code = 400

    def __init__(self, message: Any, *, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.field = field


class InvalidInput(DomainError):
    status_code = 422


class Forbidden(DomainError):
    status_code = 403


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class TooManyAttempts(DomainError):
    status_code = 429

    def __init__(self, message: Any, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class LoginRequired(DomainError):
    status_code = 401
