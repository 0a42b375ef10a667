"""``hocba backup OUT.tar``: the database, stored files, trust folder and the log's public state
in one archive (:mod:`hocba.common.backup`); no private key goes into it."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from hocba.common.backup import BackupError, write_backup


class Command(BaseCommand):
    help = "Sao lưu toàn bộ hệ thống (dữ liệu, tệp PDF, thư mục tin cậy) vào một tệp .tar."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", metavar="OUT.tar", help="tệp sao lưu sẽ ghi")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            summary = write_backup(options["out"], say=self.stdout.write)
        except (BackupError, OSError) as error:
            raise CommandError(getattr(error, "message", str(error))) from error
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Đã sao lưu %(rows)s dòng, %(files)s tệp, sổ cái %(log)s lá vào %(path)s "
                    "(%(size)s byte, %(seconds).1f giây)."
                )
                % {
                    "rows": sum(summary.rows.values()),
                    "files": summary.files,
                    "log": summary.log_size,
                    "path": summary.path,
                    "size": summary.size,
                    "seconds": summary.seconds,
                }
            )
        )
        self.stdout.write(
            _("SHA-256 của tệp sao lưu (ghi lại, dùng với hocba restore --sha256): %(sha)s")
            % {"sha": summary.sha256}
        )
        self.stdout.write(
            _(
                "Tệp sao lưu chứa dữ liệu cá nhân: hãy lưu trữ có mã hoá. Khoá riêng của sổ cái, "
                "khoá CA và SECRET_KEY không có trong đó: giữ chúng ngoại tuyến."
            )
        )
