"""Rollout dashboards, mounted at ``theo-doi/``."""

from django.urls import path

from hocba.monitoring import views

app_name = "monitoring"

urlpatterns = [
    path("", views.index, name="index"),
    path("toan-quoc/", views.country, name="country"),
    path("toan-quoc/xuat.<str:fmt>", views.country, name="country_export"),
    path("tinh/<int:province_id>/", views.province, name="province"),
    path("tinh/<int:province_id>/xuat.<str:fmt>", views.province, name="province_export"),
    path("quan-huyen/<int:district_id>/", views.district, name="district"),
    path("quan-huyen/<int:district_id>/xuat.<str:fmt>", views.district, name="district_export"),
    path("truong/<int:school_id>/", views.school, name="school"),
    path("truong/<int:school_id>/xuat.<str:fmt>", views.school, name="school_export"),
    path("lop/<int:class_id>/", views.school_class, name="school_class"),
    path("lop/<int:class_id>/xuat.<str:fmt>", views.school_class, name="school_class_export"),
]
