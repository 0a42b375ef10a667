"""The queue's lease (issue 8 §1): heartbeats of worker processes and the reaper.

A worker registers a :class:`~hocba.jobs.models.WorkerLease` when it starts, keeps it fresh from
a thread (:class:`Heartbeat`) and deletes it when it stops. A RUNNING task is abandoned when the
worker that claimed it last

- has no lease and claimed the task more than a lease period ago (a worker that predates the
  lease, or ``db_worker`` run by hand),
- has a lease whose last beat is older than ``HOCBA_WORKER_LEASE_SECONDS`` (the machine died,
  the process hangs or lost the database), or
- ran on this very host and its process is gone (SIGKILL, out of memory): no need to wait.

:func:`requeue_abandoned_tasks` puts such tasks back to READY (django-tasks counts the attempt
from the task's worker ids), or FAILED once they have been tried ``HOCBA_TASK_MAX_ATTEMPTS``
times: a task that kills its worker every time must not take every worker down in turn. Jobs
are idempotent and re-check their state (STYLE §6), so running one again is safe; a job that
tracks its own progress takes over from the dead run (``context.attempt > 1``).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from hocba.jobs.models import WorkerLease

logger = logging.getLogger(__name__)

LOST_WORKER_ERROR = "hocba.jobs.lease.WorkerLost"


def lease_period() -> timedelta:
    return timedelta(seconds=settings.HOCBA_WORKER_LEASE_SECONDS)


def register(worker_id: str) -> WorkerLease:
    now = timezone.now()
    lease, _created = WorkerLease.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "hostname": socket.gethostname()[:255],
            "pid": os.getpid(),
            "started_at": now,
            "heartbeat_at": now,
        },
    )
    return lease


def beat(worker_id: str) -> None:
    """Keep the lease fresh; a lease the reaper already dropped (a long pause) is taken again."""
    if not WorkerLease.objects.filter(worker_id=worker_id).update(heartbeat_at=timezone.now()):
        register(worker_id)


def count_task(worker_id: str) -> None:
    WorkerLease.objects.filter(worker_id=worker_id).update(tasks_run=F("tasks_run") + 1)


def release(worker_id: str) -> None:
    WorkerLease.objects.filter(worker_id=worker_id).delete()


def _process_gone(pid: int) -> bool:
    """Whether process ``pid`` of this host has ended (a zombie has ended too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0] in {"Z", "X"}
    except OSError:
        return False


def lease_lapsed(lease: WorkerLease | None, claimed_at: datetime | None, now: datetime) -> bool:
    cutoff = now - lease_period()
    if lease is None:
        return claimed_at is None or claimed_at < cutoff
    if lease.heartbeat_at < cutoff:
        return True
    return lease.hostname == socket.gethostname()[:255] and _process_gone(lease.pid)


@dataclass(frozen=True)
class Reaped:
    requeued: list[str]
    failed: list[str]
    leases_dropped: int


def requeue_abandoned_tasks() -> Reaped:
    """Put back (or fail, after too many attempts) every RUNNING task whose worker is gone."""
    now = timezone.now()
    leases = {lease.worker_id: lease for lease in WorkerLease.objects.all()}
    running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).only(
        "id", "worker_ids", "started_at"
    )
    suspects = {
        task.pk: task.worker_ids
        for task in running
        if lease_lapsed(
            leases.get(task.worker_ids[-1]) if task.worker_ids else None, task.started_at, now
        )
    }
    requeued, failed = [], []
    with transaction.atomic():
        for task in DBTaskResult.objects.select_for_update(skip_locked=True).filter(
            pk__in=list(suspects), status=TaskResultStatus.RUNNING
        ):
            if task.worker_ids != suspects[task.pk]:
                continue  # claimed again meanwhile
            if len(task.worker_ids) >= settings.HOCBA_TASK_MAX_ATTEMPTS:
                task.status = TaskResultStatus.FAILED
                task.finished_at = now
                task.exception_class_path = LOST_WORKER_ERROR
                task.traceback = (
                    f"Tiến trình xử lý dừng đột ngột {len(task.worker_ids)} lần khi chạy công "
                    f"việc này; đã ngừng thử lại. Tiến trình: {', '.join(task.worker_ids)}."
                )
                task.save(
                    update_fields=["status", "finished_at", "exception_class_path", "traceback"]
                )
                failed.append(str(task.pk))
                logger.error("task %s (%s) failed: its worker died too often", task.pk, task)
            else:
                task.status = TaskResultStatus.READY
                task.started_at = None
                task.save(update_fields=["status", "started_at"])
                requeued.append(str(task.pk))
                logger.warning(
                    "task %s (%s) re-queued: worker %s is gone", task.pk, task, task.worker_ids[-1]
                )
        dead = [worker_id for worker_id, lease in leases.items() if lease_lapsed(lease, None, now)]
        dropped, _ = WorkerLease.objects.filter(worker_id__in=dead).delete()
    return Reaped(requeued=requeued, failed=failed, leases_dropped=dropped)


class Heartbeat:
    """A daemon thread that keeps ``worker_id``'s lease fresh while the worker runs tasks.

    It dies with the process, so a killed worker stops beating at once. It uses its own
    database connection (Django's connections are per thread) and closes it when stopped.
    """

    def __init__(self, worker_id: str, every: float | None = None) -> None:
        self.worker_id = worker_id
        self.every = settings.HOCBA_WORKER_HEARTBEAT_SECONDS if every is None else every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hocba-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.every + 5)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.every):
                try:
                    close_old_connections()
                    beat(self.worker_id)
                except Exception:  # a missed beat is retried; the lease allows several
                    logger.exception("heartbeat of worker %s failed", self.worker_id)
        finally:
            connection.close()
