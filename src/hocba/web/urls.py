from django.contrib.auth import views as auth_views
from django.urls import include, path

from hocba.web import views, views_import, views_pki, views_twofactor

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("dang-nhap/", views.LoginView.as_view(), name="login"),
    path("dang-xuat/", auth_views.LogoutView.as_view(), name="logout"),
    path("tai-khoan/xac-thuc-hai-buoc/", views_twofactor.verify, name="twofactor_verify"),
    path("tai-khoan/xac-thuc-hai-buoc/thiet-lap/", views_twofactor.setup, name="twofactor_setup"),
    path(
        "tai-khoan/xac-thuc-hai-buoc/ma-du-phong/",
        views_twofactor.recovery_codes,
        name="twofactor_recovery",
    ),
    path("quyen-rieng-tu/", views.privacy, name="privacy"),
    path("truong/<int:school_id>/", views.school_detail, name="school"),
    path("truong/<int:school_id>/nhat-ky/", views.school_audit, name="school_audit"),
    path("truong/<int:school_id>/nhap-excel/", views_import.import_upload, name="import"),
    path(
        "truong/<int:school_id>/nhap-excel/mau.xlsx",
        views_import.import_template,
        name="import_template",
    ),
    path("truong/<int:school_id>/tim-hoc-sinh/", views.pupil_search, name="pupil_search"),
    path("lop/<int:class_id>/", views.class_detail, name="class"),
    path("hoc-sinh/<int:pupil_id>/", views.pupil_detail, name="pupil"),
    # The demo PKI's CRL and timestamp authority (the URL is written in the demo certificates).
    path("pki/demo.crl", views_pki.crl, name="demo_crl"),
    path("pki/tsa", views_pki.timestamp, name="demo_tsa"),
    # Assessment pages, one module per screen family (issue 3).
    path("", include("hocba.web.urls_grid")),
    path("", include("hocba.web.urls_year_end")),
    path("", include("hocba.web.urls_comments")),
    path("", include("hocba.web.urls_excel")),
    path("", include("hocba.web.urls_jobs")),
    path("", include("hocba.web.urls_records")),
    path("", include("hocba.web.urls_signing")),
    path("", include("hocba.web.urls_lifecycle")),
    path("huong-dan/", include("hocba.web.views_guide")),  # the user guide (issue 9 §4)
    path("", include("hocba.web.urls_transfers")),
]
