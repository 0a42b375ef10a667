"""The user guide: every page renders for everyone, the top bar links to it, pictures exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from hocba.conftest import World
from hocba.web.views_guide import CONTEXT, PAGES

STATIC_GUIDE = Path(__file__).resolve().parents[1] / "static" / "web" / "guide"
IMAGE = re.compile(r'src="[^"]*/web/guide/([\w.-]+\.png)"')
GUIDE_URLS = [reverse("web:guide")] + [reverse("web:guide_page", args=[p.slug]) for p in PAGES]


@pytest.mark.parametrize("url", GUIDE_URLS)
def test_every_guide_page_renders_for_anonymous_and_staff(
    client: Client, world: World, url: str
) -> None:
    anonymous = client.get(url)
    assert anonymous.status_code == 200
    assert "Hướng dẫn sử dụng" in anonymous.content.decode()
    client.force_login(world.own.users["homeroom_teacher"])
    assert client.get(url).status_code == 200


def test_index_lists_every_page(client: Client, db: None) -> None:
    page = client.get(reverse("web:guide")).content.decode()
    for guide_page in PAGES:
        assert reverse("web:guide_page", args=[guide_page.slug]) in page
        assert str(guide_page.title) in page


def test_unknown_page_is_404(client: Client, db: None) -> None:
    assert client.get("/huong-dan/khong-co/").status_code == 404


def test_pictures_named_by_the_pages_exist(client: Client, db: None) -> None:
    """The browser test makes them; a page naming a missing picture fails here too."""
    named = set()
    for url in GUIDE_URLS:
        named |= set(IMAGE.findall(client.get(url).content.decode()))
    assert named, "the guide shows no screenshot"
    missing = sorted(name for name in named if not (STATIC_GUIDE / name).is_file())
    assert missing == []


def test_top_bar_links_to_the_guide_on_staff_and_public_pages(client: Client, world: World) -> None:
    public = client.get(reverse("verification:lookup")).content.decode()
    assert 'href="/huong-dan/?tu=verification%3Alookup"' in public
    assert ">Hướng dẫn</a>" in public
    client.force_login(world.own.users["homeroom_teacher"])
    class_page = reverse("web:class", args=[world.own.classes[0].pk])
    staff = client.get(class_page).content.decode()
    assert 'href="/huong-dan/?tu=web%3Aclass"' in staff


@pytest.mark.parametrize(
    ("origin", "target"),
    [
        ("web:grid_subject", "/huong-dan/nhap-diem/#bang-nhap"),
        ("web:signing_class", "/huong-dan/ky-so/#gvcn-ky"),
        ("web:record_detail", "/huong-dan/dinh-chinh/"),
        ("verification:status", "/huong-dan/xac-thuc/#ma-qr"),
    ],
)
def test_guide_link_lands_on_the_section_of_the_page_it_came_from(
    client: Client, db: None, origin: str, target: str
) -> None:
    response = client.get(reverse("web:guide"), {"tu": origin})
    assert response.status_code == 302 and response["Location"] == target


def test_every_context_target_is_a_guide_page_with_that_section(client: Client, db: None) -> None:
    for target in set(CONTEXT.values()):
        slug, _hash, anchor = target.partition("#")
        page = client.get(reverse("web:guide_page", args=[slug])).content.decode()
        assert not anchor or f'id="{anchor}"' in page, target


def test_unknown_origin_shows_the_index(client: Client, db: None) -> None:
    response = client.get(reverse("web:guide"), {"tu": "khong:co"})
    assert response.status_code == 200
