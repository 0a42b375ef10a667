"""``hocba exchange``: upward sync of issued records to a Department or Ministry store.

``hocba exchange target NAME --url https://so.example/api/v1/exchange/record-sets`` creates or
updates a target; its API key (``exchange:push`` scope, made on the receiving side with ``hocba
api-keys create``) is read from the ``HOCBA_EXCHANGE_API_KEY`` environment variable (or the one
named by ``--api-key-env``), never from the command line. ``--disable`` stops syncing to it.

``hocba exchange sync [--target NAME] [--batch-size N] [--queue]`` sends every issued version not
yet acknowledged (docs/interchange.md), now or, with ``--queue``, through the task queue. Exit
status 0 when everything was acknowledged, 3 when some versions failed (reasons are printed).

``hocba exchange status`` prints the number of versions per target and sync status.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count
from django.utils.translation import gettext as _

from hocba.common.errors import DomainError
from hocba.exchange import services, sync, tasks
from hocba.exchange.models import RecordSync, SyncTarget

EXIT_SOME_FAILED = 3


class Command(BaseCommand):
    help = "Đồng bộ học bạ đã phát hành lên kho dữ liệu của Sở/Bộ: “target”, “sync”, “status”."

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        target = subcommands.add_parser("target", help="tạo hoặc sửa một nơi nhận đồng bộ")
        target.add_argument("name", help="tên nơi nhận")
        target.add_argument("--url", required=True, help="địa chỉ nhận (HTTPS)")
        target.add_argument(
            "--api-key-env",
            default="HOCBA_EXCHANGE_API_KEY",
            help="biến môi trường chứa khoá API của nơi nhận (mặc định %(default)s)",
        )
        target.add_argument("--batch-size", type=int, default=50, help="số bộ hồ sơ mỗi lần gửi")
        target.add_argument("--disable", action="store_true", help="tạm ngừng đồng bộ")
        run = subcommands.add_parser("sync", help="gửi các học bạ chưa đồng bộ")
        run.add_argument("--target", default=None, help="chỉ gửi tới nơi nhận này")
        run.add_argument("--batch-size", type=int, default=None, help="số bộ hồ sơ mỗi lần gửi")
        run.add_argument("--queue", action="store_true", help="đưa vào hàng đợi công việc")
        subcommands.add_parser("status", help="số học bạ theo nơi nhận và trạng thái")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "_" + options["subcommand"])(options)
        except DomainError as error:
            raise CommandError(error.message) from error

    def _target(self, options: dict[str, Any]) -> None:
        api_key = os.environ.get(options["api_key_env"], "")
        existing = SyncTarget.objects.filter(name=options["name"]).first()
        if not api_key and existing is not None:
            api_key = existing.api_key
        if not api_key:
            raise CommandError(
                _("Đặt khoá API của nơi nhận vào biến môi trường %(env)s.")
                % {"env": options["api_key_env"]}
            )
        target = services.save_target(
            actor=None,
            name=options["name"],
            endpoint_url=options["url"],
            api_key=api_key,
            enabled=not options["disable"],
            batch_size=options["batch_size"],
        )
        self.stdout.write(
            _("Nơi nhận “%(name)s”: %(url)s (%(state)s).")
            % {
                "name": target.name,
                "url": target.endpoint_url,
                "state": _("đang dùng") if target.enabled else _("tạm ngừng"),
            }
        )

    def _sync(self, options: dict[str, Any]) -> None:
        if options["queue"]:
            if options["target"]:
                target = SyncTarget.objects.filter(name=options["target"]).first()
                if target is None:
                    raise CommandError(_("Không có nơi nhận “%(n)s”.") % {"n": options["target"]})
                tasks.sync_to_target.enqueue(target.pk)
                count = 1
            else:
                count = tasks.enqueue_all()
            self.stdout.write(_("Đã đưa %(n)s lượt đồng bộ vào hàng đợi.") % {"n": count})
            return
        extra = {"batch_size": options["batch_size"]} if options["batch_size"] else {}
        reports = sync.sync_all(target_name=options["target"], **extra)
        failed = 0
        for report in reports:
            self.stdout.write(
                _(
                    "%(target)s: %(synced)s phiên bản đã đồng bộ, %(failed)s lỗi, "
                    "%(sets)s bộ hồ sơ, %(requests)s yêu cầu HTTP."
                )
                % {
                    "target": report.target,
                    "synced": report.synced,
                    "failed": report.failed,
                    "sets": report.record_sets,
                    "requests": report.requests,
                }
            )
            for error in report.errors:
                self.stdout.write("  - " + error)
            failed += report.failed
        if failed:
            sys.exit(EXIT_SOME_FAILED)

    def _status(self, options: dict[str, Any]) -> None:
        rows = (
            RecordSync.objects.values("target__name", "status")
            .annotate(count=Count("pk"))
            .order_by("target__name", "status")
        )
        for row in rows:
            self.stdout.write(f"{row['target__name']}\t{row['status']}\t{row['count']}")
