"""Batch rendering pages (issue 4 §5): start a class or school job, watch it, download the zip.

Starting goes through :func:`hocba.records.jobs.request_render`, which decides who may print.
The job page polls a fragment with htmx every 2 seconds while the job is queued or running. The
zip is served here after the same permission check, never from a public media URL: it is
streamed from the file storage (local folder or S3-compatible bucket), never read whole.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from hocba.common.errors import DomainError, PermissionRefused
from hocba.records import jobs
from hocba.records.models import RenderJob, RenderJobKind, RenderJobStatus
from hocba.schools import access


@login_required
@require_POST
def start_class_job(request: HttpRequest, class_id: int) -> HttpResponse:
    school_class = get_object_or_404(
        access.visible_classes(request.user).select_related("school", "school_year"), pk=class_id
    )
    try:
        job = jobs.request_render(actor=request.user, school_class=school_class)
    except PermissionRefused as refused:
        raise PermissionDenied(refused.message) from refused
    except DomainError as error:
        raise Http404(error.message) from error
    return redirect("web:render_job", job_id=job.pk)


@login_required
@require_POST
def start_school_job(request: HttpRequest, school_id: int) -> HttpResponse:
    """Print every class of the school for the current school year, as one job."""
    school = get_object_or_404(access.visible_schools(request.user), pk=school_id)
    try:
        job = jobs.request_render(actor=request.user, school=school)
    except PermissionRefused as refused:
        raise PermissionDenied(refused.message) from refused
    except DomainError as error:
        raise Http404(error.message) from error
    return redirect("web:render_job", job_id=job.pk)


def _job_for(request: HttpRequest, job_id: int) -> RenderJob:
    job = get_object_or_404(
        RenderJob.objects.select_related("school_class", "school", "school_year"), pk=job_id
    )
    target = job.school_class if job.kind == RenderJobKind.CLASS else job.school
    if target is None or not access.can_view(request.user, target):
        raise Http404
    if not jobs.may_see_job(request.user, job):
        raise PermissionDenied
    return job


@login_required
@require_GET
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job_for(request, job_id)
    context = {"job": job, "school_class": job.school_class}
    if request.headers.get("HX-Request"):
        return render(request, "web/jobs_progress.html", context)
    return render(request, "web/jobs_detail.html", context)


@login_required
@require_GET
def job_download(request: HttpRequest, job_id: int) -> FileResponse:
    job = _job_for(request, job_id)
    if job.status != RenderJobStatus.DONE or not job.output_file:
        raise Http404
    try:
        # The storage refuses a name outside its root (SuspiciousOperation).
        handle = default_storage.open(job.output_file, "rb")
    except (FileNotFoundError, SuspiciousOperation):
        raise Http404 from None
    scope = job.school_class.name if job.school_class else job.school.code
    filename = f"hoc-ba-{job.school_year.name}-{scope}-{job.pk}.zip"
    return FileResponse(
        handle, as_attachment=True, filename=filename, content_type="application/zip"
    )
