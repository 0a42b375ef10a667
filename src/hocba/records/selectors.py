"""Read-side helpers for year records: who may compile, whether a class is locked, look-ups."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from hocba.assessment.models import Lock
from hocba.records.codes import normalise_short_code
from hocba.records.models import Correction, CorrectionStatus, YearRecord, YearRecordStatus
from hocba.schools import access
from hocba.schools.models import Enrolment, SchoolClass


def can_compile(user: Any, school_class: SchoolClass) -> bool:
    """The class's homeroom teacher, the school's managers, or a system administrator."""
    return (
        access.is_system_admin(user)
        or access.can_enter_homeroom(user, school_class)
        or access.is_school_manager(user, school_class.school)
    )


def class_is_locked(school_class: SchoolClass) -> bool:
    """Locked: the homeroom teacher's "finished", or an active lock on the whole class."""
    return Lock.objects.filter(
        Q(is_class_finished=True) | Q(subject="", period=""),
        school_class=school_class,
        unlocked_at__isnull=True,
    ).exists()


def current_versions(records: QuerySet[YearRecord] | None = None) -> QuerySet[YearRecord]:
    """Each enrolment's current version: the newest one not superseded. During a correction that
    is the new version in the works, while the issued one stays valid until it is replaced."""
    records = YearRecord.objects.all() if records is None else records
    newer = YearRecord.objects.filter(
        enrolment=OuterRef("enrolment"), version__gt=OuterRef("version")
    ).exclude(status=YearRecordStatus.SUPERSEDED)
    return records.exclude(status=YearRecordStatus.SUPERSEDED).exclude(Exists(newer))


def current_record(enrolment: Enrolment) -> YearRecord | None:
    return current_versions(YearRecord.objects.filter(enrolment=enrolment)).first()


def issued_record(enrolment: Enrolment) -> YearRecord | None:
    return YearRecord.objects.filter(enrolment=enrolment, status=YearRecordStatus.ISSUED).first()


def open_correction(enrolment: Enrolment | int) -> Correction | None:
    return (
        Correction.objects.filter(enrolment=enrolment, status=CorrectionStatus.OPEN)
        .select_related("original")
        .first()
    )


def versions_of(enrolment: Enrolment) -> QuerySet[YearRecord]:
    return YearRecord.objects.filter(enrolment=enrolment).order_by("version")


def class_records(school_class: SchoolClass) -> QuerySet[YearRecord]:
    """The current version of each pupil's record in a class."""
    return current_versions(
        YearRecord.objects.filter(enrolment__school_class=school_class)
    ).select_related("pupil", "enrolment")


def record_by_short_code(typed: str) -> YearRecord | None:
    code = normalise_short_code(typed)
    return YearRecord.objects.filter(short_code=code).first() if code else None
