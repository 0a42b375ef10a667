"""Excel round-trip pages (issue 3 §5): /lop/<id>/excel/, /truong/<id>/ma-nhan-xet/excel/."""

from django.urls import path

from hocba.web import views_excel as views

CLASS = "lop/<int:class_id>/excel/"
BANK = "truong/<int:school_id>/ma-nhan-xet/excel/"

urlpatterns = [
    path(CLASS, views.class_excel, name="excel_class"),
    path(
        CLASS + "mon/<str:subject>/<str:period>.xlsx",
        views.grid_download,
        {"kind_slug": "mon"},
        name="excel_subject_download",
    ),
    path(
        CLASS + "mon/<str:subject>/<str:period>/",
        views.grid_upload,
        {"kind_slug": "mon"},
        name="excel_subject_upload",
    ),
    path(
        CLASS + "pham-chat-nang-luc/<str:period>.xlsx",
        views.grid_download,
        {"kind_slug": "pham-chat-nang-luc"},
        name="excel_competency_download",
    ),
    path(
        CLASS + "pham-chat-nang-luc/<str:period>/",
        views.grid_upload,
        {"kind_slug": "pham-chat-nang-luc"},
        name="excel_competency_upload",
    ),
    path(
        CLASS + "thong-tin-chung.xlsx",
        views.grid_download,
        {"kind_slug": "thong-tin-chung"},
        name="excel_facts_download",
    ),
    path(
        CLASS + "thong-tin-chung/",
        views.grid_upload,
        {"kind_slug": "thong-tin-chung"},
        name="excel_facts_upload",
    ),
    path(
        CLASS + "ca-lop/<str:period>.xlsx",
        views.grid_download,
        {"kind_slug": "ca-lop"},
        name="excel_class_download",
    ),
    path(
        CLASS + "ca-lop/<str:period>/",
        views.grid_upload,
        {"kind_slug": "ca-lop"},
        name="excel_class_upload",
    ),
    path(CLASS + "tong-hop/<str:period>.xlsx", views.summary_download, name="excel_summary"),
    path(BANK + "<str:scope>.xlsx", views.comment_bank_download, name="excel_comments_download"),
    path(BANK + "<str:scope>/", views.comment_bank_upload, name="excel_comments_upload"),
]
