"""A homeroom teacher enters Toán by keyboard and paste, sees refusals, and year-end results."""

from __future__ import annotations

import re
from typing import Any

import pytest

from hocba.common.vietnamese import name_sort_key
from tests.browser.demo import log_in, open_grade_4_class

pytestmark = pytest.mark.browser

RESULT_LABELS = ("Hoàn thành xuất sắc", "Hoàn thành tốt", "Hoàn thành", "Chưa hoàn thành")
SETTLED = "() => !document.querySelector('.is-pending, .is-saving')"


def _roster(demo_server: Any, class_id: int) -> list[tuple[int, str]]:
    """(enrolment id, full name) in the grid's order: Vietnamese name order (DOMAIN §7)."""
    rows = demo_server.query(
        "SELECT e.id, p.family_name, p.middle_name, p.given_name, p.date_of_birth, "
        "p.ministry_code FROM schools_enrolment e JOIN schools_pupil p ON p.id = e.pupil_id "
        "WHERE e.school_class_id = ? AND e.left_on IS NULL",
        class_id,
    )
    rows.sort(key=lambda r: (name_sort_key(r[1], r[2], r[3]), r[4], r[5]))  # type: ignore[arg-type]
    return [(int(r[0]), " ".join(str(p) for p in r[1:4] if p)) for r in rows]  # type: ignore[call-overload]


def _log_in(page: Any, url: str, username: str) -> None:
    log_in(page, url, username)
    page.get_by_role("heading", name="Lớp của tôi").wait_for()


def _cell(page: Any, row: int, field: str, key: str | None = None) -> Any:
    selector = f'[data-field="{field}"]' + (f'[data-key="{key}"]' if key else "")
    return page.locator("table.grid tbody tr").nth(row).locator(selector)


def _paste(page: Any, text: str) -> None:
    page.evaluate(
        """(text) => {
            const data = new DataTransfer();
            data.setData("text/plain", text);
            document.activeElement.dispatchEvent(new ClipboardEvent("paste", {
                clipboardData: data, bubbles: true, cancelable: true }));
        }""",
        text,
    )


def _wait_saved(page: Any) -> None:
    page.wait_for_function(SETTLED)
    status = page.locator(".grid-status")
    assert re.search(r"Đã lưu lúc \d\d:\d\d:\d\d", status.inner_text()), status.inner_text()
    assert page.locator("table.grid .is-error, table.grid .is-conflict").count() == 0


def test_keyboard_paste_refusal_autosave_and_year_end(demo_server, page, artifacts):  # type: ignore[no-untyped-def]
    class_id, class_name, username = open_grade_4_class(demo_server)
    roster = _roster(demo_server, class_id)
    page.set_viewport_size({"width": 1366, "height": 768})
    _log_in(page, demo_server.url, username)
    page.get_by_role("link", name=f"Lớp {class_name}").click()
    page.get_by_role("link", name="Toán", exact=True).click()
    page.get_by_role("link", name="Cuối năm", exact=True).click()
    page.wait_for_url(re.compile(rf"/lop/{class_id}/mon/toan/cn/$"))
    assert page.locator("table.grid thead").inner_text().count("Điểm KTĐK") == 1

    # Keyboard: T, Tab, 9, Enter comes back to the level column of the next row (as in Excel).
    _cell(page, 0, "level").click()
    page.keyboard.type("T")
    page.keyboard.press("Tab")
    page.keyboard.type("9")
    page.keyboard.press("Enter")
    assert _cell(page, 1, "level").evaluate("el => el === document.activeElement")
    page.keyboard.type("h")
    page.keyboard.press("Tab")
    page.keyboard.type("7")
    page.keyboard.press("Enter")
    # A block copied from Excel fills level and score of the next two pupils in one request.
    _paste(page, "T\t8\r\nH\t6\r\n")
    assert [_cell(page, 2, "level").input_value(), _cell(page, 2, "score").input_value()] == [
        "T",
        "8",
    ]
    assert _cell(page, 3, "score").input_value() == "6"

    # Refusals, in place, in Vietnamese; nothing refused is kept.
    level_before = _cell(page, 4, "level").input_value()
    _cell(page, 4, "level").click()
    page.keyboard.type("X")
    tip = page.locator(".grid-tip")
    assert "Mức đạt được “X” không hợp lệ: chỉ nhập T, H hoặc C." in tip.inner_text()
    assert _cell(page, 4, "level").input_value() == level_before
    _cell(page, 4, "score").click()
    page.keyboard.type("11")
    assert "Điểm 11 ngoài thang điểm: chỉ nhập từ 1 đến 10." in tip.inner_text()
    page.screenshot(path=str(artifacts / "grid-refusal.png"))
    page.keyboard.type("0")  # "1" was kept, so this makes 10
    assert _cell(page, 4, "score").input_value() == "10"
    _cell(page, 5, "level").click()
    level_5 = _cell(page, 5, "level").input_value()
    _paste(page, "C\t12\n")
    assert "Không dán được" in tip.inner_text() and "Điểm 12 ngoài thang điểm" in tip.inner_text()
    assert _cell(page, 5, "level").input_value() == level_5

    _cell(page, 0, "comment").click()
    page.keyboard.press("Control+A")
    page.keyboard.type("Tiến bộ rõ rệt.")
    page.keyboard.press("Enter")
    _wait_saved(page)
    page.screenshot(path=str(artifacts / "grid-subject-saved.png"))

    page.reload()
    expected = [("T", "9"), ("H", "7"), ("T", "8"), ("H", "6")]
    shown = [
        (_cell(page, i, "level").input_value(), _cell(page, i, "score").input_value())
        for i in range(4)
    ]
    assert shown == expected
    assert _cell(page, 4, "score").input_value() == "10"
    assert _cell(page, 0, "comment").input_value() == "Tiến bộ rõ rệt."
    stored = demo_server.query(
        "SELECT level, score, comment FROM assessment_subjectmark "
        "WHERE enrolment_id = ? AND subject = 'toan' AND period = 'cn'",
        roster[0][0],
    )
    assert stored == [("T", 9, "Tiến bộ rõ rệt.")]

    _complete_first_pupil(page, demo_server, class_id, username)
    label = _watch_year_end_change(page, demo_server.url, class_id, artifacts)

    page.goto(f"{demo_server.url}/lop/{class_id}/tong-hop/")
    first = page.locator("table.overview tbody tr").first
    assert first.locator("td.year-end").inner_text().strip() == label
    page.screenshot(path=str(artifacts / "grid-overview.png"), full_page=True)
    results = page.locator("table.overview tbody td.year-end").all_inner_texts()
    assert all(text.strip() in RESULT_LABELS or "Chưa đủ dữ liệu" in text for text in results)


def _missing_in_first_row(page: Any, url: str, class_id: int) -> list[str]:
    page.goto(f"{url}/lop/{class_id}/tong-hop/")
    return page.evaluate(
        """() => {
            const heads = [...document.querySelectorAll("table.overview thead th")];
            const row = document.querySelector("table.overview tbody tr");
            return [...row.children]
                .map((cell, i) => cell.classList.contains("missing") && heads[i].querySelector("a"))
                .filter(Boolean).map((link) => link.getAttribute("href"));
        }"""
    )


def _complete_first_pupil(page: Any, demo_server: Any, class_id: int, homeroom: str) -> None:
    """Whatever the demo left missing at the end of the year for the first pupil, fill it in
    through the grids, as the teacher who enters it."""
    for href in dict.fromkeys(_missing_in_first_row(page, demo_server.url, class_id)):
        subject = re.search(r"/mon/([^/]+)/", href)
        if subject is None:  # qualities and competencies: the homeroom teacher's compact grid
            page.goto(f"{demo_server.url}{href}?thu-gon=1")
            _cell(page, 0, "level").first.click()
            count = page.locator("table.grid tbody tr").first.locator("[data-cell]").count()
            _paste(page, "\t".join(["T"] * count))
            _wait_saved(page)
            continue
        teacher = demo_server.query(
            "SELECT u.username FROM schools_teachingassignment t "
            "JOIN schools_staff s ON s.id = t.teacher_id JOIN auth_user u ON u.id = s.user_id "
            "WHERE t.school_class_id = ? AND t.subject = ? LIMIT 1",
            class_id,
            subject[1],
        )
        assert teacher, f"nobody teaches {subject[1]} in class {class_id}"
        other = page if teacher[0][0] == homeroom else page.context.browser.new_page(locale="vi-VN")
        if other is not page:
            _log_in(other, demo_server.url, str(teacher[0][0]))
        other.goto(f"{demo_server.url}{href}")
        _cell(other, 0, "level").click()
        has_score = _cell(other, 0, "score").count() == 1
        _paste(other, "T\t9" if has_score else "T")
        _wait_saved(other)
        if other is not page:
            other.close()
    assert not _missing_in_first_row(page, demo_server.url, class_id)


def _watch_year_end_change(page: Any, url: str, class_id: int, artifacts: Any) -> str:
    """In the homeroom grid at the end of the year, the live result follows each entry."""
    page.goto(f"{url}/lop/{class_id}/pham-chat-nang-luc/cn/?thu-gon=1")
    result = page.locator("table.grid tbody tr").first.locator("td.year-end")
    label = result.inner_text().strip()
    assert label in RESULT_LABELS
    diligence = _cell(page, 0, "level", "pc.cham_chi")
    original = diligence.input_value()
    diligence.click()
    page.keyboard.type("c")
    page.wait_for_function(SETTLED)
    assert result.inner_text().strip() == "Chưa hoàn thành"
    diligence.click()
    page.keyboard.type("d" if original == "Đ" else original)
    assert diligence.input_value() == original
    page.wait_for_function(SETTLED)
    assert result.inner_text().strip() == label
    page.screenshot(path=str(artifacts / "grid-homeroom.png"))
    return label


def test_comment_codes_escape_and_a_concurrent_edit(demo_server, page, artifacts):  # type: ignore[no-untyped-def]
    class_id, _class_name, username = open_grade_4_class(demo_server)
    roster = _roster(demo_server, class_id)
    grid_url = f"{demo_server.url}/lop/{class_id}/mon/toan/gk2/"
    bank = dict(
        demo_server.query(
            "SELECT b.code, b.text FROM assessment_commentbankentry b "
            "JOIN schools_schoolclass c ON c.school_id = b.school_id "
            "WHERE c.id = ? AND b.target = 'toan' AND b.owner_id IS NULL",
            class_id,
        )
    )
    page.set_viewport_size({"width": 1366, "height": 768})
    _log_in(page, demo_server.url, username)
    page.goto(grid_url)

    # "#CODE" expands from the comment bank when the cell is left; the server stores the text.
    if bank:
        code, text = sorted(bank.items())[0]
        _cell(page, 5, "comment").click()
        page.keyboard.press("Control+A")
        page.keyboard.type(f"#{code.lower()} Cố gắng hơn.")
        page.keyboard.press("Tab")
        assert _cell(page, 5, "comment").input_value() == f"{text} Cố gắng hơn."
        _wait_saved(page)
        stored = demo_server.query(
            "SELECT comment FROM assessment_subjectmark "
            "WHERE enrolment_id = ? AND subject = 'toan' AND period = 'gk2'",
            roster[5][0],
        )
        assert stored == [(f"{text} Cố gắng hơn.",)]

    # Escape takes back a cell before it is saved.
    original = _cell(page, 6, "level").input_value()
    _cell(page, 6, "level").click()
    page.keyboard.type("C" if original != "C" else "T")
    page.keyboard.press("Escape")
    assert _cell(page, 6, "level").input_value() == original
    page.wait_for_timeout(800)
    assert page.locator("table.grid .is-pending, table.grid .is-saving").count() == 0

    # Someone else changes row 8 in another window: this window's edit of that row is refused.
    other = page.context.new_page()
    other.goto(grid_url)
    level = _cell(other, 7, "level")
    level.click()
    other.keyboard.type("H" if level.input_value() != "H" else "T")
    _wait_saved(other)
    _cell(page, 7, "score").click()
    page.keyboard.type("5")
    page.wait_for_function(SETTLED)
    score = _cell(page, 7, "score")
    assert "is-conflict" in (score.get_attribute("class") or "")
    assert "vừa sửa dòng này" in page.locator(".grid-messages").inner_text()
    assert "Lỗi" in page.locator(".grid-status").inner_text()
    page.screenshot(path=str(artifacts / "grid-conflict.png"))

    # Leaving with a refused (unsaved) edit asks first.
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    page.close(run_before_unload=True)
    other.wait_for_timeout(500)
    assert dialogs == ["beforeunload"]
