"""The demo's corrected record: its old QR code says superseded and leads to the new version."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "hocba-demo"


def test_old_version_points_to_the_new_one(demo_server, page, artifacts):  # type: ignore[no-untyped-def]
    (old_code, new_code) = demo_server.query(
        "SELECT o.short_code, n.short_code FROM ledger_supersession s "
        "JOIN records_yearrecord o ON o.id = s.old_id JOIN records_yearrecord n ON n.id = s.new_id"
    )[0]
    page.goto(f"{demo_server.url}/xac-thuc/{old_code}")
    page.get_by_text("Đã được thay thế").first.wait_for()
    page.screenshot(path=str(artifacts / "status-superseded.png"), full_page=True)
    page.get_by_role("link", name=new_code).click()
    page.get_by_text("Hợp lệ", exact=True).wait_for()
    assert "sinh năm" in page.content()
    page.screenshot(path=str(artifacts / "status-valid.png"), full_page=True)

    # Staff see the whole life of the record: both versions and the log's events.
    page.goto(f"{demo_server.url}/dang-nhap/")
    page.get_by_label("Tên đăng nhập").fill("ht.dichvonga")
    page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.goto(f"{demo_server.url}/hoc-ba/{new_code}/")
    page.get_by_role("heading", name="Sổ cái").wait_for()
    content = page.content()
    assert old_code in content and "Được thay thế" in content and "Phát hành" in content
    assert "Yêu cầu đính chính" in content and "Thu hồi học bạ" in content
    page.screenshot(path=str(artifacts / "record-detail.png"), full_page=True)
