from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VerificationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "hocba.verification"
    verbose_name = _("Xác thực học bạ")
