"""Deadlines (configured or computed), milestone states and the SVG charts."""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET
from typing import Any

from hocba.conftest import World
from hocba.monitoring import charts, deadlines, reports
from hocba.monitoring.deadlines import MilestoneStatus
from hocba.monitoring.figures import Figures
from hocba.monitoring.models import Milestone, RolloutDeadline
from hocba.monitoring.tests.conftest import Rollout
from hocba.schools.models import Province

SVG = "{http://www.w3.org/2000/svg}"


def test_defaults_follow_the_end_of_the_year(world: World) -> None:
    due = {d.milestone: d.due_on for d in deadlines.deadlines_for(world.year, world.province)}
    assert list(due) == list(Milestone)
    assert due[Milestone.CLASSES_LOCKED] == datetime.date(2025, 5, 31)
    assert due[Milestone.CERTIFICATES] == datetime.date(2025, 5, 17)
    assert due[Milestone.ISSUED] == datetime.date(2025, 6, 30)
    assert due[Milestone.SYNCED] == datetime.date(2025, 7, 15)


def test_province_row_wins_over_the_national_one(world: World) -> None:
    other = Province.objects.create(code="79", name="Thành phố Hồ Chí Minh")
    RolloutDeadline.objects.create(
        school_year=world.year, milestone=Milestone.ISSUED, due_on=datetime.date(2025, 7, 1)
    )
    RolloutDeadline.objects.create(
        school_year=world.year,
        province=world.province,
        milestone=Milestone.ISSUED,
        due_on=datetime.date(2025, 6, 20),
    )

    def issued(province: Province | None) -> deadlines.Deadline:
        return next(
            d for d in deadlines.deadlines_for(world.year, province) if d.milestone == "issued"
        )

    assert (issued(world.province).due_on, issued(world.province).is_configured) == (
        datetime.date(2025, 6, 20),
        True,
    )
    assert issued(other).due_on == datetime.date(2025, 7, 1)
    assert issued(None).due_on == datetime.date(2025, 7, 1)


def test_states() -> None:
    due = datetime.date(2025, 6, 30)

    def state(progress: float | None, today: datetime.date) -> str:
        return MilestoneStatus("issued", "Phát hành", due, progress, today).state

    assert state(40.0, datetime.date(2025, 7, 1)) == "late"
    assert state(40.0, due) == "upcoming"
    assert state(100.0, datetime.date(2025, 8, 1)) == "done"
    assert state(None, datetime.date(2025, 8, 1)) == "unknown"


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # noqa: S314 (our own output)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    assert title is not None and title.text
    assert root.get("aria-labelledby", "").split()[0] == title.get("id")
    return root


def test_pipeline_chart_is_well_formed_and_escapes_names(rollout: Rollout) -> None:
    world = rollout.world
    report = reports.province_report(world.province, world.year)
    report.rows[0].label = 'Quận <Ba> "Đình" & co'
    root = _parse(charts.pipeline_chart(report.rows, "Tiến độ"))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert 'Quận <Ba> "Đình" & co' in texts
    tips = [t.text or "" for t in root.iter(f"{SVG}title")]
    assert any(tip.startswith("Đã phát hành: 1 (16,7%)") for tip in tips)


def test_pipeline_chart_without_rows() -> None:
    root = _parse(charts.pipeline_chart([], "Trống"))
    assert "Chưa có dữ liệu." in [t.text for t in root.iter(f"{SVG}text")]


def test_timeline_marks_the_late_milestone_red(world: World) -> None:
    figures = Figures(
        teachers=2, teachers_certified=2, classes=2, classes_locked=1, pupils=10, issued=4
    )
    today = datetime.date(2025, 6, 10)
    statuses = deadlines.milestone_statuses(
        deadlines.deadlines_for(world.year, world.province), figures, today
    )
    root = _parse(charts.timeline_chart(statuses, today))
    groups = {g.get("class"): g for g in root.iter(f"{SVG}g")}
    states = [s.state for s in statuses]
    assert states == ["done", "late", "upcoming", "upcoming", "upcoming", "upcoming"]
    late = groups["milestone late"]
    assert late.find(f"{SVG}polygon").get("fill") == charts.STATE_COLOURS["late"]  # type: ignore[union-attr]
    assert "31/05/2025" in "".join(late.itertext())
    # Today is inside the range: a dashed line with its own title.
    assert any("Hôm nay 10/06/2025" in (t.text or "") for t in root.iter(f"{SVG}title"))


def test_timeline_today_outside_the_range(world: World) -> None:
    today = datetime.date(2026, 11, 30)
    statuses = deadlines.milestone_statuses(
        deadlines.deadlines_for(world.year, None), Figures(pupils=3), today
    )
    root = _parse(charts.timeline_chart(statuses, today))
    assert "Hôm nay 30/11/2026 →" in [t.text for t in root.iter(f"{SVG}text")]


def test_deadlines_in_the_admin(world: World, client: Any) -> None:
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("admin_mon", "", "mat-khau-thu-nghiem")
    client.force_login(admin)
    RolloutDeadline.objects.create(
        school_year=world.year,
        province=world.province,
        milestone=Milestone.ISSUED,
        due_on=datetime.date(2025, 6, 20),
    )
    response = client.get("/quan-tri/monitoring/rolloutdeadline/")
    assert response.status_code == 200
    assert "Thành phố Hà Nội" in response.content.decode()
    response = client.get("/quan-tri/monitoring/rolloutdeadline/add/")
    assert response.status_code == 200
