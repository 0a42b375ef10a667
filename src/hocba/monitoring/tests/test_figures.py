"""The aggregate figures at each level equal the oracle's per-pupil counts."""

from __future__ import annotations

from dataclasses import asdict

from hocba.monitoring import reports
from hocba.monitoring.figures import Figures
from hocba.monitoring.tests.conftest import Rollout, add_record, enrolment_of
from hocba.monitoring.tests.oracle import class_oracle, school_oracle, summed
from hocba.schools.models import School


def test_school_a_by_hand(rollout: Rollout) -> None:
    """The decisions spelled out: cumulative counts, a correction counts as issued, superseded
    and revoked versions never count, the other year never counts."""
    world = rollout.world
    report = reports.district_report(world.districts[0], world.year)
    (row,) = report.rows
    assert asdict(row.figures) == asdict(
        Figures(
            teachers=2,
            teachers_certified=1,
            principals=2,
            principals_certified=1,
            classes=2,
            classes_locked=1,
            pupils=6,
            compiled=4,
            teacher_signed=3,
            principal_signed=2,
            issued=1,
            pending=1,
            synced=0,
        )
    )


def test_school_b_by_hand(rollout: Rollout) -> None:
    world = rollout.world
    (row,) = reports.district_report(world.districts[1], world.year).rows
    figures = row.figures
    assert (figures.teachers_certified, figures.principals, figures.principals_certified) == (
        1,
        2,
        0,
    )
    assert (figures.classes, figures.classes_locked) == (2, 1)
    assert (figures.compiled, figures.teacher_signed, figures.principal_signed) == (3, 2, 2)
    assert (figures.issued, figures.pending, figures.synced) == (1, 1, 1)


def test_province_rows_are_districts_and_match_the_oracle(rollout: Rollout) -> None:
    world = rollout.world
    report = reports.province_report(world.province, world.year)
    assert [(row.kind, row.label) for row in report.rows] == [
        ("district", "Quận Ba Đình"),
        ("district", "Quận Hoàn Kiếm"),
    ]
    for row, side in zip(report.rows, (world.own, world.foreign), strict=True):
        assert asdict(row.figures) == asdict(school_oracle(side.school, world.year))
    expected = summed(school_oracle(s.school, world.year) for s in (world.own, world.foreign))
    assert asdict(report.total) == asdict(expected)


def test_school_without_district_is_its_own_row(rollout: Rollout) -> None:
    world = rollout.world
    lone = School.objects.create(
        code="01999", name="Trường Tiểu học Đặc khu", province=world.province
    )
    report = reports.province_report(world.province, world.year)
    assert (report.rows[-1].kind, report.rows[-1].pk) == ("school", lone.pk)
    assert report.rows[-1].figures.pupils == 0


def test_country_rows_are_provinces(rollout: Rollout) -> None:
    world = rollout.world
    report = reports.country_report(world.year)
    assert [(row.kind, row.pk) for row in report.rows] == [("province", world.province.pk)]
    assert asdict(report.total) == asdict(reports.province_report(world.province, world.year).total)


def test_school_rows_are_classes_and_match_the_oracle(rollout: Rollout) -> None:
    world = rollout.world
    report = reports.school_report(world.own.school, world.year)
    assert [row.label for row in report.rows] == ["4A", "4B"]
    for row, school_class in zip(report.rows, world.own.classes, strict=True):
        assert asdict(row.figures) == asdict(class_oracle(school_class))
    assert asdict(report.total) == asdict(school_oracle(world.own.school, world.year))
    # The class without a homeroom teacher counts no teacher.
    assert (report.rows[1].figures.teachers, report.rows[1].note) == (0, "")


def test_class_lists_pupils_with_the_current_version(rollout: Rollout) -> None:
    world = rollout.world
    report = reports.class_report(world.own.classes[0])
    by_code = {line.pupil.ministry_code: line for line in report.pupils}
    first, second, third = (by_code[p.ministry_code] for p in world.own.pupils[:3])
    # The correction in the works is the current version; the issued one still counts.
    assert (first.record.version, first.record.status, first.has_issued) == (2, "compiled", True)
    assert (second.record.version, second.status_label) == (2, "Hiệu trưởng đã ký")
    assert third.status_label == "Chờ đánh giá bổ sung sau hè"
    assert [line.is_synced for line in report.pupils] == [False, False, False]
    # Vietnamese name order: An, Ánh, Đức.
    assert [line.pupil.given_name for line in report.pupils] == ["An", "Ánh", "Đức"]
    assert asdict(report.figures) == asdict(class_oracle(world.own.classes[0]))


def test_class_pupil_without_record(rollout: Rollout) -> None:
    report = reports.class_report(rollout.world.own.classes[1])
    labels = {line.pupil.ministry_code: line.status_label for line in report.pupils}
    pupils = rollout.world.own.pupils
    assert labels[pupils[5].ministry_code] == "Chưa tổng hợp"
    assert labels[pupils[4].ministry_code] == "Đã thu hồi"


def test_issuing_the_correction_moves_nothing_but_the_version(rollout: Rollout) -> None:
    """v1 superseded, v2 issued: still one issued pupil, not two, not zero."""
    world = rollout.world
    enrolment = enrolment_of(world, "own", 0)
    versions = list(enrolment.year_records.order_by("version"))
    versions[0].status = "superseded"
    versions[0].save(update_fields=["status"])
    versions[1].status = "issued"
    versions[1].save(update_fields=["status"])
    (row,) = reports.district_report(world.districts[0], world.year).rows
    assert (row.figures.issued, row.figures.compiled, row.figures.teacher_signed) == (1, 4, 3)


def test_left_pupils_are_not_counted_as_pupils(rollout: Rollout) -> None:
    world = rollout.world
    enrolment = enrolment_of(world, "own", 5)
    enrolment.left_on = world.year.ends_on
    enrolment.save(update_fields=["left_on"])
    (row,) = reports.district_report(world.districts[0], world.year).rows
    assert row.figures.pupils == 5


def test_another_year_is_counted_apart(rollout: Rollout) -> None:
    from hocba.schools.models import SchoolYear

    earlier = SchoolYear.objects.get(name="2023-2024")
    (row,) = reports.district_report(rollout.world.districts[0], earlier).rows
    assert (row.figures.pupils, row.figures.issued, row.figures.classes) == (1, 1, 1)


def test_pipeline_puts_each_pupil_in_one_stage(rollout: Rollout) -> None:
    world = rollout.world
    report = reports.province_report(world.province, world.year)
    for row in report.rows:
        stages = dict(row.figures.pipeline())
        assert sum(stages.values()) == row.figures.pupils
    add_record(enrolment_of(world, "own", 5), "compiled")
    stages = dict(
        reports.district_report(world.districts[0], world.year).rows[0].figures.pipeline()
    )
    assert stages == {
        "issued": 1,
        "principal_signed": 1,
        "teacher_signed": 1,
        "compiled": 1,
        "pending": 1,
        "not_compiled": 1,
    }
