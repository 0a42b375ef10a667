"""Stored validation reports: the fast path for files that are an issued record byte for byte."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class StoredReport(models.Model):
    """The full validation report of an issued record's final PDF, computed once.

    Made right after issuing (``signing.tasks.issue_augmented``), or on the first verification of
    that file if the issuing-time step did not run. ``report`` is the report JSON (schema
    ``hocba.verification-report/1``) without the record's current status, which is looked up
    on every answer.
    """

    issuance = models.OneToOneField(
        "ledger.IssuedRecord", on_delete=models.PROTECT, related_name="stored_report"
    )
    pdf_sha256 = models.CharField(_("mã băm tệp PDF"), max_length=64, unique=True)
    report = models.TextField(_("báo cáo kiểm tra (JSON)"))
    created_at = models.DateTimeField(_("thời điểm"), auto_now_add=True)

    class Meta:
        verbose_name = _("báo cáo kiểm tra đã lưu")
        verbose_name_plural = _("báo cáo kiểm tra đã lưu")

    def __str__(self) -> str:
        return f"report of {self.pdf_sha256[:12]}"
