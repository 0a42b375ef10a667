"""The public portal on the demo: scan (open) a record's QR address, unlock it with the access
code printed on the paper, then a parent finds the child's records on a phone and downloads
the booklet."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _issued_record(demo_server):  # type: ignore[no-untyped-def]
    code, canonical, ministry_code = demo_server.query(
        "SELECT r.short_code, r.canonical_json, p.ministry_code FROM records_yearrecord r "
        "JOIN schools_school s ON s.id = r.school_id JOIN schools_pupil p ON p.id = r.pupil_id "
        "WHERE s.code = '01005101' AND r.status = 'issued' ORDER BY r.id LIMIT 1"
    )[0]
    document = json.loads(canonical)
    return code, document["record"]["access_code"], document["pupil"]["full_name"], ministry_code


def test_qr_page_then_access_code_shows_the_pupil(demo_server, page, artifacts):  # type: ignore[no-untyped-def]
    code, access_code, full_name, _ministry_code = _issued_record(demo_server)
    page.goto(f"{demo_server.url}/xac-thuc/{code}")
    page.get_by_text("Hợp lệ", exact=True).wait_for()
    assert full_name not in page.content()
    page.screenshot(path=str(artifacts / "portal-status-masked.png"), full_page=True)

    page.get_by_label("Mã truy cập", exact=True).fill("00000-00000")
    page.get_by_role("button", name="Xem thông tin").click()
    page.get_by_role("alert").wait_for()
    assert "không đúng" in page.get_by_role("alert").inner_text()
    assert full_name not in page.content()

    page.get_by_label("Mã truy cập", exact=True).fill(access_code.lower())
    page.get_by_role("button", name="Xem thông tin").click()
    page.locator(".pupil-name").wait_for()
    assert page.locator(".pupil-name").inner_text() == full_name
    assert "Tải học bạ đã ký (PDF)" in page.content()
    page.screenshot(path=str(artifacts / "portal-status-unlocked.png"), full_page=True)


def test_parent_finds_the_records_and_downloads_the_booklet(demo_server, browser, artifacts):  # type: ignore[no-untyped-def]
    code, access_code, full_name, ministry_code = _issued_record(demo_server)
    booklets_before = demo_server.query(
        "SELECT COUNT(*) FROM ledger_copyissued WHERE channel = 'booklet' AND purpose = 'parent'"
    )[0][0]
    context = browser.new_context(
        locale="vi-VN", viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    phone = context.new_page()
    try:
        phone.goto(f"{demo_server.url}/tra-cuu/")
        phone.get_by_role("heading", name="Tra cứu học bạ").wait_for()
        phone.screenshot(path=str(artifacts / "portal-lookup-phone-form.png"), full_page=True)
        phone.get_by_label("Mã học sinh (10 chữ số)").fill(ministry_code)
        phone.get_by_label("Mã truy cập", exact=True).fill(access_code)
        phone.get_by_role("button", name="Tra cứu").click()
        phone.locator(".pupil-name").wait_for()
        assert phone.locator(".pupil-name").inner_text() == full_name
        assert phone.locator(f'li[data-code="{code}"]').is_visible()
        # Nothing sticks out sideways on a phone.
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        phone.screenshot(path=str(artifacts / "portal-lookup-phone.png"), full_page=True)

        with phone.expect_download() as download_info:
            phone.get_by_role("link", name="Tải sổ học bạ đầy đủ (PDF)").click()
        download = download_info.value
        assert download.suggested_filename == "so-hoc-ba.pdf"
        with open(download.path(), "rb") as handle:
            assert handle.read(5) == b"%PDF-"
    finally:
        context.close()
    booklets_after = demo_server.query(
        "SELECT COUNT(*) FROM ledger_copyissued WHERE channel = 'booklet' AND purpose = 'parent'"
    )[0][0]
    assert booklets_after > booklets_before


def test_a_downloaded_record_checks_valid_on_the_file_page(demo_server, page, artifacts):  # type: ignore[no-untyped-def]
    """The receiving school's view: the PDF a parent handed over, uploaded at /kiem-tra-tep/."""
    code, access_code, _full_name, _ministry_code = _issued_record(demo_server)
    page.goto(f"{demo_server.url}/xac-thuc/{code}")
    page.get_by_label("Mã truy cập", exact=True).fill(access_code)
    page.get_by_role("button", name="Xem thông tin").click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Tải học bạ đã ký (PDF)").click()
    pdf_path = download_info.value.path()

    page.goto(f"{demo_server.url}/kiem-tra-tep/")
    page.get_by_label("Tệp PDF học bạ").set_input_files(pdf_path)
    page.get_by_role("button", name="Kiểm tra").click()
    page.locator("[data-verdict]").wait_for(timeout=60_000)
    assert page.locator("[data-verdict]").get_attribute("data-verdict") == "VALID"
    assert code in page.content()
    page.screenshot(path=str(artifacts / "file-report.png"), full_page=True)
    with page.expect_download() as report_info:
        page.get_by_role("link", name="Tải báo cáo (PDF)").click()
    with open(report_info.value.path(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"
