"""Background tasks of the records app (issue 4 §5, STYLE §6).

:func:`render_job` renders a class's (or every class of a school's) current year records from
their stored canonical JSON into one zip, one class at a time. It takes the job's id, re-reads and
claims the job, and is safe to run twice: a finished job is left alone, a job another live worker
is running is left alone, and a worker whose claim was taken over (the reaper in
:mod:`hocba.records.jobs` re-queued it) stops at its next progress write without touching the
output. The zip is written to a temporary name and moved into place at the end, so a killed run
leaves no half-written download.
"""

from __future__ import annotations

import json
import logging
import os
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override
from django_tasks import task

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
    """The zip's path relative to MEDIA_ROOT."""
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


def _claim(job_id: int) -> RenderJob | None:
    """Take the job for this run, or ``None`` when there is nothing to do."""
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
        if job.status == RenderJobStatus.RUNNING and beat and beat > now - stale_after():
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


def _run(job: RenderJob, part: Path) -> None:
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
    target = Path(settings.MEDIA_ROOT) / output_path(job.pk)
    # Only the run that still owns the job may publish its zip.
    with transaction.atomic():
        RenderJob.objects.select_for_update().filter(pk=job.pk).first()
        now = timezone.now()
        _write(
            job,
            status=RenderJobStatus.DONE,
            output_file=output_path(job.pk),
            finished_at=now,
            heartbeat_at=now,
        )
        os.replace(part, target)


@task()
def render_job(job_id: int) -> str:
    """Render the job's records to a zip; returns the job's status after this run."""
    job = _claim(job_id)
    if job is None:
        return "skipped"
    exports = Path(settings.MEDIA_ROOT) / EXPORTS_DIR
    exports.mkdir(parents=True, exist_ok=True)
    part = exports / f"{job.pk}.zip.{job.attempt}.part"
    for earlier in exports.glob(f"{job.pk}.zip.*.part"):  # left by a killed worker
        earlier.unlink(missing_ok=True)
    try:
        with override(settings.LANGUAGE_CODE):
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
    finally:
        part.unlink(missing_ok=True)
    return RenderJobStatus.DONE.value
