"""Comment bank services: who keeps which entries, codes unique per owner, targets, audit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation

from hocba.assessment import comment_bank
from hocba.assessment.comment_bank import EntryData
from hocba.assessment.models import CommentBankEntry
from hocba.audit.models import AuditEvent
from hocba.common.errors import DomainError, PermissionRefused
from hocba.conftest import World


@pytest.fixture(autouse=True)
def vietnamese() -> Iterator[None]:
    with translation.override("vi"):
        yield


def state() -> tuple[list[tuple[Any, ...]], int]:
    entries = CommentBankEntry.objects.order_by("pk").values_list(
        "school_id", "owner_id", "code", "target", "text"
    )
    return list(entries), AuditEvent.objects.count()


def create(world: World, role: str, *, shared: bool, **fields: str) -> CommentBankEntry:
    data = {"code": "TV1", "text": "Đọc to, rõ ràng; viết đúng chính tả.", "target": "tieng_viet"}
    return comment_bank.create_entry(
        actor=world.own.users[role],
        school=world.own.school,
        data=EntryData(**{**data, **fields}),
        shared=shared,
    )


@pytest.mark.parametrize("role", ["principal", "deputy_principal", "school_admin"])
def test_managers_keep_the_shared_bank(world: World, role: str) -> None:
    entry = create(world, role, shared=True, code=" #tv1 ")
    assert (entry.owner, entry.code, entry.target) == (None, "TV1", "tieng_viet")
    event = AuditEvent.objects.get(action="assessment.comment_bank.created")
    assert event.school == world.own.school
    assert event.changes == {
        "code": "TV1",
        "target": "tieng_viet",
        "text": "Đọc to, rõ ràng; viết đúng chính tả.",
        "owner_id": None,
    }


@pytest.mark.parametrize("role", ["homeroom_teacher", "subject_teacher"])
def test_teachers_cannot_change_the_shared_bank(world: World, role: str) -> None:
    before = state()
    with pytest.raises(PermissionRefused, match="Chỉ ban giám hiệu và quản trị nhà trường"):
        create(world, role, shared=True)
    assert state() == before


def test_staff_of_another_school_or_above_cannot_touch_this_bank(world: World) -> None:
    before = state()
    data = EntryData(code="X1", text="Chăm chỉ")
    for user in (world.foreign.users["principal"], world.users["district_staff"]):
        for shared in (True, False):
            with pytest.raises(PermissionRefused):
                comment_bank.create_entry(
                    actor=user, school=world.own.school, data=data, shared=shared
                )
    assert state() == before


def test_a_teacher_keeps_their_own_entries(world: World) -> None:
    teacher = world.own.users["homeroom_teacher"]
    create(world, "principal", shared=True)
    own = create(world, "homeroom_teacher", shared=False, text="Đọc diễn cảm, chữ đẹp.")
    assert own.owner == teacher.staff
    entries = comment_bank.entries_for(world.own.school, teacher.staff, "tieng_viet")
    assert entries == {"TV1": "Đọc diễn cảm, chữ đẹp."}  # their own wins on the same code
    other = comment_bank.entries_for(world.own.school, world.own.users["subject_teacher"].staff)
    assert other == {"TV1": "Đọc to, rõ ràng; viết đúng chính tả."}


def test_codes_are_unique_per_owner_ignoring_case(world: World) -> None:
    create(world, "principal", shared=True)
    create(world, "homeroom_teacher", shared=False)
    before = state()
    with pytest.raises(DomainError, match="đã có trong bảng mã dùng chung") as shared:
        create(world, "school_admin", shared=True, code="tv1")
    assert shared.value.field == "code"
    with pytest.raises(DomainError, match="Mã “TV1” đã có trong bảng mã riêng của bạn"):
        create(world, "homeroom_teacher", shared=False, code="Tv1", text="Khác")
    assert state() == before
    create(world, "subject_teacher", shared=False)  # another teacher's own bank: fine


@pytest.mark.parametrize(
    ("fields", "message", "field"),
    [
        ({"code": " # "}, "Cần ghi mã nhận xét.", "code"),
        ({"code": "T V"}, "Mã “T V” không hợp lệ", "code"),
        ({"code": "X" * 21}, "không hợp lệ: dùng 1-20 chữ", "code"),
        ({"target": "bong_da"}, "“bong_da” không phải môn học, phẩm chất hay năng lực.", "target"),
        ({"text": "   "}, "Cần ghi nội dung nhận xét.", "text"),
        ({"text": "x" * 1001}, "Nhận xét dài 1001 ký tự, tối đa 1000.", None),
    ],
)
def test_invalid_entries_are_refused(
    world: World, fields: dict[str, str], message: str, field: str | None
) -> None:
    before = state()
    with pytest.raises(DomainError, match=message) as refused:
        create(world, "principal", shared=True, **fields)
    assert refused.value.field == field
    assert state() == before


@pytest.mark.parametrize(
    "target", ["", "toan", "pc.trung_thuc", "nlc.tu_chu_tu_hoc", "nld.tin_hoc"]
)
def test_targets_are_subjects_qualities_competencies_or_general(world: World, target: str) -> None:
    assert create(world, "principal", shared=True, target=target).target == target


def test_update_is_audited_as_a_diff(world: World) -> None:
    entry = create(world, "principal", shared=True)
    comment_bank.update_entry(
        actor=world.own.users["deputy_principal"],
        entry_id=entry.pk,
        data=EntryData(code="TV1", text="Đọc lưu loát.", target="tieng_viet"),
    )
    entry.refresh_from_db()
    assert entry.text == "Đọc lưu loát."
    event = AuditEvent.objects.get(action="assessment.comment_bank.updated")
    assert event.changes == {"text": ["Đọc to, rõ ràng; viết đúng chính tả.", "Đọc lưu loát."]}
    count = AuditEvent.objects.count()
    comment_bank.update_entry(
        actor=world.own.users["principal"],
        entry_id=entry.pk,
        data=EntryData(code="tv1", text="Đọc lưu loát.", target="tieng_viet"),
    )
    assert AuditEvent.objects.count() == count  # nothing changed, nothing logged


def test_update_to_a_taken_code_is_refused(world: World) -> None:
    create(world, "principal", shared=True)
    second = create(world, "principal", shared=True, code="TV2")
    before = state()
    with pytest.raises(DomainError, match="Mã “TV1” đã có"):
        comment_bank.update_entry(
            actor=world.own.users["principal"],
            entry_id=second.pk,
            data=EntryData(code="TV1", text="Khác", target="tieng_viet"),
        )
    assert state() == before


def test_nobody_edits_someone_elses_own_entries(world: World) -> None:
    own = create(world, "homeroom_teacher", shared=False)
    shared = create(world, "principal", shared=True, code="TO1", target="toan")
    before = state()
    data = EntryData(code="TV1", text="Đã sửa")
    for role in ("subject_teacher", "principal"):
        with pytest.raises(PermissionRefused, match="Bạn chỉ sửa được mã nhận xét của mình"):
            comment_bank.update_entry(actor=world.own.users[role], entry_id=own.pk, data=data)
        with pytest.raises(PermissionRefused):
            comment_bank.delete_entry(actor=world.own.users[role], entry_id=own.pk)
    with pytest.raises(PermissionRefused):
        comment_bank.delete_entry(actor=world.own.users["homeroom_teacher"], entry_id=shared.pk)
    assert state() == before


def test_delete_is_audited_with_what_was_deleted(world: World) -> None:
    own = create(world, "homeroom_teacher", shared=False)
    comment_bank.delete_entry(actor=world.own.users["homeroom_teacher"], entry_id=own.pk)
    assert not CommentBankEntry.objects.exists()
    event = AuditEvent.objects.get(action="assessment.comment_bank.deleted")
    assert event.changes["code"] == "TV1" and event.object_id == str(own.pk)
    with pytest.raises(DomainError, match="Mã nhận xét này không còn nữa"):
        comment_bank.delete_entry(actor=world.own.users["homeroom_teacher"], entry_id=own.pk)


def test_system_admin_keeps_any_shared_bank_but_has_no_own(world: World) -> None:
    admin = world.users["system_admin"]
    data = EntryData(code="G1", text="Có tiến bộ.")
    entry = comment_bank.create_entry(actor=admin, school=world.own.school, data=data, shared=True)
    assert entry.owner is None
    with pytest.raises(PermissionRefused, match="Chỉ cán bộ của trường có bảng mã nhận xét riêng"):
        comment_bank.create_entry(actor=admin, school=world.own.school, data=data, shared=False)


def test_expand_replaces_known_codes(world: World) -> None:
    create(world, "principal", shared=True)
    entries = comment_bank.entries_for(world.own.school, None, "tieng_viet")
    text = comment_bank.expand("#tv1 Cần cố gắng thêm. #XYZ", entries)
    assert text == "Đọc to, rõ ràng; viết đúng chính tả. Cần cố gắng thêm. #XYZ"
