"""Year records of a class: list and compile, PDF preview, class zip, booklet (issue 4 §6-7)."""

from django.urls import path

from hocba.web import views_records

urlpatterns = [
    path("lop/<int:class_id>/hoc-ba/", views_records.class_records, name="records_class"),
    path(
        "lop/<int:class_id>/hoc-ba/tong-hop/",
        views_records.class_records_compile,
        name="records_compile",
    ),
    path(
        "lop/<int:class_id>/hoc-ba/ca-lop.zip",
        views_records.class_records_zip,
        name="records_class_zip",
    ),
    path("hoc-ba/<str:short_code>.pdf", views_records.record_pdf, name="records_pdf"),
    path(
        "hoc-sinh/<int:pupil_id>/so-hoc-ba.pdf",
        views_records.pupil_booklet,
        name="records_booklet",
    ),
]
