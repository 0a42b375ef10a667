"""Domain errors carry a user-facing Vietnamese message (STYLE §2)."""

from __future__ import annotations


class DomainError(Exception):
    """A refused state change. ``message`` is shown to the user as is."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class PermissionRefused(DomainError):
    """The actor may not do this to this object."""
