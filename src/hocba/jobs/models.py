"""The queue's lease: one row per running ``hocba worker`` process (issue 8 §1).

django-tasks-db marks a claimed task RUNNING and nothing ever takes it back if its worker dies.
Each worker keeps a :class:`WorkerLease` fresh from a heartbeat thread; the reaper
(:func:`hocba.jobs.lease.requeue_abandoned_tasks`) puts back the RUNNING tasks whose worker's
lease lapsed.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkerLease(models.Model):
    worker_id = models.CharField(_("mã tiến trình"), max_length=64, unique=True)
    hostname = models.CharField(_("máy"), max_length=255)
    pid = models.PositiveIntegerField(_("số tiến trình"))
    started_at = models.DateTimeField(_("bắt đầu lúc"))
    heartbeat_at = models.DateTimeField(_("nhịp gần nhất"), db_index=True)
    tasks_run = models.PositiveIntegerField(_("số công việc đã chạy"), default=0)

    class Meta:
        verbose_name = _("tiến trình xử lý")
        verbose_name_plural = _("tiến trình xử lý")
        ordering = ["started_at"]

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.hostname}:{self.pid})"
