"""``hocba serve``: the production web server (issue 8 §2).

Collects the static files (served by WhiteNoise from the same processes), then replaces
this process with gunicorn running ``hocba.wsgi`` with N worker processes. Run behind a TLS
reverse proxy; run ``hocba migrate`` once per deployment first, and ``hocba worker`` processes
for the background jobs. Health probes: ``/healthz`` (alive) and ``/readyz`` (ready).
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _


def default_workers() -> int:
    return max(2, (os.cpu_count() or 1) * 2 + 1)


class Command(BaseCommand):
    help = "Chạy máy chủ web cho môi trường thật (gunicorn, tệp tĩnh qua WhiteNoise)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000", help="địa chỉ:cổng")
        parser.add_argument("--workers", type=int, default=default_workers())
        parser.add_argument("--threads", type=int, default=1)
        parser.add_argument("--timeout", type=int, default=60, help="giây cho mỗi yêu cầu")
        parser.add_argument(
            "--no-collectstatic", action="store_true", help="không thu thập lại tệp tĩnh"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or shutil.which(
            "gunicorn"
        )
        if gunicorn is None:
            raise CommandError(_("Không tìm thấy gunicorn: hãy cài lại hocba (pip install -e .)."))
        if not options["no_collectstatic"]:
            call_command("collectstatic", interactive=False, verbosity=0)
        self.stdout.write(
            _("hocba phục vụ tại http://%(bind)s với %(n)s tiến trình (thư mục dữ liệu %(dir)s).")
            % {"bind": options["bind"], "n": options["workers"], "dir": settings.DATA_DIR}
        )
        self.stdout.flush()
        command = [
            gunicorn,
            "hocba.wsgi:application",
            "--bind",
            options["bind"],
            "--workers",
            str(options["workers"]),
            "--threads",
            str(options["threads"]),
            "--timeout",
            str(options["timeout"]),
            "--access-logfile",
            "-",
            "--forwarded-allow-ips",
            os.environ.get("HOCBA_FORWARDED_ALLOW_IPS", "127.0.0.1"),
        ]
        os.execv(gunicorn, command)  # noqa: S606 — replace this process: signals reach gunicorn
