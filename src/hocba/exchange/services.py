"""Sync targets: the one place they are made and changed (audited)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from hocba.audit.services import record_event
from hocba.common.errors import DomainError, PermissionRefused
from hocba.exchange.models import SyncTarget
from hocba.exchange.sync import check_endpoint
from hocba.schools import access


def save_target(
    *,
    actor: Any,
    name: str,
    endpoint_url: str,
    api_key: str,
    enabled: bool = True,
    batch_size: int = 50,
) -> SyncTarget:
    """Create the target ``name`` or update it (system administrators; ``actor=None`` is the
    command line run by the server's operator)."""
    if actor is not None and not access.is_system_admin(actor):
        raise PermissionRefused(_("Chỉ quản trị hệ thống được cấu hình nơi nhận đồng bộ."))
    name, endpoint_url, api_key = name.strip(), endpoint_url.strip(), api_key.strip()
    if not name or not api_key:
        raise DomainError(_("Nơi nhận đồng bộ cần có tên và khoá API."))
    if not 1 <= batch_size <= 500:
        raise DomainError(_("Số bộ hồ sơ mỗi lần gửi phải từ 1 đến 500."), field="batch_size")
    check_endpoint(endpoint_url)
    values = {"endpoint_url": endpoint_url, "api_key": api_key, "enabled": enabled}
    try:
        with transaction.atomic():
            target, created = SyncTarget.objects.update_or_create(
                name=name, defaults={**values, "batch_size": batch_size}
            )
            record_event(
                actor=actor,
                action="exchange.sync_target.created"
                if created
                else "exchange.sync_target.updated",
                obj=target,
                changes={"endpoint_url": endpoint_url, "enabled": enabled},
            )
    except IntegrityError as error:  # two operators saving the same new name at once
        raise DomainError(_("Nơi nhận “%(name)s” vừa được tạo.") % {"name": name}) from error
    return target
