"""``hocba verify FILE.pdf``: the offline verifier (no network, no database).

::

    hocba verify hoc-ba.pdf --bundle hocba-trust-bundle.zip [--proof hoc-ba.tlog-proof]
        [--json] [--pdf-report bao-cao.pdf]

The trust bundle comes from ``hocba verification_bundle`` on a running deployment (or
``HOCBA_TRUST_BUNDLE``). Without ``--proof`` a ``<FILE>.tlog-proof`` next to the PDF is used if
present. Exit codes: 0 the file is fully valid (signatures TOTAL_PASSED, log check passed, status
valid), 1 invalid, 2 indeterminate, 3 the file or the bundle was refused.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from hocba.verification.bundle import load_bundle
from hocba.verification.report import (
    DEFAULT_MAX_BYTES,
    INDETERMINATE,
    VALID,
    VerificationError,
    render_text,
    verify_pdf,
)

BUNDLE_ENV = "HOCBA_TRUST_BUNDLE"
EXIT_CODES = {VALID: 0, INDETERMINATE: 2}


class Command(BaseCommand):
    help = _("Kiểm tra một tệp học bạ PDF mà không cần mạng hay cơ sở dữ liệu.")
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--bundle", type=Path, default=os.environ.get(BUNDLE_ENV))
        parser.add_argument("--proof", type=Path)
        parser.add_argument("--json", action="store_true")
        parser.add_argument("--pdf-report", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        from django.conf import settings

        path: Path = options["file"]
        if options["bundle"] is None:
            raise CommandError(
                _("Cần gói tin cậy: dùng --bundle hoặc biến môi trường %(env)s.")
                % {"env": BUNDLE_ENV}
            )
        limit = int(getattr(settings, "HOCBA_VERIFY_MAX_BYTES", DEFAULT_MAX_BYTES))
        try:
            trust = load_bundle(Path(options["bundle"]))
            if not path.is_file():
                raise VerificationError(_("Không tìm thấy tệp “%(path)s”.") % {"path": path})
            if path.stat().st_size > limit:
                data = path.open("rb").read(limit + 1)  # refused by size, never read whole
            else:
                data = path.read_bytes()
            proof_path = options["proof"] or path.with_suffix(".tlog-proof")
            proof = None
            if options["proof"] is not None or proof_path.is_file():
                proof = proof_path.read_text(encoding="utf-8", errors="replace")
            report = verify_pdf(data, trust=trust, proof=proof, max_bytes=limit)
        except VerificationError as error:
            self.stderr.write(error.message)
            sys.exit(3)
        except OSError as error:
            self.stderr.write(_("Không đọc được tệp: %(error)s") % {"error": error})
            sys.exit(3)
        if options["json"]:
            self.stdout.write(report.to_json())
        else:
            self.stdout.write(render_text(report))
        if options["pdf_report"] is not None:
            from hocba.verification.report_pdf import render_report

            Path(options["pdf_report"]).write_bytes(render_report(report))
        code = EXIT_CODES.get(report.verdict, 1)
        if code:
            sys.exit(code)
