"""The user guide's screenshots, taken on the demo so they follow the interface (issue 9 §4).

Each picture the guide pages show is made here, at a fixed 1280×800 viewport, into the package's
static folder (committed with the code). The test then reads the guide pages on the same server
and checks they show exactly these pictures: none missing, none left over.

Run after an interface change: ``pytest tests/browser/test_guide_screenshots.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.demo import log_in, open_grade_4_class

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1280, "height": 800}
GUIDE_STATIC = Path(__file__).resolve().parents[2] / "src/hocba/web/static/web/guide"
GUIDE_PAGES = ("nhap-diem", "ky-so", "dinh-chinh", "xac-thuc")
IMAGE = re.compile(r'src="[^"]*/web/guide/([\w.-]+\.png)"')
MAX_BYTES = 400_000


def _new_page(browser: Any, server: Any, username: str | None = None) -> Any:
    context = browser.new_context(locale="vi-VN", viewport=VIEWPORT)
    page = context.new_page()
    if username is not None:
        log_in(page, server.url, username)
        page.get_by_role("heading", name=re.compile("Lớp của tôi|Các lớp của trường")).wait_for()
    return page


def _signing_class(server: Any) -> tuple[int, str]:
    """Class 4A of the demo school whose records wait for the homeroom teacher (test_signing)."""
    class_id, username = server.query(
        "SELECT c.id, u.username FROM schools_schoolclass c "
        "JOIN schools_school s ON s.id = c.school_id "
        "JOIN schools_staff st ON st.id = c.homeroom_teacher_id "
        "JOIN auth_user u ON u.id = st.user_id "
        "WHERE s.code = '01005102' AND c.name = '4A'"
    )[0]
    return int(class_id), str(username)  # type: ignore[call-overload]


def _principal(server: Any, school_code: str) -> str:
    return str(
        server.query(
            "SELECT u.username FROM auth_user u JOIN schools_staff s ON s.user_id = u.id "
            "JOIN schools_staffrole r ON r.staff_id = s.id "
            "JOIN schools_school sc ON sc.id = s.school_id "
            "WHERE sc.code = ? AND r.role = 'principal' ORDER BY u.id LIMIT 1",
            school_code,
        )[0][0]
    )


def _shot(page: Any, name: str, crop: str | None = None) -> str:
    """A viewport picture; with ``crop``, only the columns of that element (narrow pages)."""
    page.wait_for_load_state("networkidle")
    page.mouse.move(0, 0)  # no hover effect on whatever sits under the pointer
    clip = None
    if crop is not None:
        box = page.locator(crop).first.bounding_box()
        left = max(box["x"] - 24, 0)
        right = min(box["x"] + box["width"] + 24, VIEWPORT["width"])
        bottom = min(box["y"] + box["height"] + 24, VIEWPORT["height"])
        clip = {"x": left, "y": 0, "width": right - left, "height": bottom}
    page.screenshot(path=str(GUIDE_STATIC / name), clip=clip)
    return name


def _grid_shots(browser: Any, server: Any) -> list[str]:
    class_id, class_name, username = open_grade_4_class(server)
    page = _new_page(browser, server, username)
    page.get_by_role("link", name=f"Lớp {class_name}").click()
    page.get_by_role("link", name="Toán", exact=True).first.click()
    page.get_by_role("link", name="Cuối năm", exact=True).click()
    page.wait_for_url(re.compile(rf"/lop/{class_id}/mon/toan/cn/$"))
    page.locator("table.grid").wait_for()
    page.locator("table.grid tbody tr").first.locator('[data-field="level"]').click()
    names = [_shot(page, "bang-nhap-mon.png")]
    page.locator("nav.class-nav").get_by_role("link", name="Excel", exact=True).click()
    page.get_by_role("heading", name=re.compile("Nhập và xuất Excel")).wait_for()
    names.append(_shot(page, "excel-lop.png"))
    page.context.close()
    return names


def _signing_shots(browser: Any, server: Any) -> list[str]:
    class_id, teacher = _signing_class(server)
    page = _new_page(browser, server, teacher)
    page.goto(f"{server.url}/lop/{class_id}/ky-so/")
    page.get_by_role("heading", name=re.compile("Ký số học bạ · Lớp 4A")).wait_for()
    names = [_shot(page, "ky-so-lop.png")]
    page.context.close()

    page = _new_page(browser, server, _principal(server, "01005102"))
    page.get_by_role("link", name="Toàn trường").click()
    page.get_by_role("link", name="Ký số học bạ").click()
    page.get_by_role("heading", name=re.compile("Ký số học bạ toàn trường")).wait_for()
    names.append(_shot(page, "ky-so-truong.png"))
    page.context.close()
    return names


def _correction_shots(browser: Any, server: Any) -> list[str]:
    old_code, new_code, school_code = server.query(
        "SELECT o.short_code, n.short_code, sc.code FROM ledger_supersession s "
        "JOIN records_yearrecord o ON o.id = s.old_id "
        "JOIN records_yearrecord n ON n.id = s.new_id "
        "JOIN schools_school sc ON sc.id = n.school_id"
    )[0]
    page = _new_page(browser, server, _principal(server, str(school_code)))
    page.goto(f"{server.url}/hoc-ba/{new_code}/")
    page.get_by_role("heading", name="Các phiên bản").wait_for()
    # The principal's part of the page: the correction form above the list of versions.
    page.get_by_role("heading", name="Đính chính hoặc thu hồi").evaluate(
        "el => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 16)"
    )
    names = [_shot(page, "dinh-chinh-hoc-ba.png")]
    page.context.close()

    page = _new_page(browser, server)
    page.goto(f"{server.url}/xac-thuc/{old_code}")
    page.get_by_text("Đã được thay thế").first.wait_for()
    names.append(_shot(page, "dinh-chinh-thay-the.png", crop=".portal"))
    page.context.close()
    return names


def _verification_shots(browser: Any, server: Any) -> list[str]:
    code = server.query(
        "SELECT r.short_code FROM records_yearrecord r "
        "JOIN schools_school s ON s.id = r.school_id "
        "WHERE s.code = '01005101' AND r.status = 'issued' ORDER BY r.id LIMIT 1"
    )[0][0]
    page = _new_page(browser, server)
    page.goto(f"{server.url}/xac-thuc/{code}")
    page.get_by_text("Hợp lệ", exact=True).wait_for()
    names = [_shot(page, "xac-thuc-qr.png", crop=".portal")]
    page.goto(f"{server.url}/tra-cuu/")
    page.get_by_role("heading", name="Tra cứu học bạ").wait_for()
    names.append(_shot(page, "tra-cuu.png", crop=".portal"))
    page.goto(f"{server.url}/kiem-tra-tep/")
    page.get_by_role("heading", name="Kiểm tra tệp học bạ").wait_for()
    names.append(_shot(page, "kiem-tra-tep.png", crop=".portal"))
    page.context.close()
    return names


SHOTS: tuple[Callable[[Any, Any], list[str]], ...] = (
    _grid_shots,
    _signing_shots,
    _correction_shots,
    _verification_shots,
)


def test_guide_screenshots_are_made_and_are_exactly_those_the_guide_shows(  # type: ignore[no-untyped-def]
    demo_server, browser, artifacts
):
    GUIDE_STATIC.mkdir(parents=True, exist_ok=True)
    made = [name for take in SHOTS for name in take(browser, demo_server)]
    assert len(made) == len(set(made))
    for name in made:
        size = (GUIDE_STATIC / name).stat().st_size
        assert 0 < size <= MAX_BYTES, (name, size)

    page = _new_page(browser, demo_server)
    shown: set[str] = set()
    for slug in GUIDE_PAGES:
        page.goto(f"{demo_server.url}/huong-dan/{slug}/")
        page.locator("article.guide-body h1").wait_for()
        shown |= set(IMAGE.findall(page.content()))
        # Every picture is served (images load lazily, so fetch them rather than look).
        broken = page.evaluate(
            "async () => (await Promise.all([...document.images].map("
            "async (image) => ((await fetch(image.src)).ok ? null : image.src)"
            "))).filter(Boolean)"
        )
        assert broken == [], broken
        page.screenshot(path=str(artifacts / f"guide-{slug}.png"), full_page=True)
    page.goto(f"{demo_server.url}/huong-dan/")
    page.screenshot(path=str(artifacts / "guide-index.png"), full_page=True)
    page.context.close()
    assert shown == set(made)
    leftovers = {path.name for path in GUIDE_STATIC.glob("*.png")} - set(made)
    assert leftovers == set(), "pictures no guide page shows: delete them"
