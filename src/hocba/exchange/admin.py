"""Read-only admin pages: targets are made with ``hocba exchange target`` (checked, audited)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from hocba.exchange.models import ReceivedRecord, RecordSync, SyncTarget


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SyncTarget)
class SyncTargetAdmin(ReadOnlyAdmin):
    list_display = ["name", "endpoint_url", "enabled", "batch_size"]
    exclude = ["api_key"]


@admin.register(RecordSync)
class RecordSyncAdmin(ReadOnlyAdmin):
    list_display = ["record", "target", "status", "attempts", "last_attempt_at", "synced_at"]
    list_filter = ["status", "target"]


@admin.register(ReceivedRecord)
class ReceivedRecordAdmin(ReadOnlyAdmin):
    list_display = ["origin", "record_id", "version", "status", "ministry_code", "received_at"]
    list_filter = ["origin", "status", "school_year"]
