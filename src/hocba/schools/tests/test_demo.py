"""The demo world of ``hocba demo``: what it creates, that it is idempotent, valid and usable."""

from __future__ import annotations

import io
import unicodedata
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count

from hocba.audit.models import AuditEvent
from hocba.schools.demo import DEMO_PASSWORD, DemoSummary, seed_demo
from hocba.schools.demo_plan import build_plan
from hocba.schools.management.commands import demo as demo_command
from hocba.schools.models import (
    District,
    Enrolment,
    EntryKind,
    Province,
    Pupil,
    Role,
    School,
    SchoolClass,
    SchoolYear,
    SchoolYearProfile,
    Sex,
    Staff,
    StaffRole,
    TeachingAssignment,
)
from hocba.schools.subjects import Subject
from hocba.schools.validators import ministry_code_error, personal_id_error

BANNER = "DEMO — KHÔNG DÙNG CHO THỰC TẾ (NOT FOR PRODUCTION)"


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[DemoSummary]:
    """Seed once for the module (a few seconds) in a transaction rolled back afterwards.

    Each test still runs in its own savepoint (the ``db`` fixture), so tests cannot see each
    other's changes and other modules never see the demo world.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        yield seed_demo()
        transaction.set_rollback(True)


def table_counts() -> dict[str, int]:
    return {m._meta.label_lower: m._default_manager.count() for m in apps.get_models()}


def test_plan_is_deterministic() -> None:
    assert build_plan() == build_plan()


def test_world_has_expected_shape(demo: DemoSummary, db: Any) -> None:
    assert Province.objects.get().department_name == "Sở Giáo dục và Đào tạo Hà Nội"
    assert District.objects.count() == 2
    assert sorted(School.objects.annotate(n=Count("classes")).values_list("n", flat=True)) == [
        10,
        10,
        10,
    ]
    year = SchoolYear.objects.get()
    assert (year.name, year.is_current, year.assessment_scheme) == ("2024-2025", True, "tt27-2020")
    assert SchoolClass.objects.count() == 30
    sizes = SchoolClass.objects.annotate(n=Count("enrolments")).values_list("n", flat=True)
    assert all(28 <= size <= 35 for size in sizes)
    assert set(SchoolClass.objects.values_list("name", flat=True)) == {
        f"{g}{x}" for g in range(1, 6) for x in "AB"
    }


def test_every_class_has_its_own_homeroom_teacher(demo: DemoSummary, db: Any) -> None:
    classes = SchoolClass.objects.select_related("homeroom_teacher__user")
    teachers = [c.homeroom_teacher for c in classes]
    assert all(t is not None for t in teachers)
    assert len({t.pk for t in teachers if t}) == 30
    for school_class in classes:
        teacher = school_class.homeroom_teacher
        assert teacher is not None and teacher.school_id == school_class.school_id
        taught = set(teacher.assignments.values_list("subject", flat=True))
        assert {Subject.TIENG_VIET, Subject.TOAN, Subject.DAO_DUC} <= taught


def test_subject_teachers_cover_their_grades(demo: DemoSummary, db: Any) -> None:
    english = TeachingAssignment.objects.filter(subject=Subject.NGOAI_NGU_1)
    assert set(english.values_list("school_class__grade", flat=True)) == {3, 4, 5}
    assert english.count() == 3 * 6
    assert TeachingAssignment.objects.filter(subject=Subject.GIAO_DUC_THE_CHAT).count() == 30
    assert TeachingAssignment.objects.filter(subject=Subject.TIN_HOC).count() == 3 * 6


def test_every_role_is_present(demo: DemoSummary, db: Any) -> None:
    assert set(StaffRole.objects.values_list("role", flat=True)) == set(Role.values)
    assert [login.role for login in demo.logins] == [
        Role.SYSTEM_ADMIN,
        Role.DEPARTMENT_STAFF,
        Role.DISTRICT_STAFF,
        Role.PRINCIPAL,
        Role.DEPUTY_PRINCIPAL,
        Role.SCHOOL_ADMIN,
        Role.HOMEROOM_TEACHER,
        Role.SUBJECT_TEACHER,
    ]
    for login in demo.logins:
        assert login.role in Staff.objects.get(user__username=login.username).role_set
    admin = get_user_model().objects.get(username="quantri")
    assert admin.is_superuser and admin.is_staff


def test_usernames_are_short_and_predictable(demo: DemoSummary, db: Any) -> None:
    usernames = set(demo.usernames)
    assert {
        "quantri",
        "so.hanoi",
        "phong.caugiay",
        "phong.dongda",
        "ht.dichvonga",
        "pht.dichvonga",
        "qt.dichvonga",
        "gv.dichvonga.4a",
        "gv.kimlien.1b",
        "gvbm.dichvonga.tienganh",
    } <= usernames
    assert len(usernames) == len(demo.usernames) == 58
    assert all(len(name) <= 25 and name.isascii() for name in usernames)


def test_every_demo_account_logs_in_with_the_demo_password(demo: DemoSummary, db: Any) -> None:
    assert demo.password == DEMO_PASSWORD == "hocba-demo"
    for username in demo.usernames:
        assert authenticate(username=username, password=DEMO_PASSWORD) is not None, username
    assert authenticate(username="ht.dichvonga", password="sai-mat-khau") is None


def test_pupils_pass_the_identifier_checks(demo: DemoSummary, db: Any) -> None:
    pupils = list(Pupil.objects.all())
    assert 30 * 28 <= len(pupils) <= 30 * 35
    for pupil in pupils:
        assert ministry_code_error(pupil.ministry_code) is None
        if pupil.personal_id:
            error = personal_id_error(
                pupil.personal_id, sex=pupil.sex, date_of_birth=pupil.date_of_birth
            )
            assert error is None, (pupil, error)
            assert pupil.personal_id.startswith("001")
    with_id = sum(1 for p in pupils if p.personal_id)
    assert 0.85 < with_id / len(pupils) < 0.95  # DOMAIN §5: some pupils still lack an ID


def test_pupils_are_plausible(demo: DemoSummary, db: Any) -> None:
    enrolments = Enrolment.objects.select_related("pupil", "school_class")
    for enrolment in enrolments:
        pupil, grade = enrolment.pupil, enrolment.school_class.grade
        assert pupil.date_of_birth.year == 2024 - 5 - grade
        assert pupil.birthplace == "Hà Nội" and pupil.address.endswith("Thành phố Hà Nội")
        assert pupil.mother_name
        if pupil.father_name:
            assert pupil.father_name.split()[0] == pupil.family_name
        number, year = enrolment.register_number.split("/")
        assert number.isdigit() and 2020 <= int(year) <= 2024
        if enrolment.entry_kind == EntryKind.TRANSFER_IN:
            assert enrolment.joined_on > enrolment.school_year.starts_on
    ethnicities = Counter(Pupil.objects.values_list("ethnicity", flat=True))
    assert ethnicities.most_common(1)[0][0] == "Kinh"
    assert {"Tày", "Mường", "Nùng"} <= set(ethnicities)
    sexes = Counter(Pupil.objects.values_list("sex", flat=True))
    assert 0.4 < sexes[Sex.MALE] / sum(sexes.values()) < 0.6
    per_school = enrolments.values("school_class__school", "register_number")
    assert per_school.count() == per_school.distinct().count()


def test_names_exercise_vietnamese_collation(demo: DemoSummary, db: Any) -> None:
    given = set(Pupil.objects.values_list("given_name", flat=True))
    assert {"Anh", "Ánh", "Dũng", "Đức", "Duy"} <= given
    assert any(ch in name for name in given for ch in "ƯƠươ")
    families = Counter(Pupil.objects.values_list("family_name", flat=True))
    assert families.most_common(1)[0][0] == "Nguyễn"
    assert {"Trần", "Lê", "Phạm", "Đặng", "Dương"} <= set(families)


def test_all_text_is_nfc(demo: DemoSummary, db: Any) -> None:
    texts: list[str] = []
    for model, fields in (
        (Pupil, ("family_name", "middle_name", "given_name", "address", "father_name")),
        (Pupil, ("mother_name", "ethnicity", "hometown", "birthplace")),
        (Staff, ("family_name", "middle_name", "given_name", "position")),
        (School, ("name",)),
        (District, ("name", "office_name")),
        (SchoolYearProfile, ("school_name", "place_name")),
    ):
        for row in model._default_manager.values_list(*fields):
            texts += row
    for profile in SchoolYearProfile.objects.all():
        texts += [level["value"] for level in profile.address_levels]
    assert all(unicodedata.is_normalized("NFC", text) for text in texts)
    assert any(not text.isascii() for text in texts)


def test_profiles_carry_address_levels(demo: DemoSummary, db: Any) -> None:
    profile = SchoolYearProfile.objects.get(school__name="Trường Tiểu học Dịch Vọng A")
    assert profile.place_name == "Cầu Giấy"
    assert profile.address_levels == [
        {"label": "Xã (Phường, Thị trấn)", "value": "Phường Dịch Vọng"},
        {"label": "Huyện (Quận, Thị xã, Thành phố)", "value": "Quận Cầu Giấy"},
        {"label": "Tỉnh (Thành phố)", "value": "Thành phố Hà Nội"},
    ]


def test_seeding_is_audited(demo: DemoSummary, db: Any) -> None:
    seeded = AuditEvent.objects.get(action="schools.demo.seeded")
    assert seeded.actor is not None and seeded.actor.username == "quantri"
    assert seeded.changes["created"]["schools.pupil"] == Pupil.objects.count()
    pupil_events = AuditEvent.objects.filter(action="schools.pupil.created")
    assert pupil_events.count() == Pupil.objects.count()


def test_second_run_changes_nothing(demo: DemoSummary, db: Any) -> None:
    before = table_counts()
    again = seed_demo()
    assert table_counts() == before
    assert again.created == {}
    assert again.logins == demo.logins


def test_command_seeds_and_prints_logins(demo: DemoSummary, db: Any) -> None:
    out = io.StringIO()
    call_command("demo", "--no-serve", stdout=out)
    text = out.getvalue()
    assert BANNER in text
    assert "hocba-demo" in text and "http://127.0.0.1:8000/" in text
    for login in demo.logins:
        assert login.username in text
    # The demo PKI is made for every signer (issue 5 §1) and says it is not for real use.
    assert "PKI thử nghiệm (KHÔNG DÙNG CHO THỰC TẾ)" in text
    from hocba.signing.demo import default_folder

    assert (default_folder() / "README-NOT-FOR-PRODUCTION.txt").is_file()


def test_command_serves_on_the_given_address(
    demo: DemoSummary, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def fake_call_command(name: str, *args: Any, **options: Any) -> None:
        calls.append((name, args, options))

    monkeypatch.setattr(demo_command, "call_command", fake_call_command)
    out = io.StringIO()
    call_command("demo", "--addrport", "0.0.0.0:8001", stdout=out)
    assert [name for name, _args, _options in calls] == ["migrate", "createcachetable", "runserver"]
    assert calls[-1][1:] == (("0.0.0.0:8001",), {"use_reloader": False})
    assert "http://127.0.0.1:8001/" in out.getvalue()


@pytest.mark.parametrize(
    ("addrport", "url"),
    [
        ("127.0.0.1:8000", "http://127.0.0.1:8000/"),
        ("8001", "http://127.0.0.1:8001/"),
        ("0.0.0.0:80", "http://127.0.0.1:80/"),
        ("[::1]:8000", "http://[::1]:8000/"),
    ],
)
def test_url_for(addrport: str, url: str) -> None:
    assert demo_command.url_for(addrport) == url
