from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "hocba.monitoring"
    verbose_name = _("Theo dõi triển khai học bạ số")
