"""Helpers for the portal tests: a clean rate-limit cache, a record issued at another school."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.db import transaction

from hocba.ledger import issuing, services
from hocba.ledger.models import EventType, IssuedRecord
from hocba.records.canonical import canonical_bytes
from hocba.records.codes import new_access_code, new_short_code
from hocba.records.models import YearRecord, YearRecordStatus
from hocba.schools.models import Enrolment

_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"|"X-CSRFToken": "[^"]*"')


@pytest.fixture(autouse=True)
def clean_limits() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def without_csrf(html: str) -> str:
    return _CSRF.sub("", html)


def access_code(record: YearRecord) -> str:
    code: str = json.loads(record.canonical_json)["record"]["access_code"]
    return code


def issue_earlier_year(record: YearRecord) -> YearRecord:
    """The pupil's grade-3 record at the other school (``_previous_years``), issued into the log.

    Its content is ``record``'s with that school, year and class: enough for the portal, which
    reads the stored document; it has no signatures, so its PDF is rendered afresh."""
    enrolment = Enrolment.objects.select_related("school_class__school", "school_year").get(
        pupil=record.pupil, school_year__name="2023-2024"
    )
    document = json.loads(record.canonical_json)
    short_code = new_short_code()
    document["record"] |= {
        "id": str(uuid.uuid4()),
        "short_code": short_code,
        "access_code": new_access_code(),
        "verify_url": f"http://testserver/xac-thuc/{short_code}",
    }
    document["school_year"] = enrolment.school_year.name
    document["school"] |= {
        "name": "Trường Tiểu học B (tên cũ)",
        "code": enrolment.school_class.school.code,
    }
    document["class"] = {"name": "3A", "grade": 3}
    data = canonical_bytes(document)
    now = dt.datetime.now(dt.UTC)
    with transaction.atomic():
        earlier = YearRecord.objects.create(
            record_id=uuid.UUID(document["record"]["id"]),
            enrolment=enrolment,
            pupil=record.pupil,
            school=enrolment.school_class.school,
            school_year=enrolment.school_year,
            status=YearRecordStatus.ISSUED,
            short_code=short_code,
            canonical_json=data.decode(),
            content_hash=hashlib.sha256(data).hexdigest(),
            compiled_at=now,
        )
        pdf_sha256 = hashlib.sha256(b"rendered on demand").hexdigest()
        leaf = services.append(
            EventType.ISSUED, issuing.issued_event(earlier, pdf_sha256, now), record=earlier
        )
        IssuedRecord.objects.create(record=earlier, leaf=leaf, pdf_sha256=pdf_sha256, issued_at=now)
    return earlier
