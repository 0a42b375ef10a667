"""A year record's page for staff: versions, ledger, correction, revocation, copies (issue 6)."""

from django.urls import path

from hocba.web import views_lifecycle

urlpatterns = [
    path("hoc-ba/<str:short_code>/", views_lifecycle.record_detail, name="record_detail"),
    path(
        "hoc-ba/<str:short_code>/dinh-chinh/",
        views_lifecycle.request_correction,
        name="record_correct",
    ),
    path(
        "hoc-ba/<str:short_code>/dinh-chinh/huy/",
        views_lifecycle.cancel_correction,
        name="record_correct_cancel",
    ),
    path("hoc-ba/<str:short_code>/thu-hoi/", views_lifecycle.revoke, name="record_revoke"),
    path("hoc-ba/<str:short_code>/ban-sao/", views_lifecycle.issued_copy, name="record_copy"),
]
