from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from hocba.records import models


@admin.register(models.YearRecord)
class YearRecordAdmin(admin.ModelAdmin):
    """Read-only: records change only through the records services."""

    list_display = ["short_code", "pupil", "school_year", "version", "status", "compiled_at"]
    list_filter = ["status", "school_year", "school"]
    search_fields = ["short_code", "pupil__ministry_code", "pupil__given_name", "content_hash"]
    readonly_fields = [f.name for f in models.YearRecord._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
