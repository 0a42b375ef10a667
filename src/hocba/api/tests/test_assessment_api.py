"""The assessment API: marks with versions, edits through the service, year end, history."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from hocba.assessment import services, year_end
from hocba.assessment.cells import CellAddress
from hocba.assessment.models import CellChange, CompetencyMark, SubjectMark
from hocba.assessment.services import CellEdit
from hocba.assessment.tests.test_services import fill
from hocba.conftest import World
from hocba.schools.models import Enrolment, SchoolClass


@pytest.fixture(autouse=True)
def vietnamese() -> Iterator[None]:
    with translation.override("vi"):
        yield


def class_4a(world: World) -> SchoolClass:
    return world.own.classes[0]


def pupils(school_class: SchoolClass) -> list[Enrolment]:
    return list(Enrolment.objects.filter(school_class=school_class).order_by("pk"))


def client_for(user: Any) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def cell(enrolment: Enrolment, value: object, **address: Any) -> dict[str, Any]:
    entry = {"enrolment": enrolment.pk, "sheet": "subject", "key": "toan", "period": "cn"}
    return {**entry, "field": "level", "value": value, "version": 0, **address}


def post(client: Client, school_class: SchoolClass, *edits: dict[str, Any]) -> Any:
    return client.post(
        f"/api/v1/classes/{school_class.pk}/marks",
        {"edits": list(edits)},
        content_type="application/json",
    )


def seed(world: World) -> None:
    """Toán at cuối năm for the first pupil, a quality for the second."""
    school_class = class_4a(world)
    first, second, _third = pupils(school_class)
    services.apply_edits(
        actor=world.own.users["subject_teacher"],
        school_class=school_class,
        edits=[
            CellEdit(first.pk, CellAddress("subject", "toan", "cn", "level"), "T"),
            CellEdit(first.pk, CellAddress("subject", "toan", "cn", "score"), "9"),
            CellEdit(first.pk, CellAddress("subject", "toan", "ck1", "level"), "H"),
        ],
    )
    services.apply_edits(
        actor=world.own.users["homeroom_teacher"],
        school_class=school_class,
        edits=[
            CellEdit(second.pk, CellAddress("competency", "pc.nhan_ai", "cn", "level"), "Đ"),
            CellEdit(second.pk, CellAddress("facts", "weight_kg", "", "value"), "28,5"),
        ],
    )


# --- GET marks ---------------------------------------------------------------------------------


def test_marks_with_their_versions(world: World) -> None:
    seed(world)
    response = client_for(world.own.users["subject_teacher"]).get(
        f"/api/v1/classes/{class_4a(world).pk}/marks"
    )
    assert response.status_code == 200
    body = response.json()
    first, second, _third = pupils(class_4a(world))
    assert (body["grade"], body["school_year"], body["scheme"]) == (4, "2024-2025", "tt27-2020")
    assert {row["enrolment"] for row in body["pupils"]} == {e.pk for e in pupils(class_4a(world))}
    marks = {(m["sheet"], m["key"], m["period"], m["enrolment"]): m for m in body["marks"]}
    assert marks[("subject", "toan", "cn", first.pk)] == {
        "enrolment": first.pk,
        "sheet": "subject",
        "key": "toan",
        "period": "cn",
        "level": "T",
        "score": 9,
        "comment": "",
        "version": 1,
    }
    assert marks[("competency", "pc.nhan_ai", "cn", second.pk)]["level"] == "Đ"
    assert body["facts"] == [
        {
            "enrolment": second.pk,
            "height_cm": None,
            "weight_kg": "28.5",
            "days_absent_excused": None,
            "days_absent_unexcused": None,
            "version": 1,
        }
    ]


def test_marks_filtered_by_period_subject_item_and_sheet(world: World) -> None:
    seed(world)
    client = client_for(world.own.users["principal"])
    url = f"/api/v1/classes/{class_4a(world).pk}/marks"
    toan_cn = client.get(url, {"period": "cn", "subject": "toan"}).json()
    assert [(m["key"], m["period"]) for m in toan_cn["marks"]] == [("toan", "cn")]
    assert toan_cn["facts"] == []
    ck1 = client.get(url, {"period": "ck1"}).json()
    assert [(m["key"], m["level"]) for m in ck1["marks"]] == [("toan", "H")]
    item = client.get(url, {"item": "pc.nhan_ai"}).json()
    assert [m["sheet"] for m in item["marks"]] == ["competency"]
    facts = client.get(url, {"sheet": "facts"}).json()
    assert (facts["marks"], len(facts["facts"])) == ([], 1)
    bad = client.get(url, {"period": "hk3"})
    assert bad.status_code == 400
    assert bad.json()["detail"] == "Thời điểm đánh giá không hợp lệ."


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("subject_teacher", 200),
        ("homeroom_teacher", 200),
        ("principal", 200),
        ("district_staff", 200),
        ("anonymous", 401),
    ],
)
def test_marks_are_read_by_who_sees_the_class(world: World, role: str, status: int) -> None:
    user = None if role == "anonymous" else world.own.users.get(role) or world.users[role]
    client = client_for(user)
    assert client.get(f"/api/v1/classes/{class_4a(world).pk}/marks").status_code == status
    if user is not None:
        foreign = world.foreign.classes[0]
        assert client.get(f"/api/v1/classes/{foreign.pk}/marks").status_code == 404


def test_a_subject_teacher_does_not_see_other_classes(world: World) -> None:
    client = client_for(world.own.users["subject_teacher"])
    assert client.get(f"/api/v1/classes/{world.own.classes[1].pk}/marks").status_code == 404


# --- POST marks --------------------------------------------------------------------------------


def test_edits_are_saved_with_their_versions_and_history(world: World) -> None:
    first, second, _third = pupils(class_4a(world))
    teacher = world.own.users["subject_teacher"]
    response = post(
        client_for(teacher),
        class_4a(world),
        cell(first, "t"),
        cell(first, 9, field="score"),
        cell(second, "H"),
    )
    assert response.status_code == 200, response.content
    saved = response.json()["saved"]
    assert [(s["index"], s["enrolment"], s["field"], s["value"], s["version"]) for s in saved] == [
        (0, first.pk, "level", "T", 1),
        (1, first.pk, "score", 9, 1),
        (2, second.pk, "level", "H", 1),
    ]
    changes = CellChange.objects.order_by("pk")
    assert [c.channel for c in changes] == ["api", "api", "api"]
    assert {c.actor for c in changes} == {teacher}


def test_facts_come_back_as_text(world: World) -> None:
    first = pupils(class_4a(world))[0]
    edit = cell(first, "131,5", sheet="facts", key="height_cm", period="", field="value")
    response = post(client_for(world.own.users["homeroom_teacher"]), class_4a(world), edit)
    assert response.status_code == 200
    assert response.json()["saved"][0]["value"] == "131.5"


def test_invalid_cells_answer_400_with_every_error(world: World) -> None:
    first, second, _third = pupils(class_4a(world))
    response = post(
        client_for(world.own.users["subject_teacher"]),
        class_4a(world),
        cell(first, "T"),
        cell(second, "11", field="score"),
        cell(second, "Q"),
    )
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Có 2 ô không hợp lệ, chưa lưu thay đổi nào."
    assert body["errors"] == [
        {"index": 1, "message": "Điểm 11 ngoài thang điểm: chỉ nhập từ 1 đến 10."},
        {"index": 2, "message": "Mức đạt được “Q” không hợp lệ: chỉ nhập T, H hoặc C."},
    ]
    assert not SubjectMark.objects.exists()
    assert not CellChange.objects.exists()


def test_a_stale_version_answers_409_naming_who_changed_it(world: World) -> None:
    first = pupils(class_4a(world))[0]
    client = client_for(world.own.users["subject_teacher"])
    assert post(client, class_4a(world), cell(first, "T")).status_code == 200
    stale = post(client, class_4a(world), cell(first, "H"))
    assert stale.status_code == 409
    message = stale.json()["errors"][0]["message"]
    staff = world.own.users["subject_teacher"].staff
    assert message.startswith(f"{staff.full_name} vừa sửa dòng này lúc")
    assert SubjectMark.objects.get().level == "T"


def test_cells_the_user_may_not_enter_answer_403(world: World) -> None:
    first = pupils(class_4a(world))[0]
    client = client_for(world.own.users["subject_teacher"])
    response = post(client, class_4a(world), cell(first, "T"), cell(first, "T", key="tieng_viet"))
    assert response.status_code == 403
    assert response.json()["errors"] == [
        {"index": 1, "message": "Bạn không được phân công nhập ô này."}
    ]
    principal = client_for(world.own.users["principal"])
    assert post(principal, class_4a(world), cell(first, "T")).status_code == 403
    assert not SubjectMark.objects.exists()


def test_classes_out_of_sight_answer_404_and_anonymous_401(world: World) -> None:
    foreign = world.foreign.classes[0]
    foreign_pupil = pupils(foreign)[0]
    client = client_for(world.own.users["subject_teacher"])
    assert post(client, foreign, cell(foreign_pupil, "T")).status_code == 404
    assert post(Client(), class_4a(world), cell(pupils(class_4a(world))[0], "T")).status_code == 401
    assert not SubjectMark.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"edits": []},
        {"edits": [{"enrolment": 1, "sheet": "grades", "key": "toan", "field": "level"}]},
        {"edits": [{"enrolment": "x", "sheet": "subject", "key": "toan", "field": "level"}]},
        {},
    ],
)
def test_malformed_bodies_are_refused(world: World, body: dict[str, Any]) -> None:
    client = client_for(world.own.users["subject_teacher"])
    response = client.post(
        f"/api/v1/classes/{class_4a(world).pk}/marks", body, content_type="application/json"
    )
    assert response.status_code in (400, 422)
    assert not CellChange.objects.exists()


def test_a_colliding_first_entry_answers_409(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    first = pupils(class_4a(world))[0]
    client = client_for(world.own.users["subject_teacher"])
    assert post(client, class_4a(world), cell(first, "T")).status_code == 200
    # Another request created the row after this one looked for it.
    monkeypatch.setattr(services, "_preload_rows", lambda edits: {})
    response = post(client, class_4a(world), cell(first, "H"))
    assert response.status_code == 409
    assert SubjectMark.objects.get().level == "T"
    assert CellChange.objects.count() == 1


# --- GET year-end ------------------------------------------------------------------------------


def test_year_end_is_evaluated_live_with_reasons(world: World) -> None:
    seed(world)
    client = client_for(world.own.users["homeroom_teacher"])
    url = f"/api/v1/classes/{class_4a(world).pk}/year-end"
    rows = {row["enrolment"]: row for row in client.get(url).json()}
    first = pupils(class_4a(world))[0]
    row = rows[first.pk]
    assert row["result"] is None
    assert "Tiếng Việt: thiếu mức đạt được cuối năm" in row["missing"]
    assert "Toán: thiếu mức đạt được cuối năm" not in row["missing"]
    assert row["stored"] is None
    assert row["full_name"] == first.pupil.full_name
    year_end.refresh_year_end(
        actor=world.own.users["homeroom_teacher"], school_class=class_4a(world)
    )
    stored = {r["enrolment"]: r for r in client.get(url).json()}[first.pk]["stored"]
    assert stored["result"] == ""
    assert stored["is_pending_summer"] is False
    assert stored["computed_at"] is not None


def test_year_end_for_a_complete_pupil(world: World) -> None:
    first = pupils(class_4a(world))[0]
    fill(first, scores={"toan": 6})
    client = client_for(world.own.users["principal"])
    rows = client.get(f"/api/v1/classes/{class_4a(world).pk}/year-end").json()
    row = next(r for r in rows if r["enrolment"] == first.pk)
    assert (row["result"], row["result_label"]) == ("HT", "Hoàn thành")
    assert row["completion"] == "Hoàn thành chương trình lớp 4"
    assert row["reasons"] == ["Chưa đạt Hoàn thành tốt: Toán: điểm 6 < 7"]
    other = client_for(world.foreign.users["principal"])
    assert other.get(f"/api/v1/classes/{class_4a(world).pk}/year-end").status_code == 404


# --- GET history -------------------------------------------------------------------------------


def test_history_of_a_pupil(world: World) -> None:
    seed(world)
    first = pupils(class_4a(world))[0]
    services.apply_edits(
        actor=world.own.users["subject_teacher"],
        school_class=class_4a(world),
        edits=[CellEdit(first.pk, CellAddress("subject", "toan", "cn", "level"), "H", 1)],
        channel="import",
    )
    client = client_for(world.own.users["homeroom_teacher"])
    body = client.get(f"/api/v1/pupils/{first.pupil_id}/history").json()
    assert body["total"] == 4
    newest = body["changes"][0]
    assert {
        k: newest[k] for k in ("sheet", "key", "period", "field", "old_value", "new_value")
    } == {
        "sheet": "subject",
        "key": "toan",
        "period": "cn",
        "field": "level",
        "old_value": "T",
        "new_value": "H",
    }
    assert newest["channel"] == "import"
    assert newest["actor"] == world.own.users["subject_teacher"].staff.full_name
    assert newest["class_name"] == "4A"
    assert newest["school_year"] == "2024-2025"
    assert newest["cell"].startswith("Toán · Cuối năm học")
    limited = client.get(f"/api/v1/pupils/{first.pupil_id}/history", {"limit": 1}).json()
    assert (limited["total"], len(limited["changes"])) == (4, 1)


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("subject_teacher", 200),
        ("principal", 200),
        ("district_staff", 200),
        ("foreign_principal", 404),
        ("foreign_homeroom_teacher", 404),
    ],
)
def test_history_is_visible_to_who_sees_the_pupil(world: World, role: str, status: int) -> None:
    if role.startswith("foreign_"):
        user = world.foreign.users[role.removeprefix("foreign_")]
    else:
        user = world.own.users.get(role) or world.users[role]
    pupil = world.own.pupils[0]
    assert client_for(user).get(f"/api/v1/pupils/{pupil.pk}/history").status_code == status


def test_history_of_a_pupil_without_changes_is_empty(world: World) -> None:
    client = client_for(world.own.users["principal"])
    body = client.get(f"/api/v1/pupils/{world.own.pupils[4].pk}/history").json()
    assert body == {"pupil_id": world.own.pupils[4].pk, "total": 0, "changes": []}
    assert not CompetencyMark.objects.exists()
