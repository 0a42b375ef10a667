"""Transfers between schools (issue 9 §1)."""

from django.urls import path

from hocba.web import views_transfers

urlpatterns = [
    path(
        "hoc-sinh/<int:pupil_id>/chuyen-truong/", views_transfers.release, name="transfer_release"
    ),
    path(
        "chuyen-truong/<int:transfer_id>/goi-ho-so.zip",
        views_transfers.package,
        name="transfer_package",
    ),
    path(
        "truong/<int:school_id>/nhan-chuyen-truong/",
        views_transfers.receive,
        name="transfer_receive",
    ),
    path(
        "chuyen-truong/hoc-ba/<int:record_id>.pdf",
        views_transfers.received_pdf,
        name="transfer_record_pdf",
    ),
]
