"""``hocba pki init-demo [--folder var/pki/demo]``: the demo PKI for every school and signer.

Persons are the staff with a principal, deputy principal, homeroom teacher or subject teacher role;
each gets the demo PIN 123456. Safe to re-run: existing files are reused (see
:mod:`hocba.signing.pki`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from hocba.schools.models import Role, School, Staff
from hocba.signing.pki import DemoPki, init_demo_pki

DEMO_PIN = "123456"
SIGNING_ROLES = (
    Role.PRINCIPAL,
    Role.DEPUTY_PRINCIPAL,
    Role.HOMEROOM_TEACHER,
    Role.SUBJECT_TEACHER,
)


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
            default=Path(settings.DATA_DIR) / "pki" / "demo",
            help="thư mục chứa PKI thử nghiệm",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "init-demo":
            self._init_demo(options["folder"])

    def _init_demo(self, folder: Path) -> None:
        staff = (
            Staff.objects.filter(roles__role__in=SIGNING_ROLES)
            .select_related("user")
            .distinct()
            .order_by("user__username")
        )
        people = [(person.user.username, person.full_name, DEMO_PIN) for person in staff]
        schools = [(school.code, school.name) for school in School.objects.order_by("code")]
        pki = init_demo_pki(folder, schools=schools, people=people)
        self._report(pki)

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
