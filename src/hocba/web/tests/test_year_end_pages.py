"""The class's year-end page: live results, pending states, refresh, and each decision's form.

Refusals are checked for their Vietnamese message and that nothing changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from hocba.assessment import year_end
from hocba.assessment.models import YearEndRecord
from hocba.assessment.tests.marks import fill_end_of_year
from hocba.audit.models import AuditEvent
from hocba.conftest import World
from hocba.schools.models import Enrolment, SchoolClass

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def vietnamese() -> Iterator[None]:
    with translation.override("vi"):
        yield


@pytest.fixture
def class_4a(world: World) -> SchoolClass:
    return world.own.classes[0]


@pytest.fixture
def pupils(world: World, class_4a: SchoolClass) -> dict[str, Enrolment]:
    """4A at year end: one HTT, one CHT (both stored), one still missing a score."""
    good, failing, incomplete = Enrolment.objects.filter(school_class=class_4a).order_by("pk")
    fill_end_of_year(good, scores={"toan": 8})
    fill_end_of_year(failing, levels={"tieng_viet": "C"})
    year_end.refresh_year_end(actor=world.own.users["homeroom_teacher"], school_class=class_4a)
    fill_end_of_year(incomplete, skip=("khoa_hoc",))
    return {"HTT": good, "CHT": failing, "missing": incomplete}


def login(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def page_url(school_class: SchoolClass) -> str:
    return reverse("web:year_end", args=[school_class.pk])


def action_url(name: str, enrolment: Enrolment) -> str:
    return reverse(f"web:year_end_{name}", args=[enrolment.school_class_id, enrolment.pk])


def snapshot() -> tuple[list[tuple[Any, ...]], int]:
    records = YearEndRecord.objects.order_by("pk").values_list(
        "enrolment_id", "result", "exemplary", "adhoc_awards", "summer_outcome", "promotion"
    )
    return list(records), AuditEvent.objects.count()


def test_page_lists_every_pupil_with_live_result_and_pending_states(
    client: Client, world: World, class_4a: SchoolClass, pupils: dict[str, Enrolment]
) -> None:
    response = login(client, world.own.users["homeroom_teacher"]).get(page_url(class_4a))
    assert response.status_code == 200
    text = response.content.decode()
    for enrolment in pupils.values():
        assert enrolment.pupil.full_name in text
    assert "Hoàn thành tốt" in text and "Chưa hoàn thành" in text
    assert "Chờ đánh giá bổ sung" in text
    assert "Chưa đủ dữ liệu: Khoa học: thiếu mức đạt được cuối năm" in text
    assert "Chưa đạt Hoàn thành xuất sắc: Toán: điểm 8 &lt; 9" in text
    assert "Tính kết quả cuối năm" in text
    assert "Rèn luyện trong hè" in text  # the homeroom's summer form for the CHT pupil


def test_pupils_are_in_vietnamese_name_order(
    client: Client, world: World, class_4a: SchoolClass, pupils: dict[str, Enrolment]
) -> None:
    text = login(client, world.own.users["principal"]).get(page_url(class_4a)).content.decode()
    # Fixture names: Lê Văn An, Phạm Minh Đức, Trần Thị Ánh → An, Ánh, Đức.
    positions = [text.index(name) for name in ("Lê Văn An", "Trần Thị Ánh", "Phạm Minh Đức")]
    assert positions == sorted(positions)


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("homeroom_teacher", 200),
        ("subject_teacher", 200),
        ("principal", 200),
        ("district_staff", 200),
    ],
)
def test_who_sees_the_page(
    client: Client, world: World, class_4a: SchoolClass, role: str, status: int
) -> None:
    user = world.users.get(role) or world.own.users[role]
    assert login(client, user).get(page_url(class_4a)).status_code == status


def test_other_schools_and_anonymous_get_nothing(
    client: Client, world: World, class_4a: SchoolClass, pupils: dict[str, Enrolment]
) -> None:
    assert client.get(page_url(class_4a)).status_code == 302
    login(client, world.foreign.users["principal"])
    assert client.get(page_url(class_4a)).status_code == 404
    before = snapshot()
    url = action_url("exemplary", pupils["HTT"])
    assert client.post(url, {"exemplary": "on", "reason": "x" * 20}).status_code == 404
    refresh = reverse("web:year_end_refresh", args=[class_4a.pk])
    assert client.post(refresh).status_code == 404
    assert snapshot() == before


def test_refresh_stores_every_computable_pupil_and_lists_the_missing(
    client: Client, world: World, class_4a: SchoolClass, pupils: dict[str, Enrolment]
) -> None:
    login(client, world.own.users["homeroom_teacher"])
    response = client.post(reverse("web:year_end_refresh", args=[class_4a.pk]), follow=True)
    assert response.redirect_chain[-1][0] == page_url(class_4a)
    assert "Đã tính và lưu kết quả cuối năm của 3 học sinh." in response.content.decode()
    missing = YearEndRecord.objects.get(enrolment=pupils["missing"])
    assert missing.result == "" and missing.missing[0].startswith("Khoa học")
    assert YearEndRecord.objects.get(enrolment=pupils["HTT"]).result == "HTT"
    assert AuditEvent.objects.filter(action="assessment.year_end.computed").count() == 2


def test_officials_above_the_school_cannot_refresh(
    client: Client, world: World, class_4a: SchoolClass, pupils: dict[str, Enrolment]
) -> None:
    before = snapshot()
    login(client, world.users["district_staff"])
    page = client.get(page_url(class_4a)).content.decode()
    assert "Tính kết quả cuối năm</button>" not in page
    response = client.post(reverse("web:year_end_refresh", args=[class_4a.pk]))
    assert response.status_code == 403
    assert "Bạn không có quyền với lớp này." in response.content.decode()
    assert snapshot() == before


def test_homeroom_flags_an_exemplary_pupil_through_htmx(
    client: Client, world: World, pupils: dict[str, Enrolment]
) -> None:
    login(client, world.own.users["homeroom_teacher"])
    reason = "Tiến bộ rõ rệt môn Tiếng Việt, được cả lớp bình chọn"
    response = client.post(
        action_url("exemplary", pupils["HTT"]), {"exemplary": "on", "reason": reason}, **HTMX
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert text.strip().startswith(f'<tbody class="pupil" id="pupil-{pupils["HTT"].pk}">')
    assert "Đã lưu khen thưởng." in text and reason in text
    stored = YearEndRecord.objects.get(enrolment=pupils["HTT"])
    assert (stored.exemplary, stored.exemplary_reason) == (True, reason)


def test_exemplary_refusals_are_shown_in_the_row_and_change_nothing(
    client: Client, world: World, pupils: dict[str, Enrolment]
) -> None:
    before = snapshot()
    login(client, world.own.users["homeroom_teacher"])
    response = client.post(
        action_url("exemplary", pupils["HTT"]), {"exemplary": "on", "reason": "Giỏi"}, **HTMX
    )
    text = response.content.decode()
    assert "Cần ghi rõ lý do khen Học sinh Tiêu biểu." in text
    assert "Giỏi</textarea>" in text  # the refused form comes back as typed
    response = client.post(
        action_url("exemplary", pupils["CHT"]), {"exemplary": "on", "reason": "x" * 20}
    )
    assert response.status_code == 400
    assert "Chỉ học sinh được đánh giá Hoàn thành tốt mới được khen" in response.content.decode()
    login(client, world.own.users["subject_teacher"])
    response = client.post(
        action_url("exemplary", pupils["HTT"]), {"exemplary": "on", "reason": "x" * 20}
    )
    assert response.status_code == 403
    assert "Bạn không có quyền quyết định việc này." in response.content.decode()
    assert snapshot() == before


def test_homeroom_records_adhoc_awards(
    client: Client, world: World, class_4a: SchoolClass, pupils: dict[str, Enrolment]
) -> None:
    login(client, world.own.users["homeroom_teacher"])
    award = "Giải Nhì cuộc thi Viết chữ đẹp cấp quận"
    response = client.post(action_url("adhoc", pupils["HTT"]), {"adhoc_awards": award})
    assert response.status_code == 302
    assert YearEndRecord.objects.get(enrolment=pupils["HTT"]).adhoc_awards == award
    assert award in client.get(page_url(class_4a)).content.decode()
    assert AuditEvent.objects.filter(action="assessment.year_end.adhoc_awards_set").exists()


def test_summer_path_then_principal_decides(
    client: Client, world: World, class_4a: SchoolClass, pupils: dict[str, Enrolment]
) -> None:
    failing = pupils["CHT"]
    login(client, world.own.users["homeroom_teacher"])
    note = "Đã ôn tập trong hè nhưng chưa đọc trôi chảy."
    response = client.post(
        action_url("summer", failing), {"outcome": "not_completed", "note": note}, **HTMX
    )
    text = response.content.decode()
    assert "Đã lưu đánh giá bổ sung." in text and "Chờ hiệu trưởng quyết định" in text
    before = snapshot()
    response = client.post(action_url("promotion", failing), {"decision": "promoted"})
    assert response.status_code == 403  # the homeroom teacher does not decide promotion
    assert snapshot() == before
    login(client, world.own.users["principal"])
    page = client.get(page_url(class_4a)).content.decode()
    assert "Quyết định của hiệu trưởng" in page and "Chờ hiệu trưởng quyết định" in page
    response = client.post(action_url("promotion", failing), {"decision": "promoted"}, **HTMX)
    assert "Đã lưu quyết định." in response.content.decode()
    stored = YearEndRecord.objects.get(enrolment=failing)
    assert (stored.promotion, stored.promotion_decided_by) == (
        "promoted",
        world.own.users["principal"],
    )


def test_summer_refusals_change_nothing(
    client: Client, world: World, pupils: dict[str, Enrolment]
) -> None:
    before = snapshot()
    login(client, world.own.users["homeroom_teacher"])
    response = client.post(action_url("summer", pupils["HTT"]), {"outcome": "completed"})
    assert response.status_code == 400
    assert "Chỉ học sinh chưa hoàn thành mới đánh giá bổ sung." in response.content.decode()
    response = client.post(action_url("summer", pupils["CHT"]), {"outcome": "maybe"})
    assert "Kết quả đánh giá bổ sung không hợp lệ." in response.content.decode()
    login(client, world.own.users["deputy_principal"])
    response = client.post(action_url("promotion", pupils["CHT"]), {"decision": "promoted"})
    assert response.status_code == 400  # no unsuccessful supplementary assessment yet
    assert "Hiệu trưởng chỉ quyết định lên lớp sau khi" in response.content.decode()
    login(client, world.own.users["school_admin"])
    response = client.post(action_url("summer", pupils["CHT"]), {"outcome": "completed"})
    assert response.status_code == 403
    assert snapshot() == before


def test_a_completed_summer_shows_the_completion(
    client: Client, world: World, class_4a: SchoolClass, pupils: dict[str, Enrolment]
) -> None:
    login(client, world.own.users["homeroom_teacher"])
    client.post(action_url("summer", pupils["CHT"]), {"outcome": "completed", "note": "Đã đạt"})
    text = client.get(page_url(class_4a)).content.decode()
    assert "Hoàn thành sau đánh giá bổ sung" in text
    assert text.count("Hoàn thành chương trình lớp 4") == 2  # the HTT pupil and this one


def test_actions_need_post(client: Client, world: World, pupils: dict[str, Enrolment]) -> None:
    login(client, world.own.users["homeroom_teacher"])
    assert client.get(action_url("exemplary", pupils["HTT"])).status_code == 405


def test_a_pupil_who_left_is_not_decided_here(
    client: Client, world: World, pupils: dict[str, Enrolment]
) -> None:
    Enrolment.objects.filter(pk=pupils["HTT"].pk).update(left_on="2025-03-01")
    login(client, world.own.users["homeroom_teacher"])
    response = client.post(action_url("adhoc", pupils["HTT"]), {"adhoc_awards": "Giải Nhất"})
    assert response.status_code == 404
