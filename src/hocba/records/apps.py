from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecordsConfig(AppConfig):
    name = "hocba.records"
    verbose_name = _("Học bạ")
