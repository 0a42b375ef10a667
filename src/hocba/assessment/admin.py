from django.contrib import admin

from hocba.assessment import models


@admin.register(models.AssessmentSettings)
class AssessmentSettingsAdmin(admin.ModelAdmin):
    """DOMAIN §8's open questions, answered per school year by the system administrator."""

    list_display = [
        "school_year",
        "allow_zero_score",
        "optional_subjects_count",
        "single_score_tin_hoc_cong_nghe",
    ]


@admin.register(models.CommentBankEntry)
class CommentBankEntryAdmin(admin.ModelAdmin):
    list_display = ["code", "target", "school", "owner", "text"]
    list_filter = ["school"]
    search_fields = ["code", "text"]


@admin.register(models.CellChange)
class CellChangeAdmin(admin.ModelAdmin):
    """Read-only: the per-cell history is append-only."""

    list_display = [
        "at",
        "actor_label",
        "channel",
        "sheet",
        "key",
        "period",
        "field",
        "old_value",
        "new_value",
    ]
    list_filter = ["channel", "sheet"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
