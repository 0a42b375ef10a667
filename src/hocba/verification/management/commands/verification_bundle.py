"""``hocba verification_bundle OUT``: export this deployment's trust bundle for ``hocba verify``.

::

    hocba verification_bundle hocba-trust-bundle.zip      # a ZIP (name ends in .zip)
    hocba verification_bundle hocba-trust-bundle/         # or a folder
    hocba verification_bundle --record MA-HOC-BA OUT.tlog-proof   # one record's log proof

The bundle holds the trusted roots and CRLs (``TRUST_DIR``), the log's verifier key, a freshly
signed checkpoint and the signed status list (:mod:`hocba.verification.bundle`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from hocba.verification import bundle


class Command(BaseCommand):
    help = _("Xuất gói tin cậy (chứng thư gốc, CRL, khoá sổ cái, điểm kiểm tra, trạng thái).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", type=Path)
        parser.add_argument("--record", help=_("mã học bạ: xuất tệp .tlog-proof của học bạ đó"))

    def handle(self, *args: Any, **options: Any) -> None:
        out: Path = options["out"]
        if options["record"]:
            from hocba.records.codes import normalise_short_code
            from hocba.records.models import YearRecord

            code = normalise_short_code(options["record"])
            record = YearRecord.objects.filter(short_code=code).first() if code else None
            proof = bundle.record_proof(record) if record is not None else None
            if proof is None:
                raise CommandError(_("Không có học bạ đã phát hành với mã này."))
            out.write_text(proof, encoding="utf-8")
            self.stdout.write(_("Đã ghi bằng chứng sổ cái vào %(path)s.") % {"path": out})
            return
        files = bundle.bundle_files()
        bundle.write_bundle(out, files)
        roots = sum(1 for name in files if name.startswith("trust/"))
        self.stdout.write(
            _("Đã xuất gói tin cậy vào %(path)s (%(n)s tệp chứng thư/CRL).")
            % {"path": out, "n": roots}
        )
