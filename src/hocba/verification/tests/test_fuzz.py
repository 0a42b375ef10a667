# ruff: noqa: F811, F401 — pytest fixtures imported from reportfixtures
"""Hostile input (issue 7 §6): mutated, truncated, encrypted, huge or non-PDF files get a report
or a clear Vietnamese refusal in bounded time, never another exception."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyhanko.pdf_utils.writer import PdfFileWriter

from hocba.records.models import YearRecord
from hocba.verification.online import verify_pdf_online
from hocba.verification.report import (
    INDETERMINATE,
    TOTAL_FAILED,
    TOTAL_PASSED,
    ValidationReport,
    VerificationError,
    verify_pdf,
)
from hocba.verification.tests.reportfixtures import (
    issued_pdf,
    lta_issued,
    offline_bundle,
)

pytestmark = pytest.mark.django_db

VIETNAMESE = set("ăâđêôơưáàảãạếềểễệốồổỗộớờởỡợứừửữựíìỉĩịúùủũụýỳỷỹỵéèẻẽẹóòỏõọ")
EXAMPLES = 50
DEADLINE_MS = 2000  # the slowest mutated file took 0.97 s here (2 cores)


def _is_vietnamese(message: str) -> bool:
    return bool(message) and bool(VIETNAMESE & set(message.lower()))


def _mutate(data: bytes, kind: str, position: int, size: int, value: int) -> bytes:
    at = position % len(data)
    if kind == "flip":
        changed = bytearray(data)
        for offset in range(size):
            changed[(at + offset) % len(data)] ^= value or 1
        return bytes(changed)
    if kind == "truncate":
        return data[:at]
    if kind == "insert":
        return data[:at] + bytes([value]) * size + data[at:]
    return data[:at] + data[at + size * 64 :]  # "delete"


def test_mutated_pdfs_get_a_report_or_a_refusal(
    lta_issued: list[YearRecord],
    tmp_path: Path,
) -> None:
    original = issued_pdf(lta_issued[0])
    trust = offline_bundle(tmp_path / "bundle")
    outcomes = {"report": 0, "refused": 0}
    slowest = 0.0

    @settings(
        max_examples=EXAMPLES,
        deadline=DEADLINE_MS,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        kind=st.sampled_from(["flip", "truncate", "insert", "delete"]),
        position=st.integers(min_value=0, max_value=len(original) - 1),
        size=st.integers(min_value=1, max_value=64),
        value=st.integers(min_value=0, max_value=255),
    )
    def check(kind: str, position: int, size: int, value: int) -> None:
        nonlocal slowest
        data = _mutate(original, kind, position, size, value)
        started = time.perf_counter()
        try:
            report = verify_pdf(data, trust=trust)
        except VerificationError as error:
            assert _is_vietnamese(error.message), error.message
            outcomes["refused"] += 1
        else:
            assert isinstance(report, ValidationReport)
            assert report.indication in {TOTAL_PASSED, TOTAL_FAILED, INDETERMINATE}
            assert report.verdict != "VALID"  # no proof offline: never fully valid
            assert ValidationReport.from_json(report.to_json()) == report
            outcomes["report"] += 1
        slowest = max(slowest, time.perf_counter() - started)

    check()
    # Both outcomes occur: most mutations leave a readable PDF whose signatures fail.
    assert outcomes["report"] > 0 and outcomes["refused"] > 0, outcomes
    assert slowest < DEADLINE_MS / 1000


def _encrypted_pdf() -> bytes:
    writer = PdfFileWriter()
    writer.encrypt("chủ sở hữu", "người dùng")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"PK\x03\x04 this is a zip, not a PDF", "không phải là tệp PDF"),
        (b"", "không phải là tệp PDF"),
        (b"%PDF-1.7\n" + b"garbage " * 100, "bị hỏng"),
        (
            b"%PDF-1.7\n" + b"".join(b"%d 0 obj\nnull\nendobj\n" % i for i in range(100_001)),
            "quá nhiều đối tượng",
        ),
    ],
    ids=["zip", "empty", "garbage", "object-count"],
)
def test_hostile_files_are_refused_clearly(data: bytes, expected: str, settings_: None) -> None:
    started = time.perf_counter()
    with pytest.raises(VerificationError, match=expected) as refused:
        verify_pdf_online(data)
    assert _is_vietnamese(refused.value.message)
    assert time.perf_counter() - started < 5


def test_an_encrypted_pdf_is_refused(settings_: None) -> None:
    with pytest.raises(VerificationError, match="mã hoá") as refused:
        verify_pdf_online(_encrypted_pdf())
    assert "mật khẩu" in refused.value.message


def test_files_over_the_size_limit_are_refused_before_parsing(settings: object) -> None:
    settings.HOCBA_VERIFY_MAX_BYTES = 1024  # type: ignore[attr-defined]
    with pytest.raises(VerificationError, match="Tệp quá lớn"):
        verify_pdf_online(b"%PDF-1.7\n" + b"0" * 2048)  # not parseable: refused by size first


@pytest.fixture
def settings_(settings: object) -> None:
    settings.HOCBA_VERIFY_MAX_BYTES = 20 * 1024 * 1024  # type: ignore[attr-defined]
