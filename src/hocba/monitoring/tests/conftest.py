"""A rollout in progress on the shared world (:mod:`hocba.conftest`), written straight to the
tables: records in every state, certificates, locks and upward syncs.

School A (Quận Ba Đình): 4A finished by its teacher; pupil 1 has an issued record with its
correction in the works, pupil 2 a superseded draft replaced by a principal-signed version,
pupil 3 waits for summer re-assessment. 4B has a subject lock only; pupil 4 teacher-signed,
pupil 5 revoked, pupil 6 nothing.
School B (Quận Hoàn Kiếm): 4A had a whole-class lock, opened again; pupil 1 issued and synced,
pupil 2 sealed, pupil 3 missing a personal ID. 4B is locked as a whole class.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone, translation

from hocba.assessment.models import Lock
from hocba.conftest import World
from hocba.exchange.models import RecordSync, SyncTarget
from hocba.records.models import YearRecord
from hocba.schools.models import Enrolment, SchoolClass, SchoolYear
from hocba.signing.models import CertificatePurpose, SigningCertificate

_codes = itertools.count(1)


@pytest.fixture(autouse=True)
def vietnamese() -> Iterator[None]:
    with translation.override("vi"):
        yield


def enrolment_of(world: World, side: str, index: int) -> Enrolment:
    pupil = getattr(world, side).pupils[index]
    return Enrolment.objects.get(pupil=pupil, school_year=world.year)


def add_record(enrolment: Enrolment, status: str, version: int = 1, **extra: Any) -> YearRecord:
    number = next(_codes)
    return YearRecord.objects.create(
        enrolment=enrolment,
        pupil=enrolment.pupil,
        school=enrolment.school_class.school,
        school_year=enrolment.school_year,
        version=version,
        status=status,
        short_code=f"MON{number:08d}",
        canonical_json="{}",
        content_hash=f"{number:064d}",
        compiled_at=timezone.now(),
        **extra,
    )


def add_certificate(user: Any, *, retired: bool = False, expired: bool = False) -> None:
    now = timezone.now()
    number = next(_codes)
    SigningCertificate.objects.create(
        purpose=CertificatePurpose.PERSONAL,
        school=user.staff.school,
        staff=user.staff,
        adapter="soft",
        certificate_der=b"x",
        fingerprint=f"{number:064d}",
        subject_name=user.staff.full_name,
        issuer_name="CA thử nghiệm",
        serial_hex=f"{number:x}",
        not_before=now - datetime.timedelta(days=400),
        not_after=now - datetime.timedelta(days=1)
        if expired
        else now + datetime.timedelta(days=400),
        key_algorithm="rsa",
        key_size=2048,
        registered_by=user,
        registered_at=now,
        retired_at=now if retired else None,
    )


def add_lock(school_class: SchoolClass, user: Any, **fields: Any) -> Lock:
    return Lock.objects.create(school_class=school_class, locked_by=user, **fields)


def sync(record: YearRecord, target: SyncTarget, status: str) -> RecordSync:
    return RecordSync.objects.create(
        record=record, target=target, status=status, idempotency_key=f"k{next(_codes)}"
    )


@dataclass
class Rollout:
    world: World
    targets: list[SyncTarget]


@pytest.fixture
def rollout(world: World) -> Rollout:
    own, foreign = world.own, world.foreign
    e = {(side, i): enrolment_of(world, side, i) for side in ("own", "foreign") for i in range(6)}
    # School A, 4A
    first = add_record(e["own", 0], "issued", 1)
    add_record(e["own", 0], "compiled", 2)
    draft = add_record(e["own", 1], "superseded", 1)
    add_record(e["own", 1], "principal_signed", 2, supersedes=draft)
    add_record(e["own", 2], "awaiting_summer_reassessment")
    # School A, 4B
    add_record(e["own", 3], "teacher_signed")
    add_record(e["own", 4], "revoked")
    # School B, 4A
    synced = add_record(e["foreign", 0], "issued")
    add_record(e["foreign", 1], "sealed")
    add_record(e["foreign", 2], "missing_identifier")

    add_certificate(own.users["homeroom_teacher"])
    add_certificate(own.users["principal"])
    add_certificate(own.users["subject_teacher"], retired=True)
    add_certificate(foreign.users["homeroom_teacher"])
    add_certificate(foreign.users["deputy_principal"], expired=True)

    teacher = own.users["homeroom_teacher"]
    add_lock(own.classes[0], teacher, is_class_finished=True)
    add_lock(own.classes[1], teacher, subject="toan")
    add_lock(
        foreign.classes[0],
        foreign.users["principal"],
        unlocked_at=timezone.now(),
        unlocked_by=foreign.users["principal"],
    )
    add_lock(foreign.classes[1], foreign.users["principal"])

    targets = [
        SyncTarget.objects.create(name="Sở", endpoint_url="https://so.test/", api_key="k1"),
        SyncTarget.objects.create(name="Bộ", endpoint_url="https://bo.test/", api_key="k2"),
    ]
    sync(synced, targets[0], "failed")
    sync(synced, targets[1], "synced")
    sync(first, targets[0], "pending")
    _earlier_year(world)
    return Rollout(world, targets)


def _earlier_year(world: World) -> None:
    """An issued record of an earlier year at school A: never counted in 2024-2025."""
    earlier = SchoolYear.objects.create(
        name="2023-2024",
        start_year=2023,
        starts_on=datetime.date(2023, 9, 5),
        ends_on=datetime.date(2024, 5, 31),
    )
    school_class = SchoolClass.objects.create(
        school=world.own.school, school_year=earlier, grade=3, name="3A"
    )
    enrolment = Enrolment.objects.create(
        pupil=world.own.pupils[0],
        school_class=school_class,
        school_year=earlier,
        joined_on=datetime.date(2023, 9, 5),
    )
    add_record(enrolment, "issued")
