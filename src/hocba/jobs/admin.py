from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from hocba.jobs import models


@admin.register(models.WorkerLease)
class WorkerLeaseAdmin(admin.ModelAdmin):
    """Read-only: which workers run now, where, and when each last beat."""

    list_display = ["worker_id", "hostname", "pid", "started_at", "heartbeat_at", "tasks_run"]
    readonly_fields = [f.name for f in models.WorkerLease._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
