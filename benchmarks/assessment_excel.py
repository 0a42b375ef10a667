"""Benchmark: upload a whole grade-4 class's Excel workbook (issue 3 §5, ARCHITECTURE §9).

Builds a throwaway SQLite database in a temporary folder: one school, a grade-4 class of 35
pupils, a homeroom teacher who also teaches all 13 subjects grade 4 can have (12 required and
the optional Tiếng dân tộc thiểu số; the form's 14 rows include Tự nhiên và Xã hội, which grade 4
does not have). The file is the "whole class at one period" workbook: one sheet per subject plus
the qualities and competencies sheet, end of year, every subject cell filled (level, comment,
score where tested).

Measured, each as the median of the repetitions:

* baseline ``openpyxl_load_ms``: openpyxl opening the same file read-only and reading every cell
  of every sheet, which any reader of the file has to do;
* ``import_ms``: the full upload of the 35 × 13 subjects file into an empty class (read, check,
  ``services.apply_edits`` with history), rolled back after each repetition; ``apply_ms`` is the
  part spent inside ``apply_edits``, ``excel_ms`` the rest (reading the file, checking it,
  building and mapping the edits), ``queries`` the number of SQL statements of one run;
* ``import_all_ms``: the same with the qualities and competencies sheet filled too;
* ``unchanged_ms``: uploading the file again once it is stored (nothing to write).

``ratio`` is ``import_ms / openpyxl_load_ms``. Usage::

    .venv/bin/python benchmarks/assessment_excel.py [--quick]
"""

from __future__ import annotations

import argparse
import datetime
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

PUPILS = 35
GIVEN = ["An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hải", "Hoa", "Khánh", "Lan", "Linh", "Minh"]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi"]


def _setup_django(data_dir: str) -> None:
    os.environ["HOCBA_DATA_DIR"] = data_dir
    os.environ["HOCBA_TESTING"] = "1"
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "hocba.settings"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _build_class() -> tuple[Any, Any]:
    """A grade-4 class of 35 pupils; its homeroom teacher teaches every subject."""
    from django.contrib.auth import get_user_model

    from hocba.assessment import selectors
    from hocba.schools.models import (
        Enrolment,
        Province,
        Pupil,
        Role,
        School,
        SchoolClass,
        SchoolYear,
        Staff,
        StaffRole,
        TeachingAssignment,
    )

    province = Province.objects.create(code="01", name="Thành phố Hà Nội")
    school = School.objects.create(code="01001", name="Trường Tiểu học Thử", province=province)
    year = SchoolYear.objects.create(
        name="2024-2025",
        start_year=2024,
        starts_on=datetime.date(2024, 9, 5),
        ends_on=datetime.date(2025, 5, 31),
        is_current=True,
    )
    user = get_user_model().objects.create_user(username="gvcn", password="x")  # noqa: S106
    teacher = Staff.objects.create(
        user=user, family_name="Nguyễn", middle_name="Thị", given_name="Hoa", school=school
    )
    StaffRole.objects.create(staff=teacher, role=Role.HOMEROOM_TEACHER)
    school_class = SchoolClass.objects.create(
        school=school, school_year=year, grade=4, name="4A", homeroom_teacher=teacher
    )
    for rule in selectors.rules_for(year).subjects_for(4):
        TeachingAssignment.objects.create(
            teacher=teacher, school_class=school_class, subject=rule.code
        )
    for index in range(PUPILS):
        pupil = Pupil.objects.create(
            ministry_code=f"{1000000001 + index}",
            family_name=FAMILY[index % len(FAMILY)],
            middle_name="Văn" if index % 2 else "Thị",
            given_name=GIVEN[index % len(GIVEN)],
            sex="nam" if index % 2 else "nu",
            date_of_birth=datetime.date(2015, 1 + index % 12, 1 + index % 28),
        )
        Enrolment.objects.create(
            pupil=pupil, school_class=school_class, school_year=year, joined_on=year.starts_on
        )
    return user, school_class


def _filled_workbook(user: Any, school_class: Any, *, competencies: bool) -> bytes:
    """The whole-class end-of-year workbook as downloaded, then filled as a teacher would."""
    import openpyxl

    from hocba.assessment import excel

    data = excel.grid_workbook(actor=user, school_class=school_class, kind="class", period="cn")
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    for sheet in workbook.worksheets:
        if sheet.title == "_hocba" or (sheet.title == "Phẩm chất, năng lực" and not competencies):
            continue
        header = 11 if sheet["E11"].value == "Mức" else 10  # competencies: item row above
        titles = {cell.column: cell.value for cell in sheet[header]}
        for row in range(header + 1, header + 1 + PUPILS):
            for column, title in titles.items():
                if column < 5:
                    continue
                if title in ("Mức đạt được", "Mức"):
                    value: Any = "TH"[row % 2] if title == "Mức đạt được" else "TĐ"[row % 2]
                elif title == "Điểm KTĐK":
                    value = 5 + row % 6
                else:
                    value = f"Em học tập chăm chỉ, tiến bộ rõ (dòng {row})."
                sheet.cell(row=row, column=column, value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _openpyxl_load(data: bytes) -> int:
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    cells = 0
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows(values_only=True):
            cells += len(row)
    workbook.close()
    return cells


def _median_ms(repeat: int, run: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


class _ApplyTimer:
    """Wraps ``services.apply_edits`` to time the part of the upload spent storing cells."""

    def __init__(self) -> None:
        from hocba.assessment import services

        self.services = services
        self.original = services.apply_edits
        self.total_ms = 0.0
        self.edits = 0

    def __enter__(self) -> _ApplyTimer:
        def timed(**kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return self.original(**kwargs)
            finally:
                self.total_ms += (time.perf_counter() - start) * 1000
                self.edits = len(kwargs["edits"])

        self.services.apply_edits = timed  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        self.services.apply_edits = self.original  # type: ignore[assignment]


def _measure_import(repeat: int, run: Callable[[], Any]) -> tuple[float, float, float, int]:
    """Median total, median time inside ``apply_edits``, median of the rest, cells written."""
    totals, applies, edits = [], [], 0
    for _ in range(repeat):
        with _ApplyTimer() as timer:
            start = time.perf_counter()
            run()
            totals.append((time.perf_counter() - start) * 1000)
        applies.append(timer.total_ms)
        edits = timer.edits
    rest = [total - apply for total, apply in zip(totals, applies, strict=True)]
    return statistics.median(totals), statistics.median(applies), statistics.median(rest), edits


def _import(user: Any, school_class: Any, data: bytes, *, keep: bool = False) -> Any:
    from django.db import transaction

    from hocba.assessment import excel

    with transaction.atomic():
        report = excel.import_grid_workbook(
            actor=user, school_class=school_class, kind="class", period="cn", file=data
        )
        transaction.set_rollback(not keep)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    args = parser.parse_args()
    repeat = 2 if args.quick else 7
    with tempfile.TemporaryDirectory(prefix="hocba-bench-") as data_dir:
        _setup_django(data_dir)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        user, school_class = _build_class()
        subjects_file = _filled_workbook(user, school_class, competencies=False)
        all_file = _filled_workbook(user, school_class, competencies=True)
        cells = _openpyxl_load(subjects_file)
        _import(user, school_class, subjects_file)  # warm caches (rule set, translations)

        load_ms = _median_ms(repeat, lambda: _openpyxl_load(subjects_file))
        import_ms, apply_ms, excel_ms, edits = _measure_import(
            repeat, lambda: _import(user, school_class, subjects_file)
        )
        with CaptureQueriesContext(connection) as queries:
            _import(user, school_class, subjects_file)
        import_all_ms, _apply, _rest, all_edits = _measure_import(
            repeat, lambda: _import(user, school_class, all_file)
        )
        _import(user, school_class, all_file, keep=True)
        unchanged_ms = _median_ms(repeat, lambda: _import(user, school_class, all_file))

    print(
        f"Whole-class workbook, grade 4, {PUPILS} pupils, end of year, {len(subjects_file)} bytes"
    )
    print(f"  openpyxl read-only load + read all cells: {load_ms:8.1f} ms  ({cells} cells)")
    print(f"  import, 13 subjects filled:            {import_ms:8.1f} ms  ({edits} cells written)")
    print(f"    in services.apply_edits:             {apply_ms:8.1f} ms  ({len(queries)} queries)")
    print(f"    reading, checking, mapping (Excel):  {excel_ms:8.1f} ms")
    print(f"  import, subjects + competencies:       {import_all_ms:8.1f} ms  ({all_edits} cells)")
    print(f"  re-upload of the stored file:          {unchanged_ms:8.1f} ms  (nothing to write)")
    print(f"  ratio import / openpyxl load:          {import_ms / load_ms:8.1f}")
    print(f"pupils={PUPILS}")
    print("subjects=13")
    print(f"cells_written={edits}")
    print(f"openpyxl_load_ms={load_ms:.1f}")
    print(f"import_ms={import_ms:.1f}")
    print(f"apply_ms={apply_ms:.1f}")
    print(f"excel_ms={excel_ms:.1f}")
    print(f"queries={len(queries)}")
    print(f"import_all_ms={import_all_ms:.1f}")
    print(f"cells_written_all={all_edits}")
    print(f"unchanged_ms={unchanged_ms:.1f}")
    print(f"ratio={import_ms / load_ms:.2f}")
    print(f"repeat={repeat}")


if __name__ == "__main__":
    main()
