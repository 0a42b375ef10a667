"""``hocba pki init-demo [--folder var/pki/demo]``: the demo PKI for every school and signer.

Who gets a certificate is decided in :mod:`hocba.signing.demo`; the files in
:mod:`hocba.signing.pki`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from hocba.signing.demo import DEMO_PIN, default_folder, seed_demo_pki
from hocba.signing.pki import DemoPki


class Command(BaseCommand):
    help = (
        "PKI thử nghiệm: “init-demo” tạo CA, chứng thư số cá nhân, con dấu, TSA và CRL thử nghiệm."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        init_parser = subcommands.add_parser("init-demo", help="tạo PKI thử nghiệm")
        init_parser.add_argument(
            "--folder",
            type=Path,
            default=None,
            help="thư mục chứa PKI thử nghiệm",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "init-demo":
            self._init_demo(options["folder"])

    def _init_demo(self, folder: Path | None) -> None:
        self._report(seed_demo_pki(folder or default_folder()))

    def _report(self, pki: DemoPki) -> None:
        banner = "!" * 72
        self.stdout.write(self.style.WARNING(banner))
        self.stdout.write(
            self.style.WARNING(
                _("PKI THỬ NGHIỆM — NOT FOR PRODUCTION — không dùng để ký học bạ thật.")
            )
        )
        self.stdout.write(self.style.WARNING(banner))
        self.stdout.write(_("Thư mục: %(folder)s") % {"folder": pki.folder})
        self.stdout.write(_("Chứng thư gốc: %(path)s") % {"path": pki.root_cert})
        for person in pki.people.values():
            self.stdout.write(
                _("%(username)s (%(name)s): PIN %(pin)s")
                % {"username": person.username, "name": person.full_name, "pin": DEMO_PIN}
            )
        for seal in pki.seals.values():
            self.stdout.write(
                _("Con dấu %(code)s (%(name)s): PIN %(pin)s")
                % {"code": seal.code, "name": seal.name, "pin": seal.pin}
            )
        self.stdout.write(self.style.WARNING(banner))
