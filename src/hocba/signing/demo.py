"""The demo PKI for the schools and signing staff in the database (issue 5 §1).

Persons are the staff with a principal, deputy principal, homeroom teacher or subject teacher
role; each gets the demo PIN. Safe to re-run: existing files are reused.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from hocba.schools.models import Role, School, Staff
from hocba.signing.pki import DemoPki, init_demo_pki

DEMO_PIN = "123456"
SIGNING_ROLES = (
    Role.PRINCIPAL,
    Role.DEPUTY_PRINCIPAL,
    Role.HOMEROOM_TEACHER,
    Role.SUBJECT_TEACHER,
)


def default_folder() -> Path:
    return Path(settings.DATA_DIR) / "pki" / "demo"


def seed_demo_pki(folder: Path | None = None) -> DemoPki:
    staff = (
        Staff.objects.filter(roles__role__in=SIGNING_ROLES)
        .select_related("user")
        .distinct()
        .order_by("user__username")
    )
    people = [(person.user.username, person.full_name, DEMO_PIN) for person in staff]
    schools = [(school.code, school.name) for school in School.objects.order_by("code")]
    return init_demo_pki(folder or default_folder(), schools=schools, people=people)
