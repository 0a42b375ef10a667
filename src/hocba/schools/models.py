"""The school world: places, schools, years, classes, pupils, enrolments, staff and roles."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hocba.schools.subjects import Subject


class Province(models.Model):
    """A province or centrally-run city; its Department of Education (Sở GD&ĐT)."""

    code = models.CharField(_("mã"), max_length=20, unique=True)
    name = models.CharField(_("tên tỉnh/thành phố"), max_length=120)
    department_name = models.CharField(_("tên Sở GD&ĐT"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("tỉnh/thành phố")
        verbose_name_plural = _("tỉnh/thành phố")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class District(models.Model):
    """An optional district level (Phòng GD&ĐT); kept generic since the 2025 reform (DOMAIN §6)."""

    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="districts")
    code = models.CharField(_("mã"), max_length=20, unique=True)
    name = models.CharField(_("tên quận/huyện"), max_length=120)
    office_name = models.CharField(_("tên Phòng GD&ĐT"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("quận/huyện")
        verbose_name_plural = _("quận/huyện")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class School(models.Model):
    """A primary school. ``code`` is the sector database's opaque code (DOMAIN §5)."""

    code = models.CharField(_("mã trường"), max_length=40, unique=True)
    name = models.CharField(_("tên trường"), max_length=200)
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="schools")
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="schools", null=True, blank=True
    )

    class Meta:
        verbose_name = _("trường")
        verbose_name_plural = _("trường")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AssessmentScheme(models.TextChoices):
    """Assessment scheme versions (DOMAIN §2): old grade-5 years used TT 30 + TT 22."""

    TT27_2020 = "tt27-2020", _("Thông tư 27/2020/TT-BGDĐT")
    TT30_2014 = "tt30-2014", _("Thông tư 30/2014 và 22/2016")


class SchoolYear(models.Model):
    """A school year such as 2024-2025, with the assessment scheme it uses."""

    name = models.CharField(_("năm học"), max_length=9, unique=True)
    start_year = models.PositiveSmallIntegerField(_("năm bắt đầu"), unique=True)
    starts_on = models.DateField(_("ngày bắt đầu"))
    ends_on = models.DateField(_("ngày kết thúc"))
    assessment_scheme = models.CharField(
        _("quy định đánh giá"),
        max_length=20,
        choices=AssessmentScheme.choices,
        default=AssessmentScheme.TT27_2020,
    )
    is_current = models.BooleanField(_("năm học hiện tại"), default=False)

    class Meta:
        verbose_name = _("năm học")
        verbose_name_plural = _("năm học")
        ordering = ["-start_year"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"], condition=Q(is_current=True), name="one_current_school_year"
            )
        ]

    def __str__(self) -> str:
        return self.name


class SchoolYearProfile(models.Model):
    """How a school is named and addressed in one school year (address levels change, DOMAIN §3).

    ``address_levels`` is an ordered list of ``{"label": ..., "value": ...}`` as printed on the
    cover, e.g. ``[{"label": "Xã (Phường, Thị trấn)", "value": "Phường Dịch Vọng"}, ...]``.
    """

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="year_profiles")
    school_year = models.ForeignKey(SchoolYear, on_delete=models.PROTECT, related_name="+")
    school_name = models.CharField(_("tên trường trong năm học"), max_length=200)
    address_levels = models.JSONField(_("các cấp địa chỉ"), default=list)
    place_name = models.CharField(_("địa danh ghi ngày tháng"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("thông tin trường theo năm học")
        verbose_name_plural = _("thông tin trường theo năm học")
        constraints = [
            models.UniqueConstraint(fields=["school", "school_year"], name="one_profile_per_year")
        ]

    def __str__(self) -> str:
        return f"{self.school_name} ({self.school_year})"


class Role(models.TextChoices):
    SUBJECT_TEACHER = "subject_teacher", _("Giáo viên bộ môn")
    HOMEROOM_TEACHER = "homeroom_teacher", _("Giáo viên chủ nhiệm")
    PRINCIPAL = "principal", _("Hiệu trưởng")
    DEPUTY_PRINCIPAL = "deputy_principal", _("Phó hiệu trưởng")
    SCHOOL_ADMIN = "school_admin", _("Quản trị nhà trường")
    DISTRICT_STAFF = "district_staff", _("Cán bộ Phòng GD&ĐT")
    DEPARTMENT_STAFF = "department_staff", _("Cán bộ Sở GD&ĐT")
    SYSTEM_ADMIN = "system_admin", _("Quản trị hệ thống")


SCHOOL_ROLES = frozenset(
    {
        Role.SUBJECT_TEACHER,
        Role.HOMEROOM_TEACHER,
        Role.PRINCIPAL,
        Role.DEPUTY_PRINCIPAL,
        Role.SCHOOL_ADMIN,
    }
)


class Staff(models.Model):
    """A person working in the sector: a user attached to a school, district or Department."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff"
    )
    staff_code = models.CharField(_("mã cán bộ"), max_length=40, blank=True)
    family_name = models.CharField(_("họ"), max_length=60)
    middle_name = models.CharField(_("tên đệm"), max_length=80, blank=True)
    given_name = models.CharField(_("tên"), max_length=40)
    position = models.CharField(_("chức vụ"), max_length=120, blank=True)
    phone = models.CharField(_("điện thoại"), max_length=20, blank=True)
    school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="staff", null=True, blank=True
    )
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="staff", null=True, blank=True
    )
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="staff", null=True, blank=True
    )

    class Meta:
        verbose_name = _("cán bộ")
        verbose_name_plural = _("cán bộ")
        constraints = [
            models.UniqueConstraint(
                fields=["school", "staff_code"],
                condition=~Q(staff_code=""),
                name="unique_staff_code_per_school",
            )
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.family_name, self.middle_name, self.given_name) if p)

    @property
    def role_set(self) -> frozenset[str]:
        cached = getattr(self, "_role_set", None)
        if cached is None:
            cached = frozenset(self.roles.values_list("role", flat=True))
            self._role_set = cached
        return cached


class StaffRole(models.Model):
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(_("vai trò"), max_length=30, choices=Role.choices)

    class Meta:
        verbose_name = _("vai trò")
        verbose_name_plural = _("vai trò")
        constraints = [models.UniqueConstraint(fields=["staff", "role"], name="unique_staff_role")]

    def __str__(self) -> str:
        return f"{self.staff}: {self.get_role_display()}"


class SchoolClass(models.Model):
    """A class (lớp) of one grade in one school year, e.g. 4A."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="classes")
    school_year = models.ForeignKey(SchoolYear, on_delete=models.PROTECT, related_name="classes")
    grade = models.PositiveSmallIntegerField(
        _("khối"), choices=[(g, _("Khối %(g)s") % {"g": g}) for g in range(1, 6)]
    )
    name = models.CharField(_("tên lớp"), max_length=20)
    homeroom_teacher = models.ForeignKey(
        Staff,
        on_delete=models.SET_NULL,
        related_name="homeroom_classes",
        null=True,
        blank=True,
        verbose_name=_("giáo viên chủ nhiệm"),
    )

    class Meta:
        verbose_name = _("lớp")
        verbose_name_plural = _("lớp")
        ordering = ["grade", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "school_year", "name"], name="unique_class_name_per_year"
            ),
            models.CheckConstraint(
                condition=Q(grade__gte=1, grade__lte=5), name="class_grade_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.school_year})"


class Sex(models.TextChoices):
    MALE = "nam", _("Nam")
    FEMALE = "nu", _("Nữ")


class Pupil(models.Model):
    """A primary pupil. ``ministry_code`` is created once and never changes (DOMAIN §5)."""

    ministry_code = models.CharField(_("mã học sinh"), max_length=10, unique=True)
    personal_id = models.CharField(
        _("số định danh cá nhân"), max_length=12, unique=True, null=True, blank=True
    )
    family_name = models.CharField(_("họ"), max_length=60)
    middle_name = models.CharField(_("tên đệm"), max_length=80, blank=True)
    given_name = models.CharField(_("tên"), max_length=40)
    sex = models.CharField(_("giới tính"), max_length=3, choices=Sex.choices)
    date_of_birth = models.DateField(_("ngày sinh"))
    ethnicity = models.CharField(_("dân tộc"), max_length=60, default="Kinh")
    nationality = models.CharField(_("quốc tịch"), max_length=60, default="Việt Nam")
    birthplace = models.CharField(_("nơi sinh"), max_length=255, blank=True)
    hometown = models.CharField(_("quê quán"), max_length=255, blank=True)
    address = models.CharField(_("nơi ở hiện nay"), max_length=255, blank=True)
    father_name = models.CharField(_("họ và tên cha"), max_length=120, blank=True)
    mother_name = models.CharField(_("họ và tên mẹ"), max_length=120, blank=True)
    guardian_name = models.CharField(_("người giám hộ"), max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("học sinh")
        verbose_name_plural = _("học sinh")

    def __str__(self) -> str:
        return f"{self.full_name} ({self.ministry_code})"

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.family_name, self.middle_name, self.given_name) if p)


class EntryKind(models.TextChoices):
    NEW = "new", _("Nhập học")
    TRANSFER_IN = "transfer_in", _("Chuyển đến")
    PROMOTED = "promoted", _("Lên lớp")
    RETAINED = "retained", _("Ở lại lớp")


class Enrolment(models.Model):
    """A pupil in a class for a school year; one active enrolment per pupil per year."""

    pupil = models.ForeignKey(Pupil, on_delete=models.PROTECT, related_name="enrolments")
    school_class = models.ForeignKey(
        SchoolClass, on_delete=models.PROTECT, related_name="enrolments"
    )
    school_year = models.ForeignKey(SchoolYear, on_delete=models.PROTECT, related_name="+")
    register_number = models.CharField(_("số đăng bộ"), max_length=40, blank=True)
    joined_on = models.DateField(_("ngày nhập học/chuyển đến"))
    entry_kind = models.CharField(
        _("hình thức"), max_length=20, choices=EntryKind.choices, default=EntryKind.NEW
    )
    left_on = models.DateField(_("ngày chuyển đi"), null=True, blank=True)
    left_reason = models.CharField(_("lý do chuyển đi"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("ghi danh")
        verbose_name_plural = _("ghi danh")
        constraints = [
            models.UniqueConstraint(
                fields=["pupil", "school_year"],
                condition=Q(left_on__isnull=True),
                name="one_active_enrolment_per_year",
            )
        ]

    def __str__(self) -> str:
        return f"{self.pupil} → {self.school_class}"


class TeachingAssignment(models.Model):
    """A teacher teaches a subject in a class (phân công giảng dạy)."""

    teacher = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="assignments")
    school_class = models.ForeignKey(
        SchoolClass, on_delete=models.CASCADE, related_name="assignments"
    )
    subject = models.CharField(_("môn học"), max_length=40, choices=Subject.choices)

    class Meta:
        verbose_name = _("phân công giảng dạy")
        verbose_name_plural = _("phân công giảng dạy")
        constraints = [
            models.UniqueConstraint(
                fields=["teacher", "school_class", "subject"], name="unique_teaching_assignment"
            )
        ]

    def __str__(self) -> str:
        return f"{self.teacher} – {self.get_subject_display()} – {self.school_class}"
