"""A homeroom teacher logs in and sees their class in Vietnamese name order."""

from __future__ import annotations

import pytest

from hocba.common.vietnamese import name_sort_key

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "hocba-demo"


def _homeroom_teacher_and_roster(demo_server):  # type: ignore[no-untyped-def]
    username, class_id, class_name = demo_server.query(
        "SELECT u.username, c.id, c.name FROM schools_schoolclass c "
        "JOIN schools_staff s ON s.id = c.homeroom_teacher_id "
        "JOIN auth_user u ON u.id = s.user_id WHERE c.grade = 4 ORDER BY c.name LIMIT 1"
    )[0]
    pupils = demo_server.query(
        "SELECT p.family_name, p.middle_name, p.given_name FROM schools_enrolment e "
        "JOIN schools_pupil p ON p.id = e.pupil_id "
        "WHERE e.school_class_id = ? AND e.left_on IS NULL",
        class_id,
    )
    expected = [
        " ".join(part for part in names if part)
        for names in sorted(pupils, key=lambda n: name_sort_key(*n))  # type: ignore[arg-type]
    ]
    return username, class_id, class_name, expected


def test_homeroom_teacher_sees_class_in_vietnamese_order(demo_server, page, artifacts):  # type: ignore[no-untyped-def]
    username, class_id, class_name, expected = _homeroom_teacher_and_roster(demo_server)
    page.goto(f"{demo_server.url}/")
    assert "/dang-nhap/" in page.url
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.get_by_role("heading", name="Lớp của tôi").wait_for()
    page.get_by_role("link", name=f"Lớp {class_name}").click()
    page.get_by_role("heading", name=f"Lớp {class_name}").wait_for()
    # The heading alone can match before the navigation ends: wait for the roster itself.
    page.wait_for_url(f"**/lop/{class_id}/")
    page.locator("table.roster tbody td.name").first.wait_for()
    shown = page.locator("table.roster tbody td.name").all_inner_texts()
    page.screenshot(path=str(artifacts / "class-list.png"), full_page=True)
    assert len(shown) >= 28
    assert [name.strip() for name in shown] == expected


def test_wrong_password_is_refused_in_vietnamese(demo_server, page):  # type: ignore[no-untyped-def]
    username, _, _, _ = _homeroom_teacher_and_roster(demo_server)
    page.goto(f"{demo_server.url}/dang-nhap/")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill("sai-mat-khau")
    page.get_by_role("button", name="Đăng nhập").click()
    alert = page.get_by_role("alert")
    assert "Tên đăng nhập hoặc mật khẩu không đúng" in alert.inner_text()
