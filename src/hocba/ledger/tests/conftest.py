"""Ledger fixtures: a fresh log key per test; the signing fixtures for sealed records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hocba.records.models import YearRecord, YearRecordStatus
from hocba.signing.models import SigningStep
from hocba.signing.tests.conftest import *  # noqa: F403 — the signing fixtures (registered, ...)
from hocba.signing.tests.conftest import Registered
from hocba.signing.tests.test_batch import _sign


@pytest.fixture(autouse=True)
def log_key(settings: Any, tmp_path: Path) -> Path:
    path = tmp_path / "ledger" / "log.key"
    settings.HOCBA_LEDGER_KEY_FILE = str(path)
    settings.HOCBA_LEDGER_ORIGIN = "test.hocba.local/log"
    return path


@pytest.fixture
def sealed(registered: Registered, compiled: list[YearRecord]) -> list[YearRecord]:
    """Class 4A's three records signed by the teacher, the principal and the school seal."""
    _sign(registered, SigningStep.TEACHER, "homeroom_teacher")
    _sign(registered, SigningStep.PRINCIPAL, "principal", whole_school=True)
    _sign(registered, SigningStep.SEAL, "principal", whole_school=True)
    records = list(YearRecord.objects.filter(pk__in=[r.pk for r in compiled]).order_by("pk"))
    assert {r.status for r in records} == {YearRecordStatus.SEALED}
    return records


@pytest.fixture
def issued(sealed: list[YearRecord]) -> list[YearRecord]:
    """The three sealed records issued into the log."""
    from hocba.ledger import issuing

    assert issuing.issue_sealed([r.pk for r in sealed]) == (3, [])
    return [YearRecord.objects.select_related("pupil", "school").get(pk=r.pk) for r in sealed]
