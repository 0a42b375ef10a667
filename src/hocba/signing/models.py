"""Signing: registered certificates, signing batches and the signatures on year records.

- :class:`SigningCertificate` is the registry (issue 5 §2): a staff member's personal certificate
  or a school's seal certificate, with how the key is reached (``adapter``) and the outcome of the
  last check. A certificate is checked when it is registered and again before every batch.
- :class:`SigningBatch` is one person signing many records at one step (a teacher their class, a
  principal or the seal a whole school), worked by :func:`hocba.signing.tasks.sign_batch`.
  ``authorisation`` holds the PIN (or the remote confirmation) encrypted with a key derived from
  ``SECRET_KEY``, only while the batch runs; it is wiped when the batch stops.
- :class:`SigningItem` is one record in a batch; the batch is idempotent per item.
- :class:`RecordSignature` is one completed signature on one record version: the PDF after it is
  stored, append-only (database triggers), and the record's status moves with it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hocba.records.models import YearRecord
from hocba.schools.models import School, SchoolClass, SchoolYear, Staff


class CertificatePurpose(models.TextChoices):
    PERSONAL = "personal", _("Chữ ký số cá nhân")
    SEAL = "seal", _("Con dấu số của trường")


class AdapterKind(models.TextChoices):
    SOFT = "soft", _("Tệp khoá PKCS#12")
    PKCS11 = "pkcs11", _("USB ký số / HSM (PKCS#11)")
    CSC = "csc", _("Ký số từ xa (CSC)")
    AGENT = "agent", _("Phần mềm ký trên máy giáo viên (sign-agent)")


class SigningCertificate(models.Model):
    purpose = models.CharField(_("loại"), max_length=10, choices=CertificatePurpose.choices)
    school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="+", verbose_name=_("trường")
    )
    staff = models.ForeignKey(
        Staff,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="certificates",
        verbose_name=_("cán bộ"),
    )
    adapter = models.CharField(_("cách ký"), max_length=10, choices=AdapterKind.choices)
    adapter_config = models.JSONField(_("cấu hình thiết bị ký"), default=dict, blank=True)
    certificate_der = models.BinaryField(_("chứng thư số (DER)"))
    chain_der = models.JSONField(_("chuỗi chứng thư (base64)"), default=list, blank=True)
    # The PIN-protected PKCS#12 file of a ``soft`` certificate; the PIN itself is never stored.
    pkcs12 = models.BinaryField(_("tệp PKCS#12"), null=True, blank=True)
    fingerprint = models.CharField(_("dấu vân tay SHA-256"), max_length=64)
    subject_name = models.CharField(_("chủ thể"), max_length=300)
    issuer_name = models.CharField(_("tổ chức cấp"), max_length=300)
    serial_hex = models.CharField(_("số hiệu"), max_length=80)
    not_before = models.DateTimeField(_("hiệu lực từ"))
    not_after = models.DateTimeField(_("hiệu lực đến"))
    key_algorithm = models.CharField(_("thuật toán khoá"), max_length=10)
    key_size = models.PositiveIntegerField(_("độ dài khoá"))
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField(_("đăng ký lúc"))
    retired_at = models.DateTimeField(_("ngừng dùng lúc"), null=True, blank=True)
    last_checked_at = models.DateTimeField(_("kiểm tra gần nhất"), null=True, blank=True)
    last_check_problems = models.JSONField(_("vấn đề phát hiện"), default=list, blank=True)

    class Meta:
        verbose_name = _("chứng thư số đã đăng ký")
        verbose_name_plural = _("chứng thư số đã đăng ký")
        ordering = ["-registered_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["fingerprint"],
                condition=Q(retired_at__isnull=True),
                name="one_active_registration_per_certificate",
            ),
            models.CheckConstraint(
                condition=Q(purpose="seal", staff__isnull=True)
                | Q(purpose="personal", staff__isnull=False),
                name="certificate_owner_matches_purpose",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject_name} ({self.serial_hex})"

    @property
    def is_active(self) -> bool:
        return self.retired_at is None


class SigningStep(models.TextChoices):
    """The three signatures of a year record, in signing order (DOMAIN §4)."""

    TEACHER = "gvcn", _("Giáo viên chủ nhiệm ký")
    PRINCIPAL = "hieu_truong", _("Hiệu trưởng ký")
    SEAL = "con_dau", _("Đóng dấu của trường")


class BatchStatus(models.TextChoices):
    QUEUED = "queued", _("Đang chờ")
    RUNNING = "running", _("Đang ký")
    WAITING = "waiting", _("Chờ xác nhận / nhập lại mã PIN")
    DONE = "done", _("Đã xong")
    CANCELLED = "cancelled", _("Đã huỷ")


class SigningBatch(models.Model):
    step = models.CharField(_("bước ký"), max_length=12, choices=SigningStep.choices)
    school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="+", verbose_name=_("trường")
    )
    school_year = models.ForeignKey(
        SchoolYear, on_delete=models.PROTECT, related_name="+", verbose_name=_("năm học")
    )
    school_class = models.ForeignKey(
        SchoolClass,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lớp"),
    )
    certificate = models.ForeignKey(
        SigningCertificate,
        on_delete=models.PROTECT,
        related_name="batches",
        verbose_name=_("chứng thư số"),
    )
    signer_title = models.CharField(_("chức danh khi ký"), max_length=120)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("yêu cầu lúc"))
    status = models.CharField(
        _("trạng thái"), max_length=10, choices=BatchStatus.choices, default=BatchStatus.QUEUED
    )
    message = models.TextField(_("thông báo"), blank=True)
    total = models.PositiveIntegerField(_("tổng số"), default=0)
    done_count = models.PositiveIntegerField(_("đã ký"), default=0)
    failed_count = models.PositiveIntegerField(_("bị lỗi"), default=0)
    authorisation = models.BinaryField(_("uỷ quyền ký (mã hoá)"), null=True, blank=True)
    authorisation_expires_at = models.DateTimeField(null=True, blank=True)
    attempt = models.PositiveIntegerField(_("lần chạy"), default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("lượt ký số")
        verbose_name_plural = _("lượt ký số")
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="signing_batch_beat")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_step_display()}"

    @property
    def is_active(self) -> bool:
        return self.status in {BatchStatus.QUEUED, BatchStatus.RUNNING, BatchStatus.WAITING}

    @property
    def percent(self) -> int:
        if not self.total:
            return 100 if self.status == BatchStatus.DONE else 0
        return min(100, round(100 * (self.done_count + self.failed_count) / self.total))


class ItemState(models.TextChoices):
    PENDING = "pending", _("Chờ ký")
    PREPARED = "prepared", _("Đã chuẩn bị, chờ chữ ký")
    SIGNED = "signed", _("Đã ký")
    FAILED = "failed", _("Lỗi")


class SigningItem(models.Model):
    batch = models.ForeignKey(SigningBatch, on_delete=models.CASCADE, related_name="items")
    record = models.ForeignKey(YearRecord, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=10, choices=ItemState.choices, default=ItemState.PENDING)
    error = models.TextField(blank=True)
    # Interrupted signing through the sign-agent: the prepared PDF and pyHanko's state.
    prepared_pdf = models.BinaryField(null=True, blank=True)
    prepared_state = models.JSONField(null=True, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["batch_id", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "record"], name="one_item_per_record"),
        ]
        indexes = [
            # The worker takes a batch's next chunk of waiting items, in order; only those rows
            # are in the index (docs/deployment.md, PostgreSQL).
            models.Index(
                fields=["batch", "state", "id"],
                condition=Q(state__in=[ItemState.PENDING, ItemState.PREPARED]),
                name="signing_item_waiting",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}/{self.record_id} {self.state}"


class RecordSignature(models.Model):
    """One signature on one record version, with the PDF as it stands after it (append-only)."""

    record = models.ForeignKey(YearRecord, on_delete=models.PROTECT, related_name="signatures")
    step = models.CharField(_("bước ký"), max_length=12, choices=SigningStep.choices)
    certificate = models.ForeignKey(SigningCertificate, on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(
        SigningBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    signer_name = models.CharField(_("người ký"), max_length=200)
    signer_title = models.CharField(_("chức danh"), max_length=120)
    signed_at = models.DateTimeField(_("thời điểm ký"))
    pdf_file = models.CharField(_("tệp PDF sau khi ký"), max_length=255)
    pdf_sha256 = models.CharField(_("mã băm SHA-256 của tệp"), max_length=64)
    pdf_size = models.PositiveIntegerField(_("kích thước tệp"))

    class Meta:
        verbose_name = _("chữ ký trên học bạ")
        verbose_name_plural = _("chữ ký trên học bạ")
        ordering = ["record_id", "signed_at"]
        constraints = [
            models.UniqueConstraint(fields=["record", "step"], name="one_signature_per_step"),
        ]

    def __str__(self) -> str:
        return f"{self.record} {self.step}"


class LongTermValidation(models.Model):
    """A sealed record's PDF with validation data and a document timestamp (PAdES B-LTA).

    Append-only. The PDF is the sealed one plus incremental updates: every signature stays
    byte for byte as signed.
    """

    record = models.OneToOneField(
        YearRecord, on_delete=models.PROTECT, related_name="long_term_validation"
    )
    pdf_file = models.CharField(_("tệp PDF"), max_length=255)
    pdf_sha256 = models.CharField(_("mã băm SHA-256 của tệp"), max_length=64)
    pdf_size = models.PositiveIntegerField(_("kích thước tệp"))
    added_at = models.DateTimeField(_("thời điểm bổ sung"))

    class Meta:
        verbose_name = _("dữ liệu kiểm tra dài hạn")
        verbose_name_plural = _("dữ liệu kiểm tra dài hạn")

    def __str__(self) -> str:
        return f"{self.record} LTA"
