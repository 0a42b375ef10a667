"""Parent look-up (issue 7 §4): a pupil's Ministry code and a second factor → every issued year
record of the child, across schools and years, and the booklet of the valid ones.

Whether a pupil with that code exists is never revealed without the second factor: an unknown
code, a pupil with nothing issued and a wrong factor all get the same answer after the same work
(a decoy document is checked when there is nothing to check).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from hocba.common import ratelimit
from hocba.common.errors import DomainError
from hocba.ledger.copies import record_copies
from hocba.ledger.models import CopyChannel, CopyPurpose, Revocation, Supersession
from hocba.records.export import render_pupil_booklet
from hocba.records.models import YearRecord, YearRecordStatus
from hocba.schools.models import Pupil
from hocba.verification.access import Factor, document_matches
from hocba.verification.status import REVOKED, SUPERSEDED, VALID

_MINISTRY_CODE = re.compile(r"^\d{10}$")
# Checked when a code matches nothing, so that answer costs what a real check costs.
_DECOY = {
    "record": {"access_code": "22222-22222"},
    "pupil": {"date_of_birth": "1900-01-01", "full_name": "x" * 4000},
}


def normalise_ministry_code(typed: str) -> str:
    """The 10-digit Ministry code without spaces, or "" when it cannot be one."""
    compact = "".join((typed or "")[:40].split())
    return compact if _MINISTRY_CODE.match(compact) else ""


def invalid_code_message() -> str:
    return _("Mã học sinh gồm 10 chữ số, in trên học bạ và thẻ học sinh.")


def find_child(ministry_code: str, factor: Factor, *, client: str) -> int | None:
    """The pupil's id when the second factor belongs to one of their issued records, else None.

    Raises ``RateLimited`` past the per-client limit, or when this code failed too often."""
    ratelimit.hit("parent_lookup", client)
    ratelimit.check("parent_lookup_target", ministry_code)
    candidates = list(
        YearRecord.objects.filter(pupil__ministry_code=ministry_code, issuance__isnull=False)
        .exclude(status=YearRecordStatus.REVOKED)  # a revoked paper may be in the wrong hands
        .values_list("pupil_id", "canonical_json")
    )
    documents: list[tuple[int | None, dict[str, Any]]] = [
        (pupil_id, json.loads(text)) for pupil_id, text in candidates
    ] or [(None, _DECOY)]
    matches = [pupil_id for pupil_id, document in documents if document_matches(document, factor)]
    if matches and matches[0] is not None:
        return int(matches[0])
    # Counted; past the limit, the next attempt on this code is refused by the check above.
    with contextlib.suppress(ratelimit.RateLimited):
        ratelimit.hit("parent_lookup_target", ministry_code)
    return None


@dataclass
class ChildRecord:
    record: YearRecord
    state: str
    school: str
    school_year: str
    class_name: str
    result: str
    current: YearRecord | None = None
    revocation: Revocation | None = None


@dataclass
class Child:
    pupil_id: int
    full_name: str
    ministry_code: str
    date_of_birth: dt.date
    records: list[ChildRecord] = field(default_factory=list)

    @property
    def valid_records(self) -> list[YearRecord]:
        return [entry.record for entry in self.records if entry.state == VALID]


def _state(record: YearRecord) -> str:
    if record.status == YearRecordStatus.REVOKED:
        return REVOKED
    return SUPERSEDED if record.status == YearRecordStatus.SUPERSEDED else VALID


def _entry(record: YearRecord, replaced_by: dict[int, YearRecord], revocations: Any) -> ChildRecord:
    document = json.loads(record.canonical_json)
    current = None
    if record.status == YearRecordStatus.SUPERSEDED:
        current = replaced_by.get(record.pk)
        while current is not None and current.pk in replaced_by:
            current = replaced_by[current.pk]
    return ChildRecord(
        record=record,
        state=_state(record),
        school=document["school"]["name"],
        school_year=document["school_year"],
        class_name=document["class"]["name"],
        result=(document.get("year_end") or {}).get("result_label", ""),
        current=current,
        revocation=revocations.get(record.pk),
    )


def child(pupil_id: int) -> Child:
    """Every issued version of the pupil's year records, newest school year first."""
    pupil = Pupil.objects.get(pk=pupil_id)
    records = list(
        YearRecord.objects.filter(pupil=pupil, issuance__isnull=False)
        .select_related("school_year")
        .order_by("-school_year__start_year", "record_id", "-version")
    )
    replaced_by = {
        s.old_id: s.new for s in Supersession.objects.filter(old__pupil=pupil).select_related("new")
    }
    revocations = {r.record_id: r for r in Revocation.objects.filter(record__pupil=pupil)}
    return Child(
        pupil_id=pupil.pk,
        full_name=pupil.full_name,
        ministry_code=pupil.ministry_code,
        date_of_birth=pupil.date_of_birth,
        records=[_entry(record, replaced_by, revocations) for record in records],
    )


def booklet_pdf(found: Child, *, actor: Any) -> bytes:
    """The booklet of the child's valid records, oldest year first; each logged as a copy."""
    records = sorted(found.valid_records, key=lambda r: (r.school_year.start_year, r.pk))
    if not records:
        raise DomainError(_("Học sinh chưa có học bạ nào đang có hiệu lực."))
    data = render_pupil_booklet(records)
    record_copies(
        actor=actor, records=records, channel=CopyChannel.BOOKLET, purpose=CopyPurpose.PARENT
    )
    return data
