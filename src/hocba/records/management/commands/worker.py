"""``hocba worker``: work the database task queue (ARCHITECTURE §2, §8, §10).

The loop is django-tasks-db's ``db_worker`` (its ``Worker`` class) run in batch mode, never
with the autoreloader, with the render-job and signing-batch reapers in between: on start and
then every ``--reap-every`` seconds, RUNNING jobs whose heartbeat stopped (their worker died;
the queue has no lease) are queued again, and the transparency log gets a signed checkpoint if
it grew. Run any number of these, on any machines sharing the database.
"""

from __future__ import annotations

import signal
import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from django.utils.crypto import get_random_string
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, DEFAULT_TASK_QUEUE_NAME
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand
from django_tasks_db.management.commands.db_worker import Worker

from hocba.records.jobs import requeue_stale_jobs

HANDLED_SIGNALS = [signal.SIGINT, signal.SIGTERM] + (
    [signal.SIGQUIT] if hasattr(signal, "SIGQUIT") else []
)


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
        worker_id = options["worker_id"] or get_random_string(32)
        handlers = {sig: signal.getsignal(sig) for sig in HANDLED_SIGNALS}
        try:
            self._work(worker_id, options)
        finally:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)

    def _work(self, worker_id: str, options: dict[str, Any]) -> None:
        self._reap()
        last_reap = time.monotonic()
        while True:
            worker = Worker(
                queue_names=options["queue_name"].split(","),
                interval=0,
                batch=True,
                backend_name=options["backend_name"],
                startup_delay=False,
                max_tasks=None,
                worker_id=worker_id,
                excluded_queue_names=[],
            )
            # SIGINT/SIGTERM: finish the running task, then stop (exit at once when idle).
            worker.configure_signals()
            worker.run()
            if options["batch"] or not worker.running:
                return
            if time.monotonic() - last_reap >= options["reap_every"]:
                self._reap()
                last_reap = time.monotonic()
            time.sleep(options["interval"])

    def _reap(self) -> None:
        from hocba.signing.services import requeue_stale_batches

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
