from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def create_cache_table(using: str = "default", **kwargs: Any) -> None:
    """The database cache's table (rate limits and other counters) comes with ``hocba migrate``,
    so a deployment needs no extra step (``createcachetable`` skips an existing table). Run once
    per migrate: for the contenttypes app (this app has no models, so gets no signal)."""
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)


class WebConfig(AppConfig):
    name = "hocba.web"
    verbose_name = "Giao diện cán bộ"

    def ready(self) -> None:
        from django.apps import apps

        post_migrate.connect(
            create_cache_table,
            sender=apps.get_app_config("contenttypes"),
            dispatch_uid="hocba-cache-table",
        )
