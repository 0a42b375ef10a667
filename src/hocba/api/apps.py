from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "hocba.api"
    verbose_name = "API"
