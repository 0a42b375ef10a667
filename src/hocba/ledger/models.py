"""The transparency log (ARCHITECTURE §7): leaves, stored subtree hashes, signed checkpoints.

Every table but ``LogHead`` is append-only, enforced by database triggers (migration 0002).
Hashes are lowercase hex. ``LogNode`` holds the hash of every complete aligned subtree of two or
more leaves (level ≥ 1); level 0 is ``LogLeaf.leaf_hash``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    ISSUED = "issued", _("Phát hành")
    SUPERSEDED = "superseded", _("Được thay thế")
    REVOKED = "revoked", _("Thu hồi")
    COPY_ISSUED = "copy_issued", _("Cấp bản sao")


class LogHead(models.Model):
    """One row: the log's size. Locked to serialise appends."""

    size = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"log of {self.size} leaves"


class LogLeaf(models.Model):
    index = models.PositiveBigIntegerField(_("số thứ tự"), unique=True)
    leaf_hash = models.CharField(_("mã băm lá"), max_length=64)
    event = models.TextField(_("sự kiện (JSON chuẩn hoá)"))
    event_type = models.CharField(_("loại sự kiện"), max_length=20, choices=EventType.choices)
    record = models.ForeignKey(
        "records.YearRecord", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("thời điểm"), auto_now_add=True)

    class Meta:
        ordering = ["index"]
        constraints = [
            models.CheckConstraint(condition=Q(index__gte=0), name="log_leaf_index_gte_0")
        ]

    def __str__(self) -> str:
        return f"#{self.index} {self.event_type}"


class LogNode(models.Model):
    level = models.PositiveSmallIntegerField()
    index = models.PositiveBigIntegerField()
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["level", "index"], name="one_log_node_per_position")
        ]

    def __str__(self) -> str:
        return f"node ({self.level}, {self.index})"


class Checkpoint(models.Model):
    size = models.PositiveBigIntegerField(_("kích thước"), unique=True)
    root_hash = models.CharField(_("mã băm gốc"), max_length=64)
    note = models.TextField(_("điểm kiểm tra đã ký"))
    created_at = models.DateTimeField(_("thời điểm"), auto_now_add=True)

    class Meta:
        ordering = ["size"]

    def __str__(self) -> str:
        return f"checkpoint {self.size}"


class IssuedRecord(models.Model):
    record = models.OneToOneField(
        "records.YearRecord", on_delete=models.PROTECT, related_name="issuance"
    )
    leaf = models.OneToOneField(LogLeaf, on_delete=models.PROTECT, related_name="issuance")
    pdf_sha256 = models.CharField(max_length=64)
    issued_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"issued {self.record_id} at leaf {self.leaf_id}"


class ProofBundle(models.Model):
    """A c2sp.org/tlog-proof@v1 text proving ``leaf`` is in ``checkpoint``."""

    leaf = models.ForeignKey(LogLeaf, on_delete=models.PROTECT, related_name="proof_bundles")
    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["leaf", "checkpoint"], name="one_bundle_per_checkpoint")
        ]

    def __str__(self) -> str:
        return f"proof of leaf {self.leaf_id} in checkpoint {self.checkpoint_id}"


class Supersession(models.Model):
    """An issued version replaced by its issued correction; the ``superseded`` leaf says so."""

    old = models.OneToOneField(
        "records.YearRecord", on_delete=models.PROTECT, related_name="supersession"
    )
    new = models.OneToOneField(
        "records.YearRecord", on_delete=models.PROTECT, related_name="supersession_of"
    )
    leaf = models.OneToOneField(LogLeaf, on_delete=models.PROTECT, related_name="supersession")
    reason = models.TextField(_("lý do đính chính"))
    at = models.DateTimeField(_("thời điểm"))

    def __str__(self) -> str:
        return f"{self.old_id} superseded by {self.new_id}"


class Revocation(models.Model):
    """An issued version withdrawn for good, with the reason; the ``revoked`` leaf says so."""

    record = models.OneToOneField(
        "records.YearRecord", on_delete=models.PROTECT, related_name="revocation"
    )
    leaf = models.OneToOneField(LogLeaf, on_delete=models.PROTECT, related_name="revocation")
    reason = models.TextField(_("lý do thu hồi"))
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("người thu hồi"),
    )
    at = models.DateTimeField(_("thời điểm"))

    class Meta:
        verbose_name = _("thu hồi học bạ")
        verbose_name_plural = _("thu hồi học bạ")

    def __str__(self) -> str:
        return f"{self.record_id} revoked"


class CopyChannel(models.TextChoices):
    DOWNLOAD = "download", _("Tải tệp PDF")
    CLASS_ZIP = "class_zip", _("Tải cả lớp")
    BOOKLET = "booklet", _("Sổ học bạ")
    PRINT = "print", _("Bản in")
    EXTRACT = "extract", _("Trích lục")


class CopyPurpose(models.TextChoices):
    PARENT = "parent", _("Cấp cho cha mẹ học sinh")
    TRANSFER = "transfer", _("Hồ sơ chuyển trường")
    ARCHIVE = "archive", _("Lưu trữ của nhà trường")
    CHECK = "check", _("Kiểm tra, đối chiếu")
    OTHER = "other", _("Mục đích khác")


class CopyIssued(models.Model):
    """One copy of an issued record handed out (issue 6 §6): who, when, how and why.

    The ``copy_issued`` leaf carries the copy's id, so a copy's id (printed or in the file name)
    leads back to this row and to the issued version it reproduces."""

    copy_id = models.UUIDField(_("mã bản sao"), unique=True)
    record = models.ForeignKey(
        "records.YearRecord", on_delete=models.PROTECT, related_name="copies"
    )
    leaf = models.OneToOneField(LogLeaf, on_delete=models.PROTECT, related_name="copy")
    channel = models.CharField(_("hình thức"), max_length=12, choices=CopyChannel.choices)
    purpose = models.CharField(_("mục đích"), max_length=12, choices=CopyPurpose.choices)
    note = models.CharField(_("ghi chú"), max_length=200, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("người cấp"),
    )
    at = models.DateTimeField(_("thời điểm"))

    class Meta:
        verbose_name = _("bản sao học bạ")
        verbose_name_plural = _("bản sao học bạ")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"copy {self.copy_id} of {self.record_id}"
