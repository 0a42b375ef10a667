"""The Department's rollout dashboard: drill down province → district → school → class in a real
browser, and check every figure shown against a direct SQL count of the demo database."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "hocba-demo"
SCHOOL = "Trường Tiểu học Dịch Vọng A"

CURRENT = "JOIN schools_schoolyear y ON y.id = {alias}.school_year_id AND y.is_current = 1 "
RECORDS = (
    "SELECT COUNT(DISTINCT r.enrolment_id), "
    "COUNT(DISTINCT CASE WHEN r.status IN ('teacher_signed', 'principal_signed', 'sealed', "
    "'issued') THEN r.enrolment_id END), "
    "COUNT(DISTINCT CASE WHEN r.status IN ('principal_signed', 'sealed', 'issued') "
    "THEN r.enrolment_id END), "
    "COUNT(DISTINCT CASE WHEN r.status = 'issued' THEN r.enrolment_id END), "
    "COUNT(DISTINCT CASE WHEN r.status IN ('awaiting_summer_reassessment', "
    "'missing_identifier') THEN r.enrolment_id END), "
    "COUNT(DISTINCT CASE WHEN EXISTS (SELECT 1 FROM exchange_recordsync x WHERE "
    "x.record_id = r.id AND x.status = 'synced') THEN r.enrolment_id END) "
    "FROM records_yearrecord r " + CURRENT.format(alias="r") + "JOIN schools_school s ON "
    "s.id = r.school_id JOIN schools_enrolment e ON e.id = r.enrolment_id "
    "WHERE r.status NOT IN ('superseded', 'revoked') AND {where}"
)
PUPILS = (
    "SELECT COUNT(*) FROM schools_enrolment e " + CURRENT.format(alias="e") + "JOIN "
    "schools_schoolclass c ON c.id = e.school_class_id JOIN schools_school s ON s.id = "
    "c.school_id WHERE e.left_on IS NULL AND {where}"
)
CLASSES = (
    "SELECT COUNT(*), COALESCE(SUM(EXISTS (SELECT 1 FROM assessment_lock l WHERE "
    "l.school_class_id = c.id AND l.unlocked_at IS NULL AND (l.is_class_finished = 1 OR "
    "(l.subject = '' AND l.period = '')))), 0) FROM schools_schoolclass c "
    + CURRENT.format(alias="c")
    + "JOIN schools_school s ON s.id = c.school_id WHERE {where}"
)
STAFF = (
    "SELECT COUNT(*), COALESCE(SUM(EXISTS (SELECT 1 FROM signing_signingcertificate sc WHERE "
    "sc.staff_id = st.id AND sc.purpose = 'personal' AND sc.retired_at IS NULL AND "
    "sc.not_after > strftime('%Y-%m-%d %H:%M:%S', 'now'))), 0) FROM schools_staff st "
    "JOIN auth_user u ON u.id = st.user_id AND u.is_active = 1 JOIN schools_school s ON "
    "s.id = st.school_id WHERE EXISTS (SELECT 1 FROM schools_staffrole sr WHERE "
    "sr.staff_id = st.id AND sr.role IN ({roles})) AND {where}"
)
HOMEROOM = "st.id = (SELECT homeroom_teacher_id FROM schools_schoolclass WHERE id = ?)"
RECORD_COLUMNS = ["compiled", "teacher_signed", "principal_signed", "issued", "pending", "synced"]


def expected(
    demo_server, where: str, *params: object, class_where: str = "", staff_where: str = ""
) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Every figure of one table row, counted in SQL straight from the demo database."""
    figures = {}
    row = demo_server.query(RECORDS.format(where=where), *params)[0]
    figures.update(zip(RECORD_COLUMNS, row, strict=True))
    figures["pupils"] = demo_server.query(PUPILS.format(where=where), *params)[0][0]
    classes = CLASSES.format(where=class_where or where)
    figures["classes"] = demo_server.query(classes, *params)[0][1]
    for column, roles in [
        ("teachers", "'homeroom_teacher', 'subject_teacher'"),
        ("principals", "'principal', 'deputy_principal'"),
    ]:
        if staff_where and column == "principals":
            continue  # a class row has only its homeroom teacher
        sql = STAFF.format(roles=roles, where=staff_where or where)
        figures[column] = demo_server.query(sql, *params)[0][1]
    return {key: str(value) for key, value in figures.items()}


def shown(page, row_selector: str, columns: list[str]) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The counts the page shows in one row (the visible number, not an attribute)."""
    row = page.locator(row_selector)
    figures = {}
    for column in columns:
        cell = row.locator(f'td[data-column="{column}"]')
        text = cell.locator(".count").inner_text() if column != "pupils" else cell.inner_text()
        figures[column] = text.strip()
    return figures


def check_row(
    demo_server, page, row_selector: str, where: str, *params: object, **wheres: str
) -> dict[str, str]:  # type: ignore[no-untyped-def]
    want = expected(demo_server, where, *params, **wheres)
    assert shown(page, row_selector, list(want)) == want, row_selector
    return want


def test_department_drills_down_to_a_class(demo_server, page, artifacts):  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{demo_server.url}/dang-nhap/")
    page.get_by_label("Tên đăng nhập").fill("so.hanoi")
    page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.get_by_role("link", name="Theo dõi triển khai").click()

    # Department: one row per district, and the province's total.
    (province_id, province_name) = demo_server.query(
        "SELECT id, name FROM schools_province WHERE code = '01'"
    )[0]
    page.get_by_role("heading", name=province_name).wait_for()
    assert page.locator("svg[role=img] title").first.text_content()
    for district_id, _name in demo_server.query(
        "SELECT id, name FROM schools_district WHERE province_id = ?", province_id
    ):
        check_row(
            demo_server,
            page,
            f'tr[data-kind="district"][data-pk="{district_id}"]',
            "s.district_id = ?",
            district_id,
        )
    total = check_row(demo_server, page, 'tr[data-kind="total"]', "s.province_id = ?", province_id)
    assert int(total["issued"]) > 0
    page.screenshot(path=str(artifacts / "monitoring-province.png"), full_page=True)

    # District of Dịch Vọng A: one row per school.
    (school_id, district_id, district_name) = demo_server.query(
        "SELECT s.id, d.id, d.name FROM schools_school s JOIN schools_district d "
        "ON d.id = s.district_id WHERE s.name = ?",
        SCHOOL,
    )[0]
    page.locator(f'tr[data-kind="district"][data-pk="{district_id}"] a').click()
    page.get_by_role("heading", name=district_name).wait_for()
    for (other_school,) in demo_server.query(
        "SELECT id FROM schools_school WHERE district_id = ?", district_id
    ):
        check_row(
            demo_server,
            page,
            f'tr[data-kind="school"][data-pk="{other_school}"]',
            "s.id = ?",
            other_school,
        )
    page.screenshot(path=str(artifacts / "monitoring-district.png"), full_page=True)

    # The school: one row per class.
    page.get_by_role("link", name=SCHOOL).click()
    page.get_by_role("heading", name=SCHOOL).wait_for()
    school = check_row(demo_server, page, 'tr[data-kind="total"]', "s.id = ?", school_id)
    assert int(school["issued"]) > 0
    classes = demo_server.query(
        "SELECT c.id, c.name FROM schools_schoolclass c "
        + CURRENT.format(alias="c")
        + "WHERE c.school_id = ? ORDER BY c.grade, c.name",
        school_id,
    )
    for class_id, _name in classes:
        check_row(
            demo_server,
            page,
            f'tr[data-kind="class"][data-pk="{class_id}"]',
            "e.school_class_id = ?",
            class_id,
            class_where="c.id = ?",
            staff_where=HOMEROOM,
        )
    page.screenshot(path=str(artifacts / "monitoring-school.png"), full_page=True)

    # A class with issued records: its pupils and their record status.
    (class_id, class_name) = demo_server.query(
        "SELECT e.school_class_id, c.name FROM records_yearrecord r JOIN schools_enrolment e "
        "ON e.id = r.enrolment_id JOIN schools_schoolclass c ON c.id = e.school_class_id "
        "WHERE r.school_id = ? AND r.status = 'issued' ORDER BY c.grade, c.name LIMIT 1",
        school_id,
    )[0]
    page.locator(f'tr[data-kind="class"][data-pk="{class_id}"] a').click()
    page.get_by_role("heading", name=f"Lớp {class_name}").wait_for()
    pupils = int(
        demo_server.query(
            "SELECT COUNT(*) FROM schools_enrolment WHERE school_class_id = ? AND left_on IS NULL",
            class_id,
        )[0][0]
    )
    assert page.locator("#hoc-sinh tbody tr").count() == pupils
    issued = demo_server.query(
        "SELECT COUNT(DISTINCT r.enrolment_id) FROM records_yearrecord r JOIN schools_enrolment e "
        "ON e.id = r.enrolment_id WHERE e.school_class_id = ? AND r.status = 'issued'",
        class_id,
    )[0][0]
    shown_issued = page.locator("#tong-hop-lop td[data-column=issued] .count").inner_text()
    assert int(shown_issued) == issued > 0
    # Each pupil's status is their record's newest version that is not superseded.
    statuses = demo_server.query(
        "SELECT r.status, COUNT(*) FROM records_yearrecord r JOIN schools_enrolment e ON "
        "e.id = r.enrolment_id WHERE e.school_class_id = ? AND e.left_on IS NULL AND "
        "r.status != 'superseded' AND NOT EXISTS (SELECT 1 FROM records_yearrecord n WHERE "
        "n.enrolment_id = r.enrolment_id AND n.version > r.version AND n.status != 'superseded') "
        "GROUP BY r.status",
        class_id,
    )
    for status, count in statuses:
        assert page.locator(f'#hoc-sinh tr[data-status="{status}"]').count() == count, status
    page.screenshot(path=str(artifacts / "monitoring-class.png"), full_page=True)

    # The exports of the class download as files.
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    assert download.value.suggested_filename.endswith(".csv")
