"""The dashboards over HTTP: who sees what, the figures on the page, the query budget."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from django.urls import reverse

from hocba.conftest import World, make_user
from hocba.monitoring.tests.conftest import Rollout
from hocba.schools.models import District, Province, Role, School, SchoolClass


def _urls(world: World) -> dict[str, str]:
    return {
        "province": reverse("monitoring:province", args=[world.province.pk]),
        "district": reverse("monitoring:district", args=[world.districts[0].pk]),
        "other_district": reverse("monitoring:district", args=[world.districts[1].pk]),
        "school": reverse("monitoring:school", args=[world.own.school.pk]),
        "other_school": reverse("monitoring:school", args=[world.foreign.school.pk]),
        "class": reverse("monitoring:school_class", args=[world.own.classes[0].pk]),
        "other_class": reverse("monitoring:school_class", args=[world.foreign.classes[0].pk]),
        "country": reverse("monitoring:country"),
    }


# Expected status per user and page: 200 seen, 404 outside the scope, 403 no dashboard at all.
SCOPES = {
    "department_staff": dict.fromkeys(
        [
            "province",
            "district",
            "other_district",
            "school",
            "other_school",
            "class",
            "other_class",
        ],
        200,
    )
    | {"country": 404},
    "district_staff": {
        "province": 404,
        "district": 200,
        "other_district": 404,
        "school": 200,
        "other_school": 404,
        "class": 200,
        "other_class": 404,
        "country": 404,
    },
    "principal": {
        "province": 404,
        "district": 404,
        "other_district": 404,
        "school": 200,
        "other_school": 404,
        "class": 200,
        "other_class": 404,
        "country": 404,
    },
    "system_admin": dict.fromkeys(
        [
            "province",
            "district",
            "other_district",
            "school",
            "other_school",
            "class",
            "other_class",
            "country",
        ],
        200,
    ),
}


def _user(world: World, who: str) -> Any:
    if who in world.users:
        return world.users[who]
    return world.own.users[who]


@pytest.mark.parametrize("who", sorted(SCOPES))
def test_scopes(rollout: Rollout, client: Any, who: str) -> None:
    world = rollout.world
    client.force_login(_user(world, who))
    urls = _urls(world)
    seen = {name: client.get(url).status_code for name, url in urls.items()}
    assert seen == SCOPES[who]


@pytest.mark.parametrize("who", ["homeroom_teacher", "subject_teacher", "school_admin"])
def test_school_staff_below_the_principal_are_refused(
    rollout: Rollout, client: Any, who: str
) -> None:
    world = rollout.world
    client.force_login(world.own.users[who])
    for url in [reverse("monitoring:index"), *_urls(world).values()]:
        assert client.get(url).status_code == 403, url
    export = reverse("monitoring:school_export", args=[world.own.school.pk, "csv"])
    assert client.get(export).status_code == 403
    assert "Theo dõi triển khai" not in client.get("/").content.decode()


def test_anonymous_is_sent_to_the_login_page(rollout: Rollout, client: Any) -> None:
    urls = [reverse("monitoring:index"), *_urls(rollout.world).values()]
    urls.append(reverse("monitoring:province_export", args=[rollout.world.province.pk, "xlsx"]))
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/dang-nhap/" in response["Location"], url


def test_district_staff_cannot_export_another_district(rollout: Rollout, client: Any) -> None:
    world = rollout.world
    client.force_login(world.users["district_staff"])
    url = reverse("monitoring:district_export", args=[world.districts[1].pk, "csv"])
    assert client.get(url).status_code == 404


def test_department_of_another_province_sees_nothing_here(rollout: Rollout, client: Any) -> None:
    world = rollout.world
    other = Province.objects.create(code="79", name="Thành phố Hồ Chí Minh")
    client.force_login(make_user("so_hcm", [Role.DEPARTMENT_STAFF], province=other))
    assert client.get(reverse("monitoring:index")).url == reverse(
        "monitoring:province", args=[other.pk]
    )
    for name, url in _urls(world).items():
        assert client.get(url).status_code == 404, name


@pytest.mark.parametrize(
    ("who", "target"),
    [
        ("department_staff", "province"),
        ("district_staff", "district"),
        ("principal", "school"),
        ("system_admin", "country"),
    ],
)
def test_index_goes_to_the_top_of_the_scope(
    rollout: Rollout, client: Any, who: str, target: str
) -> None:
    world = rollout.world
    client.force_login(_user(world, who))
    response = client.get(reverse("monitoring:index") + "?nam_hoc=2023-2024")
    assert response.status_code == 302
    assert response.url == _urls(world)[target] + "?nam_hoc=2023-2024"


def _cells(html: str, kind: str, pk: int | str) -> dict[str, str]:
    row = re.search(rf'<tr[^>]*data-kind="{kind}"(?: data-pk="{pk}")?[^>]*>(.*?)</tr>', html, re.S)
    assert row, (kind, pk)
    return dict(re.findall(r'data-column="(\w+)" data-count="(\d*)"', row.group(1)))


def test_province_page_shows_the_figures(rollout: Rollout, client: Any) -> None:
    world = rollout.world
    client.force_login(world.users["department_staff"])
    html = client.get(_urls(world)["province"]).content.decode()
    own = _cells(html, "district", world.districts[0].pk)
    assert own == {
        "teachers": "1",
        "principals": "1",
        "classes": "1",
        "compiled": "4",
        "teacher_signed": "3",
        "principal_signed": "2",
        "issued": "1",
        "pending": "1",
        "synced": "0",
    }
    assert _cells(html, "total", "")["issued"] == "2"
    assert "Năm học 2024-2025" in html and "Quận Hoàn Kiếm" in html
    # The figures are shown as count/total and a percentage with a decimal comma.
    assert "16,7%" in html
    # The column help says the counts are cumulative.
    assert "Cộng dồn" in html
    # The deadlines, dd/mm/yyyy, and the late ones marked.
    assert "30/06/2025" in html and 'class="milestone late"' in html
    for svg in re.findall(r"<svg.*?</svg>", html, re.S):
        ET.fromstring(svg)  # noqa: S314 (our own output)
    assert html.count("<svg") == 2


def test_the_year_selector(rollout: Rollout, client: Any) -> None:
    world = rollout.world
    client.force_login(world.users["department_staff"])
    html = client.get(_urls(world)["province"] + "?nam_hoc=2023-2024").content.decode()
    assert "Năm học 2023-2024" in html
    assert _cells(html, "total", "")["issued"] == "1"
    assert '<option value="2023-2024" selected>' in html
    # An unknown year falls back to the current one.
    html = client.get(_urls(world)["province"] + "?nam_hoc=1999-2000").content.decode()
    assert "Năm học 2024-2025" in html


def test_school_and_class_pages(rollout: Rollout, client: Any) -> None:
    world = rollout.world
    client.force_login(world.own.users["principal"])
    html = client.get(_urls(world)["school"]).content.decode()
    assert _cells(html, "class", world.own.classes[0].pk)["issued"] == "1"
    assert _cells(html, "total", "")["teachers"] == "1"
    assert "Toàn trường" in html
    html = client.get(_urls(world)["class"]).content.decode()
    assert html.count('data-status="') == 3
    assert "Chờ đánh giá bổ sung sau hè" in html and "Hiệu trưởng đã ký" in html
    # The crumbs link only what the principal may open.
    assert reverse("monitoring:school", args=[world.own.school.pk]) in html
    assert reverse("monitoring:district", args=[world.districts[0].pk]) not in html


def test_nav_link_for_those_who_can_see_a_dashboard(rollout: Rollout, client: Any) -> None:
    client.force_login(rollout.world.users["district_staff"])
    assert reverse("monitoring:index") in client.get("/").content.decode()


def test_unknown_export_format_is_404(rollout: Rollout, client: Any) -> None:
    world = rollout.world
    client.force_login(world.users["department_staff"])
    url = reverse("monitoring:province_export", args=[world.province.pk, "pdf"])
    assert client.get(url).status_code == 404


def _many_schools(world: World, count: int) -> None:
    district = District.objects.create(province=world.province, code="099", name="Quận Tây Hồ")
    schools = School.objects.bulk_create(
        School(code=f"09{n:04d}", name=f"Trường {n}", province=world.province, district=district)
        for n in range(count)
    )
    SchoolClass.objects.bulk_create(
        SchoolClass(school=s, school_year=world.year, grade=1, name="1A") for s in schools
    )


def test_department_page_costs_a_handful_of_queries(
    rollout: Rollout, client: Any, django_assert_max_num_queries: Any
) -> None:
    """A city of 1,000 schools costs the same handful of queries as one of two."""
    world = rollout.world
    client.force_login(world.users["department_staff"])
    url = _urls(world)["province"]
    client.get(url)
    _many_schools(world, 1000)
    with django_assert_max_num_queries(16):
        response = client.get(url)
    html = response.content.decode()
    assert "Quận Tây Hồ" in html and "1000 trường" in html
    export = reverse("monitoring:province_export", args=[world.province.pk, "xlsx"])
    with django_assert_max_num_queries(14):
        assert client.get(export).status_code == 200


def test_district_page_of_many_schools(
    rollout: Rollout, client: Any, django_assert_max_num_queries: Any
) -> None:
    world = rollout.world
    _many_schools(world, 120)
    district = District.objects.get(code="099")
    client.force_login(world.users["department_staff"])
    url = reverse("monitoring:district", args=[district.pk])
    client.get(url)  # the session's first request also records its last-seen time
    with django_assert_max_num_queries(16):
        html = client.get(url).content.decode()
    assert html.count('data-kind="school"') == 120


def test_a_user_without_staff_profile_is_refused(rollout: Rollout, client: Any) -> None:
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create_user("khach", password="x"))
    assert client.get(reverse("monitoring:index")).status_code == 403
    assert client.get(_urls(rollout.world)["province"]).status_code == 403


def test_page_renders_in_english(rollout: Rollout, client: Any) -> None:
    from django.utils import translation

    client.force_login(rollout.world.users["department_staff"])
    with translation.override("en"):
        response = client.get(_urls(rollout.world)["province"], HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
