"""Year records: one pupil's học bạ block for one school year, compiled and versioned.

A row is one *version* of a year record. ``record_id`` is the record's identity across versions
(a correction is a new version of the same record id); ``short_code`` is printed under the QR
code and is unique per version, so a code always names exactly one immutable content.

The content (``canonical_json``, ``content_hash``) and the identity columns never change after
insert: the service never writes them, and database triggers (migration 0002) refuse it. Only
``status`` moves, along ARCHITECTURE §4's lifecycle.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hocba.schools.models import Enrolment, Pupil, School, SchoolYear

SCHEMA_VERSION = "hocba.year-record/1"


class YearRecordStatus(models.TextChoices):
    COMPILED = "compiled", _("Đã tổng hợp")
    AWAITING_SUMMER_REASSESSMENT = (
        "awaiting_summer_reassessment",
        _("Chờ đánh giá bổ sung sau hè"),
    )
    MISSING_IDENTIFIER = "missing_identifier", _("Thiếu số định danh cá nhân")
    TEACHER_SIGNED = "teacher_signed", _("Giáo viên chủ nhiệm đã ký")
    PRINCIPAL_SIGNED = "principal_signed", _("Hiệu trưởng đã ký")
    SEALED = "sealed", _("Đã đóng dấu, chờ phát hành")
    ISSUED = "issued", _("Đã phát hành")
    SUPERSEDED = "superseded", _("Đã được thay thế")
    REVOKED = "revoked", _("Đã thu hồi")


# States a recompilation may replace by a new version without a correction procedure: nobody has
# signed the content yet.
UNSIGNED_STATUSES = frozenset(
    {
        YearRecordStatus.COMPILED,
        YearRecordStatus.AWAITING_SUMMER_REASSESSMENT,
        YearRecordStatus.MISSING_IDENTIFIER,
    }
)


class YearRecord(models.Model):
    record_id = models.UUIDField(_("mã bản ghi"), default=uuid.uuid4, editable=False)
    version = models.PositiveIntegerField(_("phiên bản"), default=1)
    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="year_records")
    pupil = models.ForeignKey(Pupil, on_delete=models.PROTECT, related_name="year_records")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="year_records")
    school_year = models.ForeignKey(SchoolYear, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("trạng thái"),
        max_length=30,
        choices=YearRecordStatus.choices,
        default=YearRecordStatus.COMPILED,
    )
    short_code = models.CharField(_("mã tra cứu"), max_length=14, unique=True)
    schema_version = models.CharField(_("phiên bản lược đồ"), max_length=40, default=SCHEMA_VERSION)
    canonical_json = models.TextField(_("dữ liệu chuẩn hoá (JCS)"))
    content_hash = models.CharField(_("mã băm SHA-256"), max_length=64, db_index=True)
    compiled_at = models.DateTimeField(_("thời điểm tổng hợp"))
    compiled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    supersedes = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
        verbose_name=_("thay thế cho"),
    )

    class Meta:
        verbose_name = _("học bạ năm học")
        verbose_name_plural = _("học bạ năm học")
        ordering = ["enrolment_id", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment", "version"], name="one_year_record_version_per_enrolment"
            ),
            models.UniqueConstraint(
                fields=["record_id", "version"], name="unique_year_record_id_version"
            ),
            # One version in the works (compiled … sealed) and one issued at a time: during a
            # correction the issued version stays valid until its replacement is issued.
            models.UniqueConstraint(
                fields=["enrolment"],
                condition=~Q(status__in=["superseded", "issued", "revoked"]),
                name="one_working_year_record_per_enrolment",
            ),
            models.UniqueConstraint(
                fields=["enrolment"],
                condition=Q(status="issued"),
                name="one_issued_year_record_per_enrolment",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="year_record_version_gte_1"),
        ]
        indexes = [
            # A school's records of a year by status: the signing batches' selection, the
            # progress counts per class and per school (docs/deployment.md, PostgreSQL).
            models.Index(fields=["school_year", "school", "status"], name="year_record_rollout"),
        ]

    def __str__(self) -> str:
        return f"{self.short_code} v{self.version}"

    @property
    def is_current(self) -> bool:
        return self.status != YearRecordStatus.SUPERSEDED

    @property
    def is_issued(self) -> bool:
        """Issued at some point: issued, or later superseded or revoked after issue."""
        return self.status in ISSUED_STATUSES


# Statuses of a version that was issued (superseded also covers never-issued drafts; callers that
# care check for the issuance row).
ISSUED_STATUSES = frozenset(
    {YearRecordStatus.ISSUED, YearRecordStatus.SUPERSEDED, YearRecordStatus.REVOKED}
)


class CorrectionStatus(models.TextChoices):
    OPEN = "open", _("Đang đính chính")
    DONE = "done", _("Đã phát hành bản đính chính")
    CANCELLED = "cancelled", _("Đã huỷ")


class Correction(models.Model):
    """A principal's request to correct an issued year record (issue 6 §5).

    While open, compiling the class writes a new version of the pupil's record (the issued one
    stays valid); the new version goes through the same signatures, and issuing it supersedes
    ``original`` (``hocba.ledger.issuing``) and closes the request.
    """

    original = models.ForeignKey(
        YearRecord,
        on_delete=models.PROTECT,
        related_name="corrections",
        verbose_name=_("học bạ cần đính chính"),
    )
    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("lý do đính chính"))
    status = models.CharField(
        _("trạng thái"),
        max_length=12,
        choices=CorrectionStatus.choices,
        default=CorrectionStatus.OPEN,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("người yêu cầu"),
    )
    requested_at = models.DateTimeField(_("thời điểm yêu cầu"))
    replacement = models.OneToOneField(
        YearRecord,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="correction_of",
        verbose_name=_("phiên bản thay thế"),
    )
    closed_at = models.DateTimeField(_("thời điểm kết thúc"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("người kết thúc"),
    )
    cancel_reason = models.TextField(_("lý do huỷ"), blank=True)

    class Meta:
        verbose_name = _("yêu cầu đính chính")
        verbose_name_plural = _("yêu cầu đính chính")
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment"],
                condition=Q(status="open"),
                name="one_open_correction_per_enrolment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.original} ({self.get_status_display()})"


class RenderJobKind(models.TextChoices):
    CLASS = "class", _("Lớp")
    SCHOOL = "school", _("Trường")


class RenderJobStatus(models.TextChoices):
    QUEUED = "queued", _("Đang chờ")
    RUNNING = "running", _("Đang in")
    DONE = "done", _("Đã xong")
    FAILED = "failed", _("Bị lỗi")


class RenderJob(models.Model):
    """A batch rendering of a class's or a school's year records to one zip (issue 4 §5).

    Worked by :func:`hocba.records.tasks.render_job`. ``attempt`` grows each time a worker claims
    the job; a worker writes progress only while the attempt is still its own, so a run the reaper
    gave up on can never overwrite the run that replaced it. ``errors`` lists the pupils skipped,
    as ``{"pupil", "ministry_code", "reason"}``.
    """

    kind = models.CharField(_("phạm vi"), max_length=10, choices=RenderJobKind.choices)
    school_class = models.ForeignKey(
        "schools.SchoolClass",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lớp"),
    )
    school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="+", verbose_name=_("trường")
    )
    school_year = models.ForeignKey(
        SchoolYear, on_delete=models.PROTECT, related_name="+", verbose_name=_("năm học")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("người yêu cầu"),
    )
    requested_at = models.DateTimeField(_("thời điểm yêu cầu"))
    status = models.CharField(
        _("trạng thái"),
        max_length=10,
        choices=RenderJobStatus.choices,
        default=RenderJobStatus.QUEUED,
    )
    total = models.PositiveIntegerField(_("tổng số học sinh"), default=0)
    done_count = models.PositiveIntegerField(_("đã xử lý"), default=0)
    errors = models.JSONField(_("học sinh bị bỏ qua"), default=list, blank=True)
    output_file = models.CharField(_("tệp kết quả"), max_length=255, blank=True)
    failure = models.TextField(_("lỗi"), blank=True)
    attempt = models.PositiveIntegerField(_("lần chạy"), default=0)
    started_at = models.DateTimeField(_("bắt đầu lúc"), null=True, blank=True)
    finished_at = models.DateTimeField(_("kết thúc lúc"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("cập nhật gần nhất"), null=True, blank=True)

    class Meta:
        verbose_name = _("lượt in học bạ")
        verbose_name_plural = _("lượt in học bạ")
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="render_job_status_beat")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="school") | Q(school_class__isnull=False),
                name="render_job_class_needs_class",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()}"

    @property
    def is_active(self) -> bool:
        return self.status in {RenderJobStatus.QUEUED, RenderJobStatus.RUNNING}

    @property
    def percent(self) -> int:
        if not self.total:
            return 100 if self.status == RenderJobStatus.DONE else 0
        return min(100, round(100 * self.done_count / self.total))


class TrustedPeer(models.Model):
    """Another hocba deployment whose issued records this one accepts in transfers (issue 9 §1).

    Registered from that deployment's trust bundle (``hocba transfer trust-peer``): its log's
    origin and Ed25519 verifier key, and its CA certificates copied under
    ``TRUST_DIR/peers/<folder>/``. A transfer package is checked against these, never against
    keys the package carries itself.
    """

    origin = models.CharField(_("tên sổ cái"), max_length=200, unique=True)
    name = models.CharField(_("tên đơn vị"), max_length=200, blank=True)
    verifier_key = models.TextField(_("khoá kiểm tra của sổ cái"))
    trust_folder = models.CharField(_("thư mục chứng thư"), max_length=120, blank=True)
    added_at = models.DateTimeField(_("thời điểm thêm"))
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("hệ thống học bạ tin cậy")
        verbose_name_plural = _("hệ thống học bạ tin cậy")
        ordering = ["origin"]

    def __str__(self) -> str:
        return self.name or self.origin


class TransferDirection(models.TextChoices):
    OUT = "out", _("Chuyển đi")
    IN = "in", _("Chuyển đến")


class Transfer(models.Model):
    """A pupil leaving a school (``out``: the package made) or arriving (``in``: accepted)."""

    direction = models.CharField(_("chiều"), max_length=3, choices=TransferDirection.choices)
    pupil = models.ForeignKey(Pupil, on_delete=models.PROTECT, related_name="transfers")
    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="transfers")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="transfers")
    counterpart_school = models.CharField(_("trường chuyển đến/đi"), max_length=200)
    counterpart_origin = models.CharField(_("hệ thống của trường kia"), max_length=200, blank=True)
    reason = models.CharField(_("lý do"), max_length=255, blank=True)
    on = models.DateField(_("ngày chuyển"))
    package_sha256 = models.CharField(_("mã băm gói hồ sơ"), max_length=64)
    package_file = models.CharField(_("tệp gói hồ sơ"), max_length=255, blank=True)
    records = models.PositiveIntegerField(_("số học bạ"), default=0)
    carried_marks = models.PositiveIntegerField(_("số ô đánh giá mang theo"), default=0)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    at = models.DateTimeField(_("thời điểm"))

    class Meta:
        verbose_name = _("chuyển trường")
        verbose_name_plural = _("chuyển trường")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_direction_display()}: {self.pupil}"


class TransferredRecord(models.Model):
    """An issued year record of another school, accepted with a transfer after verification.

    The PDF is kept as received (``pdf_file`` in the default storage); ``report`` is the
    validation report's summary at acceptance. Append-only like the records themselves.
    """

    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="received")
    pupil = models.ForeignKey(Pupil, on_delete=models.PROTECT, related_name="transferred_records")
    origin = models.CharField(_("sổ cái phát hành"), max_length=200)
    record_id = models.UUIDField(_("mã bản ghi"))
    version = models.PositiveIntegerField(_("phiên bản"))
    short_code = models.CharField(_("mã tra cứu"), max_length=14)
    school_year = models.CharField(_("năm học"), max_length=9)
    start_year = models.PositiveSmallIntegerField(_("năm bắt đầu"))
    grade = models.PositiveSmallIntegerField(_("khối"))
    class_name = models.CharField(_("lớp"), max_length=20)
    school_code = models.CharField(_("mã trường"), max_length=40)
    school_name = models.CharField(_("trường"), max_length=200)
    content_hash = models.CharField(_("mã băm dữ liệu"), max_length=64)
    pdf_sha256 = models.CharField(_("mã băm tệp PDF"), max_length=64)
    pdf_file = models.CharField(_("tệp PDF"), max_length=255)
    proof = models.TextField(_("bằng chứng sổ cái"))
    log_index = models.PositiveBigIntegerField(_("vị trí trong sổ cái"))
    report = models.JSONField(_("kết quả kiểm tra"), default=dict)
    received_at = models.DateTimeField(_("thời điểm nhận"))

    class Meta:
        verbose_name = _("học bạ nhận khi chuyển đến")
        verbose_name_plural = _("học bạ nhận khi chuyển đến")
        ordering = ["start_year", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["origin", "record_id", "version"], name="one_transferred_record_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.short_code} ({self.school_name}, {self.school_year})"


class PriorStudy(models.Model):
    """A line of the study history at a school outside this deployment, taken from a transfer
    package (the compiled documents' ``study_history`` continues with it)."""

    pupil = models.ForeignKey(Pupil, on_delete=models.PROTECT, related_name="prior_studies")
    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="+")
    school_year = models.CharField(_("năm học"), max_length=9)
    start_year = models.PositiveSmallIntegerField(_("năm bắt đầu"))
    class_name = models.CharField(_("lớp"), max_length=20)
    school_name = models.CharField(_("trường"), max_length=200)
    register_number = models.CharField(_("số đăng bộ"), max_length=40, blank=True)
    joined_on = models.DateField(_("ngày nhập học/chuyển đến"))

    class Meta:
        verbose_name = _("quá trình học tập trước khi chuyển đến")
        verbose_name_plural = _("quá trình học tập trước khi chuyển đến")
        ordering = ["start_year", "joined_on", "pk"]

    def __str__(self) -> str:
        return f"{self.school_year} {self.class_name} {self.school_name}"
