"""Export a school's or a Department's issued records of a school year as ``hocba.export/1``.

The file is written as it is built: the envelope, then one record set per pupil, so a Department
of hundreds of thousands of pupils never sits in memory as one string. An export is a copy of
personal data: it is allowed to the school's managers (their school), Department staff (their
province) and system administrators, and written to the audit log (``exchange.export.created``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from django.db import transaction
from django.utils.translation import gettext as _

from hocba.audit.services import record_event
from hocba.common.errors import PermissionRefused
from hocba.records import interchange
from hocba.records.models import YearRecord
from hocba.schools import access
from hocba.schools.models import Province, Role, School, SchoolYear


@dataclass(frozen=True)
class ExportScope:
    """One school, or every school of a province (its Department)."""

    school: School | None = None
    province: Province | None = None

    @property
    def province_id(self) -> int | None:
        return self.province.pk if self.province is not None else None

    @property
    def kind(self) -> str:
        return "school" if self.school is not None else "province"

    def describe(self) -> dict[str, str]:
        if self.school is not None:
            return {"kind": "school", "code": self.school.code, "name": self.school.name}
        assert self.province is not None
        name = self.province.department_name or self.province.name
        return {"kind": "province", "code": self.province.code, "name": name}

    def records(self, school_year: SchoolYear) -> Any:
        records = YearRecord.objects.filter(school_year=school_year)
        if self.school is not None:
            return records.filter(school=self.school)
        return records.filter(school__province=self.province)


@dataclass
class ExportSummary:
    record_sets: int = 0
    records: int = 0


def can_export(user: Any, scope: ExportScope) -> bool:
    """System administrators anything; a school's managers their school; Department staff
    their province, or any school in it."""
    if access.is_system_admin(user):
        return True
    if scope.school is not None and access.is_school_manager(user, scope.school):
        return True
    staff = access.staff_of(user)
    province_id = scope.school.province_id if scope.school is not None else scope.province_id
    return bool(
        staff
        and Role.DEPARTMENT_STAFF in staff.role_set
        and staff.province_id is not None
        and staff.province_id == province_id
    )


def _exported_by(user: Any) -> dict[str, str]:
    staff = access.staff_of(user)
    username = user.get_username() if getattr(user, "is_authenticated", False) else ""
    return {"username": username, "name": staff.full_name if staff is not None else username}


def start_export(*, actor: Any, scope: ExportScope, school_year: SchoolYear) -> int:
    """Check the permission and log the copy (before any byte leaves); returns the number of
    record versions the export will hold."""
    if not can_export(actor, scope):
        raise PermissionRefused(
            _("Bạn không có quyền xuất dữ liệu học bạ của %(scope)s.")
            % {"scope": scope.describe()["name"]}
        )
    versions = interchange.issued_versions(scope.records(school_year))
    count = versions.order_by().count()
    with transaction.atomic():
        record_event(
            actor=actor,
            action="exchange.export.created",
            school=scope.school,
            object_type="schools.school" if scope.school else "schools.province",
            object_id=str(scope.school.pk if scope.school else getattr(scope.province, "pk", 0)),
            object_label=scope.describe()["name"],
            changes={
                "format": interchange.EXPORT_FORMAT,
                "school_year": school_year.name,
                "scope": scope.describe(),
                "records": count,
            },
        )
    return count


def export_chunks(
    *, actor: Any, scope: ExportScope, school_year: SchoolYear, summary: ExportSummary
) -> Iterator[str]:
    """The export's text, a record set at a time (call :func:`start_export` first)."""
    header = interchange.export_header(
        exported_by=_exported_by(actor), scope=scope.describe(), school_year=school_year.name
    )
    # The envelope without its closing brace, then the array written one record set at a time.
    yield json.dumps(header, ensure_ascii=False)[:-1] + ', "record_sets": ['
    for record_set in interchange.record_sets(scope.records(school_year)):
        yield (",\n" if summary.record_sets else "\n") + json.dumps(record_set, ensure_ascii=False)
        summary.record_sets += 1
        summary.records += len(record_set["records"])
    yield "\n]}\n"


def write_export(
    out: TextIO, *, actor: Any, scope: ExportScope, school_year: SchoolYear
) -> ExportSummary:
    """Write the export to ``out`` (text, UTF-8); refused unless :func:`can_export`."""
    start_export(actor=actor, scope=scope, school_year=school_year)
    summary = ExportSummary()
    for chunk in export_chunks(actor=actor, scope=scope, school_year=school_year, summary=summary):
        out.write(chunk)
    return summary
