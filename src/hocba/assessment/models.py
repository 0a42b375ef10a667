"""Assessment data under Circular 27: marks per pupil, subject or competency and period; the
form's header facts; per-cell history; locks; year-end decisions; the comment bank."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hocba.schools.models import Enrolment, SchoolClass, SchoolYear, Staff


class Period(models.TextChoices):
    GK1 = "gk1", _("Giữa học kì I")
    CK1 = "ck1", _("Cuối học kì I")
    GK2 = "gk2", _("Giữa học kì II")
    CN = "cn", _("Cuối năm học")


class Channel(models.TextChoices):
    GRID = "grid", _("Bảng nhập")
    IMPORT = "import", _("Nhập Excel")
    API = "api", _("API")
    SYSTEM = "system", _("Hệ thống")


class AssessmentSettings(models.Model):
    """Answers to DOMAIN §8's open questions for one school year (defaults as documented)."""

    school_year = models.OneToOneField(
        SchoolYear, on_delete=models.CASCADE, related_name="assessment_settings"
    )
    allow_zero_score = models.BooleanField(_("cho phép điểm 0"), default=False)
    optional_subjects_count = models.BooleanField(
        _("môn tự chọn được tính khi xét cuối năm (nếu học sinh học)"), default=True
    )
    single_score_tin_hoc_cong_nghe = models.BooleanField(
        _("Tin học và Công nghệ chỉ có một điểm kiểm tra"), default=False
    )
    specific_competencies_by_grade = models.JSONField(
        _("năng lực đặc thù theo khối (ghi đè)"), default=dict, blank=True
    )

    class Meta:
        verbose_name = _("thiết lập đánh giá")
        verbose_name_plural = _("thiết lập đánh giá")

    def __str__(self) -> str:
        return str(self.school_year)


class SubjectMark(models.Model):
    """A pupil's level (T/H/C), periodic test score and comment in a subject at one period."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="subject_marks")
    subject = models.CharField(_("môn học"), max_length=40)
    period = models.CharField(_("thời điểm"), max_length=3, choices=Period.choices)
    level = models.CharField(_("mức đạt được"), max_length=1, blank=True)
    score = models.PositiveSmallIntegerField(_("điểm KTĐK"), null=True, blank=True)
    comment = models.TextField(_("nhận xét"), blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("đánh giá môn học")
        verbose_name_plural = _("đánh giá môn học")
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment", "subject", "period"], name="one_subject_mark_per_period"
            ),
            models.CheckConstraint(
                condition=Q(level__in=["", "T", "H", "C"]), name="subject_level_t_h_c"
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__lte=10), name="score_at_most_10"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enrolment.pupil} · {self.subject} · {self.period}"


class CompetencyMark(models.Model):
    """A pupil's level (T/Đ/C) and comment for a quality or competency at one period."""

    enrolment = models.ForeignKey(
        Enrolment, on_delete=models.PROTECT, related_name="competency_marks"
    )
    item = models.CharField(_("phẩm chất/năng lực"), max_length=40)
    period = models.CharField(_("thời điểm"), max_length=3, choices=Period.choices)
    level = models.CharField(_("mức đạt được"), max_length=1, blank=True)
    comment = models.TextField(_("nhận xét"), blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("đánh giá phẩm chất, năng lực")
        verbose_name_plural = _("đánh giá phẩm chất, năng lực")
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment", "item", "period"], name="one_competency_mark_per_period"
            ),
            models.CheckConstraint(
                condition=Q(level__in=["", "T", "Đ", "C"]), name="competency_level_t_d_c"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enrolment.pupil} · {self.item} · {self.period}"


class PupilYearFacts(models.Model):
    """The year block's header fields: height, weight, days absent (DOMAIN §3)."""

    enrolment = models.OneToOneField(Enrolment, on_delete=models.PROTECT, related_name="facts")
    height_cm = models.DecimalField(
        _("chiều cao (cm)"), max_digits=4, decimal_places=1, null=True, blank=True
    )
    weight_kg = models.DecimalField(
        _("cân nặng (kg)"), max_digits=4, decimal_places=1, null=True, blank=True
    )
    days_absent_excused = models.PositiveSmallIntegerField(
        _("số ngày nghỉ có phép"), null=True, blank=True
    )
    days_absent_unexcused = models.PositiveSmallIntegerField(
        _("số ngày nghỉ không phép"), null=True, blank=True
    )
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("thông tin chung trong năm")
        verbose_name_plural = _("thông tin chung trong năm")

    def __str__(self) -> str:
        return str(self.enrolment.pupil)


class CellChange(models.Model):
    """Every change of every cell before issue: who, when, old and new value, channel (DOMAIN §4).

    Append-only (database triggers refuse UPDATE and DELETE).
    """

    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="+")
    sheet = models.CharField(max_length=12)  # subject | competency | facts | yearend
    key = models.CharField(max_length=40)  # subject code, item code or fact name
    period = models.CharField(max_length=3, blank=True)
    field = models.CharField(max_length=20)  # level | score | comment | value
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    actor_label = models.CharField(max_length=150)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("lịch sử thay đổi")
        verbose_name_plural = _("lịch sử thay đổi")
        indexes = [models.Index(fields=["enrolment", "at"])]
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.sheet}.{self.key}.{self.field}"


class Lock(models.Model):
    """A lock on a class, optionally narrowed to a subject and/or a period (DOMAIN §4, §7).

    Empty ``subject``/``period`` mean "all". Active while ``unlocked_at`` is empty; an unlock
    needs a principal or school administrator and a reason.
    """

    school_class = models.ForeignKey(SchoolClass, on_delete=models.CASCADE, related_name="locks")
    subject = models.CharField(max_length=40, blank=True)
    period = models.CharField(max_length=3, blank=True)
    is_class_finished = models.BooleanField(default=False)  # the homeroom teacher's "finished"
    reason = models.CharField(_("lý do khoá"), max_length=255, blank=True)
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    locked_at = models.DateTimeField(auto_now_add=True)
    unlocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    unlocked_at = models.DateTimeField(null=True, blank=True)
    unlock_reason = models.CharField(_("lý do mở khoá"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("khoá")
        verbose_name_plural = _("khoá")
        indexes = [models.Index(fields=["school_class", "unlocked_at"])]

    def __str__(self) -> str:
        return f"{self.school_class} {self.subject or '*'} {self.period or '*'}"

    def covers(self, subject: str, period: str) -> bool:
        return (not self.subject or self.subject == subject) and (
            not self.period or self.period == period
        )


class SummerOutcome(models.TextChoices):
    COMPLETED = "completed", _("Hoàn thành sau đánh giá bổ sung")
    NOT_COMPLETED = "not_completed", _("Chưa hoàn thành sau đánh giá bổ sung")


class PromotionDecision(models.TextChoices):
    PROMOTED = "promoted", _("Được lên lớp")
    RETAINED = "retained", _("Ở lại lớp")


class YearEndRecord(models.Model):
    """What the year-end computation found plus the human decisions (DOMAIN §2.4-2.5)."""

    enrolment = models.OneToOneField(Enrolment, on_delete=models.PROTECT, related_name="year_end")
    result = models.CharField(
        max_length=4, blank=True
    )  # HTXS | HTT | HT | CHT | "" (not computable)
    completion = models.CharField(max_length=120, blank=True)
    award = models.CharField(max_length=120, blank=True)
    reasons = models.JSONField(default=list)
    missing = models.JSONField(default=list)
    computed_at = models.DateTimeField(null=True, blank=True)
    exemplary = models.BooleanField(_("Học sinh Tiêu biểu"), default=False)
    exemplary_reason = models.TextField(_("lý do khen Học sinh Tiêu biểu"), blank=True)
    adhoc_awards = models.TextField(_("khen thưởng đột xuất"), blank=True)
    summer_outcome = models.CharField(
        max_length=20, choices=SummerOutcome.choices, blank=True, verbose_name=_("đánh giá bổ sung")
    )
    summer_note = models.TextField(_("nhận xét đánh giá bổ sung"), blank=True)
    promotion = models.CharField(
        max_length=10, choices=PromotionDecision.choices, blank=True, verbose_name=_("quyết định")
    )
    promotion_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("kết quả cuối năm")
        verbose_name_plural = _("kết quả cuối năm")

    def __str__(self) -> str:
        return f"{self.enrolment.pupil}: {self.result or '?'}"

    @property
    def is_pending_summer(self) -> bool:
        """CHT pupils wait for the summer path; never a blocker for the rest of the class."""
        return self.result == "CHT" and not self.promotion and self.summer_outcome != "completed"


class CommentBankEntry(models.Model):
    """A reusable comment with a short code (bảng mã nhận xét), school-wide or a teacher's own."""

    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(
        Staff, on_delete=models.CASCADE, null=True, blank=True, related_name="comment_bank"
    )
    code = models.CharField(_("mã"), max_length=20)
    target = models.CharField(_("môn học/phẩm chất/năng lực"), max_length=40, blank=True)
    text = models.TextField(_("nội dung nhận xét"))

    class Meta:
        verbose_name = _("mã nhận xét")
        verbose_name_plural = _("bảng mã nhận xét")
        constraints = [
            models.UniqueConstraint(
                fields=["school", "owner", "code"], name="unique_comment_code_per_owner"
            ),
            models.UniqueConstraint(
                fields=["school", "code"],
                condition=Q(owner__isnull=True),
                name="unique_shared_comment_code",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.text[:40]}"
