from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "hocba.web"
    verbose_name = "Giao diện cán bộ"
