"""Writing audit events. Call inside the transaction of the change being recorded."""

from __future__ import annotations

import datetime
import decimal
from typing import Any

from django.db import models, transaction

from hocba.audit.models import AuditEvent

SYSTEM_ACTOR_LABEL = "hệ thống"


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return value


def snapshot(instance: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """Field values of a model instance, JSON-ready, for diffs."""
    names = fields or [f.attname for f in instance._meta.concrete_fields if not f.primary_key]
    return {name: _jsonable(getattr(instance, name)) for name in names}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for every field whose value changed."""
    return {
        key: [before.get(key), after.get(key)]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def record_event(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    school: Any = None,
    changes: dict[str, Any] | None = None,
    object_type: str = "",
    object_id: str = "",
    object_label: str = "",
) -> AuditEvent:
    """Append one audit event. ``actor`` is a user or ``None`` for the system."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Audit events are written inside the change's transaction.")
    user = actor if getattr(actor, "is_authenticated", False) else None
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_label = object_label or str(obj)[:255]
    return AuditEvent.objects.create(
        actor=user,
        actor_label=user.get_username() if user else SYSTEM_ACTOR_LABEL,
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_label=object_label,
        school=school,
        changes={k: _jsonable(v) for k, v in (changes or {}).items()},
    )
