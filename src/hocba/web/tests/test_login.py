from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from hocba.conftest import PASSWORD, World


def _login(client: Client, username: str, password: str, address: str = "10.0.0.1"):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("web:login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_login_with_right_password_opens_home(client: Client, world: World) -> None:
    response = _login(client, "a_gvcn", PASSWORD)
    assert response.status_code == 302
    assert response.url == reverse("web:home")


def test_wrong_password_is_refused_in_vietnamese(client: Client, world: World) -> None:
    response = _login(client, "a_gvcn", "sai")
    assert response.status_code == 200
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in response.content.decode()
    assert "_auth_user_id" not in client.session


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_repeated_failures_lock_the_account_even_with_the_right_password(
    client: Client, world: World
) -> None:
    for _ in range(3):
        _login(client, "a_gvcn", "sai")
    response = _login(client, "a_gvcn", PASSWORD)
    assert response.status_code == 200
    assert "Đăng nhập sai quá nhiều lần" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another account from another address is not affected.
    assert _login(client, "a_ht", PASSWORD, address="10.0.0.2").status_code == 302


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_one_address_guessing_many_accounts_is_locked(client: Client, world: World) -> None:
    usernames = ["a_gvcn", "a_gvbm", "a_ht", "a_pht", "a_qt", "b_gvcn"] * 2
    for username in usernames:
        _login(client, username, "sai", address="10.9.9.9")
    response = _login(client, "b_ht", PASSWORD, address="10.9.9.9")
    assert "Đăng nhập sai quá nhiều lần" in response.content.decode()


@pytest.mark.parametrize(
    ("role", "expected", "absent"),
    [
        ("homeroom_teacher", "Lớp của tôi", "Các trường"),
        ("principal", "Các lớp của trường", "Lớp của tôi"),
    ],
)
def test_school_staff_home_shows_their_classes(
    client: Client, world: World, role: str, expected: str, absent: str
) -> None:
    client.force_login(world.own.users[role])
    page = client.get(reverse("web:home")).content.decode()
    assert expected in page
    assert absent not in page


def test_authority_home_lists_only_schools_in_scope(client: Client, world: World) -> None:
    client.force_login(world.users["district_staff"])
    page = client.get(reverse("web:home")).content.decode()
    assert "Các trường" in page
    assert world.own.school.name in page
    assert world.foreign.school.name not in page


def test_pages_are_vietnamese_by_default_and_english_on_request(
    client: Client, world: World
) -> None:
    page = client.get(reverse("web:login")).content.decode()
    assert '<html lang="vi">' in page
    assert "Mật khẩu" in page
    english = client.get(reverse("web:login"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en">' in english
    assert "Password" in english


def test_pages_refuse_to_be_framed(client: Client, world: World) -> None:
    assert client.get(reverse("web:login"))["X-Frame-Options"] == "DENY"


def test_pupil_search_ignores_diacritics_and_stays_in_scope(client: Client, world: World) -> None:
    client.force_login(world.own.users["principal"])
    url = reverse("web:pupil_search", args=[world.own.school.pk])
    page = client.get(url, {"q": "anh"}).content.decode()
    assert "Trần Thị Ánh" in page
    assert "Lê Văn An" not in page
    assert "Trần Thị Ánh" in client.get(url, {"q": "tran anh"}).content.decode()
    assert "Trần Thị Ánh" not in client.get(url, {"q": "nh"}).content.decode()
    by_code = client.get(url, {"q": world.own.pupils[1].ministry_code}).content.decode()
    assert "Lê Văn An" in by_code
    foreign = reverse("web:pupil_search", args=[world.foreign.school.pk])
    assert client.get(foreign, {"q": "anh"}).status_code == 404


def test_teacher_search_finds_only_pupils_of_their_classes(client: Client, world: World) -> None:
    client.force_login(world.own.users["subject_teacher"])
    url = reverse("web:pupil_search", args=[world.own.school.pk])
    page = client.get(url, {"q": "an"}).content.decode()
    # The subject teacher teaches 4A only; the same names in 4B must not appear twice.
    assert page.count("Lê Văn An") == 1
