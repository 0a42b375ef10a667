"""Rollout deadlines: when each milestone of a school year's signing season is due.

A :class:`RolloutDeadline` is set for one school year, for one province or (``province`` empty)
for every province; a province's own row wins over the all-provinces one. Milestones nobody
configured fall back to computed defaults (:mod:`hocba.monitoring.deadlines`).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hocba.schools.models import Province, SchoolYear


class Milestone(models.TextChoices):
    """The rollout's steps, in the order they happen (DOMAIN §4, ARCHITECTURE §4)."""

    CERTIFICATES = "certificates", _("Đăng ký chứng thư số")
    CLASSES_LOCKED = "classes_locked", _("Khoá sổ các lớp")
    TEACHER_SIGNED = "teacher_signed", _("Giáo viên chủ nhiệm ký")
    PRINCIPAL_SIGNED = "principal_signed", _("Hiệu trưởng ký")
    ISSUED = "issued", _("Phát hành học bạ")
    SYNCED = "synced", _("Đồng bộ lên cấp trên")


class RolloutDeadline(models.Model):
    school_year = models.ForeignKey(
        SchoolYear, on_delete=models.CASCADE, related_name="+", verbose_name=_("năm học")
    )
    province = models.ForeignKey(
        Province,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("tỉnh/thành phố"),
        help_text=_("Để trống: áp dụng cho mọi tỉnh/thành phố."),
    )
    milestone = models.CharField(_("mốc"), max_length=20, choices=Milestone.choices)
    due_on = models.DateField(_("hạn hoàn thành"))

    class Meta:
        verbose_name = _("hạn triển khai")
        verbose_name_plural = _("hạn triển khai")
        ordering = ["school_year", "province", "due_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["school_year", "province", "milestone"],
                name="one_deadline_per_province_milestone",
            ),
            models.UniqueConstraint(
                fields=["school_year", "milestone"],
                condition=Q(province__isnull=True),
                name="one_national_deadline_per_milestone",
            ),
        ]

    def __str__(self) -> str:
        where = self.province.name if self.province else _("mọi tỉnh/thành phố")
        return f"{self.school_year} · {where} · {self.get_milestone_display()}"
