"""``hocba worker``: work the database task queue (ARCHITECTURE §2, §8, §10; issue 8 §1).

Tasks are claimed one at a time by django-tasks-db's ``Worker`` (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL), never with the autoreloader. The process holds a lease (:mod:`hocba.jobs.lease`)
kept fresh by a heartbeat thread; on start and then every ``--reap-every`` seconds, between two
tasks, it puts back the tasks of workers that died, re-queues render jobs and signing batches
whose own heartbeat stopped, and signs a log checkpoint if the log grew. Run any number of
these, on any machines sharing the database. SIGINT/SIGTERM: the running task finishes first.
"""

from __future__ import annotations

import logging
import signal
import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from django.db import connection
from django.utils.crypto import get_random_string
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, DEFAULT_TASK_QUEUE_NAME
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand
from django_tasks_db.management.commands.db_worker import Worker

from hocba.jobs import lease
from hocba.records.jobs import requeue_stale_jobs

HANDLED_SIGNALS = [signal.SIGINT, signal.SIGTERM] + (
    [signal.SIGQUIT] if hasattr(signal, "SIGQUIT") else []
)


class _PerTaskNoise(logging.Filter):
    """The loop runs django-tasks-db's worker for one task at a time: its start and stop lines
    would come with every task; the task's own lines (started, finished, failed) stay."""

    NOISE = ("Starting worker", "Run maximum tasks", "No more tasks to run")

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.NOISE)


class Command(BaseCommand):
    help = "Chạy tiến trình xử lý công việc nền (hàng đợi trong cơ sở dữ liệu)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--queue-name", default=DEFAULT_TASK_QUEUE_NAME)
        parser.add_argument("--backend", default=DEFAULT_TASK_BACKEND_ALIAS, dest="backend_name")
        parser.add_argument(
            "--interval", type=float, default=1.0, help="giây chờ khi hàng đợi trống"
        )
        parser.add_argument(
            "--reap-every",
            type=float,
            default=60.0,
            help="giây giữa hai lần tìm công việc bị bỏ dở (mặc định %(default)s)",
        )
        parser.add_argument(
            "--batch", action="store_true", help="xử lý hết hàng đợi rồi thoát (kiểm thử, cron)"
        )
        parser.add_argument("--worker-id", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        DbWorkerCommand().configure_logging(options["verbosity"])
        logging.getLogger("django_tasks_db").addFilter(_PerTaskNoise())
        worker_id = options["worker_id"] or get_random_string(32)
        handlers = {sig: signal.getsignal(sig) for sig in HANDLED_SIGNALS}
        lease.register(worker_id)
        # Inside an enclosing transaction (a test) the lease is visible to no other worker, and
        # a beat from another connection would wait on it: no heartbeat thread then.
        heartbeat = None if connection.in_atomic_block else lease.Heartbeat(worker_id)
        if heartbeat is not None:
            heartbeat.start()
        try:
            self._work(worker_id, options)
        finally:
            if heartbeat is not None:
                heartbeat.stop()
            lease.release(worker_id)
            for sig, handler in handlers.items():
                signal.signal(sig, handler)

    def _work(self, worker_id: str, options: dict[str, Any]) -> None:
        worker = Worker(
            queue_names=options["queue_name"].split(","),
            interval=0,
            batch=True,
            backend_name=options["backend_name"],
            startup_delay=False,
            max_tasks=1,
            worker_id=worker_id,
            excluded_queue_names=[],
        )
        # SIGINT/SIGTERM: finish the running task, then stop (exit at once when idle).
        worker.configure_signals()
        self._reap()
        last_reap = time.monotonic()
        while worker.running:
            if time.monotonic() - last_reap >= options["reap_every"]:
                self._reap()
                last_reap = time.monotonic()
            before = worker._run_tasks
            # With max_tasks=1 and batch=True, run() claims and runs one task, or returns
            # when nothing is ready; the reaper gets its turn between two tasks.
            worker.run()
            if worker._run_tasks > before:
                lease.count_task(worker_id)
            elif options["batch"]:
                # Before leaving, take back what a dead worker left, and run it.
                if not self._reap().requeued:
                    return
                last_reap = time.monotonic()
            else:
                time.sleep(options["interval"])

    def _reap(self) -> lease.Reaped:
        from hocba.signing.services import requeue_stale_batches

        reaped = lease.requeue_abandoned_tasks()
        if reaped.requeued:
            self.stderr.write("Requeued tasks of workers that died: " + ", ".join(reaped.requeued))
        if reaped.failed:
            self.stderr.write(
                "Tasks failed after too many lost workers: " + ", ".join(reaped.failed)
            )
        requeued = requeue_stale_jobs()
        if requeued:
            self.stderr.write(
                "Requeued abandoned render jobs: " + ", ".join(str(pk) for pk in requeued)
            )
        batches = requeue_stale_batches()
        if batches:
            self.stderr.write(
                "Requeued abandoned signing batches: " + ", ".join(str(pk) for pk in batches)
            )
        # Events logged outside issuing (copies) are covered by a fresh signed checkpoint, so
        # the published one follows the log within one reaping period.
        from hocba.ledger import services as ledger

        if ledger.log_size():
            ledger.sign_checkpoint()
        return reaped
