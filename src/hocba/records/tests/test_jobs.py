"""Batch render jobs: request, the queue (real database backend, worker run in-process), the zip,
per-pupil errors, re-runs, the reaper for abandoned jobs, and permission refusals."""

from __future__ import annotations

import datetime
import io
import tempfile
import zipfile
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from hocba.audit.models import AuditEvent
from hocba.common.errors import PermissionRefused
from hocba.conftest import World
from hocba.records import jobs, tasks
from hocba.records.models import RenderJob, RenderJobKind, RenderJobStatus
from hocba.records.tests.conftest import class_4a, compile_4a, finish
from hocba.schools.models import Enrolment, Pupil

TASK_PATH = "hocba.records.tasks.render_job"

# 4A in Vietnamese name order: An, Ánh, Đức (given name first).
EXPECTED_4A = [
    "4A/01 - Lê Văn An - 0000000002.pdf",
    "4A/02 - Trần Thị Ánh - 0000000001.pdf",
    "4A/03 - Phạm Minh Đức - 0000000003.pdf",
]


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def compiled(filled: World) -> World:
    finish(filled)
    compile_4a(filled)
    return filled


# What the task receives on its first run (no worker died before it).
FIRST_ATTEMPT = SimpleNamespace(attempt=1)


def work_queue() -> None:
    """What a worker process does: claim and run every queued task once, then stop.

    The worker closes "old" connections between tasks; inside a test's transaction on
    PostgreSQL that would close the test's own connection, so that step is skipped here.
    """
    with mock.patch(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    ):
        call_command("worker", "--batch", verbosity=0)


def request(world: World, capture: Any, user: str = "homeroom_teacher", **target: Any) -> Any:
    target = target or {"school_class": class_4a(world)}
    with capture(execute=True):
        return jobs.request_render(actor=world.own.users[user], **target)


def late_pupil(world: World) -> Pupil:
    """A pupil who joined 4A after the records were compiled: no current record."""
    pupil = Pupil.objects.create(
        ministry_code="0000000050",
        family_name="Vũ",
        middle_name="Thị",
        given_name="Yến",
        sex="nu",
        date_of_birth=datetime.date(2015, 3, 3),
    )
    Enrolment.objects.create(
        pupil=pupil,
        school_class=class_4a(world),
        school_year=world.year,
        joined_on=datetime.date(2025, 5, 20),
    )
    return pupil


def zip_names(media: Path, job: RenderJob) -> list[str]:
    with zipfile.ZipFile(media / job.output_file) as archive:
        return archive.namelist()


def test_request_creates_one_job_and_enqueues_it_after_commit(
    compiled: World, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = jobs.request_render(
            actor=compiled.own.users["homeroom_teacher"], school_class=class_4a(compiled)
        )
        assert DBTaskResult.objects.count() == 0  # nothing queued before the commit
    assert len(callbacks) == 1
    assert RenderJob.objects.count() == 1
    assert job.status == RenderJobStatus.QUEUED and job.kind == RenderJobKind.CLASS
    assert job.total == 3 and job.done_count == 0
    assert job.requested_by == compiled.own.users["homeroom_teacher"]
    callbacks[0]()
    queued = DBTaskResult.objects.get()
    assert queued.task_path == TASK_PATH
    assert queued.args_kwargs == {"args": [job.pk], "kwargs": {}}
    event = AuditEvent.objects.get(action="records.render_job.requested")
    assert event.object_id == str(job.pk) and event.school == compiled.own.school


def test_worker_renders_the_class_to_a_named_zip(
    compiled: World, django_capture_on_commit_callbacks: Any, media: Path
) -> None:
    late = late_pupil(compiled)
    job = request(compiled, django_capture_on_commit_callbacks)
    assert job.total == 4
    work_queue()
    job.refresh_from_db()
    assert job.status == RenderJobStatus.DONE, job.failure
    assert job.done_count == job.total == 4 and job.percent == 100
    assert job.output_file == f"exports/{job.pk}.zip"
    assert job.started_at and job.finished_at and job.heartbeat_at and job.attempt == 1
    assert job.errors == [
        {
            "pupil": late.full_name,
            "ministry_code": late.ministry_code,
            "reason": "Chưa tổng hợp học bạ",
        }
    ]
    names = zip_names(media, job)
    assert names == EXPECTED_4A
    with zipfile.ZipFile(media / job.output_file) as archive:
        for name in names:
            assert archive.read(name).startswith(b"%PDF-")
    assert not list((media / "exports").glob("*.part"))
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


def test_a_school_job_renders_every_class_and_lists_pupils_without_records(
    compiled: World, django_capture_on_commit_callbacks: Any, media: Path
) -> None:
    job = request(
        compiled, django_capture_on_commit_callbacks, "principal", school=compiled.own.school
    )
    assert job.kind == RenderJobKind.SCHOOL and job.school_year == compiled.year
    work_queue()
    job.refresh_from_db()
    assert job.status == RenderJobStatus.DONE
    assert job.done_count == job.total == 6
    assert zip_names(media, job) == EXPECTED_4A  # 4B has no compiled record yet
    assert sorted(e["ministry_code"] for e in job.errors) == [
        p.ministry_code for p in compiled.own.pupils[3:]
    ]


def test_re_running_a_done_job_does_nothing(
    compiled: World, django_capture_on_commit_callbacks: Any, media: Path
) -> None:
    job = request(compiled, django_capture_on_commit_callbacks)
    work_queue()
    job.refresh_from_db()
    before = (job.status, job.attempt, job.finished_at, (media / job.output_file).stat().st_mtime)
    assert tasks.render_job.call(FIRST_ATTEMPT, job.pk) == "skipped"
    with django_capture_on_commit_callbacks(execute=True):
        tasks.render_job.enqueue(job.pk)
    work_queue()
    job.refresh_from_db()
    after = (job.status, job.attempt, job.finished_at, (media / job.output_file).stat().st_mtime)
    assert after == before


def test_a_running_job_with_a_fresh_heartbeat_is_left_to_its_worker(
    compiled: World, django_capture_on_commit_callbacks: Any
) -> None:
    job = request(compiled, django_capture_on_commit_callbacks)
    RenderJob.objects.filter(pk=job.pk).update(
        status=RenderJobStatus.RUNNING, attempt=1, heartbeat_at=timezone.now()
    )
    assert tasks.render_job.call(FIRST_ATTEMPT, job.pk) == "skipped"
    assert jobs.requeue_stale_jobs() == []
    job.refresh_from_db()
    assert job.status == RenderJobStatus.RUNNING and job.attempt == 1


def test_reaper_requeues_a_job_whose_worker_died(
    compiled: World, django_capture_on_commit_callbacks: Any, media: Path
) -> None:
    job = request(compiled, django_capture_on_commit_callbacks)
    # A worker claimed it, rendered one chunk, then was SIGKILLed: the task row stays RUNNING.
    DBTaskResult.objects.update(status="RUNNING", started_at=timezone.now())
    stale = timezone.now() - timedelta(minutes=10)
    RenderJob.objects.filter(pk=job.pk).update(
        status=RenderJobStatus.RUNNING, attempt=1, heartbeat_at=stale, done_count=3
    )
    # What a run killed between saving its zip and committing leaves: a file under the final
    # name that no finished job points to (the storage must not give the new one another name).
    leftover = media / tasks.output_path(job.pk)
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"PK half a zip")
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.requeue_stale_jobs(older_than=timedelta(minutes=5)) == [job.pk]
    job.refresh_from_db()
    assert job.status == RenderJobStatus.QUEUED
    assert DBTaskResult.objects.filter(status="READY").count() == 1
    assert AuditEvent.objects.filter(action="records.render_job.requeued").count() == 1
    work_queue()
    job.refresh_from_db()
    assert job.status == RenderJobStatus.DONE and job.attempt == 2
    assert job.done_count == job.total == 3
    assert job.output_file == tasks.output_path(job.pk)
    assert zip_names(media, job) == EXPECTED_4A
    assert list((media / "exports").iterdir()) == [leftover]


def test_a_superseded_run_stops_without_publishing(
    compiled: World, django_capture_on_commit_callbacks: Any, media: Path
) -> None:
    job = request(compiled, django_capture_on_commit_callbacks)
    claimed = tasks._claim(job.pk)
    assert claimed is not None
    # The reaper gave up on this run (slow, not dead) and another run took over.
    RenderJob.objects.filter(pk=job.pk).update(attempt=claimed.attempt + 1)
    with tempfile.TemporaryFile() as part, pytest.raises(tasks.Superseded):
        tasks._run(claimed, part)
    assert not (media / tasks.output_path(job.pk)).exists()


def test_render_failure_marks_the_job_failed_with_the_message(
    compiled: World, django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("đĩa đầy")

    monkeypatch.setattr(tasks, "_run", broken)
    job = request(compiled, django_capture_on_commit_callbacks)
    work_queue()
    job.refresh_from_db()
    assert job.status == RenderJobStatus.FAILED
    assert job.failure == "đĩa đầy" and job.finished_at is not None


def test_a_pupil_whose_record_fails_to_render_is_listed_not_blank(
    compiled: World, django_capture_on_commit_callbacks: Any, media: Path, monkeypatch: Any
) -> None:
    real = tasks.render_class

    def fussy(documents: list[dict[str, Any]], **kwargs: Any) -> list[bytes]:
        if any(d["pupil"]["ministry_code"] == "0000000003" for d in documents):
            if len(documents) == 1:
                raise RuntimeError("Typst error")
            raise RuntimeError("batch failed")
        return real(documents, **kwargs)

    monkeypatch.setattr(tasks, "render_class", fussy)
    job = request(compiled, django_capture_on_commit_callbacks)
    work_queue()
    job.refresh_from_db()
    assert job.status == RenderJobStatus.DONE
    assert zip_names(media, job) == EXPECTED_4A[:2]
    assert [(e["ministry_code"], e["reason"]) for e in job.errors] == [
        ("0000000003", "Không in được: Typst error")
    ]


@pytest.mark.parametrize(
    ("who", "target"),
    [
        ("foreign_principal", "own_class"),
        ("district_staff", "own_class"),
        ("department_staff", "own_school"),
        ("homeroom_teacher", "own_school"),  # a teacher prints a class, not the school
        ("subject_teacher", "other_class"),  # 4B: not taught by them
    ],
)
def test_refusals_create_no_job(
    compiled: World, django_capture_on_commit_callbacks: Any, who: str, target: str
) -> None:
    users = {**compiled.users, "foreign_principal": compiled.foreign.users["principal"]}
    user = users.get(who) or compiled.own.users[who]
    kwargs: dict[str, Any] = {
        "own_class": {"school_class": class_4a(compiled)},
        "other_class": {"school_class": compiled.own.classes[1]},
        "own_school": {"school": compiled.own.school},
    }[target]
    events = AuditEvent.objects.count()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(PermissionRefused),
    ):
        jobs.request_render(actor=user, **kwargs)
    assert callbacks == []
    assert RenderJob.objects.count() == 0 and DBTaskResult.objects.count() == 0
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("who", ["principal", "subject_teacher", "system_admin"])
def test_school_staff_who_see_the_class_and_admins_may_print_it(compiled: World, who: str) -> None:
    user = compiled.users.get(who) or compiled.own.users[who]
    assert jobs.may_render(user, school_class=class_4a(compiled))


def test_zip_entry_names_are_safe_file_names(compiled: World) -> None:
    entry = tasks.class_entries(class_4a(compiled))[0]
    entry.enrolment.pupil.given_name = "An/..\\x"
    assert tasks.entry_name(class_4a(compiled), entry) == "4A/01 - Lê Văn An-..-x - 0000000002.pdf"


def test_zip_is_readable_in_memory(
    compiled: World, django_capture_on_commit_callbacks: Any, media: Path
) -> None:
    job = request(compiled, django_capture_on_commit_callbacks)
    work_queue()
    job.refresh_from_db()
    data = (media / job.output_file).read_bytes()
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None
