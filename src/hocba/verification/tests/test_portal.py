"""The second factor on the public status page: details and a logged download, nothing else."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.test import Client

from hocba.audit.models import AuditEvent
from hocba.common import ratelimit
from hocba.ledger import issuing
from hocba.ledger.models import CopyIssued, LogLeaf
from hocba.records.models import YearRecord
from hocba.verification import access
from hocba.verification.tests.portal_helpers import access_code, clean_limits  # noqa: F401

pytestmark = pytest.mark.django_db

WRONG = "Mã truy cập hoặc ngày sinh không đúng"


def _page(client: Client, record: YearRecord) -> str:
    return client.get(f"/xac-thuc/{record.short_code}").content.decode()


def _dob(record: YearRecord) -> str:
    return record.pupil.date_of_birth.strftime("%d/%m/%Y")


def _post(client: Client, record: YearRecord, **data: str) -> Any:
    return client.post(f"/xac-thuc/{record.short_code}", data)


def test_wrong_factor_reveals_nothing_and_logs_nothing(issued: list[YearRecord]) -> None:
    record, client = issued[0], Client()
    leaves, events = LogLeaf.objects.count(), AuditEvent.objects.count()
    for typed in ({"access_code": "22222-33333"}, {"date_of_birth": "11/11/2011"}):
        response = _post(client, record, **typed)
        page = response.content.decode()
        assert response.status_code == 200
        assert WRONG in page and 'data-state="valid"' in page
        assert record.pupil.full_name not in page and "data-unlocked" not in page
        assert "11/11/2011" not in page and "22222" not in page  # the typed value is not echoed
    assert client.get(f"/xac-thuc/{record.short_code}/hoc-ba.pdf").status_code == 404
    assert (LogLeaf.objects.count(), AuditEvent.objects.count()) == (leaves, events)
    assert not CopyIssued.objects.exists()
    assert record.pupil.full_name not in _page(client, record)


def test_access_code_unlocks_details_and_a_logged_download(issued: list[YearRecord]) -> None:
    record, client = issued[0], Client()
    typed = access_code(record).replace("-", "").lower()  # as retyped from paper
    response = _post(client, record, access_code=typed)
    assert response.status_code == 302 and response["Location"] == f"/xac-thuc/{record.short_code}"
    page = _page(client, record)
    assert record.pupil.full_name in page and _dob(record) in page
    assert "Toán" in page and "Kết quả cuối năm" in page and "Tải học bạ đã ký (PDF)" in page
    assert record.short_code in page and 'data-state="valid"' in page
    # Another record of the same class stays masked.
    assert issued[1].pupil.full_name not in _page(client, issued[1])
    assert (
        Client()
        .get(f"/xac-thuc/{record.short_code}")
        .content.decode()
        .count(record.pupil.full_name)
        == 0
    )

    pdf = client.get(f"/xac-thuc/{record.short_code}/hoc-ba.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and pdf["Cache-Control"] == "no-store"
    copy = CopyIssued.objects.get()
    assert (copy.record, copy.channel, copy.purpose, copy.issued_by) == (
        record,
        "download",
        "check",
        None,
    )
    assert copy.leaf.event_type == "copy_issued"


def test_date_of_birth_unlocks_for_a_while(settings: Any, issued: list[YearRecord]) -> None:
    settings.HOCBA_VERIFY_UNLOCK_SECONDS = 600
    record, client = issued[0], Client()
    with time_machine.travel(dt.datetime(2025, 6, 1, 8, 0, tzinfo=dt.UTC), tick=False) as clock:
        born = record.pupil.date_of_birth
        typed = f" {born.day}/{born.month}/{born.year} "  # no leading zeros, stray spaces
        assert _post(client, record, date_of_birth=typed).status_code == 302
        assert record.pupil.full_name in _page(client, record)
        clock.shift(dt.timedelta(seconds=601))
        page = _page(client, record)
    assert record.pupil.full_name not in page and "Xem đầy đủ thông tin" in page


def test_nothing_typed_asks_for_a_factor(issued: list[YearRecord]) -> None:
    page = _post(Client(), issued[0], access_code="", date_of_birth="").content.decode()
    assert "Hãy nhập mã truy cập" in page and issued[0].pupil.full_name not in page


def test_factor_attempts_hit_the_limit_and_it_resets(
    settings: Any, monkeypatch: pytest.MonkeyPatch, issued: list[YearRecord]
) -> None:
    settings.HOCBA_RATE_LIMITS = {"verify_factor": (3, 60)}
    monkeypatch.setattr(ratelimit, "now", lambda: 1_000_040.0)
    record, client = issued[0], Client()
    for _attempt in range(3):
        assert _post(client, record, access_code="22222-33333").status_code == 200
    refused = _post(client, record, access_code=access_code(record))
    assert refused.status_code == 429
    assert "quá nhiều yêu cầu" in refused.content.decode()
    assert refused["Retry-After"] == "40"
    assert record.pupil.full_name not in _page(client, record)
    # Another address has its own allowance; the next window starts afresh.
    assert (
        _post(Client(REMOTE_ADDR="10.0.0.9"), record, access_code="22222-33333").status_code == 200
    )
    monkeypatch.setattr(ratelimit, "now", lambda: 1_000_081.0)
    assert _post(client, record, access_code=access_code(record)).status_code == 302


def test_failures_on_one_record_lock_it_from_every_address(
    settings: Any, issued: list[YearRecord]
) -> None:
    settings.HOCBA_RATE_LIMITS = {"verify_factor_record": (2, 3600)}
    record = issued[0]
    for address in ("10.0.0.1", "10.0.0.2"):
        assert (
            _post(Client(REMOTE_ADDR=address), record, date_of_birth="01/01/2011").status_code
            == 200
        )
    locked = _post(Client(REMOTE_ADDR="10.0.0.3"), record, access_code=access_code(record))
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0
    # Other records are not affected.
    other = Client(REMOTE_ADDR="10.0.0.3")
    assert _post(other, issued[1], access_code=access_code(issued[1])).status_code == 302


def test_revoked_record_shows_details_but_no_download(
    registered: Any, issued: list[YearRecord]
) -> None:
    record = issued[2]
    issuing.revoke(
        actor=registered.world.own.users["principal"],
        record=record,
        reason="Phát hành nhầm cho học sinh khác",
    )
    client = Client()
    assert _post(client, record, access_code=access_code(record)).status_code == 302
    page = _page(client, record)
    assert 'data-state="revoked"' in page and record.pupil.full_name in page
    assert "Tải học bạ đã ký" not in page
    assert client.get(f"/xac-thuc/{record.short_code}/hoc-ba.pdf").status_code == 404
    assert not CopyIssued.objects.exists()


def test_unknown_code_page_echoes_nothing(issued: list[YearRecord]) -> None:
    response = Client().post("/xac-thuc/HB22-2222-2222", {"date_of_birth": _dob(issued[0])})
    assert response.status_code == 404 and _dob(issued[0]) not in response.content.decode()


def test_parse_date_of_birth_and_factor() -> None:
    assert access.parse_date_of_birth("27/09/2015") == dt.date(2015, 9, 27)
    assert access.parse_date_of_birth("2015-09-27") == dt.date(2015, 9, 27)
    assert access.parse_date_of_birth("31/02/2015") is None
    assert access.parse_date_of_birth("09/27/2015") is None
    factor = access.parse_factor("7qk4m w2zp9", "")
    assert factor.access_code == "7QK4M-W2ZP9" and factor.supplied and not factor.malformed
    assert access.parse_factor("abc", "").malformed


def test_older_record_without_access_code_still_takes_the_date_of_birth() -> None:
    document = {"record": {}, "pupil": {"date_of_birth": "2015-09-27"}}
    assert not access.document_matches(document, access.parse_factor("7QK4M-W2ZP9", ""))
    assert access.document_matches(document, access.parse_factor("", "27/09/2015"))
    assert not access.document_matches(document, access.parse_factor("", "28/09/2015"))
