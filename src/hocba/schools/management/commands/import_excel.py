"""``hocba import_excel``: import classes, staff and pupils from an Excel file (docs/import.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from hocba.common.errors import DomainError
from hocba.schools.importer import (
    LAYOUT_AUTO,
    LAYOUTS,
    ImportRejected,
    build_template,
    import_workbook,
)
from hocba.schools.models import School, SchoolYear


class Command(BaseCommand):
    help = (
        "Nhập lớp, cán bộ và học sinh của một trường cho một năm học từ tệp Excel (.xlsx), "
        "theo nguyên tắc tất cả hoặc không; hoặc ghi tệp mẫu với --template."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", help="tệp .xlsx cần nhập")
        parser.add_argument("--school", help="mã trường, ví dụ 01001")
        parser.add_argument("--year", help="năm học, ví dụ 2024-2025")
        parser.add_argument("--user", help="tên đăng nhập của người thực hiện")
        parser.add_argument("--template", metavar="OUT.xlsx", help="ghi tệp mẫu rồi dừng")
        parser.add_argument(
            "--format",
            choices=LAYOUTS,
            default=LAYOUT_AUTO,
            help=(
                "template: tệp mẫu của hệ thống; csdl: danh sách học sinh/cán bộ xuất từ cơ sở "
                "dữ liệu ngành; auto (mặc định): tự nhận biết"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["template"]:
            path = Path(options["template"])
            path.write_bytes(build_template())
            self.stdout.write(_("Đã ghi tệp mẫu vào %(path)s.") % {"path": path})
            return
        file, school, year, user = self._resolve(options)
        try:
            report = import_workbook(
                actor=user, school=school, school_year=year, file=file, layout=options["format"]
            )
        except ImportRejected as rejected:
            for issue in rejected.errors:
                self.stderr.write(str(issue))
            raise CommandError(rejected.message) from rejected
        except DomainError as exc:  # permission refused
            raise CommandError(exc.message) from exc
        self.stdout.write(self.style.SUCCESS(report.summary()))
        for note in report.notes:
            self.stdout.write(str(note))
        if report.created_staff:
            self.stdout.write(
                _("Tài khoản mới (chưa có mật khẩu): %(names)s")
                % {"names": ", ".join(report.created_staff)}
            )

    def _resolve(self, options: dict[str, Any]) -> tuple[Path, School, SchoolYear, Any]:
        if not options["file"]:
            raise CommandError(_("Cần tên tệp cần nhập, hoặc --template TỆP_MẪU."))
        missing = [name for name in ("school", "year", "user") if not options[name]]
        if missing:
            raise CommandError(
                _("Thiếu tuỳ chọn: %(names)s.") % {"names": ", ".join(f"--{n}" for n in missing)}
            )
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("Không tìm thấy tệp %(path)s.") % {"path": path})
        school = School.objects.filter(code=options["school"]).first()
        if school is None:
            raise CommandError(_("Không có trường mã %(code)s.") % {"code": options["school"]})
        year = SchoolYear.objects.filter(name=options["year"]).first()
        if year is None:
            raise CommandError(_("Không có năm học %(name)s.") % {"name": options["year"]})
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None or not user.is_active:
            raise CommandError(
                _("Không có người dùng đang hoạt động tên %(u)s.") % {"u": options["user"]}
            )
        return path, school, year, user
