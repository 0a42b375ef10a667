"""The queue's lease (issue 8 §1): heartbeats, the reaper, the worker command."""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import time
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from hocba.jobs import lease
from hocba.jobs.models import WorkerLease
from hocba.jobs.tests.sample_tasks import note

pytestmark = pytest.mark.django_db

OTHER_HOST = "worker-2.example"


def queued(capture: Any, tmp_path: Path, text: str = "x") -> DBTaskResult:
    with capture(execute=True):
        result = note.enqueue(str(tmp_path / "notes.txt"), text)
    return DBTaskResult.objects.get(pk=result.id)


def claimed(task: DBTaskResult, worker_ids: list[str], seconds_ago: float = 0) -> DBTaskResult:
    DBTaskResult.objects.filter(pk=task.pk).update(
        status=TaskResultStatus.RUNNING,
        worker_ids=worker_ids,
        started_at=timezone.now() - dt.timedelta(seconds=seconds_ago),
    )
    task.refresh_from_db()
    return task


def lease_of(worker_id: str, *, host: str = OTHER_HOST, pid: int = 4242, beat_ago: float = 0):
    now = timezone.now()
    return WorkerLease.objects.create(
        worker_id=worker_id,
        hostname=host,
        pid=pid,
        started_at=now - dt.timedelta(hours=1),
        heartbeat_at=now - dt.timedelta(seconds=beat_ago),
    )


def ended_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def work_queue() -> None:
    with mock.patch(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    ):
        call_command("worker", "--batch", verbosity=0)


def test_a_task_whose_worker_stopped_beating_runs_again(
    django_capture_on_commit_callbacks: Any, tmp_path: Path
) -> None:
    task = claimed(queued(django_capture_on_commit_callbacks, tmp_path), ["dead"], 300)
    lease_of("dead", beat_ago=120)  # the lease is 60 s

    reaped = lease.requeue_abandoned_tasks()

    assert reaped.requeued == [str(task.pk)] and reaped.failed == []
    assert reaped.leases_dropped == 1 and not WorkerLease.objects.exists()
    task.refresh_from_db()
    assert task.status == TaskResultStatus.READY and task.started_at is None
    work_queue()
    task.refresh_from_db()
    assert task.status == TaskResultStatus.SUCCESSFUL
    assert len(task.worker_ids) == 2  # the second attempt, counted by django-tasks
    assert (tmp_path / "notes.txt").read_text() == "x\n"


def test_a_live_workers_task_is_left_alone(
    django_capture_on_commit_callbacks: Any, tmp_path: Path
) -> None:
    task = claimed(queued(django_capture_on_commit_callbacks, tmp_path), ["alive"], 600)
    lease_of("alive", beat_ago=5)

    reaped = lease.requeue_abandoned_tasks()

    assert reaped.requeued == [] and reaped.leases_dropped == 0
    task.refresh_from_db()
    assert task.status == TaskResultStatus.RUNNING and task.worker_ids == ["alive"]


def test_a_killed_process_on_this_host_is_known_dead_at_once(
    django_capture_on_commit_callbacks: Any, tmp_path: Path
) -> None:
    task = claimed(queued(django_capture_on_commit_callbacks, tmp_path), ["killed"])
    lease_of("killed", host=socket.gethostname(), pid=ended_pid(), beat_ago=1)

    assert lease.requeue_abandoned_tasks().requeued == [str(task.pk)]


def test_a_task_claimed_without_a_lease_waits_a_lease_period(
    django_capture_on_commit_callbacks: Any, tmp_path: Path
) -> None:
    """A worker that holds no lease (``db_worker`` run by hand) gets the lease period."""
    fresh = claimed(queued(django_capture_on_commit_callbacks, tmp_path, "a"), ["manual"], 10)
    old = claimed(queued(django_capture_on_commit_callbacks, tmp_path, "b"), ["manual"], 120)

    assert lease.requeue_abandoned_tasks().requeued == [str(old.pk)]
    fresh.refresh_from_db()
    assert fresh.status == TaskResultStatus.RUNNING


@override_settings(HOCBA_TASK_MAX_ATTEMPTS=3)
def test_a_task_that_kills_its_worker_every_time_fails_after_the_last_attempt(
    django_capture_on_commit_callbacks: Any, tmp_path: Path
) -> None:
    task = claimed(queued(django_capture_on_commit_callbacks, tmp_path), ["w1", "w2", "w3"], 300)

    reaped = lease.requeue_abandoned_tasks()

    assert reaped.failed == [str(task.pk)] and reaped.requeued == []
    task.refresh_from_db()
    assert task.status == TaskResultStatus.FAILED
    assert task.exception_class_path == lease.LOST_WORKER_ERROR
    assert "dừng đột ngột 3 lần" in task.traceback
    assert task.task_result.errors[0].traceback == task.traceback


def test_a_beat_renews_the_lease_and_takes_it_again_after_a_reaping() -> None:
    lease.register("w")
    WorkerLease.objects.update(heartbeat_at=timezone.now() - dt.timedelta(minutes=5))
    lease.beat("w")
    assert WorkerLease.objects.get().heartbeat_at > timezone.now() - dt.timedelta(seconds=5)
    WorkerLease.objects.all().delete()
    lease.beat("w")  # reaped during a long pause: the worker is back
    assert WorkerLease.objects.get().worker_id == "w"


def test_the_worker_holds_a_lease_while_it_runs_and_gives_it_back(
    django_capture_on_commit_callbacks: Any, tmp_path: Path
) -> None:
    queued(django_capture_on_commit_callbacks, tmp_path)
    seen: list[tuple[str, int]] = []
    real = lease.count_task

    def spy(worker_id: str) -> None:
        real(worker_id)
        seen.extend(WorkerLease.objects.values_list("worker_id", "tasks_run"))

    with mock.patch.object(lease, "count_task", spy):
        work_queue()

    assert len(seen) == 1 and seen[0][1] == 1
    assert not WorkerLease.objects.exists()
    assert DBTaskResult.objects.get().status == TaskResultStatus.SUCCESSFUL


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_thread_keeps_the_lease_fresh() -> None:
    lease.register("beating")
    WorkerLease.objects.update(heartbeat_at=timezone.now() - dt.timedelta(minutes=5))
    heartbeat = lease.Heartbeat("beating", every=0.05)
    heartbeat.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            beat = WorkerLease.objects.get().heartbeat_at
            if beat > timezone.now() - dt.timedelta(seconds=5):
                break
            time.sleep(0.05)
    finally:
        heartbeat.stop()
    assert WorkerLease.objects.get().heartbeat_at > timezone.now() - dt.timedelta(seconds=5)
