"""Signing status for class and school pages (issue 5 §6): who signed what, what waits for whom."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, QuerySet

from hocba.records.export import class_entries
from hocba.records.models import YearRecord, YearRecordStatus
from hocba.records.selectors import current_versions
from hocba.schools.models import Pupil, School, SchoolClass, SchoolYear
from hocba.signing.models import (
    CertificatePurpose,
    RecordSignature,
    SigningBatch,
    SigningCertificate,
    SigningStep,
)

# Where each status stands in the signing sequence, and who it waits for.
WAITS_FOR = {
    YearRecordStatus.COMPILED: SigningStep.TEACHER,
    YearRecordStatus.TEACHER_SIGNED: SigningStep.PRINCIPAL,
    YearRecordStatus.PRINCIPAL_SIGNED: SigningStep.SEAL,
}
PIPELINE = [
    YearRecordStatus.COMPILED,
    YearRecordStatus.TEACHER_SIGNED,
    YearRecordStatus.PRINCIPAL_SIGNED,
    YearRecordStatus.SEALED,
    YearRecordStatus.ISSUED,
]


@dataclass(frozen=True)
class PupilSigning:
    position: int
    pupil: Pupil
    record: YearRecord | None
    signatures: dict[str, RecordSignature]

    @property
    def waits_for(self) -> str:
        if self.record is None:
            return ""
        step = WAITS_FOR.get(YearRecordStatus(self.record.status))
        return str(SigningStep(step).label) if step else ""


@dataclass
class StatusCounts:
    total: int = 0
    by_status: Counter[str] = field(default_factory=Counter)

    def get(self, status: str) -> int:
        return self.by_status.get(status, 0)

    @property
    def columns(self) -> list[int]:
        return [self.get(status) for status in PIPELINE]


def class_signing(school_class: SchoolClass) -> list[PupilSigning]:
    entries = class_entries(school_class)
    records = [e.record for e in entries if e.record is not None]
    signatures: dict[int, dict[str, RecordSignature]] = {}
    for signature in RecordSignature.objects.filter(record__in=records).order_by("signed_at"):
        signatures.setdefault(signature.record_id, {})[signature.step] = signature
    return [
        PupilSigning(
            position=e.position,
            pupil=e.pupil,
            record=e.record,
            signatures=signatures.get(e.record.pk, {}) if e.record else {},
        )
        for e in entries
    ]


def counts_by_class(school: School, school_year: SchoolYear) -> dict[int, StatusCounts]:
    """For each class of the school, how many current records stand at each status."""
    rows = (
        current_versions(YearRecord.objects.filter(school=school, school_year=school_year))
        .values("enrolment__school_class_id", "status")
        .annotate(n=Count("pk"))
    )
    counts: dict[int, StatusCounts] = {}
    for row in rows:
        entry = counts.setdefault(row["enrolment__school_class_id"], StatusCounts())
        entry.by_status[row["status"]] += row["n"]
        entry.total += row["n"]
    return counts


def certificates_of(user: Any) -> QuerySet[SigningCertificate]:
    personal = SigningCertificate.objects.filter(
        staff__user=user, purpose=CertificatePurpose.PERSONAL
    )
    return personal.select_related("school").order_by("retired_at", "-registered_at")


def seal_certificates(school: School) -> QuerySet[SigningCertificate]:
    return SigningCertificate.objects.filter(
        school=school, purpose=CertificatePurpose.SEAL
    ).order_by("retired_at", "-registered_at")


def recent_batches(*, user: Any = None, school: School | None = None) -> QuerySet[SigningBatch]:
    batches = SigningBatch.objects.select_related("school_class", "certificate", "requested_by")
    if user is not None:
        batches = batches.filter(requested_by=user)
    if school is not None:
        batches = batches.filter(school=school)
    return batches.order_by("-requested_at", "-pk")[:20]
