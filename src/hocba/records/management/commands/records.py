"""``hocba records``: year records from the command line.

``hocba records compile --school CODE --class 4A --year 2024-2025 --user USERNAME`` compiles a
locked class as that user (same service, permission and audit as the web UI) and prints one line
per pupil. Exit status 0 when no pupil was skipped, 3 when some were (reasons are printed).

``hocba records export --school CODE [--class 4A] --year 2024-2025 --out FOLDER_OR_ZIP
[--booklets] --user USERNAME`` writes the current year-record PDFs (rendered from the stored
canonical JSON) as ``<class>/<NN> - <name> - <ministry code>.pdf``, into a zip when the target ends
with ``.zip`` (see :mod:`hocba.records.export`). Pupils without a record are listed with the reason.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from hocba.common.errors import DomainError
from hocba.records.export import ExportReport, export_records
from hocba.records.services import SKIPPED, CompileReport, compile_class
from hocba.schools.models import School, SchoolClass, SchoolYear

EXIT_SOME_SKIPPED = 3


class Command(BaseCommand):
    help = (
        "Học bạ năm học: “compile” tổng hợp học bạ của một lớp đã khoá; “export” xuất bản PDF "
        "học bạ ra thư mục hoặc tệp zip."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        compile_parser = subcommands.add_parser("compile", help="tổng hợp học bạ của một lớp")
        compile_parser.add_argument("--school", required=True, help="mã trường")
        compile_parser.add_argument("--class", dest="class_name", required=True, help="tên lớp")
        compile_parser.add_argument("--year", required=True, help="năm học, ví dụ 2024-2025")
        compile_parser.add_argument("--user", required=True, help="tên đăng nhập người thực hiện")
        compile_parser.add_argument("--verify-base-url", default=None, help="địa chỉ xác thực")
        export_parser = subcommands.add_parser("export", help="xuất bản PDF học bạ")
        export_parser.add_argument("--school", required=True, help="mã trường")
        export_parser.add_argument("--class", dest="class_name", default=None, help="tên lớp")
        export_parser.add_argument("--year", required=True, help="năm học, ví dụ 2024-2025")
        export_parser.add_argument("--out", required=True, help="thư mục, hoặc tệp .zip")
        export_parser.add_argument(
            "--booklets", action="store_true", help="xuất cả sổ học bạ đầy đủ của từng học sinh"
        )
        export_parser.add_argument("--user", required=True, help="tên đăng nhập người thực hiện")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "compile":
            self._compile(options)
        elif options["subcommand"] == "export":
            self._export(options)

    def _user(self, username: str) -> Any:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(_("Không có người dùng “%(u)s”.") % {"u": username})
        return user

    def _export(self, options: dict[str, Any]) -> None:
        user = self._user(options["user"])
        school = School.objects.filter(code=options["school"]).first()
        if school is None:
            raise CommandError(_("Không có trường mã “%(c)s”.") % {"c": options["school"]})
        school_year = SchoolYear.objects.filter(name=options["year"]).first()
        if school_year is None:
            raise CommandError(_("Không có năm học “%(y)s”.") % {"y": options["year"]})
        class_name = options["class_name"]
        if (
            class_name
            and not SchoolClass.objects.filter(
                school=school, school_year=school_year, name=class_name
            ).exists()
        ):
            raise CommandError(_("Không tìm thấy lớp này trong năm học đã chọn."))
        try:
            report = export_records(
                user=user,
                school=school,
                school_year=school_year,
                out=Path(options["out"]),
                class_name=class_name,
                booklets=options["booklets"],
            )
        except DomainError as error:
            raise CommandError(error.message) from error
        self._print_export(report, options["out"])

    def _print_export(self, report: ExportReport, out: str) -> None:
        for skipped in report.skipped:
            self.stdout.write(
                _("Bỏ qua: lớp %(c)s, %(n)02d - %(name)s - %(code)s")
                % {
                    "c": skipped.class_name,
                    "n": skipped.position,
                    "name": skipped.full_name,
                    "code": skipped.ministry_code,
                }
            )
            for reason in skipped.reasons:
                self.stdout.write(f"\t- {reason}")
        self.stdout.write(
            _(
                "Đã xuất %(records)d học bạ năm học và %(booklets)d sổ học bạ của %(classes)d lớp "
                "vào %(out)s; bỏ qua %(skipped)d học sinh; thời gian %(seconds).1f giây."
            )
            % {
                "records": report.records,
                "booklets": report.booklets,
                "classes": report.classes,
                "out": out,
                "skipped": len(report.skipped),
                "seconds": report.seconds,
            }
        )

    def _compile(self, options: dict[str, Any]) -> None:
        user = self._user(options["user"])
        school_class = (
            SchoolClass.objects.filter(
                school__code=options["school"],
                school_year__name=options["year"],
                name=options["class_name"],
            )
            .select_related("school", "school_year")
            .first()
        )
        if school_class is None:
            raise CommandError(_("Không tìm thấy lớp này trong năm học đã chọn."))
        try:
            report = compile_class(
                actor=user, school_class=school_class, verify_base_url=options["verify_base_url"]
            )
        except DomainError as error:
            raise CommandError(error.message) from error
        self._print(report)
        if report.count(SKIPPED):
            sys.exit(EXIT_SOME_SKIPPED)

    def _print(self, report: CompileReport) -> None:
        for outcome in report.outcomes:
            line = f"{outcome.ministry_code}\t{outcome.full_name}\t{outcome.outcome}"
            if outcome.version is not None:
                line += f"\tv{outcome.version}\t{outcome.short_code}\t{outcome.status}"
            self.stdout.write(line)
            for reason in outcome.reasons:
                self.stdout.write(f"\t- {reason}")
        counts = ", ".join(f"{name}: {n}" for name, n in report.counts.items())
        self.stdout.write(counts)
