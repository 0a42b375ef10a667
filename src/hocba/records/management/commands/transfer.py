"""``hocba transfer``: transfers between schools and between deployments (issue 9 §1).

``hocba transfer trust-peer BUNDLE [--name NAME]`` registers another hocba deployment from its
trust bundle (``hocba verification-bundle --out BUNDLE.zip`` there): its log key, its CA
certificates. ``hocba transfer release --pupil CODE --to "SCHOOL" --on DD/MM/YYYY --out FILE.zip
--user USERNAME [--reason TEXT]`` releases a pupil and writes the transfer package.
``hocba transfer check FILE.zip`` checks a package without accepting it. ``hocba transfer receive
FILE.zip --school CODE --class NAME --year YYYY-YYYY --on DD/MM/YYYY --user USERNAME`` accepts it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from hocba.common.errors import DomainError
from hocba.records import transfers
from hocba.schools.models import Enrolment, SchoolClass


def _date(text: str) -> dt.date:
    for layout in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, layout).date()
        except ValueError:
            continue
    raise CommandError(_("Ngày “%(text)s” không đúng dạng dd/mm/yyyy.") % {"text": text})


def _user(username: str) -> Any:
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(_("Không có người dùng “%(u)s”.") % {"u": username})
    return user


class Command(BaseCommand):
    help = _(
        "Chuyển trường: thêm hệ thống tin cậy, cho học sinh chuyển đi, kiểm tra và nhận gói hồ sơ."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        peer = sub.add_parser("trust-peer", help=_("thêm hệ thống học bạ tin cậy"))
        peer.add_argument("bundle", help=_("gói tin cậy (.zip hoặc thư mục)"))
        peer.add_argument("--name", default="", help=_("tên đơn vị"))
        out = sub.add_parser("release", help=_("cho học sinh chuyển đi"))
        out.add_argument("--pupil", required=True, help=_("mã học sinh"))
        out.add_argument("--to", required=True, help=_("trường chuyển đến"))
        out.add_argument("--on", required=True, help=_("ngày chuyển đi dd/mm/yyyy"))
        out.add_argument("--reason", default="", help=_("lý do"))
        out.add_argument("--out", required=True, help=_("tệp gói hồ sơ .zip"))
        out.add_argument("--user", required=True, help=_("tên đăng nhập người thực hiện"))
        check = sub.add_parser("check", help=_("kiểm tra gói hồ sơ"))
        check.add_argument("package")
        into = sub.add_parser("receive", help=_("nhận học sinh chuyển đến"))
        into.add_argument("package")
        into.add_argument("--school", required=True, help=_("mã trường"))
        into.add_argument("--class", dest="class_name", required=True, help=_("tên lớp"))
        into.add_argument("--year", required=True, help=_("năm học, ví dụ 2025-2026"))
        into.add_argument("--on", required=True, help=_("ngày chuyển đến dd/mm/yyyy"))
        into.add_argument("--user", required=True, help=_("tên đăng nhập người thực hiện"))

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "_" + options["subcommand"].replace("-", "_"))(options)
        except DomainError as error:
            raise CommandError(error.message) from error

    def _trust_peer(self, options: dict[str, Any]) -> None:
        peer = transfers.trust_peer(
            actor=None, bundle_path=Path(options["bundle"]), name=options["name"]
        )
        self.stdout.write(
            _("Đã thêm hệ thống tin cậy “%(name)s” (sổ cái %(origin)s).")
            % {"name": peer.name, "origin": peer.origin}
        )

    def _release(self, options: dict[str, Any]) -> None:
        enrolment = (
            Enrolment.objects.filter(pupil__ministry_code=options["pupil"], left_on__isnull=True)
            .select_related("school_class__school", "pupil")
            .order_by("-school_year__start_year")
            .first()
        )
        if enrolment is None:
            raise CommandError(
                _("Không có học sinh mã %(code)s đang học.") % {"code": options["pupil"]}
            )
        transfer = transfers.release_pupil(
            actor=_user(options["user"]),
            enrolment=enrolment,
            destination=options["to"],
            on=_date(options["on"]),
            reason=options["reason"],
        )
        Path(options["out"]).write_bytes(transfers.package_bytes(transfer))
        self.stdout.write(
            _("Đã cho học sinh %(name)s chuyển đi; gói hồ sơ (%(n)s học bạ): %(out)s")
            % {"name": enrolment.pupil.full_name, "n": transfer.records, "out": options["out"]}
        )

    def _check(self, options: dict[str, Any]) -> None:
        package = transfers.check_package(Path(options["package"]).read_bytes())
        pupil = package.manifest.get("pupil", {})
        self.stdout.write(
            _("Gói hồ sơ hợp lệ: học sinh %(name)s (mã %(code)s), từ sổ cái %(origin)s.")
            % {
                "name": " ".join(
                    pupil.get(k, "") for k in ("family_name", "middle_name", "given_name")
                ),
                "code": pupil.get("ministry_code", ""),
                "origin": package.origin,
            }
        )
        for record in package.records:
            self.stdout.write(
                "  "
                + _("%(code)s · năm học %(year)s · %(school)s: hợp lệ")
                % {
                    "code": record.entry["short_code"],
                    "year": record.document.get("school_year", ""),
                    "school": record.document.get("school", {}).get("name", ""),
                }
            )

    def _receive(self, options: dict[str, Any]) -> None:
        school_class = SchoolClass.objects.filter(
            school__code=options["school"],
            name=options["class_name"],
            school_year__name=options["year"],
        ).first()
        if school_class is None:
            raise CommandError(_("Không tìm thấy lớp này."))
        transfer = transfers.receive_package(
            actor=_user(options["user"]),
            data=Path(options["package"]).read_bytes(),
            school_class=school_class,
            joined_on=_date(options["on"]),
        )
        self.stdout.write(
            _("Đã nhận học sinh %(name)s vào lớp %(cls)s: %(n)s học bạ hợp lệ.")
            % {"name": transfer.pupil.full_name, "cls": school_class.name, "n": transfer.records}
        )
