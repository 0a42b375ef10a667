"""The interchange format ``hocba.record-set/1`` and the export envelope (issue 9 §2)."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import pytest
import rfc8785

from hocba.common.errors import DomainError
from hocba.ledger import issuing
from hocba.ledger.tests.conftest import *  # noqa: F403 — issued records in the log
from hocba.ledger.tests.test_corrections import _fix_birthplace, _reissue
from hocba.records import corrections, interchange
from hocba.records.models import YearRecord, YearRecordStatus
from hocba.records.tests.conftest import compile_4a
from hocba.signing.tests.conftest import Registered

pytestmark = pytest.mark.django_db

REASON = "Sai nơi sinh của học sinh so với giấy khai sinh"


def test_record_set_of_an_issued_record_validates(issued: list[YearRecord]) -> None:
    record = issued[0]
    document = interchange.pupil_record_set(record.pupil)
    interchange.validate_record_set(document)
    assert document["format"] == "hocba.record-set/1"
    assert document["origin"] == "test.hocba.local/log"
    assert document["pupil"]["ministry_code"] == record.pupil.ministry_code
    (entry,) = document["records"]
    assert (entry["record_id"], entry["version"]) == (str(record.record_id), 1)
    assert entry["status"] == "issued" and entry["school"]["code"] == record.school.code
    # The document is the signed one: its JCS hashes to the content hash.
    assert hashlib.sha256(rfc8785.dumps(entry["document"])).hexdigest() == record.content_hash
    assert entry["pdf_sha256"] == record.issuance.pdf_sha256
    assert entry["log"]["leaf_index"] == record.issuance.leaf.index
    from hocba.verification.bundle import record_proof

    assert entry["log"]["proof"] == record_proof(record)


def test_record_set_filters_by_school_year(issued: list[YearRecord]) -> None:
    pupil = issued[0].pupil
    assert interchange.pupil_record_set(pupil, school_year="2024-2025")["records"]
    assert interchange.pupil_record_set(pupil, school_year="2019-2020")["records"] == []


def test_superseded_and_revoked_versions_are_listed(
    registered: Registered, issued: list[YearRecord]
) -> None:
    principal = registered.world.own.users["principal"]
    old = issued[0]
    corrections.request_correction(actor=principal, record=old, reason=REASON)
    _fix_birthplace(old)
    compile_4a(registered.world, user="principal")
    _reissue(registered)
    issuing.revoke(actor=principal, record=issued[1], reason="Phát hành nhầm")

    document = interchange.pupil_record_set(old.pupil)
    interchange.validate_record_set(document)
    first, second = document["records"]
    assert (first["version"], first["status"]) == (1, "superseded")
    assert first["superseded"]["by_version"] == 2 and first["superseded"]["reason"] == REASON
    assert (second["version"], second["status"], second["supersedes_version"]) == (2, "issued", 1)
    revoked = interchange.pupil_record_set(issued[1].pupil)
    interchange.validate_record_set(revoked)
    assert revoked["records"][0]["status"] == YearRecordStatus.REVOKED
    assert revoked["records"][0]["revoked"]["reason"] == "Phát hành nhầm"


def test_invalid_record_set_names_the_field(issued: list[YearRecord]) -> None:
    document: dict[str, Any] = interchange.pupil_record_set(issued[0].pupil)
    broken = copy.deepcopy(document)
    broken["records"][0]["content_hash"] = "xyz"
    with pytest.raises(DomainError, match="/records/0/content_hash") as caught:
        interchange.validate_record_set(broken)
    assert caught.value.field == "/records/0/content_hash"
    broken = copy.deepcopy(document)
    del broken["records"][0]["document"]["pupil"]["given_name"]
    with pytest.raises(DomainError, match="/records/0/document/pupil"):
        interchange.validate_record_set(broken)
    json.dumps(document)  # plain JSON all the way down
