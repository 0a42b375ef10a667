from django.contrib import admin

from hocba.monitoring.models import RolloutDeadline


@admin.register(RolloutDeadline)
class RolloutDeadlineAdmin(admin.ModelAdmin):
    list_display = ["school_year", "province", "milestone", "due_on"]
    list_filter = ["school_year", "province", "milestone"]
    date_hierarchy = "due_on"
