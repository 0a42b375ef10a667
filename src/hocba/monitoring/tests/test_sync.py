"""Synced upward: a counted version with a RecordSync "synced" at any target (hocba.exchange)."""

from __future__ import annotations

from typing import Any

from hocba.exchange.models import SyncTarget
from hocba.monitoring import reports, selectors
from hocba.monitoring.tests.conftest import Rollout, enrolment_of, sync


def _synced(rollout: Rollout, district: int = 0) -> int | None:
    world = rollout.world
    return reports.district_report(world.districts[district], world.year).rows[0].figures.synced


def test_exchange_is_installed_and_counted(rollout: Rollout) -> None:
    assert selectors.record_sync_model() is not None
    assert (_synced(rollout, 0), _synced(rollout, 1)) == (0, 1)


def test_failed_and_pending_do_not_count_a_second_target_does_not_double(rollout: Rollout) -> None:
    first = enrolment_of(rollout.world, "own", 0).year_records.get(version=1)
    sync(first, rollout.targets[1], "failed")
    assert _synced(rollout) == 0
    sync(
        first,
        SyncTarget.objects.create(name="Kho 3", endpoint_url="https://k3.test/", api_key="k3"),
        "synced",
    )
    first.syncs.filter(status="pending").update(status="synced")
    assert _synced(rollout) == 1


def test_a_revoked_record_synced_before_no_longer_counts(rollout: Rollout) -> None:
    record = enrolment_of(rollout.world, "foreign", 0).year_records.get()
    record.status = "revoked"
    record.save(update_fields=["status"])
    assert _synced(rollout, 1) == 0


def test_class_page_marks_the_synced_pupil(rollout: Rollout) -> None:
    report = reports.class_report(rollout.world.foreign.classes[0])
    synced = {line.pupil.pk: line.is_synced for line in report.pupils}
    assert synced[rollout.world.foreign.pupils[0].pk] is True
    assert sum(bool(v) for v in synced.values()) == 1


def test_without_the_exchange_app_the_column_is_empty(
    rollout: Rollout, monkeypatch: Any, client: Any
) -> None:
    monkeypatch.setattr(selectors, "record_sync_model", lambda: None)
    world = rollout.world
    report = reports.province_report(world.province, world.year)
    assert [row.figures.synced for row in report.rows] == [None, None]
    assert report.total.synced is None
    assert all(line.is_synced is None for line in reports.class_report(world.own.classes[0]).pupils)
    client.force_login(world.users["department_staff"])
    response = client.get(f"/theo-doi/tinh/{world.province.pk}/")
    assert response.status_code == 200
    assert 'data-column="synced" data-count=""' in response.content.decode()
