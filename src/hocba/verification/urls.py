from django.urls import path

from hocba.verification import views, views_file

app_name = "verification"

urlpatterns = [
    # The address printed under the QR code of every year record (records.canonical).
    path("xac-thuc/<str:short_code>", views.status_page, name="status"),
    path("xac-thuc/<str:short_code>/hoc-ba.pdf", views.record_pdf, name="pdf"),
    path("xac-thuc/<str:short_code>/so-cai.tlog-proof", views.proof_bundle, name="proof"),
    # Verify a file: upload a PDF, read the report, download it as JSON or PDF.
    path("kiem-tra-tep/", views_file.verify_file, name="file"),
    path("kiem-tra-tep/bao-cao.json", views_file.report_json, name="file_json"),
    path("kiem-tra-tep/bao-cao.pdf", views_file.report_pdf, name="file_pdf"),
    # Parent look-up: Ministry code + second factor (POSTed) → the child's records.
    path("tra-cuu/", views.parent_lookup, name="lookup"),
    path("tra-cuu/thoat/", views.lookup_leave, name="lookup_leave"),
    path("tra-cuu/so-hoc-ba.pdf", views.lookup_booklet, name="lookup_booklet"),
]
