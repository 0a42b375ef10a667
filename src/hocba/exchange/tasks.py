"""Background sync (STYLE §6): takes a target's id, re-reads it, safe to re-run.

A run sends only what the target has not acknowledged, so two runs at once may at worst send a
batch twice, which the receiver recognises by its ``Idempotency-Key`` and stores once.
"""

from __future__ import annotations

import functools
import logging

from django_tasks import task

from hocba.exchange.models import SyncTarget
from hocba.exchange.sync import sync_target

logger = logging.getLogger(__name__)


@task()
def sync_to_target(target_id: int) -> dict[str, int]:
    target = SyncTarget.objects.filter(pk=target_id, enabled=True).first()
    if target is None:
        return {"synced": 0, "failed": 0, "requests": 0}
    report = sync_target(target)
    for error in report.errors:
        logger.warning("exchange sync to %s: %s", target.name, error)
    return {"synced": report.synced, "failed": report.failed, "requests": report.requests}


def enqueue_all() -> int:
    """Queue one sync per enabled target (after the caller's transaction commits)."""
    from django.db import transaction

    ids = list(SyncTarget.objects.filter(enabled=True).values_list("pk", flat=True))
    for target_id in ids:
        transaction.on_commit(functools.partial(sync_to_target.enqueue, target_id))
    return len(ids)
