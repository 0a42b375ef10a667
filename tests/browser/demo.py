"""What the browser tests share about the demo: its password and PIN, signing in, a class to use."""

from __future__ import annotations

from typing import Any

DEMO_PASSWORD = "hocba-demo"  # the demo's published password  # pragma: allowlist secret
DEMO_PIN = "123456"


def log_in(page: Any, url: str, username: str) -> None:
    """Sign in on the login page as a demo user (the page after it is left to the caller)."""
    page.goto(f"{url}/dang-nhap/")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()


def open_grade_4_class(server: Any) -> tuple[int, str, str]:
    """A grade-4 class, not locked, whose homeroom teacher also teaches its Toán:
    (class id, class name, the teacher's user name)."""
    rows = server.query(
        "SELECT c.id, c.name, u.username FROM schools_schoolclass c "
        "JOIN schools_staff s ON s.id = c.homeroom_teacher_id "
        "JOIN auth_user u ON u.id = s.user_id "
        "JOIN schools_teachingassignment t ON t.school_class_id = c.id "
        "  AND t.teacher_id = s.id AND t.subject = 'toan' "
        "WHERE c.grade = 4 AND NOT EXISTS (SELECT 1 FROM assessment_lock l "
        "  WHERE l.school_class_id = c.id AND l.unlocked_at IS NULL) "
        "ORDER BY c.id LIMIT 1"
    )
    assert rows, "the demo has no open grade-4 class whose homeroom teacher teaches Toán"
    class_id, name, username = rows[0]
    return int(class_id), str(name), str(username)
