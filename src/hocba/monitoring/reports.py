"""The dashboard of each level: a place, its children as rows, and the total.

Country (every province) → province (its districts, and its schools without a district) →
district (its schools) → school (its classes) → class (its pupils). Figures come from the
aggregate queries of :mod:`hocba.monitoring.selectors`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

from hocba.common.vietnamese import collation_key, name_sort_key
from hocba.monitoring import selectors
from hocba.monitoring.figures import Cell, Column, Figures, columns
from hocba.monitoring.selectors import Row, Scope
from hocba.records.models import YearRecord, YearRecordStatus
from hocba.schools.models import (
    District,
    Enrolment,
    Province,
    Pupil,
    School,
    SchoolClass,
    SchoolYear,
)


@dataclass
class Report:
    level: str  # "country", "province", "district", "school"
    place: Model | None
    year: SchoolYear
    child_heading: str
    rows: list[Row]
    total: Figures
    total_label: str
    province: Province | None = None
    columns: list[Column] = field(default_factory=columns)

    def cells(self, figures: Figures) -> list[Cell]:
        return [column.cell(figures) for column in self.columns]

    @property
    def table(self) -> list[tuple[Row, list[Cell]]]:
        return [(row, self.cells(row.figures)) for row in self.rows]

    @property
    def total_cells(self) -> list[Cell]:
        return self.cells(self.total)


def school_figures(scope: Scope, year: SchoolYear, school_ids: Iterable[int]) -> dict[int, Figures]:
    """Figures per school of ``scope`` (five grouped queries, four without the exchange)."""
    staff = selectors.staff_counts(scope)
    classes = selectors.class_counts(scope, year)
    pupils = selectors.pupil_counts(scope, year, "school_class__school_id")
    records = selectors.counted_records(scope, year)
    record_counts = selectors.record_counts(records, "school_id")
    synced = selectors.synced_counts(records, "school_id")
    result = {}
    for school_id in school_ids:
        figures = Figures(synced=None if synced is None else synced.get(school_id, 0))
        for source in (staff, classes, pupils, record_counts):
            figures.update(source.get(school_id, {}))
        result[school_id] = figures
    return result


def _total(rows: Iterable[Row]) -> Figures:
    total = Figures(synced=0 if selectors.record_sync_model() else None)
    for row in rows:
        total.add(row.figures)
    return total


def _by_name(rows: list[Row]) -> list[Row]:
    return sorted(rows, key=lambda row: (collation_key(row.label), row.code))


def _rolled_up(
    schools: QuerySet[School],
    parent_field: str,
    parents: dict[int, Row],
    scope: Scope,
    year: SchoolYear,
) -> list[Row]:
    """Rows of parents (districts, provinces) summing their schools; schools without a parent
    come after them as rows of their own."""
    school_list = list(schools.values("pk", "name", "code", parent_field))
    figures = school_figures(scope, year, [s["pk"] for s in school_list])
    orphans = []
    for school in school_list:
        parent = parents.get(school[parent_field])
        if parent is not None:
            parent.figures.add(figures[school["pk"]])
            parent.school_count += 1
        else:
            orphans.append(
                Row("school", school["pk"], school["name"], school["code"], figures[school["pk"]])
            )
    return _by_name(list(parents.values())) + _by_name(orphans)


def _empty_row(kind: str, place: Province | District) -> Row:
    synced = 0 if selectors.record_sync_model() else None
    return Row(kind, place.pk, place.name, place.code, Figures(synced=synced))


def country_report(year: SchoolYear) -> Report:
    provinces = {p.pk: _empty_row("province", p) for p in Province.objects.all()}
    scope = Scope("pk__isnull", False)
    rows = _rolled_up(School.objects.all(), "province_id", provinces, scope, year)
    return Report("country", None, year, _("Tỉnh/thành phố"), rows, _total(rows), _("Toàn quốc"))


def province_report(province: Province, year: SchoolYear) -> Report:
    districts = {d.pk: _empty_row("district", d) for d in province.districts.all()}
    scope = Scope("province_id", province.pk)
    rows = _rolled_up(province.schools.all(), "district_id", districts, scope, year)
    return Report(
        "province",
        province,
        year,
        _("Quận/huyện"),
        rows,
        _total(rows),
        _("Toàn tỉnh/thành phố"),
        province=province,
    )


def district_report(district: District, year: SchoolYear) -> Report:
    schools = list(district.schools.values("pk", "name", "code"))
    figures = school_figures(Scope("district_id", district.pk), year, [s["pk"] for s in schools])
    rows = _by_name(
        [Row("school", s["pk"], s["name"], s["code"], figures[s["pk"]]) for s in schools]
    )
    return Report(
        "district",
        district,
        year,
        _("Trường"),
        rows,
        _total(rows),
        _("Toàn quận/huyện"),
        province=district.province,
    )


def class_rows(school: School, year: SchoolYear) -> list[Row]:
    """One row per class of the school: its homeroom teacher's certificate, its lock, records."""
    scope = Scope("pk", school.pk)
    classes = (
        SchoolClass.objects.filter(school=school, school_year=year)
        .select_related("homeroom_teacher")
        .annotate(
            is_locked=selectors.locked_exists(),
            homeroom_certified=selectors.certified_exists("homeroom_teacher_id"),
        )
        .order_by("grade", "name")
    )
    pupils = selectors.pupil_counts(scope, year, "school_class_id")
    records = selectors.counted_records(scope, year)
    record_counts = selectors.record_counts(records, "enrolment__school_class_id")
    synced = selectors.synced_counts(records, "enrolment__school_class_id")
    rows = []
    for school_class in classes:
        homeroom = school_class.homeroom_teacher
        figures = Figures(
            teachers=1 if homeroom else 0,
            teachers_certified=1 if homeroom and school_class.homeroom_certified else 0,
            classes=1,
            classes_locked=1 if school_class.is_locked else 0,
            synced=None if synced is None else synced.get(school_class.pk, 0),
        )
        figures.update(pupils.get(school_class.pk, {}))
        figures.update(record_counts.get(school_class.pk, {}))
        note = homeroom.full_name if homeroom else ""
        rows.append(Row("class", school_class.pk, school_class.name, "", figures, note))
    return rows


def school_report(school: School, year: SchoolYear) -> Report:
    """Rows are classes (teacher columns: the homeroom teacher); the total is the whole school,
    so its teacher columns count every teacher of the school."""
    rows = class_rows(school, year)
    total = school_figures(Scope("pk", school.pk), year, [school.pk])[school.pk]
    return Report(
        "school",
        school,
        year,
        _("Lớp"),
        rows,
        total,
        _("Toàn trường"),
        province=school.province,
    )


@dataclass
class PupilRow:
    enrolment: Enrolment
    record: YearRecord | None
    has_issued: bool
    is_synced: bool | None

    @property
    def pupil(self) -> Pupil:
        return self.enrolment.pupil

    @property
    def status_label(self) -> str:
        if self.record is None:
            return _("Chưa tổng hợp")
        return str(self.record.get_status_display())


@dataclass
class ClassReport:
    school_class: SchoolClass
    year: SchoolYear
    figures: Figures
    pupils: list[PupilRow]

    @property
    def cells(self) -> list[tuple[Column, Cell]]:
        """The class's figures; principals are the school's, so not repeated per class."""
        return [(c, c.cell(self.figures)) for c in columns() if c.key != "principals"]


def class_report(school_class: SchoolClass) -> ClassReport:
    """The class's pupils with the status of their record's current version: the newest one
    not superseded (a revoked one shows as revoked). Synced: a counted version (not revoked)
    of the pupil's record is synced."""
    year = school_class.school_year
    enrolments = Enrolment.objects.filter(
        school_class=school_class, left_on__isnull=True
    ).select_related("pupil")
    versions = YearRecord.objects.filter(enrolment__school_class=school_class).exclude(
        status=YearRecordStatus.SUPERSEDED
    )
    current: dict[int, YearRecord] = {}
    issued: set[int] = set()
    counted: dict[int, int] = {}  # record id -> enrolment id, for the versions that count
    for record in versions.order_by("version"):
        current[record.enrolment_id] = record
        if record.status == YearRecordStatus.ISSUED:
            issued.add(record.enrolment_id)
        if record.status != YearRecordStatus.REVOKED:
            counted[record.pk] = record.enrolment_id
    synced_ids = selectors.synced_record_ids(versions.exclude(status=YearRecordStatus.REVOKED))
    synced_enrolments = None
    if synced_ids is not None:
        synced_enrolments = {counted[pk] for pk in synced_ids if pk in counted}
    ordered = sorted(
        enrolments,
        key=lambda e: (
            name_sort_key(e.pupil.family_name, e.pupil.middle_name, e.pupil.given_name),
            e.pk,
        ),
    )
    pupils = [
        PupilRow(
            enrolment,
            current.get(enrolment.pk),
            enrolment.pk in issued,
            None if synced_enrolments is None else enrolment.pk in synced_enrolments,
        )
        for enrolment in ordered
    ]
    rows = class_rows(school_class.school, year)
    figures = next((row.figures for row in rows if row.pk == school_class.pk), Figures())
    return ClassReport(school_class, year, figures, pupils)
