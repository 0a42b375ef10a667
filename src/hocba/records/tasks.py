"""Background tasks of the records app (issue 4 §5, STYLE §6).

:func:`render_job` renders a class's (or every class of a school's) current year records from
their stored canonical JSON into one zip, one class at a time. It takes the job's id, re-reads and
claims the job, and is safe to run twice: a finished job is left alone, a job another live worker
is running is left alone, and a worker whose claim was taken over (the reaper in
:mod:`hocba.records.jobs` re-queued it) stops at its next progress write without touching the
output. The zip is built in an anonymous local temporary file and saved to the file storage
(:data:`~django.core.files.storage.default_storage`: the local file system or an S3-compatible
bucket) under its final name only at the end, while the run still holds the job's row, so a
killed run leaves no half-written download in the storage (nor anything in the temporary folder).
"""

from __future__ import annotations

import json
import logging
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override
from django_tasks import TaskContext, task

from hocba.documents.render import render_class
from hocba.records import selectors
from hocba.records.models import RenderJob, RenderJobKind, RenderJobStatus, YearRecord
from hocba.schools.models import Enrolment, SchoolClass
from hocba.schools.selectors import class_roster

logger = logging.getLogger(__name__)

EXPORTS_DIR = "exports"


class Superseded(Exception):
    """Another run of the same job took over: stop without writing anything more."""


@dataclass(frozen=True)
class Entry:
    position: int
    enrolment: Enrolment
    record: YearRecord | None


def stale_after() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "HOCBA_JOB_STALE_SECONDS", 300)))


def output_path(job_id: int) -> str:
    """The zip's name in the file storage (relative to MEDIA_ROOT on the local file system)."""
    return f"{EXPORTS_DIR}/{job_id}.zip"


def _safe(text: str) -> str:
    """A file-name part: NFC, no path separators or control characters."""
    text = unicodedata.normalize("NFC", text)
    cleaned = "".join("-" if ch in '/\\:*?"<>|' or ord(ch) < 32 else ch for ch in text)
    return cleaned.strip().strip(".") or "_"


def entry_name(school_class: SchoolClass, entry: Entry) -> str:
    pupil = entry.enrolment.pupil
    return (
        f"{_safe(school_class.name)}/{entry.position:02d} - {_safe(pupil.full_name)}"
        f" - {_safe(pupil.ministry_code)}.pdf"
    )


def job_classes(job: RenderJob) -> list[SchoolClass]:
    if job.kind == RenderJobKind.CLASS:
        assert job.school_class is not None
        return [job.school_class]
    return list(
        SchoolClass.objects.filter(school=job.school, school_year=job.school_year).order_by(
            "grade", "name"
        )
    )


def class_entries(school_class: SchoolClass) -> list[Entry]:
    """The class's current pupils in roster order, each with its current record (or none)."""
    records = {r.enrolment_id: r for r in selectors.class_records(school_class)}
    return [
        Entry(position, enrolment, records.get(enrolment.pk))
        for position, enrolment in enumerate(class_roster(school_class), start=1)
    ]


def count_pupils(classes: list[SchoolClass]) -> int:
    return sum(len(class_roster(c)) for c in classes)


def _claim(job_id: int, *, takeover: bool = False) -> RenderJob | None:
    """Take the job for this run, or ``None`` when there is nothing to do.

    ``takeover``: the run that had the job is known dead (its task was re-queued by the lease).
    """
    now = timezone.now()
    with transaction.atomic():
        job = (
            RenderJob.objects.select_for_update(of=("self",))
            .select_related("school_class", "school", "school_year")
            .filter(pk=job_id)
            .first()
        )
        if job is None or job.status in {RenderJobStatus.DONE, RenderJobStatus.FAILED}:
            return None
        beat = job.heartbeat_at
        fresh = beat is not None and beat > now - stale_after()
        if job.status == RenderJobStatus.RUNNING and fresh and not takeover:
            return None  # a live worker has it; the reaper re-queues it if that worker dies
        job.status = RenderJobStatus.RUNNING
        job.attempt += 1
        job.started_at = job.heartbeat_at = now
        job.finished_at = None
        job.done_count = 0
        job.errors = []
        job.failure = ""
        job.save(
            update_fields=[
                "status",
                "attempt",
                "started_at",
                "heartbeat_at",
                "finished_at",
                "done_count",
                "errors",
                "failure",
            ]
        )
        return job


def _write(job: RenderJob, **fields: Any) -> None:
    """Update the job if this run still owns it (own short transaction: the UI sees it now)."""
    updated = RenderJob.objects.filter(
        pk=job.pk, attempt=job.attempt, status=RenderJobStatus.RUNNING
    ).update(**fields)
    if not updated:
        raise Superseded


def _error(entry: Entry, reason: str) -> dict[str, str]:
    pupil = entry.enrolment.pupil
    return {"pupil": pupil.full_name, "ministry_code": pupil.ministry_code, "reason": reason}


def _render_entries(
    pairs: list[tuple[Entry, YearRecord]],
) -> tuple[list[tuple[Entry, bytes]], list[dict[str, str]]]:
    """Render one class's records together; on a failure, one by one to name the pupil."""
    documents = [json.loads(record.canonical_json) for _entry, record in pairs]
    jsons: list[bytes | None] = [record.canonical_json.encode() for _entry, record in pairs]
    try:
        pdfs = render_class(documents, canonical_jsons=jsons)
        return [(entry, pdf) for (entry, _record), pdf in zip(pairs, pdfs, strict=True)], []
    except Exception:
        logger.warning("Batch render failed; retrying pupil by pupil", exc_info=True)
    done: list[tuple[Entry, bytes]] = []
    errors: list[dict[str, str]] = []
    for (entry, _record), document, canonical_json in zip(pairs, documents, jsons, strict=True):
        try:
            done.append((entry, render_class([document], canonical_jsons=[canonical_json])[0]))
        except Exception as exc:
            errors.append(_error(entry, _("Không in được: %(error)s") % {"error": exc}))
    return done, errors


def _run(job: RenderJob, part: IO[bytes]) -> None:
    """Render into ``part`` (a local temporary file), then publish it to the storage."""
    classes = job_classes(job)
    _write(job, total=count_pupils(classes), heartbeat_at=timezone.now())
    done_count = 0
    errors: list[dict[str, str]] = []
    with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for school_class in classes:
            entries = class_entries(school_class)
            errors += [_error(e, _("Chưa tổng hợp học bạ")) for e in entries if e.record is None]
            rendered, failed = _render_entries([(e, e.record) for e in entries if e.record])
            errors += failed
            for entry, pdf in rendered:
                archive.writestr(entry_name(school_class, entry), pdf)
            done_count += len(entries)
            _write(job, done_count=done_count, errors=errors, heartbeat_at=timezone.now())
    name = output_path(job.pk)
    # Only the run that still owns the job may publish its zip: the row stays locked from the
    # ownership check to the commit, so no other run of the job saves meanwhile.
    with transaction.atomic():
        RenderJob.objects.select_for_update().filter(pk=job.pk).first()
        _write(job, heartbeat_at=timezone.now())  # raises Superseded if the job was taken over
        if default_storage.exists(name):
            default_storage.delete(name)  # left by a run that died before its commit
        part.seek(0)
        stored = default_storage.save(name, File(part, name=name))
        now = timezone.now()
        _write(
            job,
            status=RenderJobStatus.DONE,
            output_file=stored,
            finished_at=now,
            heartbeat_at=now,
        )


@task(takes_context=True)
def render_job(context: TaskContext, job_id: int) -> str:
    """Render the job's records to a zip; returns the job's status after this run."""
    job = _claim(job_id, takeover=context.attempt > 1)
    if job is None:
        return "skipped"
    try:
        # The zip is built in an anonymous (unlinked) temporary file: nothing of it survives a
        # killed worker, and it is gone when this run ends.
        with (
            tempfile.TemporaryFile(
                prefix=f"hocba-job-{job.pk}-", suffix=".zip", dir=settings.FILE_UPLOAD_TEMP_DIR
            ) as part,
            override(settings.LANGUAGE_CODE),
        ):
            _run(job, part)
    except Superseded:
        logger.info("Render job %s attempt %s was taken over; stopping", job.pk, job.attempt)
        return "superseded"
    except Exception as exc:
        logger.exception("Render job %s failed", job.pk)
        try:
            _write(
                job,
                status=RenderJobStatus.FAILED,
                failure=str(exc)[:2000] or type(exc).__name__,
                finished_at=timezone.now(),
            )
        except Superseded:
            return "superseded"
        return RenderJobStatus.FAILED.value
    return RenderJobStatus.DONE.value


@task()
def compile_classes(class_ids: list[int], actor_id: int) -> dict[str, int]:
    """Compile each of these classes as ``actor`` would (:func:`~.services.compile_class`).

    Compiling again is safe: an unchanged record is left as it is. A class that cannot be
    compiled (not locked, no permission) is logged and skipped; the others go on. Returns the
    counts of outcomes over all classes.
    """
    from django.contrib.auth import get_user_model

    from hocba.common.errors import DomainError
    from hocba.records.services import compile_class

    actor = get_user_model().objects.get(pk=actor_id)
    counts: dict[str, int] = {}
    for school_class in SchoolClass.objects.filter(pk__in=class_ids).order_by("pk"):
        try:
            report = compile_class(actor=actor, school_class=school_class)
        except DomainError as error:
            logger.warning("compiling class %s skipped: %s", school_class.pk, error.message)
            counts["refused"] = counts.get("refused", 0) + 1
            continue
        for outcome in report.outcomes:
            counts[outcome.outcome] = counts.get(outcome.outcome, 0) + 1
    return counts
