"""Assessment services: locks and history through every channel, concurrency, permissions,
and the year-end decisions (issue 3 §3, §6; DOMAIN §2.4, §4, §7).

A refusal is checked twice: the Vietnamese message, and that nothing changed (marks, history,
locks, audit events).
"""

from __future__ import annotations

import decimal
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import translation

from hocba.assessment import services, year_end
from hocba.assessment.cells import CellAddress
from hocba.assessment.models import (
    CellChange,
    Channel,
    CompetencyMark,
    Lock,
    PupilYearFacts,
    SubjectMark,
    YearEndRecord,
)
from hocba.assessment.rules import END_OF_YEAR, load_ruleset
from hocba.assessment.services import CellEdit, EditsRejected
from hocba.assessment.tests.marks import fill_end_of_year
from hocba.audit.models import AuditEvent
from hocba.common.errors import DomainError, PermissionRefused
from hocba.conftest import World, make_user
from hocba.schools.models import Enrolment, Role, SchoolClass, TeachingAssignment

RULES = load_ruleset("tt27-2020")
CHANNELS = [Channel.GRID, Channel.IMPORT, Channel.API]


@pytest.fixture(autouse=True)
def vietnamese() -> Iterator[None]:
    with translation.override("vi"):
        yield


# --- Helpers ---------------------------------------------------------------------------------


def class_4a(world: World) -> SchoolClass:
    return world.own.classes[0]


def enrolments(school_class: SchoolClass) -> list[Enrolment]:
    return list(Enrolment.objects.filter(school_class=school_class).order_by("pk"))


def subject_cell(key: str = "toan", field: str = "level", period: str = END_OF_YEAR) -> CellAddress:
    return CellAddress(sheet="subject", key=key, period=period, field=field)


def item_cell(key: str = "pc.trung_thuc", field: str = "level") -> CellAddress:
    return CellAddress(sheet="competency", key=key, period=END_OF_YEAR, field=field)


def fact_cell(key: str = "height_cm") -> CellAddress:
    return CellAddress(sheet="facts", key=key, period="", field="value")


def edit(
    enrolment: Enrolment, address: CellAddress, value: object, version: int | None = None
) -> CellEdit:
    return CellEdit(enrolment.pk, address, value, version)


def apply(
    user: Any, school_class: SchoolClass, *edits: CellEdit, channel: str = Channel.GRID
) -> list[services.AppliedEdit]:
    return services.apply_edits(
        actor=user, school_class=school_class, edits=list(edits), channel=channel
    )


def state() -> dict[str, Any]:
    """Everything an assessment refusal must leave untouched."""
    return {
        "subject_marks": list(SubjectMark.objects.order_by("pk").values()),
        "competency_marks": list(CompetencyMark.objects.order_by("pk").values()),
        "facts": list(PupilYearFacts.objects.order_by("pk").values()),
        "history": list(CellChange.objects.order_by("pk").values()),
        "locks": list(Lock.objects.order_by("pk").values()),
        "year_end": list(YearEndRecord.objects.order_by("pk").values()),
        "audit": AuditEvent.objects.count(),
    }


def named_teacher(world: World, username: str, names: tuple[str, str, str], subject: str) -> Any:
    """A subject teacher of 4A with a real name (the conflict message names people)."""
    user = make_user(username, [Role.SUBJECT_TEACHER], school=world.own.school)
    staff = user.staff
    staff.family_name, staff.middle_name, staff.given_name = names
    staff.save()
    TeachingAssignment.objects.create(teacher=staff, school_class=class_4a(world), subject=subject)
    return user


def lock_class(world: World, kind: str) -> Lock:
    """Lock 4A by class, by subject (Toán), by period (cuối năm) or by the homeroom's "finished"."""
    school_class, users = class_4a(world), world.own.users
    if kind == "class":
        return services.lock(actor=users["principal"], school_class=school_class, reason="Chốt")
    if kind == "subject":
        return services.lock(
            actor=users["subject_teacher"], school_class=school_class, subject="toan"
        )
    if kind == "period":
        return services.lock(actor=users["principal"], school_class=school_class, period="cn")
    return services.finish_class(actor=users["homeroom_teacher"], school_class=school_class)


# --- Locks refuse edits through every channel --------------------------------------------------

LOCK_KINDS = ["class", "subject", "period", "finished"]


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("kind", LOCK_KINDS)
def test_a_locked_subject_cell_refuses_edits(world: World, kind: str, channel: str) -> None:
    lock_class(world, kind)
    pupil = enrolments(class_4a(world))[0]
    before = state()
    with pytest.raises(EditsRejected) as rejected:
        apply(
            world.own.users["subject_teacher"],
            class_4a(world),
            edit(pupil, subject_cell(), "T", 0),
            channel=channel,
        )
    assert "Ô đã bị khoá" in rejected.value.errors[0].message
    assert "Cần hiệu trưởng hoặc quản trị nhà trường mở khoá" in rejected.value.errors[0].message
    assert not rejected.value.errors[0].is_permission_refusal
    assert state() == before


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("kind", ["class", "period", "finished"])
def test_a_locked_homeroom_cell_refuses_edits(world: World, kind: str, channel: str) -> None:
    lock_class(world, kind)
    pupil = enrolments(class_4a(world))[0]
    before = state()
    homeroom = world.own.users["homeroom_teacher"]
    with pytest.raises(EditsRejected, match="không hợp lệ, chưa lưu"):
        apply(homeroom, class_4a(world), edit(pupil, item_cell(), "T"), channel=channel)
    if kind != "period":  # the header facts have no period
        with pytest.raises(EditsRejected):
            apply(homeroom, class_4a(world), edit(pupil, fact_cell(), "130"), channel=channel)
    assert state() == before


def test_locks_cover_only_what_they_name(world: World) -> None:
    teacher = world.own.users["subject_teacher"]
    TeachingAssignment.objects.create(
        teacher=teacher.staff, school_class=class_4a(world), subject="tieng_viet"
    )
    pupil = enrolments(class_4a(world))[0]
    services.lock(actor=teacher, school_class=class_4a(world), subject="toan", period="ck1")
    # Same subject, other period; other subject, same period; the homeroom's cells.
    apply(teacher, class_4a(world), edit(pupil, subject_cell(period="cn"), "T"))
    apply(teacher, class_4a(world), edit(pupil, subject_cell("tieng_viet", period="ck1"), "T"))
    apply(world.own.users["homeroom_teacher"], class_4a(world), edit(pupil, item_cell(), "T"))
    with pytest.raises(EditsRejected):
        apply(teacher, class_4a(world), edit(pupil, subject_cell(period="ck1"), "T"))
    services.lock(actor=world.own.users["principal"], school_class=class_4a(world), period="cn")
    apply(world.own.users["homeroom_teacher"], class_4a(world), edit(pupil, fact_cell(), "131"))
    assert CellChange.objects.count() == 4


def test_a_locked_cell_refuses_edits_through_the_api(world: World) -> None:
    lock_class(world, "finished")
    pupil = enrolments(class_4a(world))[0]
    client = Client()
    client.force_login(world.own.users["subject_teacher"])
    before = state()
    body = {
        "edits": [
            {"enrolment": pupil.pk, "sheet": "subject", "key": "toan", "period": "cn"}
            | {"field": "level", "value": "T", "version": 0}
        ]
    }
    response = client.post(
        f"/api/v1/classes/{class_4a(world).pk}/marks", body, content_type="application/json"
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [error["index"] for error in errors] == [0]
    assert "Ô đã bị khoá" in errors[0]["message"]
    assert state() == before


def test_locking_is_audited_and_needs_a_right_to_the_part(world: World) -> None:
    school_class = class_4a(world)
    before = state()
    with pytest.raises(PermissionRefused, match="không có quyền khoá"):
        services.lock(
            actor=world.own.users["subject_teacher"], school_class=school_class, subject="khoa_hoc"
        )
    with pytest.raises(PermissionRefused):
        services.finish_class(actor=world.own.users["principal"], school_class=school_class)
    assert state() == before
    lock_class(world, "finished")
    with pytest.raises(DomainError, match="đã được xác nhận hoàn thành"):
        lock_class(world, "finished")
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert actions == ["assessment.class.finished"]


# --- Unlocking needs a principal or school administrator and a reason ---------------------------


@pytest.mark.parametrize(
    "role", ["homeroom_teacher", "subject_teacher", "deputy_principal", "district_staff"]
)
def test_only_a_principal_or_school_admin_unlocks(world: World, role: str) -> None:
    locked = lock_class(world, "finished")
    user = world.own.users.get(role) or world.users[role]
    before = state()
    with pytest.raises(PermissionRefused, match="Chỉ hiệu trưởng hoặc quản trị nhà trường"):
        services.unlock(actor=user, lock_id=locked.pk, reason="Sửa điểm sai chính tả")
    assert state() == before


def test_a_foreign_principal_cannot_unlock(world: World) -> None:
    locked = lock_class(world, "class")
    before = state()
    with pytest.raises(PermissionRefused):
        services.unlock(
            actor=world.foreign.users["principal"], lock_id=locked.pk, reason="Lý do hợp lệ"
        )
    assert state() == before


@pytest.mark.parametrize("reason", ["", "     ", "abc", " a  b "])
def test_an_unlock_needs_a_reason_of_five_characters(world: World, reason: str) -> None:
    locked = lock_class(world, "class")
    before = state()
    with pytest.raises(DomainError, match="Cần ghi lý do mở khoá") as refused:
        services.unlock(actor=world.own.users["principal"], lock_id=locked.pk, reason=reason)
    assert refused.value.field == "reason"
    assert state() == before


@pytest.mark.parametrize("role", ["principal", "school_admin"])
@pytest.mark.parametrize("kind", LOCK_KINDS)
def test_after_an_unlock_the_edit_passes(world: World, role: str, kind: str) -> None:
    locked = lock_class(world, kind)
    pupil = enrolments(class_4a(world))[0]
    teacher = world.own.users["subject_teacher"]
    with pytest.raises(EditsRejected):
        apply(teacher, class_4a(world), edit(pupil, subject_cell(), "T", 0))
    user = world.own.users[role]
    opened = services.unlock(actor=user, lock_id=locked.pk, reason="  Sửa   điểm nhập nhầm ")
    assert opened.unlocked_by == user
    assert opened.unlock_reason == "Sửa điểm nhập nhầm"
    assert opened.unlocked_at is not None
    event = AuditEvent.objects.filter(action="assessment.lock.opened").get()
    assert event.changes["reason"] == "Sửa điểm nhập nhầm"
    assert event.actor == user
    applied = apply(teacher, class_4a(world), edit(pupil, subject_cell(), "T", 0))
    assert applied[0].version == 1
    with pytest.raises(DomainError, match="đã được mở"):
        services.unlock(actor=user, lock_id=locked.pk, reason="Mở lại lần nữa")


# --- Every change is in the history -------------------------------------------------------------


@pytest.mark.parametrize("channel", CHANNELS)
def test_every_change_creates_a_history_row(world: World, channel: str) -> None:
    school_class = class_4a(world)
    pupil = enrolments(school_class)[0]
    teacher, homeroom = world.own.users["subject_teacher"], world.own.users["homeroom_teacher"]
    apply(teacher, school_class, edit(pupil, subject_cell(), "t", 0), channel=channel)
    apply(teacher, school_class, edit(pupil, subject_cell(field="score"), "8", 1), channel=channel)
    apply(teacher, school_class, edit(pupil, subject_cell(), "H", 2), channel=channel)
    apply(teacher, school_class, edit(pupil, subject_cell(), "H", 3), channel=channel)  # no change
    apply(homeroom, school_class, edit(pupil, item_cell(), "d", 0), channel=channel)
    apply(homeroom, school_class, edit(pupil, fact_cell(), "131,5", 0), channel=channel)
    rows = list(CellChange.objects.order_by("pk"))
    assert [
        (r.sheet, r.key, r.period, r.field, r.old_value, r.new_value, r.actor, r.channel)
        for r in rows
    ] == [
        ("subject", "toan", "cn", "level", "", "T", teacher, channel),
        ("subject", "toan", "cn", "score", "", "8", teacher, channel),
        ("subject", "toan", "cn", "level", "T", "H", teacher, channel),
        ("competency", "pc.trung_thuc", "cn", "level", "", "Đ", homeroom, channel),
        ("facts", "height_cm", "", "height_cm", "", "131.5", homeroom, channel),
    ]
    assert {r.actor_label for r in rows} == {teacher.staff.full_name, homeroom.staff.full_name}
    assert all(r.enrolment_id == pupil.pk and r.at is not None for r in rows)
    mark = SubjectMark.objects.get()
    assert (mark.level, mark.score, mark.version) == ("H", 8, 3)
    assert PupilYearFacts.objects.get().height_cm == decimal.Decimal("131.5")


def test_clearing_a_value_is_a_change_too(world: World) -> None:
    school_class = class_4a(world)
    pupil = enrolments(school_class)[0]
    teacher = world.own.users["subject_teacher"]
    apply(teacher, school_class, edit(pupil, subject_cell(field="score"), 9, 0))
    apply(teacher, school_class, edit(pupil, subject_cell(field="score"), "", 1))
    last = CellChange.objects.order_by("-pk").first()
    assert last is not None
    assert (last.old_value, last.new_value) == ("9", "")
    assert SubjectMark.objects.get().score is None


@pytest.fixture
def change(world: World) -> CellChange:
    school_class = class_4a(world)
    apply(
        world.own.users["subject_teacher"],
        school_class,
        edit(enrolments(school_class)[0], subject_cell(), "T"),
    )
    return CellChange.objects.get()


def _history_row(pk: int) -> dict[str, Any] | None:
    return CellChange.objects.filter(pk=pk).values().first()


def test_history_cannot_be_updated_with_raw_sql(change: CellChange) -> None:
    before = _history_row(change.pk)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE assessment_cellchange SET new_value = %s WHERE id = %s", ["C", change.pk]
        )
    assert _history_row(change.pk) == before


def test_history_cannot_be_deleted_with_raw_sql(change: CellChange) -> None:
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM assessment_cellchange WHERE id = %s", [change.pk])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM assessment_cellchange")
    assert _history_row(change.pk) is not None


def test_history_cannot_be_changed_through_the_orm(change: CellChange) -> None:
    before = _history_row(change.pk)
    with pytest.raises(DatabaseError), transaction.atomic():
        CellChange.objects.filter(pk=change.pk).update(actor_label="Người khác")
    with pytest.raises(DatabaseError), transaction.atomic():
        CellChange.objects.filter(pk=change.pk).delete()
    assert _history_row(change.pk) == before


# --- Optimistic concurrency ---------------------------------------------------------------------


@pytest.fixture
def two_teachers(world: World) -> tuple[Any, Any]:
    first = named_teacher(world, "hoa_gvbm", ("Lê", "Thị", "Hoa"), "toan")
    second = named_teacher(world, "nam_gvbm", ("Trần", "Văn", "Nam"), "toan")
    return first, second


def test_the_second_of_two_concurrent_edits_is_refused(
    world: World, two_teachers: tuple[Any, Any]
) -> None:
    first, second = two_teachers
    school_class = class_4a(world)
    pupil = enrolments(school_class)[0]
    apply(first, school_class, edit(pupil, subject_cell(), "T", 0))
    before = state()
    for stale in (
        edit(pupil, subject_cell(), "H", 0),
        edit(pupil, subject_cell("toan", "comment"), "Tốt", 0),
    ):
        with pytest.raises(EditsRejected) as rejected:
            apply(second, school_class, stale)
        message = rejected.value.errors[0].message
        assert "Lê Thị Hoa vừa sửa dòng này lúc" in message
        assert "Giá trị của bạn chưa được lưu" in message
    assert state() == before
    assert SubjectMark.objects.get().level == "T"
    # Reloaded, the second teacher's edit passes and both are in the history.
    apply(second, school_class, edit(pupil, subject_cell(), "H", 1))
    assert list(CellChange.objects.order_by("pk").values_list("actor_label", "new_value")) == [
        ("Lê Thị Hoa", "T"),
        ("Trần Văn Nam", "H"),
    ]


def test_a_batch_edits_several_cells_of_one_row_from_one_version(world: World) -> None:
    school_class = class_4a(world)
    pupil = enrolments(school_class)[0]
    teacher = world.own.users["subject_teacher"]
    applied = apply(
        teacher,
        school_class,
        edit(pupil, subject_cell(field="level"), "T", 0),
        edit(pupil, subject_cell(field="score"), "9", 0),
        edit(pupil, subject_cell(field="comment"), "Làm bài cẩn thận.", 0),
    )
    assert [cell.version for cell in applied] == [1, 1, 1]
    mark = SubjectMark.objects.get()
    assert (mark.level, mark.score, mark.comment, mark.version) == ("T", 9, "Làm bài cẩn thận.", 1)
    assert CellChange.objects.count() == 3
    # The next batch starts from version 1.
    with pytest.raises(EditsRejected):
        apply(teacher, school_class, edit(pupil, subject_cell(field="score"), "8", 0))
    assert (
        apply(teacher, school_class, edit(pupil, subject_cell(field="score"), "8", 1))[0].version
        == 2
    )


def test_edits_without_a_version_are_not_checked(world: World) -> None:
    school_class = class_4a(world)
    pupil = enrolments(school_class)[0]
    teacher = world.own.users["subject_teacher"]
    apply(teacher, school_class, edit(pupil, subject_cell(), "T", 0))
    assert apply(teacher, school_class, edit(pupil, subject_cell(), "H"))[0].version == 2


# --- All or nothing -------------------------------------------------------------------------------


def test_a_batch_with_one_bad_cell_stores_nothing(world: World) -> None:
    school_class = class_4a(world)
    pupils = enrolments(school_class)
    teacher = world.own.users["subject_teacher"]
    before = state()
    with pytest.raises(EditsRejected) as rejected:
        apply(
            teacher,
            school_class,
            edit(pupils[0], subject_cell(), "T", 0),
            edit(pupils[1], subject_cell(), "H", 0),
            edit(pupils[2], subject_cell(field="score"), "11", 0),
            edit(pupils[0], subject_cell(field="score"), "9", 0),
        )
    assert [(e.index, e.message) for e in rejected.value.errors] == [
        (2, "Điểm 11 ngoài thang điểm: chỉ nhập từ 1 đến 10.")
    ]
    assert rejected.value.message == "Có 1 ô không hợp lệ, chưa lưu thay đổi nào."
    assert state() == before


def test_every_bad_cell_of_a_batch_is_reported(world: World) -> None:
    school_class = class_4a(world)
    pupil = enrolments(school_class)[0]
    with pytest.raises(EditsRejected) as rejected:
        apply(
            world.own.users["subject_teacher"],
            school_class,
            edit(pupil, subject_cell(), "X"),
            edit(pupil, subject_cell(field="score", period="gk1"), "7"),  # Toán 4 is tested at gk1
            edit(pupil, subject_cell(field="score", period="ck1"), "7.5"),
            edit(pupil, subject_cell("toan", "grade"), "T"),
            CellEdit(999999, subject_cell(), "T"),
        )
    assert [e.index for e in rejected.value.errors] == [0, 2, 3, 4]
    assert "Học sinh không có tên trong lớp này" in rejected.value.errors[-1].message
    assert not CellChange.objects.exists()


def test_a_stale_row_late_in_a_batch_rolls_back_the_earlier_cells(world: World) -> None:
    school_class = class_4a(world)
    pupils = enrolments(school_class)
    teacher = world.own.users["subject_teacher"]
    apply(teacher, school_class, edit(pupils[1], subject_cell(), "T", 0))
    before = state()
    with pytest.raises(EditsRejected) as rejected:
        apply(
            teacher,
            school_class,
            edit(pupils[0], subject_cell(), "H", 0),
            edit(pupils[1], subject_cell(), "C", 0),  # stale: the row is at version 1
        )
    assert rejected.value.errors[0].index == 1
    assert state() == before


# --- Who may enter what -------------------------------------------------------------------------


def test_a_subject_teacher_enters_only_their_subject_in_their_class(world: World) -> None:
    school_class, other_class = class_4a(world), world.own.classes[1]
    pupil = enrolments(school_class)[0]
    teacher = world.own.users["subject_teacher"]
    assert apply(teacher, school_class, edit(pupil, subject_cell(), "T"))
    before = state()
    for address in (subject_cell("tieng_viet"), item_cell(), fact_cell()):
        with pytest.raises(EditsRejected) as rejected:
            apply(teacher, school_class, edit(pupil, address, "T" if address.period else "130"))
        assert rejected.value.errors[0].is_permission_refusal
        assert rejected.value.errors[0].message == "Bạn không được phân công nhập ô này."
    with pytest.raises(PermissionRefused, match="không có quyền với lớp này"):
        apply(teacher, other_class, edit(enrolments(other_class)[0], subject_cell(), "T"))
    assert state() == before


def test_the_homeroom_teacher_enters_competencies_and_facts_of_their_class(world: World) -> None:
    school_class, other_class = class_4a(world), world.own.classes[1]
    pupil = enrolments(school_class)[0]
    homeroom = world.own.users["homeroom_teacher"]
    apply(homeroom, school_class, edit(pupil, item_cell(), "T"), edit(pupil, fact_cell(), "130"))
    apply(homeroom, school_class, edit(pupil, item_cell(field="comment"), "Trung thực."))
    before = state()
    with pytest.raises(EditsRejected) as rejected:
        apply(homeroom, school_class, edit(pupil, subject_cell(), "T"))
    assert rejected.value.errors[0].is_permission_refusal
    with pytest.raises(PermissionRefused):
        apply(homeroom, other_class, edit(enrolments(other_class)[0], item_cell(), "T"))
    assert state() == before


@pytest.mark.parametrize(
    "role",
    [
        "principal",
        "deputy_principal",
        "school_admin",
        "district_staff",
        "department_staff",
        "system_admin",
    ],
)
def test_managers_and_officials_cannot_enter_marks(world: World, role: str) -> None:
    user = world.own.users.get(role) or world.users[role]
    school_class = class_4a(world)
    pupil = enrolments(school_class)[0]
    before = state()
    for address, value in (
        (subject_cell(), "T"),
        (item_cell(), "T"),
        (fact_cell(), "130"),
    ):
        with pytest.raises(DomainError) as refused:
            apply(user, school_class, edit(pupil, address, value))
        refusal = refused.value
        assert isinstance(refusal, EditsRejected | PermissionRefused)
        if isinstance(refusal, EditsRejected):
            assert refusal.errors[0].is_permission_refusal
    assert state() == before


def test_another_schools_teachers_cannot_enter_marks(world: World) -> None:
    school_class = class_4a(world)
    pupil = enrolments(school_class)[0]
    before = state()
    for role, address in (("subject_teacher", subject_cell()), ("homeroom_teacher", item_cell())):
        with pytest.raises(PermissionRefused):
            apply(world.foreign.users[role], school_class, edit(pupil, address, "T"))
    assert state() == before


def test_a_pupil_who_left_cannot_be_edited(world: World) -> None:
    school_class = class_4a(world)
    pupil = enrolments(school_class)[0]
    Enrolment.objects.filter(pk=pupil.pk).update(left_on="2025-01-10", left_reason="Chuyển trường")
    with pytest.raises(EditsRejected, match="không hợp lệ"):
        apply(world.own.users["subject_teacher"], school_class, edit(pupil, subject_cell(), "T"))


# --- Year end ----------------------------------------------------------------------------------


# A complete end-of-year for a pupil: every level T and every score 10.
fill = fill_end_of_year


@pytest.fixture
def year_class(world: World) -> dict[str, Enrolment]:
    """4A at year end: one HTXS, one HTT, one CHT pupil (and the results stored)."""
    school_class = class_4a(world)
    excellent, good, failing = enrolments(school_class)
    fill(excellent)
    fill(good, scores={"toan": 8})
    fill(failing, levels={"tieng_viet": "C"})
    year_end.refresh_year_end(actor=world.own.users["homeroom_teacher"], school_class=school_class)
    return {"HTXS": excellent, "HTT": good, "CHT": failing}


def record(enrolment: Enrolment) -> YearEndRecord:
    return YearEndRecord.objects.get(enrolment=enrolment)


def test_refresh_year_end_stores_results(world: World, year_class: dict[str, Enrolment]) -> None:
    excellent = record(year_class["HTXS"])
    assert (excellent.result, excellent.award) == ("HTXS", "Học sinh Xuất sắc")
    assert excellent.completion == "Hoàn thành chương trình lớp 4"
    assert excellent.computed_at is not None
    good = record(year_class["HTT"])
    assert good.result == "HTT"
    assert good.reasons == ["Chưa đạt Hoàn thành xuất sắc: Toán: điểm 8 < 9"]
    failing = record(year_class["CHT"])
    assert (failing.result, failing.completion, failing.award) == ("CHT", "", "")
    assert failing.reasons == ["Chưa đạt Hoàn thành: Tiếng Việt: mức C (Chưa hoàn thành)"]
    assert failing.is_pending_summer


def test_refresh_lists_what_is_missing(world: World) -> None:
    school_class = class_4a(world)
    pupil = enrolments(school_class)[0]
    fill(pupil, skip=("khoa_hoc",))
    stored = year_end.refresh_year_end(
        actor=world.own.users["principal"], school_class=school_class
    )
    assert stored[pupil.pk].result == ""
    assert stored[pupil.pk].missing == [
        "Khoa học: thiếu mức đạt được cuối năm",
        "Khoa học: thiếu điểm kiểm tra cuối năm",
    ]
    assert len(stored) == 3


@pytest.mark.parametrize("role", ["district_staff", "department_staff"])
def test_officials_above_the_school_cannot_refresh(world: World, role: str) -> None:
    before = state()
    with pytest.raises(PermissionRefused):
        year_end.refresh_year_end(actor=world.users[role], school_class=class_4a(world))
    with pytest.raises(PermissionRefused):
        year_end.refresh_year_end(
            actor=world.foreign.users["principal"], school_class=class_4a(world)
        )
    assert state() == before


def test_flagging_an_exemplary_pupil_needs_a_reason(
    world: World, year_class: dict[str, Enrolment]
) -> None:
    homeroom = world.own.users["homeroom_teacher"]
    good = year_class["HTT"]
    before = state()
    for reason in ("", "   ", "Giỏi"):
        with pytest.raises(DomainError, match="Cần ghi rõ lý do") as refused:
            year_end.flag_exemplary(actor=homeroom, enrolment=good, exemplary=True, reason=reason)
        assert refused.value.field == "reason"
    with pytest.raises(PermissionRefused):
        year_end.flag_exemplary(
            actor=world.own.users["subject_teacher"],
            enrolment=good,
            exemplary=True,
            reason="Tiến bộ rõ rệt trong môn Toán",
        )
    assert state() == before
    year_end.flag_exemplary(
        actor=homeroom, enrolment=good, exemplary=True, reason="Tiến bộ rõ rệt trong môn Toán"
    )
    stored = record(good)
    assert (stored.exemplary, stored.exemplary_reason) == (True, "Tiến bộ rõ rệt trong môn Toán")
    event = AuditEvent.objects.order_by("-pk").first()
    assert event is not None and event.action == "assessment.year_end.exemplary_set"
    year_end.flag_exemplary(actor=homeroom, enrolment=good, exemplary=False)
    assert (record(good).exemplary, record(good).exemplary_reason) == (False, "")


def test_summer_assessment_only_for_cht(world: World, year_class: dict[str, Enrolment]) -> None:
    homeroom = world.own.users["homeroom_teacher"]
    before = state()
    for result in ("HTXS", "HTT"):
        with pytest.raises(DomainError, match="Chỉ học sinh chưa hoàn thành"):
            year_end.record_summer_assessment(
                actor=homeroom, enrolment=year_class[result], outcome="completed", note="Tốt"
            )
    with pytest.raises(DomainError, match="không hợp lệ"):
        year_end.record_summer_assessment(
            actor=homeroom, enrolment=year_class["CHT"], outcome="passed", note=""
        )
    with pytest.raises(PermissionRefused):
        year_end.record_summer_assessment(
            actor=world.own.users["principal"],
            enrolment=year_class["CHT"],
            outcome="completed",
            note="",
        )
    assert state() == before
    year_end.record_summer_assessment(
        actor=homeroom, enrolment=year_class["CHT"], outcome="completed", note="Đọc viết tốt"
    )
    stored = record(year_class["CHT"])
    assert (stored.summer_outcome, stored.completion) == (
        "completed",
        "Hoàn thành chương trình lớp 4",
    )
    assert not stored.is_pending_summer


def test_the_summer_completion_survives_a_refresh(
    world: World, year_class: dict[str, Enrolment]
) -> None:
    homeroom = world.own.users["homeroom_teacher"]
    year_end.record_summer_assessment(
        actor=homeroom, enrolment=year_class["CHT"], outcome="completed", note="Đọc viết tốt"
    )
    year_end.refresh_year_end(actor=homeroom, school_class=class_4a(world))
    stored = record(year_class["CHT"])
    assert (stored.result, stored.summer_outcome) == ("CHT", "completed")
    assert stored.completion == "Hoàn thành chương trình lớp 4"


@pytest.mark.parametrize(
    "role", ["homeroom_teacher", "subject_teacher", "school_admin", "district_staff"]
)
def test_only_the_principal_or_a_deputy_decides_promotion(
    world: World, year_class: dict[str, Enrolment], role: str
) -> None:
    failing = year_class["CHT"]
    year_end.record_summer_assessment(
        actor=world.own.users["homeroom_teacher"],
        enrolment=failing,
        outcome="not_completed",
        note="Vẫn chưa đọc trôi chảy",
    )
    user = world.own.users.get(role) or world.users[role]
    before = state()
    with pytest.raises(PermissionRefused, match="không có quyền quyết định"):
        year_end.decide_promotion(actor=user, enrolment=failing, decision="promoted")
    assert state() == before


@pytest.mark.parametrize("role", ["principal", "deputy_principal"])
def test_promotion_is_decided_after_an_unsuccessful_summer_assessment(
    world: World, year_class: dict[str, Enrolment], role: str
) -> None:
    failing, decider = year_class["CHT"], world.own.users[role]
    homeroom = world.own.users["homeroom_teacher"]
    before = state()
    with pytest.raises(DomainError, match="sau khi đánh giá bổ sung vẫn chưa hoàn thành"):
        year_end.decide_promotion(actor=decider, enrolment=failing, decision="promoted")
    with pytest.raises(DomainError, match="sau khi đánh giá bổ sung"):
        year_end.decide_promotion(actor=decider, enrolment=year_class["HTT"], decision="promoted")
    assert state() == before
    year_end.record_summer_assessment(
        actor=homeroom, enrolment=failing, outcome="not_completed", note="Chưa đạt"
    )
    with pytest.raises(DomainError, match="Quyết định không hợp lệ"):
        year_end.decide_promotion(actor=decider, enrolment=failing, decision="skipped")
    year_end.decide_promotion(actor=decider, enrolment=failing, decision="retained")
    stored = record(failing)
    assert (stored.promotion, stored.promotion_decided_by) == ("retained", decider)
    assert not stored.is_pending_summer
    assert AuditEvent.objects.filter(action="assessment.year_end.promotion_decided").count() == 1


def test_a_successful_summer_assessment_needs_no_promotion_decision(
    world: World, year_class: dict[str, Enrolment]
) -> None:
    year_end.record_summer_assessment(
        actor=world.own.users["homeroom_teacher"],
        enrolment=year_class["CHT"],
        outcome="completed",
        note="Đạt",
    )
    with pytest.raises(DomainError, match="sau khi đánh giá bổ sung vẫn chưa hoàn thành"):
        year_end.decide_promotion(
            actor=world.own.users["principal"], enrolment=year_class["CHT"], decision="promoted"
        )


def test_a_pupil_pending_summer_does_not_block_the_class(
    world: World, year_class: dict[str, Enrolment]
) -> None:
    homeroom = world.own.users["homeroom_teacher"]
    assert record(year_class["CHT"]).is_pending_summer
    year_end.set_adhoc_awards(
        actor=homeroom, enrolment=year_class["CHT"], text="Giải Nhì kể chuyện cấp trường"
    )
    fill(year_class["HTT"], scores={"toan": 9})  # a corrected score for another pupil
    stored = year_end.refresh_year_end(actor=homeroom, school_class=class_4a(world))
    assert stored[year_class["HTT"].pk].result == "HTXS"
    assert stored[year_class["HTXS"].pk].result == "HTXS"
    pending = record(year_class["CHT"])
    assert pending.result == "CHT"
    assert pending.is_pending_summer
    assert pending.adhoc_awards == "Giải Nhì kể chuyện cấp trường"


def test_two_facts_of_one_pupil_in_one_batch_share_the_row_version(world: World) -> None:
    school_class = world.own.classes[0]
    enrolment = school_class.enrolments.first()
    homeroom = world.own.users["homeroom_teacher"]
    edits = [
        CellEdit(enrolment.pk, CellAddress("facts", "height_cm", "", "value"), "132,5", 0),
        CellEdit(enrolment.pk, CellAddress("facts", "weight_kg", "", "value"), "28", 0),
    ]
    applied = services.apply_edits(actor=homeroom, school_class=school_class, edits=edits)
    assert [a.version for a in applied] == [1, 1]
    stale = [
        CellEdit(enrolment.pk, CellAddress("facts", "days_absent_excused", "", "value"), "2", 0)
    ]
    with pytest.raises(services.EditsRejected) as info:
        services.apply_edits(actor=homeroom, school_class=school_class, edits=stale)
    assert "Nguyễn Văn" in info.value.errors[0].message


def test_a_lock_on_a_subject_the_class_does_not_have_is_refused(world: World) -> None:
    school_class = world.own.classes[0]
    with pytest.raises(DomainError) as info:
        services.lock(actor=world.own.users["principal"], school_class=school_class, subject="xyz")
    assert "không học môn" in info.value.message
    assert not Lock.objects.exists()
