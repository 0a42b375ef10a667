"""``hocba restore IN.tar``: an archive of ``hocba backup`` into an empty instance, then the
ledger audit (:mod:`hocba.common.restore`). Exits non-zero when the audit finds a problem."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.serializers.base import DeserializationError
from django.db import DatabaseError
from django.utils.translation import gettext as _

from hocba.common.backup import BackupError
from hocba.common.restore import restore_backup
from hocba.ledger.management.commands.ledger import write_audit


class Command(BaseCommand):
    help = "Phục hồi một bản sao lưu vào hệ thống trống, rồi kiểm tra lại sổ cái."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", metavar="IN.tar", help="tệp sao lưu")
        parser.add_argument(
            "--sha256",
            default="",
            help="mã SHA-256 của tệp sao lưu (do “hocba backup” in ra): kiểm tra trước mọi việc",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            summary = restore_backup(
                options["archive"], expected_sha256=options["sha256"], say=self.stdout.write
            )
        except (BackupError, OSError, DatabaseError, DeserializationError) as error:
            raise CommandError(
                _("Không phục hồi: %(error)s") % {"error": getattr(error, "message", error)}
            ) from error
        timings = ", ".join(f"{stage} {seconds:.1f}s" for stage, seconds in summary.timings.items())
        self.stdout.write(
            _("Đã phục hồi %(rows)s dòng và %(files)s tệp từ bản sao lưu lúc %(at)s (%(timings)s).")
            % {
                "rows": summary.rows,
                "files": summary.files,
                "at": summary.manifest["created_at"],
                "timings": timings,
            }
        )
        assert summary.audit is not None
        write_audit(self, summary.audit)
