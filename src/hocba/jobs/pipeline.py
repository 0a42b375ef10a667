"""Drive a school year through ``hocba worker`` processes: the throughput benchmark's engine and
the CI test of killed workers (issue 8 §1, §3). NOT FOR PRODUCTION data.

The people's part is done here, as the web pages would do it: teachers finish their classes and
start signing batches, principals start theirs, with the passwords and PINs of the synthetic
district. The work itself runs in ``hocba worker --batch`` subprocesses sharing the database,
stage by stage, so each stage's time is measured on its own:

1. ``compile``: one task per class (:func:`hocba.records.tasks.compile_classes`);
2. ``teacher``: one signing batch per class (render, sign, timestamp);
3. ``principal``: one batch per school;
4. ``seal``: one batch per school, then its long-term validation job (DSS, document timestamp)
   issues the records into the log; the stage ends when every record is issued. The stored
   verification reports that follow have a low priority and are timed apart (``reports``).

A worker that dies (SIGKILL) is replaced, as a supervisor would; the lease puts its task back
(:mod:`hocba.jobs.lease`). :func:`check_issued_once` then checks the outcome.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.db.models import Count
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from hocba.common.errors import DomainError
from hocba.jobs.models import WorkerLease
from hocba.records.models import YearRecord, YearRecordStatus
from hocba.schools.models import Role, School, SchoolClass, SchoolYear, Staff
from hocba.signing.models import SigningBatch, SigningStep

# How often the driver looks at the queue: each look is a query the database serves too.
POLL_SECONDS = 0.2
PASSWORD = "hocba-demo"  # noqa: S105  (the synthetic district's published password)


@dataclass
class Stage:
    name: str
    seconds: float = 0.0
    kills: int = 0
    restarts: int = 0


@dataclass
class Run:
    workers: int
    schools: list[School]
    stages: list[Stage] = field(default_factory=list)
    records: int = 0

    @property
    def pipeline_seconds(self) -> float:
        return sum(s.seconds for s in self.stages if s.name != "reports")

    @property
    def records_per_s(self) -> float:
        return self.records / self.pipeline_seconds if self.pipeline_seconds else 0.0


def peak_child_rss_mb() -> float:
    """The largest resident set of any worker process waited for so far (MB)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


class Workers:
    """``count`` long-running ``hocba worker`` processes, tended like a supervisor would."""

    def __init__(self, count: int, env: dict[str, str]) -> None:
        self.count = count
        self.env = env
        self.processes: list[subprocess.Popen[bytes]] = []
        self.restarts = 0

    def _spawn(self) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "hocba.cli", "worker", "--interval", "0.05"]
        return subprocess.Popen(  # noqa: S603  (our own interpreter and command)
            [*command, "--reap-every", "1", "--verbosity", "0"],
            env=self.env,
            stderr=subprocess.DEVNULL,
        )

    def start(self, timeout: float = 120) -> None:
        """Start the workers and wait until each holds its lease (Django is set up)."""
        self.processes = [self._spawn() for _ in range(self.count)]
        deadline = time.monotonic() + timeout
        while WorkerLease.objects.count() < self.count and time.monotonic() < deadline:
            time.sleep(0.05)
        connection.close()  # the workers get the database to themselves (SQLite's write lock)

    def stop(self) -> None:
        """SIGTERM: each finishes its task and leaves; waited for (their peak memory counts)."""
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def alive(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in self.processes if p.poll() is None]

    def kill_running(self) -> int | None:
        """SIGKILL the worker process that is running a task now; its pid, or None."""
        leases = {lease.worker_id: lease.pid for lease in WorkerLease.objects.all()}
        pids = {p.pid for p in self.alive()}
        for task in DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING):
            pid = leases.get(task.worker_ids[-1]) if task.worker_ids else None
            if pid in pids:
                os.kill(pid, signal.SIGKILL)
                return pid
        return None

    def tend(self) -> None:
        """What a supervisor does (systemd ``Restart=always``): a worker that died is replaced
        at once; the new one's reaper puts the dead one's task back in the queue."""
        for index, process in enumerate(self.processes):
            if process.poll() is not None:
                process.wait()
                self.processes[index] = self._spawn()
                self.restarts += 1

    def drain(self, timeout: float) -> None:
        """Until the queue has nothing left to run (READY or RUNNING)."""
        deadline = time.monotonic() + timeout
        while _unfinished_tasks():
            if time.monotonic() > deadline:
                raise TimeoutError(f"the queue did not drain within {timeout:.0f} s")
            self.tend()
            time.sleep(POLL_SECONDS)


def _unfinished_tasks() -> int:
    return DBTaskResult.objects.filter(
        status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]
    ).count()


def _by_role(school: School, role: str) -> Any:
    staff = Staff.objects.filter(school=school, roles__role=role).select_related("user").first()
    assert staff is not None, f"{school} has no {role}"
    return staff.user


def enqueue_compile(classes: list[SchoolClass]) -> None:
    from hocba.records.tasks import compile_classes

    def enqueue(class_id: int, actor_id: int) -> None:
        transaction.on_commit(lambda: compile_classes.enqueue([class_id], actor_id))

    with transaction.atomic():
        for school_class in classes:
            assert school_class.homeroom_teacher is not None
            enqueue(school_class.pk, school_class.homeroom_teacher.user_id)


def _start(actor: Any, step: str, pin: str, **scope: Any) -> SigningBatch | None:
    from hocba.signing import services

    school = scope.get("school") or scope["school_class"].school
    certificate = services.usable_certificates(actor, step, school).first()
    assert certificate is not None, f"{actor} holds no certificate for {step}"
    try:
        return services.start_batch(
            actor, step=step, certificate=certificate, password=PASSWORD, pin=pin, **scope
        )
    except DomainError:
        return None  # nothing waiting for this step


def start_teacher_batches(classes: list[SchoolClass], pin: str) -> int:
    started = 0
    for school_class in classes:
        if school_class.homeroom_teacher is None:
            continue
        batch = _start(
            school_class.homeroom_teacher.user,
            SigningStep.TEACHER,
            pin,
            school_class=school_class,
        )
        started += batch is not None
    return started


def start_school_batches(schools: list[School], step: str, pins: Callable[[School], str]) -> int:
    started = 0
    for school in schools:
        batch = _start(_by_role(school, Role.PRINCIPAL), step, pins(school), school=school)
        started += batch is not None
    return started


def records_of(schools: list[School], school_year: SchoolYear) -> Any:
    return YearRecord.objects.filter(school__in=schools, school_year=school_year)


# On their way to issue; records pending a summer re-assessment or a missing identifier wait for
# people, not for the pipeline.
IN_PIPELINE = (
    YearRecordStatus.COMPILED,
    YearRecordStatus.TEACHER_SIGNED,
    YearRecordStatus.PRINCIPAL_SIGNED,
    YearRecordStatus.SEALED,
)


def _wait_all_issued(
    schools: list[School], school_year: SchoolYear, workers: Workers, timeout: float
) -> None:
    """Until no record of these schools waits for a signature or the log (or workers stop)."""
    waiting = IN_PIPELINE
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not records_of(schools, school_year).filter(status__in=waiting).exists():
            return
        workers.tend()
        if not _unfinished_tasks():
            return
        time.sleep(POLL_SECONDS)


def run_year(
    schools: list[School],
    school_year: SchoolYear,
    *,
    workers: int,
    env: dict[str, str],
    pin: str,
    seal_pins: Callable[[School], str],
    kill_in: tuple[str, ...] = (),
    reports: bool = True,
    timeout: float = 3600,
    progress: Callable[[str], None] = lambda _text: None,
) -> Run:
    """Compile, sign, seal and issue the year of ``schools`` with ``workers`` processes.

    ``kill_in``: stages in which one worker is SIGKILLed while it runs a task, once the stage
    has signed something (mid-batch), and replaced. ``reports=False``: the stored verification
    reports queued after issuing are dropped from the queue instead of waited for (a cache:
    the first check of each file makes its report then).
    """
    from hocba.jobs.district import finish_classes

    run = Run(workers=workers, schools=schools)
    classes = finish_classes(schools, school_year)
    pool = Workers(workers, env)
    pool.start()

    def work(name: str, queue: Callable[[], object], *, until_issued: bool = False) -> None:
        # The stage's work is queued in one transaction, as if everybody pressed the button at
        # once; the clock starts when it is committed.
        with transaction.atomic():
            queue()
        connection.close()
        started, restarts = time.perf_counter(), pool.restarts
        kills = _kill_mid_stage(pool, name, schools, school_year) if name in kill_in else 0
        if until_issued:
            _wait_all_issued(schools, school_year, pool, timeout)
            issued_at = time.perf_counter()
            if not reports:
                DBTaskResult.objects.filter(
                    status=TaskResultStatus.READY, task_path__endswith=".store_reports"
                ).delete()
        pool.drain(timeout)
        ended = time.perf_counter()
        stage = Stage(name, (issued_at if until_issued else ended) - started, kills)
        stage.restarts = pool.restarts - restarts
        run.stages.append(stage)
        progress(f"{name}: {stage.seconds:.1f} s, {workers} worker(s), {kills} killed")
        if until_issued and reports:
            # The stored verification reports that follow (low priority), timed apart.
            run.stages.append(Stage("reports", ended - issued_at))
            progress(f"reports: {ended - issued_at:.1f} s")

    try:
        work("compile", lambda: enqueue_compile(classes))
        work("teacher", lambda: start_teacher_batches(classes, pin))
        work(
            "principal",
            lambda: start_school_batches(schools, SigningStep.PRINCIPAL, lambda _school: pin),
        )
        work(
            "seal",
            lambda: start_school_batches(schools, SigningStep.SEAL, seal_pins),
            until_issued=True,
        )
    finally:
        pool.stop()
    run.records = records_of(schools, school_year).filter(status=YearRecordStatus.ISSUED).count()
    return run


def _kill_mid_stage(pool: Workers, name: str, schools: list[School], year: SchoolYear) -> int:
    """Wait until the stage has made progress inside a task, then SIGKILL that task's worker."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        moved = SigningBatch.objects.filter(
            school__in=schools, school_year=year, status="running", done_count__gt=0
        )
        if name == "seal":
            moved = SigningBatch.objects.none()
            sealed = records_of(schools, year).filter(status=YearRecordStatus.SEALED)
            augmenting = DBTaskResult.objects.filter(
                status=TaskResultStatus.RUNNING, task_path__endswith="add_long_term_validation"
            )
            if sealed.exists() and augmenting.exists() and pool.kill_running():
                return 1
        elif moved.exists() and pool.kill_running():
            return 1
        if not _unfinished_tasks():
            return 0  # the stage ended before anything could be killed
        pool.tend()
        time.sleep(0.02)
    return 0


@dataclass(frozen=True)
class Check:
    records: int
    issued: int
    issued_leaves: int
    duplicate_leaves: int
    not_issued: dict[str, int]
    pending: int
    signatures: int  # RecordSignature rows of the issued records (3 each)
    long_term: int  # their long-term validation files (1 each)
    audit_ok: bool
    audit_problems: list[str]

    @property
    def ok(self) -> bool:
        return (
            self.audit_ok
            and self.duplicate_leaves == 0
            and self.issued == self.issued_leaves
            and not self.not_issued
            and self.signatures == 3 * self.issued
            and self.long_term == self.issued
        )


def check_issued_once(schools: list[School], school_year: SchoolYear) -> Check:
    """Every record the pipeline could issue is issued, each by exactly one ``issued`` leaf,
    and the log audit passes; ``pending`` counts the records left for people (summer
    re-assessment, missing identifier)."""
    from hocba.ledger.audit import run_audit
    from hocba.ledger.models import EventType, LogLeaf
    from hocba.signing.models import LongTermValidation, RecordSignature

    records = records_of(schools, school_year)
    issued = records.filter(status=YearRecordStatus.ISSUED)
    leaves = (
        LogLeaf.objects.filter(event_type=EventType.ISSUED, record__in=records)
        .values("record")
        .annotate(n=Count("pk"))
    )
    statuses = dict(
        records.filter(status__in=IN_PIPELINE)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    report = run_audit()
    return Check(
        records=records.count(),
        issued=issued.count(),
        issued_leaves=sum(row["n"] for row in leaves),
        duplicate_leaves=sum(1 for row in leaves if row["n"] > 1),
        not_issued=statuses,
        pending=records.exclude(status__in=[*IN_PIPELINE, YearRecordStatus.ISSUED]).count(),
        signatures=RecordSignature.objects.filter(record__in=issued).count(),
        long_term=LongTermValidation.objects.filter(record__in=issued).count(),
        audit_ok=report.ok,
        audit_problems=[str(p) for p in report.problems][:20],
    )


def data_env(data_dir: Path, database_url: str | None, **extra: str) -> dict[str, str]:
    env = {**os.environ, "HOCBA_DATA_DIR": str(data_dir), "HOCBA_TESTING": "1", **extra}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    else:
        env.pop("DATABASE_URL", None)
    return env
