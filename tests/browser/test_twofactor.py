"""A deputy principal of the demo turns on two-factor authentication, signs in with the code from
the authenticator, and is asked for a fresh code again before signing the school's records."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time

import pytest

from tests.browser.demo import DEMO_PASSWORD, DEMO_PIN, log_in

pytestmark = pytest.mark.browser

USERNAME = "pht.nghiatan"  # no other browser test signs in as this person


def _step() -> int:
    return int(time.time()) // 30


def _totp(secret: str, step: int) -> str:
    """RFC 6238 with SHA-1, 6 digits, 30 s steps: what an authenticator app shows."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def _fresh(secret: str, used: int) -> tuple[str, int]:
    """A code of a later time step than ``used`` (a code is accepted once)."""
    while _step() <= used:
        time.sleep(0.5)
    step = _step()
    return _totp(secret, step), step


def test_totp_login_then_a_fresh_code_before_signing(demo_server, page, artifacts):  # type: ignore[no-untyped-def]
    school_id, waiting = demo_server.query(
        "SELECT s.id, COUNT(r.id) FROM schools_school s "
        "JOIN records_yearrecord r ON r.school_id = s.id AND r.status = 'teacher_signed' "
        "WHERE s.code = '01005102' GROUP BY s.id"
    )[0]
    assert waiting > 0
    log_in(page, demo_server.url, USERNAME)
    page.goto(f"{demo_server.url}/tai-khoan/xac-thuc-hai-buoc/thiet-lap/")
    page.get_by_role("img", name="Mã QR để thêm tài khoản vào ứng dụng xác thực").wait_for()
    secret = page.locator("code.totp-secret").inner_text().strip()
    page.screenshot(path=str(artifacts / "twofactor-setup.png"), full_page=True)
    code, used = _fresh(secret, -1)
    page.get_by_label("Mã xác thực").fill(code)
    page.get_by_role("button", name="Xác nhận và bật xác thực hai bước").click()
    page.get_by_role("heading", name="Mã dự phòng").wait_for()
    assert page.locator("ul.recovery-codes li").count() == 10

    page.get_by_role("button", name="Đăng xuất").click()
    log_in(page, demo_server.url, USERNAME)
    page.get_by_role("heading", name="Xác thực hai bước").wait_for()  # asked after the password
    page.screenshot(path=str(artifacts / "twofactor-login.png"), full_page=True)
    code, used = _fresh(secret, used)
    page.get_by_label("Mã xác thực").fill(code)
    page.get_by_role("button", name="Xác nhận").click()
    page.wait_for_load_state()

    page.goto(f"{demo_server.url}/truong/{school_id}/ky-so/")
    offer = page.locator("form.sign-offer").first
    offer.get_by_label("Mật khẩu đăng nhập (xác nhận lại)").fill(DEMO_PASSWORD)
    offer.get_by_label("Mã PIN của khoá ký").fill(DEMO_PIN)
    offer.get_by_role("button", name="Ký tất cả học bạ đang chờ").click()  # no code: refused
    page.get_by_text("Mã xác thực hai bước không đúng hoặc đã dùng").wait_for()
    page.screenshot(path=str(artifacts / "twofactor-reauth-refused.png"), full_page=True)
    assert demo_server.query(
        "SELECT COUNT(*) FROM signing_signingbatch b JOIN auth_user u ON u.id = b.requested_by_id "
        "WHERE u.username = ?",
        USERNAME,
    ) == [(0,)]

    offer = page.locator("form.sign-offer").first
    offer.get_by_label("Mật khẩu đăng nhập (xác nhận lại)").fill(DEMO_PASSWORD)
    offer.get_by_label("Mã PIN của khoá ký").fill(DEMO_PIN)
    code, used = _fresh(secret, used)
    offer.get_by_label("Mã xác thực hai bước (trong ứng dụng xác thực)").fill(code)
    offer.get_by_role("button", name="Ký tất cả học bạ đang chờ").click()
    page.get_by_text("Đã xong").wait_for(timeout=180_000)
    page.screenshot(path=str(artifacts / "twofactor-signed.png"), full_page=True)
    signed = demo_server.query(
        "SELECT b.done_count FROM signing_signingbatch b JOIN auth_user u "
        "ON u.id = b.requested_by_id WHERE u.username = ?",
        USERNAME,
    )
    assert signed == [(waiting,)]
