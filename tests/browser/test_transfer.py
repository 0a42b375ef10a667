"""A pupil moves from Kim Liên to Nghĩa Tân mid-year, through the pages both principals use."""

from __future__ import annotations

import pytest

from tests.browser.demo import log_in

pytestmark = pytest.mark.browser


def test_a_pupil_is_released_and_received_with_the_marks_so_far(  # type: ignore[no-untyped-def]
    demo_server, page, artifacts, tmp_path
):
    pupil_id, enrolment_id, name = demo_server.query(
        "SELECT p.id, e.id, p.family_name || ' ' || p.middle_name || ' ' || p.given_name "
        "FROM schools_enrolment e JOIN schools_pupil p ON p.id = e.pupil_id "
        "JOIN schools_schoolclass c ON c.id = e.school_class_id "
        "JOIN schools_school s ON s.id = c.school_id "
        "WHERE s.code = '01006101' AND c.name = '3A' AND e.left_on IS NULL ORDER BY e.id LIMIT 1"
    )[0]
    marks = demo_server.query(
        "SELECT COUNT(*) FROM assessment_subjectmark WHERE enrolment_id = ?", enrolment_id
    )[0][0]
    log_in(page, demo_server.url, "ht.kimlien")
    page.goto(f"{demo_server.url}/hoc-sinh/{pupil_id}/")
    page.get_by_role("link", name="Cho học sinh chuyển trường").click()
    page.get_by_label("Chuyển đến trường").fill("Trường Tiểu học Nghĩa Tân")
    page.get_by_label("Ngày chuyển đi (dd/mm/yyyy)").fill("20/01/2025")
    page.get_by_label("Lý do").fill("Gia đình chuyển nơi ở")
    page.screenshot(path=str(artifacts / "transfer-release.png"), full_page=True)
    page.get_by_role("button", name="Xác nhận chuyển đi và tạo gói hồ sơ").click()
    page.get_by_text("Học sinh đã được chuyển đi").wait_for()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Tải gói hồ sơ").click()
    package = tmp_path / "goi.zip"
    download_info.value.save_as(package)
    page.screenshot(path=str(artifacts / "transfer-released.png"), full_page=True)

    page.get_by_role("button", name="Đăng xuất").click()
    log_in(page, demo_server.url, "ht.nghiatan")
    school_id, class_id = demo_server.query(
        "SELECT s.id, c.id FROM schools_schoolclass c JOIN schools_school s ON s.id = c.school_id "
        "WHERE s.code = '01005102' AND c.name = '3A'"
    )[0]
    page.goto(f"{demo_server.url}/truong/{school_id}/")
    page.get_by_role("link", name="Nhận học sinh chuyển đến").click()
    page.get_by_label("Gói hồ sơ chuyển trường (.zip)").set_input_files(str(package))
    page.get_by_label("Vào lớp").select_option(str(class_id))
    page.get_by_label("Ngày chuyển đến (dd/mm/yyyy)").fill("22/01/2025")
    page.get_by_role("button", name="Kiểm tra và nhận học sinh").click()
    page.get_by_text(f"Đã nhận học sinh {name}").wait_for()
    page.screenshot(path=str(artifacts / "transfer-received.png"), full_page=True)

    rows = demo_server.query(
        "SELECT e.entry_kind, (SELECT COUNT(*) FROM assessment_subjectmark m "
        "WHERE m.enrolment_id = e.id) FROM schools_enrolment e "
        "WHERE e.pupil_id = ? AND e.left_on IS NULL",
        pupil_id,
    )
    assert rows == [("transfer_in", marks)]
    assert page.locator("table.transfers").inner_text().count("Chuyển") == 2
