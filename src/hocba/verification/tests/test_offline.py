# ruff: noqa: F811, F401 — pytest fixtures imported from reportfixtures
"""The offline verifier (issue 7 §3): a trust bundle from the deployment, then ``hocba verify``
with the database blocked (pytest-django) and, end to end, as a process with no database."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from hocba.ledger import issuing
from hocba.records.models import YearRecord
from hocba.signing.tests.conftest import Registered
from hocba.verification.bundle import load_bundle
from hocba.verification.report import VerificationError, verify_pdf
from hocba.verification.tests.reportfixtures import issued_pdf, lta_issued

pytestmark = pytest.mark.django_db


def _export(tmp_path: Path, record: YearRecord) -> tuple[Path, Path, Path]:
    """The record's PDF, its .tlog-proof and a zipped trust bundle, as files."""
    pdf = tmp_path / "hoc-ba.pdf"
    pdf.write_bytes(issued_pdf(record))
    proof = tmp_path / "hoc-ba.tlog-proof"
    call_command("verification_bundle", str(proof), record=record.short_code, stdout=io.StringIO())
    bundle = tmp_path / "bundle.zip"
    call_command("verification_bundle", str(bundle), stdout=io.StringIO())
    return pdf, proof, bundle


def _verify(django_db_blocker: Any, *args: str) -> tuple[int, str]:
    """``hocba verify`` in this process with every database access refused."""
    out = io.StringIO()
    code = 0
    with django_db_blocker.block(), redirect_stdout(out):
        try:
            call_command("verify", *args, stdout=out, stderr=out)
        except SystemExit as exit_:
            code = int(exit_.code or 0)
    return code, out.getvalue()


def test_offline_verification_passes_without_a_database(
    lta_issued: list[YearRecord],
    tmp_path: Path,
    django_db_blocker: Any,
) -> None:
    pdf, proof, bundle = _export(tmp_path, lta_issued[0])
    code, output = _verify(
        django_db_blocker, str(pdf), "--bundle", str(bundle), "--proof", str(proof), "--json"
    )
    report = json.loads(output)
    assert code == 0, output
    assert (report["verdict"], report["indication"], report["mode"]) == (
        "VALID",
        "TOTAL_PASSED",
        "offline",
    )
    assert report["log"]["check"] == "PASSED" and report["log"]["source"] == "proof_file"
    assert report["status"] == {
        **report["status"],
        "state": "valid",
        "source": "status_list",
    }
    # The same in Vietnamese text; the proof next to the PDF is found without --proof.
    code, text = _verify(django_db_blocker, str(pdf), "--bundle", str(bundle))
    assert code == 0 and "Tệp học bạ hợp lệ" in text and "Giáo viên chủ nhiệm" in text
    # The DB really is blocked inside _verify.
    with django_db_blocker.block(), pytest.raises(RuntimeError, match="Database access"):
        YearRecord.objects.count()


def test_without_a_proof_the_log_and_status_are_indeterminate(
    lta_issued: list[YearRecord],
    tmp_path: Path,
    django_db_blocker: Any,
) -> None:
    pdf, proof, bundle = _export(tmp_path, lta_issued[0])
    proof.unlink()
    code, output = _verify(django_db_blocker, str(pdf), "--bundle", str(bundle), "--json")
    report = json.loads(output)
    assert code == 2
    assert report["indication"] == "TOTAL_PASSED" and report["verdict"] == "INDETERMINATE"
    assert report["reasons"] == ["LOG_UNCHECKED", "STATUS_UNKNOWN"]
    assert "--proof" in report["log"]["explanation"]


def test_offline_status_list_shows_a_revocation(
    registered: Registered,
    lta_issued: list[YearRecord],
    tmp_path: Path,
    django_db_blocker: Any,
) -> None:
    record = lta_issued[2]
    issuing.revoke(
        actor=registered.world.own.users["principal"], record=record, reason="Cấp nhầm học sinh"
    )
    pdf, proof, bundle = _export(tmp_path, record)
    code, output = _verify(
        django_db_blocker, str(pdf), "--bundle", str(bundle), "--proof", str(proof), "--json"
    )
    report = json.loads(output)
    assert code == 1
    assert report["status"]["state"] == "revoked" and report["reasons"] == ["RECORD_REVOKED"]


def test_a_proof_for_another_record_does_not_match(
    lta_issued: list[YearRecord],
    tmp_path: Path,
) -> None:
    pdf, _proof, bundle = _export(tmp_path, lta_issued[0])
    other = tmp_path / "other.tlog-proof"
    call_command(
        "verification_bundle", str(other), record=lta_issued[1].short_code, stdout=io.StringIO()
    )
    report = verify_pdf(
        pdf.read_bytes(), trust=load_bundle(bundle), proof=other.read_text(encoding="utf-8")
    )
    assert report.log["check"] == "FAILED" and "LOG_MISMATCH" in report.reasons
    assert report.status["state"] == "unknown"


def test_a_tampered_bundle_is_refused(
    lta_issued: list[YearRecord],
    tmp_path: Path,
) -> None:
    folder = tmp_path / "bundle"
    call_command("verification_bundle", str(folder), stdout=io.StringIO())
    assert load_bundle(folder).status_list is not None
    status = folder / "status-list.txt"
    status.write_text(status.read_text().replace('"logSize":', '"logSize":1', 1))
    with pytest.raises(VerificationError, match="không được ký bằng khoá của sổ cái"):
        load_bundle(folder)
    with pytest.raises(VerificationError, match="không phải gói tin cậy"):
        load_bundle(tmp_path)


def test_hocba_verify_runs_as_a_process_with_no_database(
    lta_issued: list[YearRecord],
    tmp_path: Path,
) -> None:
    pdf, proof, bundle = _export(tmp_path, lta_issued[0])
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE", "HOCBA_", "DEBUG", "SECRET"))
    }
    # A database that does not exist: any access would fail the command.
    env.update(
        DATABASE_URL="postgres://nobody@127.0.0.1:9/nowhere",
        HOCBA_DATA_DIR=str(tmp_path / "data"),
        HOCBA_TRUST_BUNDLE=str(bundle),
    )
    hocba = Path(sys.executable).parent / "hocba"
    done = subprocess.run(
        [str(hocba), "verify", str(pdf), "--proof", str(proof)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Tệp học bạ hợp lệ" in done.stdout
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"not a pdf at all")
    refused = subprocess.run(
        [str(hocba), "verify", str(broken)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert refused.returncode == 3 and "không phải là tệp PDF" in refused.stderr
