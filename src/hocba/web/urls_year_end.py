"""Year-end results and locks of a class (issue 3 §3, §6), inside the "web" namespace."""

from django.urls import path

from hocba.web import views_locks, views_year_end

PUPIL = "lop/<int:class_id>/cuoi-nam/<int:enrolment_id>"

urlpatterns = [
    path("lop/<int:class_id>/cuoi-nam/", views_year_end.year_end_page, name="year_end"),
    path(
        "lop/<int:class_id>/cuoi-nam/tinh/",
        views_year_end.year_end_refresh,
        name="year_end_refresh",
    ),
    path(f"{PUPIL}/tieu-bieu/", views_year_end.set_exemplary, name="year_end_exemplary"),
    path(f"{PUPIL}/khen-thuong/", views_year_end.set_adhoc_awards, name="year_end_adhoc"),
    path(f"{PUPIL}/bo-sung/", views_year_end.record_summer, name="year_end_summer"),
    path(f"{PUPIL}/len-lop/", views_year_end.decide_promotion, name="year_end_promotion"),
    path("lop/<int:class_id>/khoa/", views_locks.locks_page, name="locks"),
    path("lop/<int:class_id>/khoa/hoan-thanh/", views_locks.finish_class, name="locks_finish"),
    path("lop/<int:class_id>/khoa/them/", views_locks.create_lock, name="locks_create"),
    path("lop/<int:class_id>/khoa/<int:lock_id>/mo/", views_locks.unlock, name="locks_unlock"),
]
