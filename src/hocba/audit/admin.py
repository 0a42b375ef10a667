from django.contrib import admin

from hocba.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only."""

    list_display = ["at", "actor_label", "action", "object_type", "object_label", "school"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor_label", "object_id", "object_label"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
