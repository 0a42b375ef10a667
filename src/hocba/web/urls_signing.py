"""Signing pages (issue 5): certificates, signing a class or school, batch progress."""

from django.urls import path

from hocba.web import views_signing

urlpatterns = [
    path("chu-ky-so/", views_signing.certificates, name="signing_certificates"),
    path("chu-ky-so/dang-ky/", views_signing.certificate_register, name="signing_register"),
    path("chu-ky-so/tu-xa/", views_signing.certificate_register_remote, name="signing_remote"),
    path("chu-ky-so/thiet-bi/", views_signing.certificate_register_token, name="signing_token"),
    path(
        "chu-ky-so/<int:certificate_id>/ngung-dung/",
        views_signing.certificate_retire,
        name="signing_retire",
    ),
    path("lop/<int:class_id>/ky-so/", views_signing.class_signing, name="signing_class"),
    path("truong/<int:school_id>/ky-so/", views_signing.school_signing, name="signing_school"),
    path("ky-so/bat-dau/", views_signing.start, name="signing_start"),
    path("ky-so/luot/<int:batch_id>/", views_signing.batch_detail, name="signing_batch"),
    path("ky-so/luot/<int:batch_id>/tiep-tuc/", views_signing.batch_resume, name="signing_resume"),
    path("ky-so/luot/<int:batch_id>/huy/", views_signing.batch_cancel, name="signing_cancel"),
]
