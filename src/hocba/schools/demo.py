"""The demo world of ``hocba demo``: DEMO, NOT FOR PRODUCTION.

Hà Nội's Department, two districts, three primary schools with classes 1A-5B (28-35 pupils each)
in 2024-2025: about 950 pupils, 58 accounts covering every role, all with the password
``hocba-demo``.

Deterministic: :func:`hocba.schools.demo_plan.build_plan` plans the whole world in memory from
``random.Random(20242025)``, so names and codes are the same on every run. Idempotent: each planned
piece is then looked up by its key (code, username, class name, Ministry code) and created only if
missing; a second run creates nothing and writes nothing to the audit log.

Staff, classes, pupils and teaching assignments go through the service functions with the system
administrator as actor, so the audit log reads like a real school's. That costs about 8 statements
per pupil inside one transaction: measured at about 6 s for the whole world on the 2-core dev
machine (SQLite), well inside the one-minute budget, so there is no bulk_create shortcut. Places,
the school year and the year profiles have no service function yet: they are created directly and
summarised by the one ``schools.demo.seeded`` event, written whenever a run created something.

Then :func:`hocba.assessment.demo.seed_assessments` fills the whole year's assessments of every
class and computes the year-end results (its own ``assessment.demo.seeded`` event).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.utils.translation import gettext as _

from hocba.assessment.demo import AssessmentSeedSummary, seed_assessments
from hocba.audit.services import record_event, snapshot
from hocba.schools import services
from hocba.schools.demo_people import PupilPlan
from hocba.schools.demo_plan import (
    ENDS_ON,
    HOMEROOM_SUBJECTS,
    PROVINCE,
    SCHOOLS,
    SEED,
    STARTS_ON,
    YEAR_NAME,
    YEAR_START,
    ClassPlan,
    DemoPlan,
    SchoolPlan,
    SchoolSpec,
    build_plan,
)
from hocba.schools.models import (
    AssessmentScheme,
    District,
    Enrolment,
    Province,
    Pupil,
    Role,
    School,
    SchoolClass,
    SchoolYear,
    SchoolYearProfile,
    Staff,
    StaffRole,
    TeachingAssignment,
)
from hocba.schools.services import StaffData

DEMO_PASSWORD = "hocba-demo"  # noqa: S105  (published on screen: the demo is not for real data)
DEMO_URL = "http://127.0.0.1:8000/"

# --- Writing the plan -----------------------------------------------------------------------


class Writer(Protocol):
    def write(self, text: str, /) -> Any: ...


COUNTED_MODELS: tuple[type[models.Model], ...] = (
    Province, District, School, SchoolYear, SchoolYearProfile, Staff, StaffRole, SchoolClass,
    Pupil, Enrolment, TeachingAssignment,
)  # fmt: skip


def world_counts() -> dict[str, int]:
    """Rows per table of the school world, plus user accounts."""
    counted = (*COUNTED_MODELS, get_user_model())
    return {model._meta.label_lower: model._default_manager.count() for model in counted}


class _Seeder:
    def __init__(self, stdout: Writer | None) -> None:
        self.stdout = stdout
        self._password_hash = ""
        self.admin: Any = None
        self.year: SchoolYear | None = None

    def say(self, message: str) -> None:
        if self.stdout is not None:
            self.stdout.write(message + "\n")

    def set_password(self, user: Any) -> None:
        # One Argon2 hash for every demo account: each costs about 0.16 s here, 58 of them would
        # add 9 s to a 6 s seed, and distinct salts protect nothing for a published password.
        if not self._password_hash:
            user.set_password(DEMO_PASSWORD)
            self._password_hash = user.password
        user.password = self._password_hash
        user.save(update_fields=["password"])

    def ensure_admin(self, data: StaffData) -> Any:
        """The system administrator: a Django superuser with the SYSTEM_ADMIN role."""
        user = get_user_model().objects.filter(username=data.username).first()
        if user is None:
            user = get_user_model().objects.create_superuser(data.username, "", None)
            self.set_password(user)
        names = {k: getattr(data, k) for k in ("family_name", "middle_name", "given_name")}
        staff, created = Staff.objects.get_or_create(
            user=user, defaults={**names, "position": data.position, "phone": data.phone}
        )
        StaffRole.objects.get_or_create(staff=staff, role=Role.SYSTEM_ADMIN)
        if created:  # nobody to act for the first account: the system creates it
            changes = {**snapshot(staff), "roles": [Role.SYSTEM_ADMIN]}
            record_event(actor=None, action="schools.staff.created", obj=staff, changes=changes)
        self.admin = user
        return user

    def ensure_staff(self, data: StaffData, **scope: Any) -> Staff:
        staff = Staff.objects.filter(user__username=data.username).first()
        if staff is None:
            staff = services.create_staff(actor=self.admin, data=data, password=None, **scope)
            self.set_password(staff.user)
        return staff

    def ensure_year(self) -> SchoolYear:
        someone_current = SchoolYear.objects.filter(is_current=True).exists()
        self.year, _created = SchoolYear.objects.get_or_create(
            name=YEAR_NAME,
            defaults={
                "start_year": YEAR_START,
                "starts_on": STARTS_ON,
                "ends_on": ENDS_ON,
                "assessment_scheme": AssessmentScheme.TT27_2020,
                "is_current": not someone_current,
            },
        )
        return self.year

    def ensure_school(self, spec: SchoolSpec, province: Province) -> School:
        district = District.objects.get(code=spec.district.code)
        school, _created = School.objects.get_or_create(
            code=spec.code, defaults={"name": spec.name, "province": province, "district": district}
        )
        SchoolYearProfile.objects.get_or_create(
            school=school,
            school_year=self.year,
            defaults={
                "school_name": spec.name,
                "address_levels": spec.address_levels(),
                "place_name": spec.district.place_name,
            },
        )
        return school

    def ensure_class(self, school: School, plan: ClassPlan, teacher: Staff) -> SchoolClass:
        assert self.year is not None
        existing = SchoolClass.objects.filter(school=school, school_year=self.year, name=plan.name)
        if found := existing.first():
            return found
        return services.create_class(
            actor=self.admin,
            school=school,
            school_year=self.year,
            grade=plan.grade,
            name=plan.name,
            homeroom_teacher=teacher,
        )

    def ensure_pupils(self, school_class: SchoolClass, plans: list[PupilPlan]) -> None:
        codes = [plan.data.ministry_code for plan in plans]
        existing = set(
            Pupil.objects.filter(ministry_code__in=codes).values_list("ministry_code", flat=True)
        )
        for plan in plans:
            if plan.data.ministry_code in existing:
                continue
            services.admit_pupil(
                actor=self.admin,
                data=plan.data,
                school_class=school_class,
                joined_on=plan.joined_on,
                register_number=plan.register_number,
                entry_kind=plan.entry_kind,
            )

    def ensure_teaching(
        self, teacher: Staff, classes: list[SchoolClass], subjects: tuple[str, ...]
    ) -> None:
        existing = set(
            TeachingAssignment.objects.filter(teacher=teacher).values_list(
                "school_class_id", "subject"
            )
        )
        for school_class in classes:
            for subject in subjects:
                if (school_class.pk, subject) not in existing:
                    services.assign_teaching(
                        actor=self.admin,
                        teacher=teacher,
                        school_class=school_class,
                        subject=subject,
                    )

    def seed_school(self, plan: SchoolPlan, province: Province) -> None:
        school = self.ensure_school(plan.spec, province)
        for data in plan.managers:
            self.ensure_staff(data, school=school)
        classes = []
        for class_plan in plan.classes:
            teacher = self.ensure_staff(class_plan.teacher, school=school)
            school_class = self.ensure_class(school, class_plan, teacher)
            self.ensure_pupils(school_class, class_plan.pupils)
            self.ensure_teaching(teacher, [school_class], HOMEROOM_SUBJECTS[class_plan.grade])
            classes.append(school_class)
        for data, spec in plan.subject_teachers:
            teacher = self.ensure_staff(data, school=school)
            taught = [c for c in classes if c.grade in spec.grades]
            self.ensure_teaching(teacher, taught, (spec.subject,))
        pupils = sum(len(c.pupils) for c in plan.classes)
        self.say(
            _("%(school)s: %(classes)s lớp, %(pupils)s học sinh.")
            % {"school": school.name, "classes": len(classes), "pupils": pupils}
        )

    def seed(self, plan: DemoPlan) -> None:
        self.ensure_admin(plan.admin)
        code, name, department_name = PROVINCE
        province, _created = Province.objects.get_or_create(
            code=code, defaults={"name": name, "department_name": department_name}
        )
        self.ensure_staff(plan.department, province=province)
        for spec, data in plan.district_staff:
            district, _created = District.objects.get_or_create(
                code=spec.code,
                defaults={"province": province, "name": spec.name, "office_name": spec.office_name},
            )
            self.ensure_staff(data, district=district, province=province)
        self.ensure_year()
        for school_plan in plan.schools:
            self.seed_school(school_plan, province)


# --- The summary ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str
    full_name: str
    scope: str

    @property
    def role_label(self) -> str:
        return str(Role(self.role).label)


@dataclass(frozen=True)
class DemoSummary:
    logins: tuple[DemoLogin, ...]  # one example account per role
    usernames: tuple[str, ...]  # every demo account
    school_slugs: tuple[str, ...]
    password: str
    url: str
    counts: dict[str, int]
    created: dict[str, int]  # rows this run added per table; empty when the world existed
    seconds: float
    assessments: AssessmentSeedSummary | None = None


def _example_logins(plan: DemoPlan) -> tuple[DemoLogin, ...]:
    first = plan.schools[0]
    class_4a = next(c for c in first.classes if c.name == "4A")
    english = first.subject_teachers[0][0]
    district_spec, district_staff = plan.district_staff[0]
    examples = [
        (Role.SYSTEM_ADMIN, plan.admin, _("Toàn hệ thống")),
        (Role.DEPARTMENT_STAFF, plan.department, PROVINCE[2]),
        (Role.DISTRICT_STAFF, district_staff, district_spec.office_name),
        (Role.PRINCIPAL, first.managers[0], first.spec.name),
        (Role.DEPUTY_PRINCIPAL, first.managers[1], first.spec.name),
        (Role.SCHOOL_ADMIN, first.managers[2], first.spec.name),
        (
            Role.HOMEROOM_TEACHER,
            class_4a.teacher,
            _("%(school)s, lớp %(cls)s") % {"school": first.spec.name, "cls": class_4a.name},
        ),
        (
            Role.SUBJECT_TEACHER,
            english,
            _("%(school)s, Tiếng Anh khối 3-5") % {"school": first.spec.name},
        ),
    ]
    staff = Staff.objects.filter(user__username__in=[d.username for _r, d, _s in examples])
    names = {s.user.username: s.full_name for s in staff.select_related("user")}
    return tuple(
        DemoLogin(role, data.username, names.get(data.username, ""), scope)
        for role, data, scope in examples
    )


def _all_usernames(plan: DemoPlan) -> tuple[str, ...]:
    names = [plan.admin.username, plan.department.username]
    names += [data.username for _spec, data in plan.district_staff]
    for school in plan.schools:
        names += [data.username for data in school.managers]
        names += [c.teacher.username for c in school.classes]
        names += [data.username for data, _spec in school.subject_teachers]
    return tuple(names)


@transaction.atomic
def seed_demo(*, stdout: Writer | None = None) -> DemoSummary:
    """Create the demo world if missing (idempotent, deterministic) and describe its logins."""
    started = time.perf_counter()
    before = world_counts()
    plan = build_plan()
    seeder = _Seeder(stdout)
    seeder.seed(plan)
    after = world_counts()
    created = {
        label: after[label] - before[label] for label in after if after[label] > before[label]
    }
    if created:
        record_event(
            actor=seeder.admin,
            action="schools.demo.seeded",
            object_type="schools.demo",
            object_id=str(SEED),
            object_label=_("Dữ liệu demo, không dùng cho thực tế"),
            changes={"seed": SEED, "created": created},
        )
    assert seeder.year is not None
    assessments = seed_assessments(actor=seeder.admin, school_year=seeder.year)
    return DemoSummary(
        logins=_example_logins(plan),
        usernames=_all_usernames(plan),
        school_slugs=tuple(spec.slug for spec in SCHOOLS),
        password=DEMO_PASSWORD,
        url=DEMO_URL,
        counts=after,
        created=created,
        seconds=time.perf_counter() - started,
        assessments=assessments,
    )
