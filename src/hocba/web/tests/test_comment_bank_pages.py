"""The comment bank pages: list, add, edit, delete; who may do what; messages in Vietnamese."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from hocba.assessment.models import CommentBankEntry
from hocba.audit.models import AuditEvent
from hocba.conftest import World


@pytest.fixture(autouse=True)
def vietnamese() -> Iterator[None]:
    with translation.override("vi"):
        yield


@pytest.fixture
def bank(world: World) -> dict[str, CommentBankEntry]:
    school = world.own.school
    teacher = world.own.users["homeroom_teacher"].staff
    return {
        "shared": CommentBankEntry.objects.create(
            school=school, code="TO1", target="toan", text="Tính toán nhanh, chính xác."
        ),
        "general": CommentBankEntry.objects.create(
            school=school, code="TB1", text="Có tiến bộ rõ rệt so với học kì I."
        ),
        "own": CommentBankEntry.objects.create(
            school=school, owner=teacher, code="CC", target="pc.cham_chi", text="Chăm chỉ."
        ),
        "foreign": CommentBankEntry.objects.create(
            school=world.foreign.school, code="TO1", text="Trường khác."
        ),
    }


def login(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def page(world: World) -> str:
    return reverse("web:comment_bank", args=[world.own.school.pk])


def entry_url(name: str, entry: CommentBankEntry) -> str:
    return reverse(f"web:comment_bank_{name}", args=[entry.school_id, entry.pk])


def state() -> tuple[list[tuple[Any, ...]], int]:
    entries = CommentBankEntry.objects.order_by("pk").values_list("owner_id", "code", "text")
    return list(entries), AuditEvent.objects.count()


def test_teacher_sees_shared_and_own_entries(
    client: Client, world: World, bank: dict[str, CommentBankEntry]
) -> None:
    text = login(client, world.own.users["homeroom_teacher"]).get(page(world)).content.decode()
    assert "Tính toán nhanh, chính xác." in text and "Chăm chỉ." in text
    assert "Trường khác." not in text
    assert "Mã của riêng tôi" in text and "Thêm mã nhận xét" in text
    assert 'name="scope"' not in text  # a teacher only adds to their own bank
    assert entry_url("edit", bank["shared"]) not in text
    assert entry_url("edit", bank["own"]) in text
    other = login(client, world.own.users["subject_teacher"]).get(page(world)).content.decode()
    assert "Chăm chỉ." not in other  # someone else's own entries stay theirs


def test_filter_by_target(client: Client, world: World, bank: dict[str, CommentBankEntry]) -> None:
    login(client, world.own.users["homeroom_teacher"])
    text = client.get(page(world), {"danh_cho": "toan"}).content.decode()
    assert "Tính toán nhanh" in text and "Có tiến bộ" not in text and "Chăm chỉ." not in text
    text = client.get(page(world), {"danh_cho": "chung"}).content.decode()
    assert "Có tiến bộ" in text and "Tính toán nhanh" not in text


def test_teacher_adds_an_own_entry(
    client: Client, world: World, bank: dict[str, CommentBankEntry]
) -> None:
    login(client, world.own.users["homeroom_teacher"])
    data = {"code": "tv2", "target": "tieng_viet", "text": "Đọc diễn cảm."}
    response = client.post(page(world), data, follow=True)
    assert "Đã thêm mã TV2." in response.content.decode()
    entry = CommentBankEntry.objects.get(code="TV2")
    assert entry.owner == world.own.users["homeroom_teacher"].staff
    assert AuditEvent.objects.filter(action="assessment.comment_bank.created").count() == 1


def test_duplicate_and_invalid_entries_are_refused_in_place(
    client: Client, world: World, bank: dict[str, CommentBankEntry]
) -> None:
    before = state()
    login(client, world.own.users["homeroom_teacher"])
    response = client.post(page(world), {"code": "cc", "target": "", "text": "Khác."})
    assert response.status_code == 400
    assert "Mã “CC” đã có trong bảng mã riêng của bạn." in response.content.decode()
    response = client.post(page(world), {"code": "A B", "target": "", "text": "Khác."})
    assert "Mã “A B” không hợp lệ" in response.content.decode()
    response = client.post(page(world), {"code": "X", "target": "bong_da", "text": "Khác."})
    assert response.status_code == 400  # not one of the choices: the form refuses it
    assert state() == before


def test_principal_adds_to_the_shared_bank(
    client: Client, world: World, bank: dict[str, CommentBankEntry]
) -> None:
    login(client, world.own.users["principal"])
    text = client.get(page(world)).content.decode()
    assert 'name="scope"' in text and entry_url("edit", bank["shared"]) in text
    data = {"code": "TO2", "target": "toan", "text": "Cẩn thận hơn.", "scope": "shared"}
    assert client.post(page(world), data).status_code == 302
    assert CommentBankEntry.objects.get(code="TO2").owner is None
    data = {"code": "TO1", "target": "toan", "text": "Trùng.", "scope": "shared"}
    response = client.post(page(world), data)
    assert "Mã “TO1” đã có trong bảng mã dùng chung của trường." in response.content.decode()


def test_teacher_cannot_post_to_the_shared_bank(
    client: Client, world: World, bank: dict[str, CommentBankEntry]
) -> None:
    before = state()
    login(client, world.own.users["subject_teacher"])
    data = {"code": "TO9", "target": "toan", "text": "Thử.", "scope": "shared"}
    response = client.post(page(world), data)
    assert response.status_code == 403
    assert "Chỉ ban giám hiệu và quản trị nhà trường sửa được mã nhận xét dùng chung." in (
        response.content.decode()
    )
    response = client.post(entry_url("edit", bank["shared"]), {"code": "TO1", "text": "Sửa."})
    assert response.status_code == 403
    assert "Chỉ ban giám hiệu và quản trị nhà trường sửa được mã nhận xét dùng chung." in (
        response.content.decode()
    )
    response = client.post(entry_url("delete", bank["shared"]))
    assert response.status_code == 403
    assert CommentBankEntry.objects.filter(pk=bank["shared"].pk).exists()
    assert state() == before


def test_officials_above_the_school_read_only(
    client: Client, world: World, bank: dict[str, CommentBankEntry]
) -> None:
    before = state()
    login(client, world.users["district_staff"])
    text = client.get(page(world)).content.decode()
    assert "Tính toán nhanh" in text and "Thêm mã nhận xét" not in text
    response = client.post(page(world), {"code": "X1", "target": "", "text": "Thử."})
    assert response.status_code == 403
    assert "Chỉ cán bộ của trường có bảng mã nhận xét riêng." in response.content.decode()
    assert state() == before


def test_edit_and_delete_own_entry(
    client: Client, world: World, bank: dict[str, CommentBankEntry]
) -> None:
    own = bank["own"]
    login(client, world.own.users["homeroom_teacher"])
    form = client.get(entry_url("edit", own)).content.decode()
    assert "Sửa mã #CC" in form and "Chăm chỉ.</textarea>" in form
    data = {"code": "CC1", "target": "pc.cham_chi", "text": "Chăm chỉ, tự giác."}
    response = client.post(entry_url("edit", own), data, follow=True)
    assert "Đã lưu mã CC1." in response.content.decode()
    own.refresh_from_db()
    assert (own.code, own.text) == ("CC1", "Chăm chỉ, tự giác.")
    assert "Xoá mã #CC1?" in client.get(entry_url("delete", own)).content.decode()
    response = client.post(entry_url("delete", own), follow=True)
    assert "Đã xoá mã CC1." in response.content.decode()
    assert not CommentBankEntry.objects.filter(pk=own.pk).exists()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"assessment.comment_bank.updated", "assessment.comment_bank.deleted"} <= actions


def test_others_entries_are_not_found(
    client: Client, world: World, bank: dict[str, CommentBankEntry]
) -> None:
    before = state()
    login(client, world.own.users["subject_teacher"])
    assert client.get(entry_url("edit", bank["own"])).status_code == 404
    assert client.post(entry_url("delete", bank["own"])).status_code == 404
    login(client, world.foreign.users["principal"])
    assert client.get(page(world)).status_code == 404
    assert client.post(entry_url("delete", bank["shared"])).status_code == 404
    # An entry of another school under this school's URL is not found either.
    url = reverse("web:comment_bank_edit", args=[world.foreign.school.pk, bank["shared"].pk])
    assert client.get(url).status_code == 404
    assert state() == before
