"""The demo's records at every stage of their life (issues 5 and 6).

- Dịch Vọng A: every class finished and compiled, every computable record signed by its
  homeroom teacher, the principal and the school seal, given long-term validation data and issued
  into the transparency log;
- Nghĩa Tân: class 4A compiled and waiting for its homeroom teacher (``gv.nghiatan.4a``), class
  5A signed by its teacher and waiting for the principal (``ht.nghiatan``);
- Kim Liên: nothing compiled yet.

Signing needs a timestamp authority; the demo server is not running yet while the demo is
seeded, so the demo TSA answers from a thread for the duration. Idempotent: a class that already
has records is left as it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction

from hocba.assessment import services as assessment_services
from hocba.assessment.models import Lock
from hocba.common.errors import DomainError
from hocba.records.models import YearRecord, YearRecordStatus
from hocba.records.services import compile_class
from hocba.schools.demo import DEMO_PASSWORD
from hocba.schools.models import Role, School, SchoolClass, SchoolYear, Staff
from hocba.signing import services, tsa
from hocba.signing.batch import run_batch
from hocba.signing.demo import DEMO_PIN
from hocba.signing.models import BatchStatus, SigningStep
from hocba.signing.pki import DemoPki

ISSUED_SCHOOL = "01005101"  # Dịch Vọng A
WAITING_SCHOOL = "01005102"  # Nghĩa Tân
WAITING_FOR_TEACHER = "4A"
WAITING_FOR_PRINCIPAL = "5A"


@dataclass
class DemoRecords:
    compiled: int = 0
    sealed: int = 0
    issued: int = 0
    corrected: str = ""  # short code of the demo's superseded version
    notes: list[str] = field(default_factory=list)


@contextmanager
def _timestamp_authority(pki: DemoPki) -> Iterator[None]:
    authority = tsa.DemoTsa.from_files(pki.tsa_cert, pki.tsa_key, (pki.issuing_cert, pki.root_cert))
    saved = settings.TSA_URL
    with tsa.serve(authority) as url:
        settings.TSA_URL = url
        try:
            yield
        finally:
            settings.TSA_URL = saved


def _compile(school_class: SchoolClass) -> int:
    """Finish and compile a class not compiled yet; how many records it got."""
    if YearRecord.objects.filter(enrolment__school_class=school_class).exists():
        return 0
    teacher = school_class.homeroom_teacher.user if school_class.homeroom_teacher else None
    if teacher is None:
        return 0
    with transaction.atomic():
        if not Lock.objects.filter(
            school_class=school_class, is_class_finished=True, unlocked_at__isnull=True
        ).exists():
            assessment_services.finish_class(actor=teacher, school_class=school_class)
        report = compile_class(actor=teacher, school_class=school_class)
    return len([o for o in report.outcomes if o.outcome != "skipped"])


def _sign(actor: Any, step: str, pki: DemoPki, **scope: Any) -> int:
    """One batch for every record waiting for ``step`` in the scope, worked at once."""
    school = scope.get("school") or scope["school_class"].school
    certificate = services.usable_certificates(actor, step, school).first()
    if certificate is None:
        return 0
    pin = pki.seals[school.code].pin if step == SigningStep.SEAL else DEMO_PIN
    try:
        batch = services.start_batch(
            actor, step=step, certificate=certificate, password=DEMO_PASSWORD, pin=pin, **scope
        )
    except DomainError:
        return 0  # nothing waiting for this step
    run_batch(batch.pk)
    batch.refresh_from_db()
    return batch.done_count if batch.status == BatchStatus.DONE else 0


def _issue(school: School, school_year: SchoolYear) -> int:
    """Long-term validation data, then the log: the school's sealed records become issued."""
    from hocba.signing import longterm, registry
    from hocba.signing.tasks import issue_augmented
    from hocba.signing.tsa import configured_timestamper

    sealed = list(
        YearRecord.objects.filter(
            school=school, school_year=school_year, status=YearRecordStatus.SEALED
        ).values_list("pk", flat=True)
    )
    longterm.augment_sealed(
        sealed, trust=registry.trust_store(), timestamper=configured_timestamper()
    )
    issued, _failures = issue_augmented(sealed)
    return issued


DEMO_CORRECTION = "Sai nơi sinh so với giấy khai sinh (phụ huynh báo sau khi nhận học bạ)"


def _correct_one(school: School, school_year: SchoolYear, principal: Any, pki: DemoPki) -> str:
    """The life of a correction: the first issued record of the school's first class is
    corrected (birthplace fixed), re-signed, sealed and issued; its old version is superseded.
    Returns the old version's short code."""
    from hocba.records.corrections import request_correction

    record = (
        YearRecord.objects.filter(
            school=school, school_year=school_year, status=YearRecordStatus.ISSUED
        )
        .select_related("pupil", "enrolment__school_class__homeroom_teacher__user")
        .order_by("enrolment__school_class__grade", "enrolment__school_class__name", "pk")
        .first()
    )
    school_class = record.enrolment.school_class if record else None
    if record is None or school_class is None or school_class.homeroom_teacher is None:
        return ""
    with transaction.atomic():
        request_correction(actor=principal, record=record, reason=DEMO_CORRECTION)
        pupil = record.pupil
        fixed = "Bệnh viện Phụ sản Hà Nội"
        pupil.birthplace = fixed if pupil.birthplace != fixed else "Thành phố Hà Nội"
        pupil.save(update_fields=["birthplace"])
        compile_class(actor=principal, school_class=school_class)
    _sign(school_class.homeroom_teacher.user, SigningStep.TEACHER, pki, school_class=school_class)
    _sign(principal, SigningStep.PRINCIPAL, pki, school=school)
    _sign(principal, SigningStep.SEAL, pki, school=school)
    _issue(school, school_year)
    return record.short_code


def _principal(school: School) -> Any:
    staff = Staff.objects.filter(school=school, roles__role=Role.PRINCIPAL).select_related("user")
    first = staff.first()
    return first.user if first else None


def seed_demo_records(pki: DemoPki, school_year: SchoolYear) -> DemoRecords:
    summary = DemoRecords()
    classes = SchoolClass.objects.filter(school_year=school_year).select_related(
        "school", "homeroom_teacher__user"
    )
    with _timestamp_authority(pki):
        issued_school = School.objects.filter(code=ISSUED_SCHOOL).first()
        if issued_school is not None:
            for school_class in classes.filter(school=issued_school).order_by("grade", "name"):
                summary.compiled += _compile(school_class)
                teacher = school_class.homeroom_teacher
                if teacher is not None:
                    _sign(teacher.user, SigningStep.TEACHER, pki, school_class=school_class)
            principal = _principal(issued_school)
            if principal is not None:
                _sign(principal, SigningStep.PRINCIPAL, pki, school=issued_school)
                summary.sealed += _sign(principal, SigningStep.SEAL, pki, school=issued_school)
            summary.issued += _issue(issued_school, school_year)
            if principal is not None and summary.issued:
                summary.corrected = _correct_one(issued_school, school_year, principal, pki)
        for name in (WAITING_FOR_TEACHER, WAITING_FOR_PRINCIPAL):
            waiting = classes.filter(school__code=WAITING_SCHOOL, name=name).first()
            if waiting is None:
                continue
            summary.compiled += _compile(waiting)
            if name == WAITING_FOR_PRINCIPAL and waiting.homeroom_teacher is not None:
                _sign(waiting.homeroom_teacher.user, SigningStep.TEACHER, pki, school_class=waiting)
    return summary
