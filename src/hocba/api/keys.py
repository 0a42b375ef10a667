"""Make, find and revoke institutions' API keys (the one place keys change, audited)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hocba.api.models import ApiKey, ApiScope
from hocba.audit.services import record_event
from hocba.common.errors import DomainError

KEY_PREFIX = "hbk_"
# Writing last_used_at on every call would turn each read into a write; once a minute is enough.
LAST_USED_RESOLUTION = dt.timedelta(seconds=60)


def key_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.strip().encode()).hexdigest()


def create_key(
    *,
    actor: Any,
    name: str,
    institution: str,
    scopes: Sequence[str],
    rate_limit: int | None = None,
) -> tuple[ApiKey, str]:
    """A new key and its secret (shown once; only its hash is kept)."""
    unknown = sorted(set(scopes) - set(ApiScope.values))
    if unknown or not scopes:
        raise DomainError(
            _("Quyền không hợp lệ: %(scopes)s. Các quyền có: %(known)s.")
            % {"scopes": ", ".join(unknown) or "-", "known": ", ".join(ApiScope.values)}
        )
    if not name.strip() or not institution.strip():
        raise DomainError(_("Khoá API cần có tên và tên cơ quan, tổ chức."))
    prefix = secrets.token_hex(4)
    raw_key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        key = ApiKey.objects.create(
            name=name.strip(),
            institution=institution.strip(),
            prefix=prefix,
            key_hash=key_hash(raw_key),
            scopes=sorted(set(scopes)),
            rate_limit=rate_limit,
        )
        record_event(
            actor=actor,
            action="api.api_key.created",
            obj=key,
            changes={"institution": key.institution, "scopes": key.scopes},
        )
    return key, raw_key


def revoke_key(*, actor: Any, key: ApiKey) -> ApiKey:
    with transaction.atomic():
        key = ApiKey.objects.select_for_update().get(pk=key.pk)
        if not key.is_active:
            return key
        key.is_active, key.revoked_at = False, timezone.now()
        key.save(update_fields=["is_active", "revoked_at"])
        record_event(actor=actor, action="api.api_key.revoked", obj=key)
    return key


def key_for(raw_key: str) -> ApiKey | None:
    """The active key whose secret this is, or None; notes when it was last used."""
    if not raw_key or not raw_key.strip().startswith(KEY_PREFIX) or len(raw_key) > 200:
        return None
    key = ApiKey.objects.filter(key_hash=key_hash(raw_key), is_active=True).first()
    if key is None:
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key
