"""The published JSON Schema of the year record, and validation with a Vietnamese message."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from hocba.common.errors import DomainError

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
SCHEMA_FILES = {"hocba.year-record/1": "year-record-1.schema.json"}


@cache
def validator(schema_version: str = "hocba.year-record/1") -> Draft202012Validator:
    schema = json.loads((SCHEMA_DIR / SCHEMA_FILES[schema_version]).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _path(error: ValidationError) -> str:
    return "/" + "/".join(str(part) for part in error.absolute_path)


def validate_document(document: dict[str, Any]) -> None:
    """Raise :class:`DomainError` naming the first offending path (JSON Pointer) if invalid."""
    errors = sorted(
        validator().iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path]
    )
    if not errors:
        return
    first = errors[0]
    raise DomainError(
        _("Dữ liệu học bạ không đúng lược đồ tại “%(path)s” (quy tắc “%(rule)s”: %(detail)s).")
        % {"path": _path(first), "rule": first.validator, "detail": first.message[:200]},
        field=_path(first),
    )
