"""The API's error bodies and the error answers each kind of operation documents (issue 10 §3).

Every operation lists the error codes it can answer with, so that clients (and the schema
fuzzer in ``api/tests/test_schemathesis.py``) can rely on the OpenAPI schema. The handlers in
``api/endpoints.py`` and django-ninja itself make these bodies:

- 400 ``{"detail", "field"}``: a :class:`~hocba.common.errors.DomainError`;
- 401 ``{"detail"}``: no or wrong credentials; 403 ``{"detail"}``: refused (or a failed CSRF
  check of a session call); 404 ``{"detail"}``: no such object, or one the caller may not see;
- 422 ``{"detail": [...]}``: the request does not match the schema (django-ninja's validation);
- 429 ``{"detail"}`` and ``Retry-After``: a rate limit.
"""

from __future__ import annotations

from typing import Any

from ninja import Schema


class ErrorOut(Schema):
    detail: str


class DomainErrorOut(Schema):
    detail: str
    field: str | None = None


class ValidationErrorOut(Schema):
    detail: list[dict[str, Any]]


NOT_VALID: dict[int, Any] = {422: ValidationErrorOut}
# Staff operations on the session: not logged in, refused or CSRF, not visible, not valid.
SESSION: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, **NOT_VALID}
