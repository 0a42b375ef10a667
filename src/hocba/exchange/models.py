"""Upward sync of issued records (school → Department → Ministry) and the receiving store.

Sending side: a :class:`SyncTarget` is a store this deployment pushes to; a :class:`RecordSync`
is the state of one record *version* at one target. Receiving side: a :class:`ReceivedRecord` is
one record version pushed to this deployment by another (keyed by the sender's ledger origin),
and a :class:`ReceivedBatch` remembers the answer to each ``Idempotency-Key``.
The format on the wire is ``hocba.record-set/1`` (docs/interchange.md).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SyncTarget(models.Model):
    """A receiving store (a Department's or the Ministry's hocba, or any compatible server)."""

    name = models.CharField(_("tên"), max_length=80, unique=True)
    endpoint_url = models.URLField(
        _("địa chỉ nhận"),
        max_length=500,
        help_text=_("HTTPS bắt buộc (trừ http://127.0.0.1 và http://localhost khi thử nghiệm)."),
    )
    # The remote store's key for us: sent as a bearer token, so it is kept as is (not hashed).
    api_key = models.CharField(_("khoá API của nơi nhận"), max_length=200)
    enabled = models.BooleanField(_("đang dùng"), default=True)
    batch_size = models.PositiveSmallIntegerField(_("số bộ hồ sơ mỗi lần gửi"), default=50)
    created_at = models.DateTimeField(_("thời điểm tạo"), auto_now_add=True)

    class Meta:
        verbose_name = _("nơi nhận đồng bộ")
        verbose_name_plural = _("nơi nhận đồng bộ")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SyncStatus(models.TextChoices):
    PENDING = "pending", _("Chờ gửi")
    SYNCED = "synced", _("Đã đồng bộ")
    FAILED = "failed", _("Gửi lỗi")


class RecordSync(models.Model):
    """One issued record version at one target.

    ``sent_status`` is the record's status when the target last acknowledged it: a record that was
    synced as ``issued`` and is later superseded or revoked is sent again (docs/interchange.md).
    """

    record = models.ForeignKey(
        "records.YearRecord",
        on_delete=models.PROTECT,
        related_name="syncs",
        verbose_name=_("học bạ"),
    )
    target = models.ForeignKey(
        SyncTarget, on_delete=models.CASCADE, related_name="syncs", verbose_name=_("nơi nhận")
    )
    status = models.CharField(
        _("trạng thái"), max_length=10, choices=SyncStatus.choices, default=SyncStatus.PENDING
    )
    idempotency_key = models.CharField(_("khoá chống gửi trùng"), max_length=64)
    sent_status = models.CharField(_("trạng thái học bạ đã gửi"), max_length=30, blank=True)
    attempts = models.PositiveIntegerField(_("số lần gửi"), default=0)
    last_error = models.TextField(_("lỗi gần nhất"), blank=True)
    last_attempt_at = models.DateTimeField(_("lần gửi gần nhất"), null=True, blank=True)
    synced_at = models.DateTimeField(_("thời điểm đồng bộ"), null=True, blank=True)
    receipt = models.JSONField(_("biên nhận"), null=True, blank=True)

    class Meta:
        verbose_name = _("đồng bộ học bạ")
        verbose_name_plural = _("đồng bộ học bạ")
        ordering = ["target_id", "record_id"]
        constraints = [
            models.UniqueConstraint(fields=["target", "record"], name="one_sync_per_target_record")
        ]
        indexes = [models.Index(fields=["target", "status"], name="record_sync_target_status")]

    def __str__(self) -> str:
        return f"{self.record_id} → {self.target_id} ({self.status})"


class ReceivedRecord(models.Model):
    """One record version received from another deployment, identified by its ledger origin.

    ``record_set`` is the pupil's ``hocba.record-set/1`` document as received, narrowed to this
    version; ``status`` follows later pushes (issued → superseded or revoked), the content never
    changes: the same version with another content hash is refused.
    """

    origin = models.CharField(_("nguồn (origin sổ cái)"), max_length=200)
    record_id = models.UUIDField(_("mã bản ghi"))
    version = models.PositiveIntegerField(_("phiên bản"))
    content_hash = models.CharField(_("mã băm SHA-256"), max_length=64)
    status = models.CharField(_("trạng thái"), max_length=30)
    ministry_code = models.CharField(_("mã học sinh"), max_length=10, db_index=True)
    school_code = models.CharField(_("mã trường"), max_length=40)
    school_year = models.CharField(_("năm học"), max_length=9)
    record_set = models.JSONField(_("bộ hồ sơ"))
    receipt_id = models.UUIDField(_("mã biên nhận"), unique=True)
    received_at = models.DateTimeField(_("thời điểm nhận"))
    updated_at = models.DateTimeField(_("thời điểm cập nhật"))
    api_key = models.ForeignKey("api.ApiKey", on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        verbose_name = _("học bạ đã nhận")
        verbose_name_plural = _("học bạ đã nhận")
        ordering = ["origin", "record_id", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["origin", "record_id", "version"], name="one_received_record_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.origin} {self.record_id} v{self.version}"


class ReceivedBatch(models.Model):
    """The answer given to one ``Idempotency-Key`` (a repeated POST gets the same answer)."""

    api_key = models.ForeignKey("api.ApiKey", on_delete=models.PROTECT, related_name="+")
    idempotency_key = models.CharField(_("khoá chống gửi trùng"), max_length=128)
    request_hash = models.CharField(_("mã băm nội dung yêu cầu"), max_length=64)
    response = models.JSONField(_("trả lời"))
    received_at = models.DateTimeField(_("thời điểm nhận"))

    class Meta:
        verbose_name = _("lượt nhận")
        verbose_name_plural = _("lượt nhận")
        constraints = [
            models.UniqueConstraint(
                fields=["api_key", "idempotency_key"], name="one_batch_per_idempotency_key"
            )
        ]

    def __str__(self) -> str:
        return self.idempotency_key
