"""``hocba interchange``: the ``hocba.export/1`` file of a school or a Department.

``hocba interchange export (--school CODE | --province CODE) --year 2024-2025 --out FILE.json
--user USERNAME`` writes every issued record version of the scope's pupils for that school year
(docs/interchange.md), as that user (school manager, Department staff or system administrator;
audited). ``--out -`` writes to standard output.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from hocba.common.errors import DomainError
from hocba.exchange.export import ExportScope, write_export
from hocba.schools.models import Province, School, SchoolYear


class Command(BaseCommand):
    help = "Trao đổi dữ liệu học bạ: “export” xuất tệp hocba.export/1 của một trường hoặc một Sở."

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        export_parser = subcommands.add_parser("export", help="xuất tệp hocba.export/1")
        scope = export_parser.add_mutually_exclusive_group(required=True)
        scope.add_argument("--school", help="mã trường")
        scope.add_argument("--province", help="mã tỉnh/thành phố (cả Sở GD&ĐT)")
        export_parser.add_argument("--year", required=True, help="năm học, ví dụ 2024-2025")
        export_parser.add_argument("--out", required=True, help="tệp .json, hoặc - (stdout)")
        export_parser.add_argument("--user", required=True, help="tên đăng nhập người thực hiện")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "export":
            self._export(options)

    def _scope(self, options: dict[str, Any]) -> ExportScope:
        if options["school"]:
            school = School.objects.filter(code=options["school"]).first()
            if school is None:
                raise CommandError(_("Không có trường mã “%(c)s”.") % {"c": options["school"]})
            return ExportScope(school=school)
        province = Province.objects.filter(code=options["province"]).first()
        if province is None:
            raise CommandError(
                _("Không có tỉnh/thành phố mã “%(c)s”.") % {"c": options["province"]}
            )
        return ExportScope(province=province)

    def _export(self, options: dict[str, Any]) -> None:
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(_("Không có người dùng “%(u)s”.") % {"u": options["user"]})
        school_year = SchoolYear.objects.filter(name=options["year"]).first()
        if school_year is None:
            raise CommandError(_("Không có năm học “%(y)s”.") % {"y": options["year"]})
        scope = self._scope(options)
        try:
            if options["out"] == "-":
                summary = write_export(sys.stdout, actor=user, scope=scope, school_year=school_year)
            else:
                summary = self._write_file(Path(options["out"]), user, scope, school_year)
        except DomainError as error:
            raise CommandError(error.message) from error
        self.stderr.write(
            _("Đã xuất %(sets)s bộ hồ sơ (%(records)s phiên bản học bạ).")
            % {"sets": summary.record_sets, "records": summary.records}
        )

    def _write_file(
        self, path: Path, user: Any, scope: ExportScope, school_year: SchoolYear
    ) -> Any:
        # Written next to the target and renamed at the end: a failed export leaves no half file.
        partial = path.with_name(path.name + ".partial")
        try:
            with partial.open("w", encoding="utf-8") as out:
                summary = write_export(out, actor=user, scope=scope, school_year=school_year)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
        return summary
