"""Transfers inside one deployment: the mid-year case, permissions, the sending side's rules."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from decimal import Decimal
from typing import Any

import pytest

from hocba.assessment.models import CellChange, Channel, CompetencyMark, PupilYearFacts, SubjectMark
from hocba.audit.models import AuditEvent
from hocba.common.errors import DomainError, PermissionRefused
from hocba.conftest import World
from hocba.records import transfers
from hocba.records.models import Transfer, TransferDirection, TransferredRecord
from hocba.schools.models import Enrolment, EntryKind, SchoolClass


@pytest.fixture
def log_key(settings: Any, tmp_path: Any) -> None:
    settings.HOCBA_LEDGER_KEY_FILE = str(tmp_path / "log.key")


def _leaving(world: World) -> Enrolment:
    enrolment = Enrolment.objects.get(pupil=world.own.pupils[0], left_on__isnull=True)
    SubjectMark.objects.create(
        enrolment=enrolment, subject="toan", period="gk1", level="H", comment="Cần cố gắng"
    )
    SubjectMark.objects.create(
        enrolment=enrolment, subject="toan", period="ck1", level="T", score=9
    )
    CompetencyMark.objects.create(enrolment=enrolment, item="cham_hoc", period="ck1", level="Đ")
    PupilYearFacts.objects.create(enrolment=enrolment, height_cm=Decimal("131.5"), weight_kg=None)
    return enrolment


def _class_4_at_b(world: World) -> SchoolClass:
    return SchoolClass.objects.get(school=world.foreign.school, name="4A")


def test_a_mid_year_transfer_carries_the_marks_so_far(world: World, log_key: None) -> None:
    enrolment = _leaving(world)

    sent = transfers.release_pupil(
        actor=world.own.users["principal"],
        enrolment=enrolment,
        destination="Trường Tiểu học B",
        on=dt.date(2025, 1, 20),
        reason="Chuyển nơi ở",
    )

    enrolment.refresh_from_db()
    assert enrolment.left_on == dt.date(2025, 1, 20)
    assert "Trường Tiểu học B" in enrolment.left_reason
    assert sent.direction == TransferDirection.OUT and sent.records == 0
    assert sent.carried_marks == 3
    data = transfers.package_bytes(sent)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["current_year"]["grade"] == 4
    assert manifest["pupil"]["ministry_code"] == world.own.pupils[0].ministry_code

    received = transfers.receive_package(
        actor=world.foreign.users["principal"],
        data=data,
        school_class=_class_4_at_b(world),
        joined_on=dt.date(2025, 1, 22),
    )

    new = received.enrolment
    assert new.pupil == world.own.pupils[0] and new.entry_kind == EntryKind.TRANSFER_IN
    assert received.carried_marks == 3
    marks = {(m.subject, m.period): (m.level, m.score, m.comment) for m in new.subject_marks.all()}
    assert marks == {("toan", "gk1"): ("H", None, "Cần cố gắng"), ("toan", "ck1"): ("T", 9, "")}
    assert new.competency_marks.get().level == "Đ"
    assert new.facts.height_cm == Decimal("131.5") and new.facts.weight_kg is None
    history = CellChange.objects.filter(enrolment=new)
    assert history.count() == 6  # gk1 level+comment, ck1 level+score, competency, height
    assert {c.channel for c in history} == {Channel.SYSTEM}
    assert all(c.actor_label == "Chuyển từ Trường Tiểu học A" for c in history)
    # Inside one deployment the records and the history are already here: nothing duplicated.
    assert not TransferredRecord.objects.exists()
    assert AuditEvent.objects.filter(action="records.transfer_out").count() == 1
    assert AuditEvent.objects.filter(action="records.transfer_in").count() == 1


def test_a_class_of_another_grade_in_the_same_year_is_refused(world: World, log_key: None) -> None:
    sent = transfers.release_pupil(
        actor=world.own.users["principal"],
        enrolment=_leaving(world),
        destination="Trường Tiểu học B",
        on=dt.date(2025, 1, 20),
    )
    wrong = SchoolClass.objects.create(
        school=world.foreign.school, school_year=world.year, grade=3, name="3A"
    )
    before = Enrolment.objects.count()
    with pytest.raises(transfers.TransferRefused, match="khối 4"):
        transfers.receive_package(
            actor=world.foreign.users["principal"],
            data=transfers.package_bytes(sent),
            school_class=wrong,
            joined_on=dt.date(2025, 1, 22),
        )
    assert Enrolment.objects.count() == before


@pytest.mark.parametrize("who", ["homeroom_teacher", "subject_teacher"])
def test_only_managers_release_a_pupil(world: World, log_key: None, who: str) -> None:
    enrolment = Enrolment.objects.get(pupil=world.own.pupils[0], left_on__isnull=True)
    with pytest.raises(PermissionRefused):
        transfers.release_pupil(
            actor=world.own.users[who],
            enrolment=enrolment,
            destination="Trường Tiểu học B",
            on=dt.date(2025, 1, 20),
        )
    enrolment.refresh_from_db()
    assert enrolment.left_on is None
    assert not Transfer.objects.exists()


def test_another_school_cannot_receive_into_a_class_it_does_not_manage(
    world: World, log_key: None
) -> None:
    sent = transfers.release_pupil(
        actor=world.own.users["principal"],
        enrolment=_leaving(world),
        destination="Trường Tiểu học B",
        on=dt.date(2025, 1, 20),
    )
    with pytest.raises(PermissionRefused):
        transfers.receive_package(
            actor=world.own.users["principal"],
            data=transfers.package_bytes(sent),
            school_class=_class_4_at_b(world),
            joined_on=dt.date(2025, 1, 22),
        )
    assert Transfer.objects.filter(direction=TransferDirection.IN).count() == 0


def test_a_pupil_is_released_once(world: World, log_key: None) -> None:
    enrolment = _leaving(world)
    principal = world.own.users["principal"]
    transfers.release_pupil(
        actor=principal, enrolment=enrolment, destination="B", on=dt.date(2025, 1, 20)
    )
    with pytest.raises(DomainError, match="đã chuyển đi"):
        transfers.release_pupil(
            actor=principal, enrolment=enrolment, destination="B", on=dt.date(2025, 1, 21)
        )
    assert Transfer.objects.count() == 1
