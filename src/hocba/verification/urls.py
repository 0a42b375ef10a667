from django.urls import path

from hocba.verification import views

app_name = "verification"

urlpatterns = [
    # The address printed under the QR code of every year record (records.canonical).
    path("xac-thuc/<str:short_code>", views.status_page, name="status"),
    path("xac-thuc/<str:short_code>/so-cai.tlog-proof", views.proof_bundle, name="proof"),
]
