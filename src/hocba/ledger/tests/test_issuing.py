"""Issuing sealed records: one leaf each, status issued, a proof bundle that verifies offline."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection, transaction

from hocba.ledger import issuing, keys, services
from hocba.ledger.models import IssuedRecord, LogLeaf, ProofBundle
from hocba.records.models import YearRecord, YearRecordStatus
from hocba.signing.batch import current_pdf

pytestmark = pytest.mark.django_db


def test_issue_sealed_records(sealed: list[YearRecord]) -> None:
    count, failures = issuing.issue_sealed([r.pk for r in sealed])
    assert (count, failures) == (3, [])
    public = keys.verifier_key()
    for record in sealed:
        record.refresh_from_db()
        assert record.status == YearRecordStatus.ISSUED
        issuance = IssuedRecord.objects.get(record=record)
        pdf_sha256 = hashlib.sha256(current_pdf(record)).hexdigest()
        assert issuance.pdf_sha256 == pdf_sha256
        event = json.loads(issuance.leaf.event)
        assert event["type"] == "issued"
        assert event["record_id"] == str(record.record_id)
        assert event["content_hash"] == record.content_hash
        assert event["pdf_sha256"] == pdf_sha256
        assert event["time"].endswith("Z")
        bundle = issuing.latest_bundle(record)
        assert bundle is not None
        assert services.verify_bundle(bundle.text, public, issuance.leaf.leaf_hash)


def test_issuing_twice_issues_nothing_twice(sealed: list[YearRecord]) -> None:
    issuing.issue_sealed([sealed[0].pk])
    count, failures = issuing.issue_sealed([r.pk for r in sealed])
    assert (count, failures) == (2, [])
    assert issuing.issue_sealed([r.pk for r in sealed]) == (0, [])
    assert LogLeaf.objects.count() == 3
    assert ProofBundle.objects.count() == 3


def test_record_not_sealed_is_skipped(compiled: list[YearRecord]) -> None:
    assert issuing.issue_sealed([r.pk for r in compiled]) == (0, [])
    assert LogLeaf.objects.count() == 0
    assert {r.status for r in YearRecord.objects.all()} == {YearRecordStatus.COMPILED}


def test_missing_bundles_made_by_next_run(
    sealed: list[YearRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(issuing, "make_missing_bundles", lambda: 0)
    assert issuing.issue_sealed([sealed[0].pk]) == (1, [])
    assert ProofBundle.objects.count() == 0
    monkeypatch.undo()
    assert issuing.issue_sealed([]) == (0, [])
    assert ProofBundle.objects.count() == 1


def test_tampered_pdf_is_a_failure_and_stays_sealed(sealed: list[YearRecord]) -> None:
    signature = sealed[0].signatures.order_by("-signed_at", "-pk").first()
    assert signature is not None
    with default_storage.open(signature.pdf_file, "wb") as handle:
        handle.write(b"%PDF-1.7 not the signed file")
    count, failures = issuing.issue_sealed([r.pk for r in sealed])
    assert count == 2
    assert [pk for pk, _message in failures] == [sealed[0].pk]
    sealed[0].refresh_from_db()
    assert sealed[0].status == YearRecordStatus.SEALED


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_issuedrecord SET pdf_sha256 = 'x'",
        "DELETE FROM ledger_issuedrecord",
        "UPDATE ledger_proofbundle SET text = 'x'",
        "DELETE FROM ledger_proofbundle",
    ],
)
def test_issued_rows_are_append_only(sealed: list[YearRecord], statement: str) -> None:
    issuing.issue_sealed([sealed[0].pk])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert IssuedRecord.objects.count() == ProofBundle.objects.count() == 1
