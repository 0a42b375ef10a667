"""The demo's ready-to-sign class: 4A of Dịch Vọng A finished and compiled (issue 5).

So a visitor can try signing at once: the homeroom teacher (gv.dichvonga.4a) signs class 4A,
the principal signs and seals. Idempotent: a class that already has records is left alone.
"""

from __future__ import annotations

from hocba.assessment import services as assessment_services
from hocba.assessment.models import Lock
from hocba.records.models import YearRecord
from hocba.records.services import CompileReport, compile_class
from hocba.schools.models import SchoolClass, SchoolYear

READY_CLASS = ("01005101", "4A")


def seed_compiled_class(school_year: SchoolYear) -> CompileReport | None:
    code, name = READY_CLASS
    school_class = (
        SchoolClass.objects.filter(school__code=code, name=name, school_year=school_year)
        .select_related("homeroom_teacher__user", "school")
        .first()
    )
    if school_class is None or school_class.homeroom_teacher is None:
        return None
    if YearRecord.objects.filter(enrolment__school_class=school_class).exists():
        return None
    teacher = school_class.homeroom_teacher.user
    if not Lock.objects.filter(
        school_class=school_class, is_class_finished=True, unlocked_at__isnull=True
    ).exists():
        assessment_services.finish_class(actor=teacher, school_class=school_class)
    return compile_class(actor=teacher, school_class=school_class)
