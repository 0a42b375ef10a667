from django.apps import AppConfig


class LedgerConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "hocba.ledger"
    verbose_name = "Sổ cái minh bạch"
