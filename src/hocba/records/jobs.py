"""Batch rendering jobs (issue 4 §5): who may ask, asking, and re-queuing abandoned runs.

A job is a :class:`~hocba.records.models.RenderJob` row plus a task on the database queue
(:func:`hocba.records.tasks.render_job`), enqueued only after the row is committed. The queue has
no lease (ARCHITECTURE §10): a worker killed mid-job leaves the job RUNNING with a heartbeat that
stops moving, so :func:`requeue_stale_jobs` (run by ``hocba worker`` on start and every few
minutes) puts such jobs back in the queue. Running a job twice is harmless (see ``tasks``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hocba.audit.services import record_event
from hocba.common.errors import DomainError, PermissionRefused
from hocba.records import tasks
from hocba.records.models import RenderJob, RenderJobKind, RenderJobStatus
from hocba.schools import access
from hocba.schools.models import School, SchoolClass
from hocba.schools.selectors import current_school_year


def may_render(
    user: Any, *, school_class: SchoolClass | None = None, school: School | None = None
) -> bool:
    """Staff of the school who can see the class (a whole school: its managers), or an admin.

    Staff above the school (district, Department) read records but do not print them.
    """
    if access.is_system_admin(user):
        return True
    staff = access.staff_of(user)
    if school_class is not None:
        return bool(
            staff
            and staff.school_id == school_class.school_id
            and access.can_view(user, school_class)
        )
    return school is not None and access.is_school_manager(user, school)


def may_see_job(user: Any, job: RenderJob) -> bool:
    """Whoever may start the same job now may watch it and download its zip."""
    if job.kind == RenderJobKind.CLASS:
        return may_render(user, school_class=job.school_class)
    return may_render(user, school=job.school)


def _enqueue(job_id: int) -> None:
    transaction.on_commit(lambda: tasks.render_job.enqueue(job_id))


def request_render(
    *, actor: Any, school_class: SchoolClass | None = None, school: School | None = None
) -> RenderJob:
    """Create a render job for a class or a school and queue it after commit."""
    if (school_class is None) == (school is None):
        raise ValueError("Give exactly one of school_class and school.")
    if not may_render(actor, school_class=school_class, school=school):
        target = school_class if school_class is not None else school
        raise PermissionRefused(
            _("Bạn không có quyền in học bạ của %(object)s.") % {"object": target}
        )
    if school_class is not None:
        kind, school, year = RenderJobKind.CLASS, school_class.school, school_class.school_year
    else:
        current = current_school_year()
        if current is None:
            raise DomainError(_("Chưa có năm học nào."))
        kind, year = RenderJobKind.SCHOOL, current
    assert school is not None
    with transaction.atomic():
        job = RenderJob(
            kind=kind,
            school_class=school_class,
            school=school,
            school_year=year,
            requested_by=actor if getattr(actor, "is_authenticated", False) else None,
            requested_at=timezone.now(),
        )
        job.total = tasks.count_pupils(tasks.job_classes(job))
        job.save()
        record_event(
            actor=actor,
            action="records.render_job.requested",
            obj=job,
            school=school,
            changes={
                "kind": kind.value,
                "school_class": school_class.pk if school_class else None,
                "school_year": year.name,
                "total": job.total,
            },
        )
        _enqueue(job.pk)
    return job


def requeue_stale_jobs(older_than: timedelta | None = None) -> list[int]:
    """Queue again every RUNNING job whose heartbeat is older than ``older_than``.

    The job goes back to QUEUED, so the abandoned run (if its worker was only slow, not dead)
    stops at its next progress write, and the new run claims it from scratch.
    """
    older_than = older_than or tasks.stale_after()
    cutoff = timezone.now() - older_than
    with transaction.atomic():
        stale = list(
            RenderJob.objects.select_for_update(skip_locked=True).filter(
                status=RenderJobStatus.RUNNING, heartbeat_at__lt=cutoff
            )
        )
        for job in stale:
            job.status = RenderJobStatus.QUEUED
            job.save(update_fields=["status"])
            record_event(
                actor=None,
                action="records.render_job.requeued",
                obj=job,
                school=job.school,
                changes={"attempt": job.attempt, "heartbeat_at": job.heartbeat_at},
            )
            _enqueue(job.pk)
    return [job.pk for job in stale]
