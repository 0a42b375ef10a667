"""The comment bank pages (issue 3 §4), inside the "web" namespace."""

from django.urls import path

from hocba.web import views_comments

urlpatterns = [
    path(
        "truong/<int:school_id>/ma-nhan-xet/",
        views_comments.comment_bank_page,
        name="comment_bank",
    ),
    path(
        "truong/<int:school_id>/ma-nhan-xet/<int:entry_id>/sua/",
        views_comments.comment_bank_edit,
        name="comment_bank_edit",
    ),
    path(
        "truong/<int:school_id>/ma-nhan-xet/<int:entry_id>/xoa/",
        views_comments.comment_bank_delete,
        name="comment_bank_delete",
    ),
]
