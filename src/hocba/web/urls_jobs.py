"""Background render jobs (issue 4 §5), inside the "web" namespace."""

from django.urls import path

from hocba.web import views_jobs

urlpatterns = [
    path("lop/<int:class_id>/in-hoc-ba/", views_jobs.start_class_job, name="render_job_start"),
    path(
        "truong/<int:school_id>/in-hoc-ba/",
        views_jobs.start_school_job,
        name="render_school_job_start",
    ),
    path("cong-viec/<int:job_id>/", views_jobs.job_detail, name="render_job"),
    path("cong-viec/<int:job_id>/tai-ve/", views_jobs.job_download, name="render_job_download"),
]
