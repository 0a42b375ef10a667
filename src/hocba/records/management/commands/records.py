"""``hocba records``: year records from the command line.

``hocba records compile --school CODE --class 4A --year 2024-2025 --user USERNAME`` compiles a
locked class as that user (same service, permission and audit as the web UI) and prints one line
per pupil. Exit status 0 when no pupil was skipped, 3 when some were (reasons are printed).
"""

from __future__ import annotations

import sys
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from hocba.common.errors import DomainError
from hocba.records.services import SKIPPED, CompileReport, compile_class
from hocba.schools.models import SchoolClass

EXIT_SOME_SKIPPED = 3


class Command(BaseCommand):
    help = "Học bạ năm học: “compile” tổng hợp học bạ của một lớp đã khoá."

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        compile_parser = subcommands.add_parser("compile", help="tổng hợp học bạ của một lớp")
        compile_parser.add_argument("--school", required=True, help="mã trường")
        compile_parser.add_argument("--class", dest="class_name", required=True, help="tên lớp")
        compile_parser.add_argument("--year", required=True, help="năm học, ví dụ 2024-2025")
        compile_parser.add_argument("--user", required=True, help="tên đăng nhập người thực hiện")
        compile_parser.add_argument("--verify-base-url", default=None, help="địa chỉ xác thực")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "compile":
            self._compile(options)

    def _compile(self, options: dict[str, Any]) -> None:
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(_("Không có người dùng “%(u)s”.") % {"u": options["user"]})
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
