"""A demo homeroom teacher signs class 4A from the browser, with one password + PIN entry."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "hocba-demo"
DEMO_PIN = "123456"


def test_teacher_signs_the_class_and_sees_the_status(demo_server, page, artifacts):  # type: ignore[no-untyped-def]
    class_id, waiting = demo_server.query(
        "SELECT c.id, COUNT(r.id) FROM schools_schoolclass c "
        "JOIN schools_school s ON s.id = c.school_id "
        "JOIN schools_enrolment e ON e.school_class_id = c.id "
        "JOIN records_yearrecord r ON r.enrolment_id = e.id AND r.status = 'compiled' "
        "WHERE s.code = '01005102' AND c.name = '4A' GROUP BY c.id"
    )[0]
    assert waiting >= 20
    page.goto(f"{demo_server.url}/dang-nhap/")
    page.get_by_label("Tên đăng nhập").fill("gv.nghiatan.4a")
    page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.get_by_role("heading", name="Lớp của tôi").wait_for()
    page.goto(f"{demo_server.url}/lop/{class_id}/ky-so/")
    page.get_by_role("heading", name="Ký số học bạ · Lớp 4A").wait_for()
    page.screenshot(path=str(artifacts / "signing-class-before.png"), full_page=True)
    page.get_by_label("Mật khẩu đăng nhập (xác nhận lại)").fill(DEMO_PASSWORD)
    page.get_by_label("Mã PIN của khoá ký").fill(DEMO_PIN)
    page.get_by_role("button", name="Ký tất cả học bạ đang chờ").click()
    page.get_by_text("Đã xong").wait_for(timeout=120_000)
    assert f"đã ký {waiting}/{waiting} học bạ" in page.content()
    page.screenshot(path=str(artifacts / "signing-batch-done.png"), full_page=True)

    signed = demo_server.query(
        "SELECT COUNT(*) FROM signing_recordsignature sig "
        "JOIN records_yearrecord r ON r.id = sig.record_id "
        "JOIN schools_enrolment e ON e.id = r.enrolment_id "
        "WHERE e.school_class_id = ? AND sig.step = 'gvcn'",
        class_id,
    )[0][0]
    assert signed == waiting
    page.goto(f"{demo_server.url}/lop/{class_id}/ky-so/")
    assert page.locator("table.signing").inner_text().count("Giáo viên chủ nhiệm đã ký") == waiting
    page.screenshot(path=str(artifacts / "signing-class-after.png"), full_page=True)
