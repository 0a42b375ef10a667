"""The class's locks page: "finished", partial locks, unlock with a reason, Vietnamese refusals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from hocba.assessment import services
from hocba.assessment.models import Lock
from hocba.audit.models import AuditEvent
from hocba.conftest import World
from hocba.schools.models import SchoolClass


@pytest.fixture(autouse=True)
def vietnamese() -> Iterator[None]:
    with translation.override("vi"):
        yield


@pytest.fixture
def class_4a(world: World) -> SchoolClass:
    return world.own.classes[0]


def login(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def url(name: str, school_class: SchoolClass, *args: int) -> str:
    return reverse(f"web:{name}", args=[school_class.pk, *args])


def snapshot() -> tuple[list[tuple[Any, ...]], int]:
    locks = Lock.objects.order_by("pk").values_list(
        "subject", "period", "is_class_finished", "unlocked_at", "unlock_reason"
    )
    return list(locks), AuditEvent.objects.count()


def test_homeroom_finishes_the_class_once(
    client: Client, world: World, class_4a: SchoolClass
) -> None:
    login(client, world.own.users["homeroom_teacher"])
    page = client.get(url("locks", class_4a)).content.decode()
    assert "Xác nhận hoàn thành lớp" in page and "Lớp không có khoá nào đang hiệu lực." in page
    response = client.post(url("locks_finish", class_4a), follow=True)
    text = response.content.decode()
    assert "Đã xác nhận hoàn thành lớp." in text
    assert "Giáo viên chủ nhiệm đã xác nhận hoàn thành lớp" in text
    assert Lock.objects.get(school_class=class_4a).is_class_finished
    before = snapshot()
    response = client.post(url("locks_finish", class_4a))
    assert response.status_code == 400
    assert "Lớp đã được xác nhận hoàn thành." in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("role", ["subject_teacher", "principal", "school_admin"])
def test_only_the_homeroom_teacher_finishes(
    client: Client, world: World, class_4a: SchoolClass, role: str
) -> None:
    login(client, world.own.users[role])
    assert (
        "Xác nhận hoàn thành lớp</button>"
        not in client.get(url("locks", class_4a)).content.decode()
    )
    response = client.post(url("locks_finish", class_4a))
    assert response.status_code == 403
    assert "Chỉ giáo viên chủ nhiệm xác nhận hoàn thành lớp." in response.content.decode()
    assert not Lock.objects.exists()


def test_subject_teacher_locks_their_subject_only(
    client: Client, world: World, class_4a: SchoolClass
) -> None:
    login(client, world.own.users["subject_teacher"])
    page = client.get(url("locks", class_4a)).content.decode()
    assert '<option value="toan">Toán</option>' in page
    assert '<option value="">Cả lớp' not in page and "tieng_viet" not in page
    data = {"subject": "toan", "period": "cn", "reason": "Đã nhập xong"}
    assert client.post(url("locks_create", class_4a), data).status_code == 302
    lock = Lock.objects.get()
    assert (lock.subject, lock.period, lock.reason) == ("toan", "cn", "Đã nhập xong")
    before = snapshot()
    for refused in ({"subject": "", "period": ""}, {"subject": "tieng_viet", "period": "cn"}):
        response = client.post(url("locks_create", class_4a), refused)
        assert response.status_code == 403
        assert "Bạn không có quyền khoá phần này." in response.content.decode()
    assert snapshot() == before


def test_lock_refuses_unknown_subjects_and_periods(
    client: Client, world: World, class_4a: SchoolClass
) -> None:
    login(client, world.own.users["principal"])
    response = client.post(url("locks_create", class_4a), {"subject": "bong_da", "period": ""})
    assert response.status_code == 400
    assert "Lớp này không học môn “bong_da”." in response.content.decode()
    response = client.post(url("locks_create", class_4a), {"subject": "", "period": "hk3"})
    assert "Thời điểm đánh giá không hợp lệ." in response.content.decode()
    assert not Lock.objects.exists()


def _finished(world: World, school_class: SchoolClass) -> Lock:
    return services.finish_class(
        actor=world.own.users["homeroom_teacher"], school_class=school_class
    )


@pytest.mark.parametrize("role", ["homeroom_teacher", "subject_teacher", "deputy_principal"])
def test_only_principal_or_school_admin_unlock(
    client: Client, world: World, class_4a: SchoolClass, role: str
) -> None:
    lock = _finished(world, class_4a)
    before = snapshot()
    login(client, world.own.users[role])
    assert 'class="unlock"' not in client.get(url("locks", class_4a)).content.decode()
    response = client.post(url("locks_unlock", class_4a, lock.pk), {"reason": "Sửa điểm Toán"})
    assert response.status_code == 403
    assert "Chỉ hiệu trưởng hoặc quản trị nhà trường được mở khoá." in response.content.decode()
    assert snapshot() == before


def test_unlock_needs_a_reason(client: Client, world: World, class_4a: SchoolClass) -> None:
    lock = _finished(world, class_4a)
    before = snapshot()
    login(client, world.own.users["principal"])
    for reason in ("", "   ", "abc"):
        response = client.post(url("locks_unlock", class_4a, lock.pk), {"reason": reason})
        assert response.status_code == 400
        assert "Cần ghi lý do mở khoá (ít nhất 5 ký tự)." in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("role", ["principal", "school_admin"])
def test_unlock_moves_the_lock_to_the_past(
    client: Client, world: World, class_4a: SchoolClass, role: str
) -> None:
    lock = _finished(world, class_4a)
    login(client, world.own.users[role])
    reason = "Phụ huynh phản ánh, cần sửa điểm Toán"
    response = client.post(url("locks_unlock", class_4a, lock.pk), {"reason": reason}, follow=True)
    text = response.content.decode()
    assert "Đã mở khoá. Lý do đã được ghi vào nhật ký." in text
    assert "Chưa có lần mở khoá nào." not in text and reason in text
    assert "Lớp không có khoá nào đang hiệu lực." in text
    lock.refresh_from_db()
    assert lock.unlocked_by == world.own.users[role] and lock.unlock_reason == reason
    event = AuditEvent.objects.get(action="assessment.lock.opened")
    assert event.changes["reason"] == reason
    response = client.post(url("locks_unlock", class_4a, lock.pk), {"reason": reason})
    assert "Khoá này đã được mở." in response.content.decode()


def test_page_shows_who_locked_when_and_why(
    client: Client, world: World, class_4a: SchoolClass
) -> None:
    services.lock(
        actor=world.own.users["subject_teacher"],
        school_class=class_4a,
        subject="toan",
        period="ck1",
        reason="Đã chốt điểm học kì I",
    )
    text = login(client, world.users["district_staff"]).get(url("locks", class_4a)).content.decode()
    assert "Toán" in text and "Cuối học kì I" in text and "Đã chốt điểm học kì I" in text
    assert world.own.users["subject_teacher"].staff.full_name in text
    assert "Khoá một phần" not in text  # above the school: read only


def test_other_schools_get_nothing(client: Client, world: World, class_4a: SchoolClass) -> None:
    lock = _finished(world, class_4a)
    before = snapshot()
    login(client, world.foreign.users["principal"])
    assert client.get(url("locks", class_4a)).status_code == 404
    reason = {"reason": "Mở khoá hộ trường bạn"}
    assert client.post(url("locks_unlock", class_4a, lock.pk), reason).status_code == 404
    assert client.post(url("locks_create", class_4a), {"subject": ""}).status_code == 404
    foreign_class = world.foreign.classes[0]
    login(client, world.foreign.users["principal"])
    # A lock id of another class under one's own class URL is not found either.
    assert client.post(url("locks_unlock", foreign_class, lock.pk), reason).status_code == 404
    assert snapshot() == before
