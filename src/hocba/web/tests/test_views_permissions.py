"""Every role against every staff page and API endpoint, own and foreign objects."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from hocba.audit.models import AuditEvent
from hocba.conftest import PASSWORD, World, make_user
from hocba.schools.models import Role

READ_ACTION = "schools.pupil.personal_data_read"

# Targets: a page (or endpoint) with the object it shows.
TARGETS = (
    "home",
    "school:own",
    "school:foreign",
    "school_audit:own",
    "school_audit:foreign",
    "class:own_4a",
    "class:own_4b",
    "class:foreign_4a",
    "pupil:own_4a",
    "pupil:own_4b",
    "pupil:foreign",
    "pupil_search:own",
    "pupil_search:foreign",
)
LOGIN = "login"  # a redirect to the login page

# role → expected status per target, in the order of TARGETS.
#                        home school    audit      class          pupil          search
PAGE_POLICY: dict[str, tuple[int | str, ...]] = {
    "homeroom_teacher": (200, 200, 404, 403, 404, 200, 404, 404, 200, 404, 404, 200, 404),
    "subject_teacher": (200, 200, 404, 403, 404, 200, 404, 404, 200, 404, 404, 200, 404),
    "principal": (200, 200, 404, 200, 404, 200, 200, 404, 200, 200, 404, 200, 404),
    "deputy_principal": (200, 200, 404, 200, 404, 200, 200, 404, 200, 200, 404, 200, 404),
    "school_admin": (200, 200, 404, 200, 404, 200, 200, 404, 200, 200, 404, 200, 404),
    "district_staff": (200, 200, 404, 403, 404, 200, 200, 404, 200, 200, 404, 200, 404),
    "department_staff": (200, 200, 200, 403, 403, 200, 200, 200, 200, 200, 200, 200, 200),
    "system_admin": (200,) * len(TARGETS),
    "anonymous": (LOGIN,) * len(TARGETS),
    "inactive_principal": (LOGIN,) * len(TARGETS),
    "user_without_staff": (200, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404),
}

# The API answers 401 instead of redirecting, and 404 for everything out of sight.
API_TARGETS = (
    "schools",
    "classes:own",
    "classes:foreign",
    "pupils:own_4a",
    "pupils:own_4b",
    "pupils:foreign_4a",
    "pupil:own_4a",
    "pupil:own_4b",
    "pupil:foreign",
)
#                        list classes   roster         pupil
API_POLICY: dict[str, tuple[int, ...]] = {
    "homeroom_teacher": (200, 200, 404, 200, 404, 404, 200, 404, 404),
    "subject_teacher": (200, 200, 404, 200, 404, 404, 200, 404, 404),
    "principal": (200, 200, 404, 200, 200, 404, 200, 200, 404),
    "deputy_principal": (200, 200, 404, 200, 200, 404, 200, 200, 404),
    "school_admin": (200, 200, 404, 200, 200, 404, 200, 200, 404),
    "district_staff": (200, 200, 404, 200, 200, 404, 200, 200, 404),
    "department_staff": (200,) * len(API_TARGETS),
    "system_admin": (200,) * len(API_TARGETS),
    "anonymous": (401,) * len(API_TARGETS),
    "inactive_principal": (401,) * len(API_TARGETS),
    "user_without_staff": (200, 404, 404, 404, 404, 404, 404, 404, 404),
}


def test_the_tables_cover_the_same_roles() -> None:
    assert set(PAGE_POLICY) == set(API_POLICY)
    assert all(len(row) == len(TARGETS) for row in PAGE_POLICY.values())
    assert all(len(row) == len(API_TARGETS) for row in API_POLICY.values())


def user_for(world: World, role: str) -> Any:
    if role == "anonymous":
        return None
    if role == "inactive_principal":
        user = make_user("a_ht_cu", [Role.PRINCIPAL], school=world.own.school)
        user.is_active = False
        user.save(update_fields=["is_active"])
        return user
    if role == "user_without_staff":
        return get_user_model().objects.create_user(username="khach", password="x")
    return world.own.users.get(role) or world.users[role]


def client_for(world: World, role: str) -> Client:
    client = Client()
    user = user_for(world, role)
    if user is not None:
        client.force_login(user)
    return client


def page_url(world: World, target: str) -> str:
    if target == "home":
        return reverse("web:home")
    page, which = target.split(":")
    side = world.own if which.startswith("own") else world.foreign
    if page in {"school", "school_audit"}:
        return reverse(f"web:{page}", args=[side.school.pk])
    if page == "pupil_search":
        return reverse("web:pupil_search", args=[side.school.pk]) + "?q=tran"
    if page == "class":
        return reverse("web:class", args=[side.classes[which.endswith("4b")].pk])
    pupil = side.pupils[3 if which.endswith("4b") else 0]
    return reverse("web:pupil", args=[pupil.pk])


def api_url(world: World, target: str) -> str:
    if target == "schools":
        return "/api/v1/schools"
    endpoint, which = target.split(":")
    side = world.own if which.startswith("own") else world.foreign
    if endpoint == "classes":
        return f"/api/v1/schools/{side.school.pk}/classes"
    if endpoint == "pupils":
        return f"/api/v1/classes/{side.classes[which.endswith('4b')].pk}/pupils"
    return f"/api/v1/pupils/{side.pupils[3 if which.endswith('4b') else 0].pk}"


@pytest.mark.parametrize("role", PAGE_POLICY)
def test_pages_answer_each_role_as_declared(world: World, role: str) -> None:
    client = client_for(world, role)
    login_url = reverse("web:login")
    expected, actual = {}, {}
    for target, status in zip(TARGETS, PAGE_POLICY[role], strict=True):
        url = page_url(world, target)
        response = client.get(url)
        expected[target] = status
        location = urlsplit(response.get("Location", ""))
        if response.status_code == 302 and location.path == login_url:
            actual[target] = LOGIN
            assert parse_qs(location.query) == {"next": [url]}
        else:
            actual[target] = response.status_code
    assert actual == expected


@pytest.mark.parametrize("role", API_POLICY)
def test_api_answers_each_role_as_declared(world: World, role: str) -> None:
    client = client_for(world, role)
    expected = dict(zip(API_TARGETS, API_POLICY[role], strict=True))
    actual = {target: client.get(api_url(world, target)).status_code for target in API_TARGETS}
    assert actual == expected


@pytest.mark.parametrize("role", [r for r, row in API_POLICY.items() if row[0] == 200])
def test_api_lists_hold_only_what_the_role_may_see(world: World, role: str) -> None:
    client = client_for(world, role)
    row = dict(zip(API_TARGETS, API_POLICY[role], strict=True))
    schools = {s["id"] for s in client.get("/api/v1/schools").json()}
    expected_schools = {
        side.school.pk
        for side, key in ((world.own, "classes:own"), (world.foreign, "classes:foreign"))
        if row[key] == 200
    }
    assert schools == expected_schools
    if row["classes:own"] == 200:
        classes = client.get(api_url(world, "classes:own")).json()
        expected_classes = {
            name
            for name, key in (("4A", "pupils:own_4a"), ("4B", "pupils:own_4b"))
            if row[key] == 200
        }
        assert {c["name"] for c in classes} == expected_classes
    if row["pupils:own_4a"] == 200:
        roster = client.get(api_url(world, "pupils:own_4a")).json()
        assert {p["id"] for p in roster} == {p.pk for p in world.own.pupils[:3]}


@pytest.mark.parametrize("role", [r for r, row in PAGE_POLICY.items() if row[-2] == 200])
def test_pupil_search_finds_only_visible_pupils(world: World, role: str) -> None:
    """ "tran" finds Trần Thị Ánh of 4A and her namesake of 4B, as far as the role may see."""
    row = dict(zip(TARGETS, PAGE_POLICY[role], strict=True))
    response = client_for(world, role).get(page_url(world, "pupil_search:own"))
    found = {e.pupil for e in response.context["results"]}
    expected = {
        pupil
        for pupil, key in (
            (world.own.pupils[0], "pupil:own_4a"),
            (world.own.pupils[3], "pupil:own_4b"),
        )
        if row[key] == 200
    }
    assert found == expected


def _reads() -> Any:
    return AuditEvent.objects.filter(action=READ_ACTION)


@pytest.mark.parametrize("role", ["district_staff", "department_staff"])
@pytest.mark.parametrize("via", ["page", "api"])
def test_a_read_from_above_the_school_is_audited(world: World, role: str, via: str) -> None:
    pupil = world.own.pupils[0]
    client = client_for(world, role)
    url = page_url(world, "pupil:own_4a") if via == "page" else api_url(world, "pupil:own_4a")
    assert client.get(url).status_code == 200
    event = _reads().get()
    assert event.actor == world.users[role]
    assert event.school == world.own.school
    assert (event.object_type, event.object_id) == ("schools.pupil", str(pupil.pk))


@pytest.mark.parametrize(
    "role", ["homeroom_teacher", "subject_teacher", "principal", "deputy_principal", "school_admin"]
)
def test_a_read_by_the_schools_own_staff_is_not_audited(world: World, role: str) -> None:
    client = client_for(world, role)
    assert client.get(page_url(world, "pupil:own_4a")).status_code == 200
    assert client.get(api_url(world, "pupil:own_4a")).status_code == 200
    assert not _reads().exists()


def test_a_refused_read_is_not_audited_as_a_read(world: World) -> None:
    client = client_for(world, "district_staff")
    assert client.get(page_url(world, "pupil:foreign")).status_code == 404
    assert not _reads().exists()


def test_the_school_audit_page_shows_reads_of_its_pupils(world: World) -> None:
    pupil = world.own.pupils[0]
    reader = client_for(world, "district_staff")
    assert reader.get(page_url(world, "pupil:own_4a")).status_code == 200

    own_page = client_for(world, "principal").get(page_url(world, "school_audit:own"))
    assert own_page.status_code == 200
    assert list(own_page.context["events"]) == list(_reads())
    html = own_page.content.decode()
    assert READ_ACTION in html
    assert world.users["district_staff"].username in html
    assert pupil.full_name in html

    foreign_principal = Client()
    foreign_principal.force_login(world.foreign.users["principal"])
    foreign_page = foreign_principal.get(page_url(world, "school_audit:foreign"))
    assert foreign_page.status_code == 200
    assert READ_ACTION not in foreign_page.content.decode()


def test_login_with_the_fixture_password_opens_the_home_page(world: World) -> None:
    client = Client()
    assert client.login(username="a_gvcn", password=PASSWORD)
    response = client.get(reverse("web:home"))
    assert response.status_code == 200
    assert [c.name for c in response.context["classes"]] == ["4A"]


@pytest.mark.parametrize("year", ["2024-2025", "\x00", "2024-2025\x00", "năm nay"])
def test_the_class_list_takes_a_school_year_name_or_refuses_it(world: World, year: str) -> None:
    """A NUL byte reached PostgreSQL as a 500 (found by schemathesis): now a 422 like any bad
    school year name."""
    client = client_for(world, "principal")
    response = client.get(api_url(world, "classes:own"), {"year": year})
    assert response.status_code == (200 if year == "2024-2025" else 422)
