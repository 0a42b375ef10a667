"""API keys for institutions (issue 7 §5): receiving schools, universities, other systems.

Only a SHA-256 of each key is stored: a key is 256 random bits, so a fast hash is enough, and the
key itself is shown once, when it is made (``hocba api-keys create``).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiScope(models.TextChoices):
    VERIFY_READ = "verify:read", _("Xác thực học bạ theo mã")
    VERIFY_FILE = "verify:file", _("Xác thực tệp học bạ")
    EXCHANGE_PUSH = "exchange:push", _("Gửi học bạ lên kho dữ liệu (đồng bộ)")


class ApiKey(models.Model):
    name = models.CharField(_("tên"), max_length=120)
    institution = models.CharField(_("cơ quan, tổ chức"), max_length=255)
    prefix = models.CharField(_("tiền tố"), max_length=16, unique=True)
    key_hash = models.CharField(_("mã băm SHA-256 của khoá"), max_length=64, unique=True)
    scopes = models.JSONField(_("quyền"), default=list)
    rate_limit = models.PositiveIntegerField(
        _("số yêu cầu tối đa mỗi phút"),
        null=True,
        blank=True,
        help_text=_("Để trống: dùng giới hạn chung của khoá API."),
    )
    is_active = models.BooleanField(_("đang dùng"), default=True)
    created_at = models.DateTimeField(_("thời điểm tạo"), default=timezone.now)
    last_used_at = models.DateTimeField(_("lần dùng gần nhất"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("thời điểm thu hồi"), null=True, blank=True)

    class Meta:
        verbose_name = _("khoá API")
        verbose_name_plural = _("khoá API")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.prefix} ({self.institution})"

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])
