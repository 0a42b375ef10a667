"""Assessment entry grids: who sees and edits which page, and the JSON save endpoint."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from hocba.assessment import services
from hocba.assessment.models import (
    CellChange,
    CommentBankEntry,
    CompetencyMark,
    PupilYearFacts,
    SubjectMark,
)
from hocba.assessment.rules import load_ruleset
from hocba.conftest import PASSWORD, World, make_user
from hocba.schools.models import Enrolment, Role, SchoolClass

pytestmark = pytest.mark.django_db


def _client(user: Any, **kwargs: Any) -> Client:
    client = Client(**kwargs)
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _subject_url(school_class: SchoolClass, subject: str = "toan", period: str = "cn") -> str:
    return reverse("web:grid_subject", args=[school_class.pk, subject, period])


def _pages(school_class: SchoolClass) -> list[str]:
    return [
        _subject_url(school_class),
        reverse("web:grid_homeroom", args=[school_class.pk, "cn"]),
        reverse("web:grid_facts", args=[school_class.pk]),
        reverse("web:class_overview", args=[school_class.pk]),
    ]


def _enrolments(school_class: SchoolClass) -> list[Enrolment]:
    return list(Enrolment.objects.filter(school_class=school_class).order_by("pk"))


def _edit(enrolment: Enrolment, field: str, value: object, **overrides: Any) -> dict[str, Any]:
    edit = {
        "enrolment": enrolment.pk,
        "sheet": "subject",
        "key": "toan",
        "period": "cn",
        "field": field,
        "value": value,
        "version": 0,
    }
    return {**edit, **overrides}


def _save(client: Client, school_class: SchoolClass, edits: list[dict[str, Any]]) -> Any:
    return client.post(
        reverse("web:grid_save", args=[school_class.pk]),
        data=json.dumps({"edits": edits}),
        content_type="application/json",
    )


def _editable_cells(response: Any) -> int:
    return response.content.decode().count("data-cell ")


# ---------- pages ----------


def test_subject_teacher_gets_an_editable_subject_grid_in_name_order(world: World) -> None:
    class_4a = world.own.classes[0]
    response = _client(world.own.users["subject_teacher"]).get(_subject_url(class_4a))
    assert response.status_code == 200
    html = response.content.decode()
    # Grade 4 Toán is tested at the end of the year: level, score and comment per pupil.
    assert "Điểm KTĐK" in html
    assert _editable_cells(response) == 3 * 3
    names = re.findall(r'<th class="name" scope="row" title="([^"]+)"', html)
    assert names == ["Lê Văn An", "Trần Thị Ánh", "Phạm Minh Đức"]
    config = json.loads(re.search(r'id="grid-config"[^>]*>(.*?)</script>', html, re.S)[1])
    assert config["editable"] is True
    assert config["saveUrl"] == reverse("web:grid_save", args=[class_4a.pk])


def test_score_column_only_where_the_subject_is_tested(world: World) -> None:
    class_4a = world.own.classes[0]
    client = _client(world.own.users["subject_teacher"])
    html = client.get(_subject_url(class_4a, "dao_duc")).content.decode()
    assert "Điểm KTĐK" not in html


def test_pages_never_carry_inline_scripts_or_handlers(world: World) -> None:
    class_4a = world.own.classes[0]
    client = _client(world.own.users["homeroom_teacher"])
    for url in _pages(class_4a):
        html = client.get(url).content.decode()
        scripts = re.findall(r"<script([^>]*)>", html)
        assert all("src=" in attrs or 'type="application/json"' in attrs for attrs in scripts)
        assert not re.search(r"\son[a-z]+=", html)


def test_homeroom_teacher_enters_competencies_and_facts_and_reads_subjects(world: World) -> None:
    class_4a = world.own.classes[0]
    client = _client(world.own.users["homeroom_teacher"])
    subject = client.get(_subject_url(class_4a))
    assert subject.status_code == 200
    assert _editable_cells(subject) == 0
    assert "do giáo viên được phân công nhập" in subject.content.decode()
    homeroom = client.get(reverse("web:grid_homeroom", args=[class_4a.pk, "cn"]))
    items = load_ruleset("tt27-2020").competency_items(4, services.RuleOptions())
    assert _editable_cells(homeroom) == 3 * len(items) * 2  # level and comment per item
    html = homeroom.content.decode()
    for group in ("Phẩm chất chủ yếu", "Năng lực chung", "Năng lực đặc thù"):
        assert group in html
    assert "Kết quả cuối năm" in html
    compact = client.get(reverse("web:grid_homeroom", args=[class_4a.pk, "gk1"]) + "?thu-gon=1")
    assert _editable_cells(compact) == 3 * len(items)
    facts = client.get(reverse("web:grid_facts", args=[class_4a.pk]))
    assert _editable_cells(facts) == 3 * 4


def test_subject_teacher_reads_the_homeroom_pages(world: World) -> None:
    class_4a = world.own.classes[0]
    client = _client(world.own.users["subject_teacher"])
    for url in _pages(class_4a)[1:]:
        response = client.get(url)
        assert response.status_code == 200
        assert _editable_cells(response) == 0


@pytest.mark.parametrize("role", ["principal", "school_admin", "district_staff"])
def test_managers_and_authorities_read_only(world: World, role: str) -> None:
    users = {**world.own.users, **world.users}
    client = _client(users[role])
    for url in _pages(world.own.classes[0]):
        response = client.get(url)
        assert response.status_code == 200
        assert _editable_cells(response) == 0


def test_classes_out_of_sight_are_not_found(world: World) -> None:
    unassigned = make_user("a_khac", [Role.SUBJECT_TEACHER], school=world.own.school)
    cases = [
        (world.own.users["subject_teacher"], world.own.classes[1]),  # the other class
        (world.own.users["homeroom_teacher"], world.foreign.classes[0]),  # other school
        (unassigned, world.own.classes[0]),  # a teacher of the school, not in this class
    ]
    for user, school_class in cases:
        client = _client(user)
        for url in _pages(school_class):
            assert client.get(url).status_code == 404, (user.username, url)


def test_anonymous_is_sent_to_the_login_page(world: World) -> None:
    response = Client().get(_subject_url(world.own.classes[0]))
    assert response.status_code == 302
    assert reverse("web:login") in response["Location"]


def test_unknown_subject_or_period_is_not_found(world: World) -> None:
    class_4a = world.own.classes[0]
    client = _client(world.own.users["subject_teacher"])
    assert client.get(_subject_url(class_4a, "tu_nhien_xa_hoi")).status_code == 404  # not grade 4
    assert client.get(_subject_url(class_4a, "toan", "hk3")).status_code == 404
    assert client.get(reverse("web:grid_homeroom", args=[class_4a.pk, "x"])).status_code == 404


def test_default_period_redirects(world: World) -> None:
    class_4a = world.own.classes[0]
    client = _client(world.own.users["subject_teacher"])
    response = client.get(reverse("web:grid_subject_default", args=[class_4a.pk, "toan"]))
    assert response.status_code == 302
    assert re.search(r"/mon/toan/(gk1|ck1|gk2|cn)/$", response["Location"])


def test_a_lock_makes_the_grid_read_only_with_who_when_why(world: World) -> None:
    class_4a = world.own.classes[0]
    principal = world.own.users["principal"]
    services.lock(
        actor=principal, school_class=class_4a, subject="toan", period="cn", reason="Đã duyệt"
    )
    response = _client(world.own.users["subject_teacher"]).get(_subject_url(class_4a))
    html = response.content.decode()
    assert _editable_cells(response) == 0
    assert "Đã khoá" in html and "Đã duyệt" in html and principal.staff.full_name in html
    # Another period of the same subject stays open.
    other = _client(world.own.users["subject_teacher"]).get(_subject_url(class_4a, "toan", "ck1"))
    assert _editable_cells(other) > 0


def test_class_page_links_to_the_grids_the_user_enters(world: World) -> None:
    class_4a = world.own.classes[0]
    teacher = _client(world.own.users["subject_teacher"])
    html = teacher.get(reverse("web:class", args=[class_4a.pk])).content.decode()
    assert reverse("web:grid_subject_default", args=[class_4a.pk, "toan"]) in html
    assert "Nhập đánh giá" in html and reverse("web:class_overview", args=[class_4a.pk]) in html
    homeroom = _client(world.own.users["homeroom_teacher"])
    html = homeroom.get(reverse("web:class", args=[class_4a.pk])).content.decode()
    assert reverse("web:grid_homeroom_default", args=[class_4a.pk]) in html
    assert reverse("web:grid_subject_default", args=[class_4a.pk, "toan"]) not in html


def test_comment_bank_entries_reach_the_page(world: World) -> None:
    class_4a = world.own.classes[0]
    CommentBankEntry.objects.create(
        school=world.own.school, code="T1", target="toan", text="Tính toán nhanh, chính xác."
    )
    CommentBankEntry.objects.create(
        school=world.own.school, code="V1", target="tieng_viet", text="Đọc trôi chảy."
    )
    html = _client(world.own.users["subject_teacher"]).get(_subject_url(class_4a)).content.decode()
    config = json.loads(re.search(r'id="grid-config"[^>]*>(.*?)</script>', html, re.S)[1])
    assert config["bank"] == {"toan": {"T1": "Tính toán nhanh, chính xác."}}


# ---------- the save endpoint ----------


def test_a_batch_of_one_row_is_saved_with_history(world: World) -> None:
    class_4a = world.own.classes[0]
    pupil = _enrolments(class_4a)[0]
    client = _client(world.own.users["subject_teacher"])
    edits = [
        _edit(pupil, "level", "t"),
        _edit(pupil, "score", "9"),
        _edit(pupil, "comment", " Tốt "),
    ]
    response = _save(client, class_4a, edits)
    assert response.status_code == 200, response.content
    body = response.json()
    assert [(s["field"], s["value"]) for s in body["saved"]] == [
        ("level", "T"),
        ("score", "9"),
        ("comment", "Tốt"),
    ]
    assert {s["version"] for s in body["saved"]} == {1}  # one batch moves the row on once
    mark = SubjectMark.objects.get(enrolment=pupil, subject="toan", period="cn")
    assert (mark.level, mark.score, mark.comment, mark.version) == ("T", 9, "Tốt", 1)
    assert CellChange.objects.filter(enrolment=pupil, channel="grid").count() == 3
    assert str(pupil.pk) in body["year_end"]
    assert body["year_end"][str(pupil.pk)]["text"] == "Chưa đủ dữ liệu"
    # The next edit uses the version the response gave.
    again = _save(client, class_4a, [_edit(pupil, "score", "10", version=1)])
    assert again.status_code == 200
    assert again.json()["saved"][0]["version"] == 2


def test_an_invalid_value_is_refused_in_vietnamese_and_nothing_is_stored(world: World) -> None:
    class_4a = world.own.classes[0]
    first, second = _enrolments(class_4a)[:2]
    client = _client(world.own.users["subject_teacher"])
    response = _save(client, class_4a, [_edit(first, "level", "T"), _edit(second, "score", "11")])
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors == [
        {
            "index": 1,
            "message": "Điểm 11 ngoài thang điểm: chỉ nhập từ 1 đến 10.",
            "conflict": False,
        }
    ]
    assert not SubjectMark.objects.exists()
    assert not CellChange.objects.exists()


def test_a_stale_version_is_a_conflict_naming_who_changed_it(world: World) -> None:
    class_4a = world.own.classes[0]
    pupil = _enrolments(class_4a)[0]
    client = _client(world.own.users["subject_teacher"])
    assert _save(client, class_4a, [_edit(pupil, "level", "T")]).status_code == 200
    response = _save(client, class_4a, [_edit(pupil, "level", "H", version=0)])
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["conflict"] is True
    assert world.own.users["subject_teacher"].staff.full_name in error["message"]
    assert SubjectMark.objects.get(enrolment=pupil).level == "T"


def test_a_locked_subject_refuses_edits(world: World) -> None:
    class_4a = world.own.classes[0]
    services.lock(actor=world.own.users["principal"], school_class=class_4a, subject="toan")
    pupil = _enrolments(class_4a)[0]
    response = _save(
        _client(world.own.users["subject_teacher"]), class_4a, [_edit(pupil, "level", "T")]
    )
    assert response.status_code == 400
    assert "khoá" in response.json()["errors"][0]["message"]
    assert not SubjectMark.objects.exists()


def test_another_class_pupil_is_refused(world: World) -> None:
    class_4a, class_4b = world.own.classes
    stranger = _enrolments(class_4b)[0]
    response = _save(
        _client(world.own.users["subject_teacher"]), class_4a, [_edit(stranger, "level", "T")]
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "Học sinh không có tên trong lớp này."
    assert not SubjectMark.objects.exists()


def test_users_who_may_not_enter_are_refused_with_403(world: World) -> None:
    class_4a = world.own.classes[0]
    pupil = _enrolments(class_4a)[0]
    unassigned = make_user("a_khac", [Role.SUBJECT_TEACHER], school=world.own.school)
    cases = [
        (unassigned, _edit(pupil, "level", "T")),  # not in the class at all
        (world.own.users["homeroom_teacher"], _edit(pupil, "level", "T")),  # not their subject
        (world.own.users["principal"], _edit(pupil, "level", "T")),  # reads, does not enter
        (
            world.own.users["subject_teacher"],
            _edit(pupil, "level", "T", sheet="competency", key="pc.cham_chi"),
        ),
        (world.foreign.users["subject_teacher"], _edit(pupil, "level", "T")),
    ]
    for user, edit in cases:
        response = _save(_client(user), class_4a, [edit])
        assert response.status_code == 403, user.username
        assert response.json()["errors"][0]["message"]
    assert not SubjectMark.objects.exists() and not CompetencyMark.objects.exists()


def test_anonymous_save_is_401(world: World) -> None:
    pupil = _enrolments(world.own.classes[0])[0]
    response = _save(Client(), world.own.classes[0], [_edit(pupil, "level", "T")])
    assert response.status_code == 401
    assert not SubjectMark.objects.exists()


def test_malformed_batches_are_refused(world: World) -> None:
    class_4a = world.own.classes[0]
    pupil = _enrolments(class_4a)[0]
    client = _client(world.own.users["subject_teacher"])
    url = reverse("web:grid_save", args=[class_4a.pk])
    for body in (
        "not json",
        json.dumps({"edits": []}),
        json.dumps({"edits": [_edit(pupil, "level", "T", version=None)]}),
        json.dumps({"edits": [_edit(pupil, "level", ["T"])]}),
    ):
        response = client.post(url, data=body, content_type="application/json")
        assert response.status_code == 400
        assert response.json()["errors"][0]["message"] == "Dữ liệu gửi lên không hợp lệ."
    assert client.get(url).status_code == 405


def test_csrf_is_enforced(world: World) -> None:
    class_4a = world.own.classes[0]
    pupil = _enrolments(class_4a)[0]
    client = _client(world.own.users["subject_teacher"], enforce_csrf_checks=True)
    url = reverse("web:grid_save", args=[class_4a.pk])
    body = json.dumps({"edits": [_edit(pupil, "level", "T")]})
    refused = client.post(url, data=body, content_type="application/json")
    assert refused.status_code == 403
    assert not SubjectMark.objects.exists()
    page = client.get(_subject_url(class_4a)).content.decode()
    token = re.search(r'data-csrf="([^"]+)"', page)[1]
    accepted = client.post(url, data=body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 200


def test_competency_d_is_stored_as_dj_and_facts_take_a_decimal_comma(world: World) -> None:
    class_4a = world.own.classes[0]
    pupil = _enrolments(class_4a)[0]
    client = _client(world.own.users["homeroom_teacher"])
    competency = {"sheet": "competency", "key": "pc.cham_chi"}
    facts = {"sheet": "facts", "period": ""}
    response = _save(
        client,
        class_4a,
        [
            _edit(pupil, "level", "d", **competency),
            _edit(pupil, "comment", "Chăm chỉ", **competency),
            _edit(pupil, "value", "132,5", key="height_cm", **facts),
            _edit(pupil, "value", "2", key="days_absent_excused", **facts),
        ],
    )
    assert response.status_code == 200, response.content
    values = [s["value"] for s in response.json()["saved"]]
    assert values == ["Đ", "Chăm chỉ", "132,5", "2"]
    assert CompetencyMark.objects.get(enrolment=pupil).level == "Đ"
    stored = PupilYearFacts.objects.get(enrolment=pupil)
    assert (stored.height_cm, stored.days_absent_excused, stored.version) == (
        Decimal("132.5"),
        2,
        1,
    )
    # The page shows what was stored, with its version (one batch moves a row on once).
    html = client.get(reverse("web:grid_facts", args=[class_4a.pk])).content.decode()
    assert 'data-version="1" value="132,5"' in html


def test_overview_shows_missing_cells_and_the_live_year_end_result(world: World) -> None:
    class_4a = world.own.classes[0]
    first = _enrolments(class_4a)[0]
    client = _client(world.own.users["homeroom_teacher"])
    url = reverse("web:class_overview", args=[class_4a.pk])
    before = client.get(url).content.decode()
    assert "Chưa đủ dữ liệu" in before and "result-htt" not in before
    _fill_end_of_year(first, class_4a, level="T", score=8, competency="T")
    after = client.get(url).content.decode()
    assert '<span class="result result-htt"' in after
    assert "Hoàn thành chương trình lớp 4" in after
    assert after.count("Chưa đủ dữ liệu") == before.count("Chưa đủ dữ liệu") - 1
    mid_year = client.get(url + "?thoi-diem=gk1").content.decode()
    assert '<th class="year-end"' not in mid_year and 'class="mark missing"' in mid_year


def _fill_end_of_year(
    enrolment: Enrolment, school_class: SchoolClass, *, level: str, score: int, competency: str
) -> None:
    rules = load_ruleset("tt27-2020")
    options = services.RuleOptions()
    for rule in rules.subjects_for(school_class.grade):
        if rules.is_optional(rule.code, school_class.grade):
            continue
        tested = rules.is_tested(rule.code, school_class.grade, "cn", options)
        SubjectMark.objects.create(
            enrolment=enrolment,
            subject=rule.code,
            period="cn",
            level=level,
            score=score if tested else None,
        )
    for item in rules.competency_items(school_class.grade, options):
        CompetencyMark.objects.create(
            enrolment=enrolment, item=item.code, period="cn", level=competency
        )
