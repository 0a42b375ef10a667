"""Figures counted the slow, obvious way (a loop per pupil): the oracle the aggregate queries
are checked against."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from hocba.assessment.models import Lock
from hocba.exchange.models import RecordSync
from hocba.monitoring.figures import Figures
from hocba.records.models import YearRecord
from hocba.schools.models import Enrolment, School, SchoolClass, SchoolYear, Staff
from hocba.signing.models import SigningCertificate

TEACHER_SIGNED = {"teacher_signed", "principal_signed", "sealed", "issued"}
PRINCIPAL_SIGNED = {"principal_signed", "sealed", "issued"}
PENDING = {"awaiting_summer_reassessment", "missing_identifier"}


def _certified(staff: Staff) -> bool:
    return SigningCertificate.objects.filter(
        staff=staff, purpose="personal", retired_at__isnull=True, not_after__gt=timezone.now()
    ).exists()


def _locked(school_class: SchoolClass) -> bool:
    for lock in Lock.objects.filter(school_class=school_class, unlocked_at__isnull=True):
        if lock.is_class_finished or (not lock.subject and not lock.period):
            return True
    return False


def pupil_stages(enrolment: Enrolment) -> set[str]:
    """The columns a pupil counts in, from the versions that count (not superseded/revoked)."""
    stages: set[str] = set()
    for record in YearRecord.objects.filter(enrolment=enrolment):
        if record.status in {"superseded", "revoked"}:
            continue
        stages.add("compiled")
        if record.status in TEACHER_SIGNED:
            stages.add("teacher_signed")
        if record.status in PRINCIPAL_SIGNED:
            stages.add("principal_signed")
        if record.status == "issued":
            stages.add("issued")
        if record.status in PENDING:
            stages.add("pending")
        if RecordSync.objects.filter(record=record, status="synced").exists():
            stages.add("synced")
    return stages


def records_figures(enrolments: Iterable[Enrolment], figures: Figures) -> Figures:
    for enrolment in enrolments:
        figures.pupils += 1
        for stage in pupil_stages(enrolment):
            setattr(figures, stage, (getattr(figures, stage) or 0) + 1)
    return figures


def school_oracle(school: School, year: SchoolYear) -> Figures:
    figures = Figures()
    for staff in Staff.objects.filter(school=school):
        roles = staff.role_set
        if roles & {"homeroom_teacher", "subject_teacher"}:
            figures.teachers += 1
            figures.teachers_certified += _certified(staff)
        if roles & {"principal", "deputy_principal"}:
            figures.principals += 1
            figures.principals_certified += _certified(staff)
    for school_class in SchoolClass.objects.filter(school=school, school_year=year):
        figures.classes += 1
        figures.classes_locked += _locked(school_class)
    enrolments = Enrolment.objects.filter(
        school_class__school=school, school_year=year, left_on__isnull=True
    )
    return records_figures(enrolments, figures)


def class_oracle(school_class: SchoolClass) -> Figures:
    homeroom = school_class.homeroom_teacher
    figures = Figures(
        teachers=1 if homeroom else 0,
        teachers_certified=1 if homeroom and _certified(homeroom) else 0,
        classes=1,
        classes_locked=int(_locked(school_class)),
    )
    enrolments = Enrolment.objects.filter(school_class=school_class, left_on__isnull=True)
    return records_figures(enrolments, figures)


def summed(parts: Iterable[Figures]) -> Figures:
    total = Figures()
    for part in parts:
        total.add(part)
    return total
