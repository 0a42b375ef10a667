from django.contrib import admin

from hocba.schools import models


@admin.register(models.Province)
class ProvinceAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "department_name"]
    search_fields = ["code", "name"]


@admin.register(models.District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "province"]
    list_filter = ["province"]
    search_fields = ["code", "name"]


class SchoolYearProfileInline(admin.TabularInline):
    model = models.SchoolYearProfile
    extra = 0


@admin.register(models.School)
class SchoolAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "district", "province"]
    list_filter = ["province", "district"]
    search_fields = ["code", "name"]
    inlines = [SchoolYearProfileInline]


@admin.register(models.SchoolYear)
class SchoolYearAdmin(admin.ModelAdmin):
    list_display = ["name", "starts_on", "ends_on", "assessment_scheme", "is_current"]


class StaffRoleInline(admin.TabularInline):
    model = models.StaffRole
    extra = 0


@admin.register(models.Staff)
class StaffAdmin(admin.ModelAdmin):
    list_display = ["__str__", "user", "school", "district", "province"]
    list_filter = ["school__province", "roles__role"]
    search_fields = ["family_name", "given_name", "user__username", "staff_code"]
    inlines = [StaffRoleInline]
    raw_id_fields = ["user"]


class EnrolmentInline(admin.TabularInline):
    model = models.Enrolment
    extra = 0
    raw_id_fields = ["pupil"]


@admin.register(models.SchoolClass)
class SchoolClassAdmin(admin.ModelAdmin):
    list_display = ["name", "grade", "school", "school_year", "homeroom_teacher"]
    list_filter = ["school_year", "grade", "school"]
    search_fields = ["name", "school__name"]
    inlines = [EnrolmentInline]


@admin.register(models.Pupil)
class PupilAdmin(admin.ModelAdmin):
    list_display = ["ministry_code", "family_name", "middle_name", "given_name", "date_of_birth"]
    search_fields = ["ministry_code", "personal_id", "given_name", "family_name"]

    def get_readonly_fields(self, request, obj=None):
        # The Ministry code never changes once created (DOMAIN §5).
        return ["ministry_code"] if obj else []


@admin.register(models.TeachingAssignment)
class TeachingAssignmentAdmin(admin.ModelAdmin):
    list_display = ["teacher", "school_class", "subject"]
    list_filter = ["subject", "school_class__school"]
