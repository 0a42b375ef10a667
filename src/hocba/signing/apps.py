from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class SigningConfig(AppConfig):
    name = "hocba.signing"
    verbose_name = _("Chữ ký số")

    def ready(self) -> None:
        from hocba.signing.checks import demo_trust_roots

        checks.register(demo_trust_roots, checks.Tags.security, deploy=True)
