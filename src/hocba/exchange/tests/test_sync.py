"""Upward sync over real HTTP: to a second deployment (``live_server``) and to fake receivers."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from hocba.common.errors import DomainError
from hocba.exchange import services, sync
from hocba.exchange.models import ReceivedBatch, ReceivedRecord, RecordSync, SyncStatus
from hocba.exchange.tests.conftest import ENDPOINT, FakeReceiver
from hocba.ledger import issuing
from hocba.records.models import YearRecord
from hocba.signing.tests.conftest import Registered


def _target(url: str, key: str = "hbk_fake_key", batch_size: int = 50) -> Any:
    return services.save_target(
        actor=None, name="so-ha-noi", endpoint_url=url, api_key=key, batch_size=batch_size
    )


@pytest.mark.django_db(transaction=True)
def test_sync_to_a_second_deployment(
    live_server: Any,
    flushable: None,
    registered: Registered,
    issued: list[YearRecord],
    push_key: str,
) -> None:
    target = _target(live_server.url + ENDPOINT, push_key, batch_size=2)
    report = sync.sync_target(target)
    assert (report.synced, report.failed, report.record_sets, report.requests) == (3, 0, 3, 2)
    assert ReceivedRecord.objects.count() == 3 and ReceivedBatch.objects.count() == 2
    rows = RecordSync.objects.filter(target=target)
    assert {row.status for row in rows} == {SyncStatus.SYNCED}
    assert all(row.receipt and row.receipt["outcome"] == "stored" for row in rows)
    assert all(row.sent_status == "issued" and row.attempts == 1 for row in rows)

    # Nothing new: a re-run sends nothing.
    again = sync.sync_target(target)
    assert (again.requests, again.synced) == (0, 0)
    assert ReceivedBatch.objects.count() == 2

    # A revocation is a state change: that version alone is sent again.
    issuing.revoke(
        actor=registered.world.own.users["principal"], record=issued[1], reason="Phát hành nhầm"
    )
    after = sync.sync_target(target)
    assert (after.requests, after.synced, after.record_sets) == (1, 1, 1)
    received = ReceivedRecord.objects.get(record_id=issued[1].record_id)
    assert received.status == "revoked"
    assert received.record_set["records"][0]["revoked"]["reason"] == "Phát hành nhầm"
    assert RecordSync.objects.get(record=issued[1]).sent_status == "revoked"
    assert sync.sync_target(target).requests == 0


@pytest.mark.django_db
def test_retries_on_503_with_the_same_idempotency_key(
    issued: list[YearRecord], fake_receiver: FakeReceiver
) -> None:
    fake_receiver.script = [(503, {"detail": "bận"}), (503, {}), (200, {})]
    waits: list[float] = []
    report = sync.sync_target(_target(fake_receiver.url), sleep=waits.append)
    assert (report.synced, report.failed, report.requests) == (3, 0, 3)
    keys = {request["headers"]["Idempotency-Key"] for request in fake_receiver.requests}
    assert len(keys) == 1 and len(fake_receiver.requests) == 3
    assert waits == [0.01, 0.02]  # exponential backoff
    assert fake_receiver.requests[0]["headers"]["Authorization"] == "Bearer hbk_fake_key"
    assert {row.attempts for row in RecordSync.objects.all()} == {3}
    assert set(RecordSync.objects.values_list("status", flat=True)) == {"synced"}


@pytest.mark.django_db
def test_retries_run_out_then_the_next_run_sends_the_same_key(
    issued: list[YearRecord], fake_receiver: FakeReceiver, settings: Any
) -> None:
    settings.HOCBA_EXCHANGE_MAX_ATTEMPTS = 2
    fake_receiver.script = [(503, {}), (502, {})]
    target = _target(fake_receiver.url)
    report = sync.sync_target(target, sleep=lambda seconds: None)
    assert (report.synced, report.failed, report.requests) == (0, 3, 2)
    row = RecordSync.objects.first()
    assert row is not None and row.status == SyncStatus.FAILED
    assert "502" in row.last_error and "2 lần" in row.last_error
    retried = sync.sync_target(target, sleep=lambda seconds: None)
    assert (retried.synced, retried.requests) == (3, 1)
    first_key = fake_receiver.requests[0]["headers"]["Idempotency-Key"]
    assert fake_receiver.requests[-1]["headers"]["Idempotency-Key"] == first_key


@pytest.mark.django_db
def test_4xx_fails_with_the_receivers_reason(
    issued: list[YearRecord], fake_receiver: FakeReceiver
) -> None:
    message = "Bộ hồ sơ thứ 2: trường “/pupil/sex” không hợp lệ."
    fake_receiver.script = [
        (400, {"detail": "Lô dữ liệu bị từ chối", "errors": [{"index": 1, "message": message}]}),
    ]
    report = sync.sync_target(_target(fake_receiver.url))
    # The named record set fails alone; the others are sent again without it.
    assert (report.synced, report.failed, report.requests) == (2, 1, 2)
    failed = RecordSync.objects.get(status=SyncStatus.FAILED)
    assert message in failed.last_error and "HTTP 400" in failed.last_error
    assert len(fake_receiver.requests[1]["body"]["record_sets"]) == 2


@pytest.mark.django_db
def test_http_refused_except_to_loopback() -> None:
    with pytest.raises(DomainError, match="HTTPS"):
        _target("http://so.example.vn/api/v1/exchange/record-sets")
    assert _target("https://so.example.vn/api").endpoint_url.startswith("https://")


@pytest.mark.django_db
def test_command_syncs_and_reports(
    issued: list[YearRecord], fake_receiver: FakeReceiver, capsys: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("HOCBA_EXCHANGE_API_KEY", "hbk_tu_bien_moi_truong")
    call_command("exchange", "target", "so-ha-noi", "--url", fake_receiver.url)
    call_command("exchange", "sync", "--target", "so-ha-noi")
    output = capsys.readouterr().out
    assert "3 phiên bản đã đồng bộ" in output
    assert fake_receiver.requests[0]["headers"]["Authorization"] == "Bearer hbk_tu_bien_moi_truong"
    call_command("exchange", "status")
    assert "so-ha-noi\tsynced\t3" in capsys.readouterr().out


@pytest.mark.django_db
def test_a_correction_sends_the_old_and_the_new_version(
    registered: Registered, issued: list[YearRecord], fake_receiver: FakeReceiver
) -> None:
    from hocba.ledger.tests.test_corrections import _fix_birthplace, _reissue
    from hocba.records import corrections
    from hocba.records.tests.conftest import compile_4a

    target = _target(fake_receiver.url)
    assert sync.sync_target(target).synced == 3
    old = issued[0]
    corrections.request_correction(
        actor=registered.world.own.users["principal"], record=old, reason="Sai nơi sinh"
    )
    _fix_birthplace(old)
    compile_4a(registered.world, user="principal")
    _reissue(registered)
    report = sync.sync_target(target)
    assert (report.requests, report.record_sets, report.synced) == (1, 1, 2)
    (record_set,) = fake_receiver.requests[-1]["body"]["record_sets"]
    versions = [(r["version"], r["status"]) for r in record_set["records"]]
    assert versions == [(1, "superseded"), (2, "issued")]
    assert record_set["records"][0]["superseded"]["reason"] == "Sai nơi sinh"
    assert sync.sync_target(target).requests == 0


@pytest.mark.django_db
def test_task_and_disabled_target(issued: list[YearRecord], fake_receiver: FakeReceiver) -> None:
    from hocba.exchange.tasks import sync_to_target

    target = _target(fake_receiver.url)
    target.enabled = False
    target.save(update_fields=["enabled"])
    assert sync_to_target.call(target.pk) == {"synced": 0, "failed": 0, "requests": 0}
    assert fake_receiver.requests == []
    target.enabled = True
    target.save(update_fields=["enabled"])
    assert sync_to_target.call(target.pk) == {"synced": 3, "failed": 0, "requests": 1}


@pytest.mark.django_db
def test_retry_after_is_honoured(issued: list[YearRecord], fake_receiver: FakeReceiver) -> None:
    fake_receiver.script = [(429, {"detail": "chậm lại"}), (200, {})]
    fake_receiver.retry_after = "3"
    waits: list[float] = []
    assert sync.sync_target(_target(fake_receiver.url), sleep=waits.append).synced == 3
    assert waits == [3.0]


@pytest.mark.django_db
def test_state_change_marks_the_synced_row_pending(
    registered: Registered, issued: list[YearRecord], fake_receiver: FakeReceiver, settings: Any
) -> None:
    target = _target(fake_receiver.url)
    sync.sync_target(target)
    issuing.revoke(
        actor=registered.world.own.users["principal"], record=issued[0], reason="Phát hành nhầm"
    )
    assert sync.mark_changed_pending(target) == 1
    assert RecordSync.objects.get(record=issued[0]).status == SyncStatus.PENDING
    assert RecordSync.objects.filter(status=SyncStatus.SYNCED).count() == 2


@pytest.mark.django_db
def test_command_exits_3_when_versions_failed(
    issued: list[YearRecord], fake_receiver: FakeReceiver, capsys: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("HOCBA_EXCHANGE_API_KEY", "hbk_khoa")
    call_command("exchange", "target", "so-ha-noi", "--url", fake_receiver.url)
    fake_receiver.script = [(403, {"detail": "Khoá API này không có quyền exchange:push."})]
    with pytest.raises(SystemExit) as exit_info:
        call_command("exchange", "sync")
    assert exit_info.value.code == 3
    output = capsys.readouterr().out
    assert "3 lỗi" in output and "exchange:push" in output
    assert set(RecordSync.objects.values_list("status", flat=True)) == {"failed"}
    assert "HTTP 403" in RecordSync.objects.first().last_error  # type: ignore[union-attr]
