"""compile_class: permissions, locks, skipped pupils, idempotency and new versions."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from hocba.assessment import services as assessment_services
from hocba.assessment.models import CompetencyMark, Lock
from hocba.assessment.tests.marks import fill_end_of_year
from hocba.audit.models import AuditEvent
from hocba.common.errors import DomainError, PermissionRefused
from hocba.conftest import World
from hocba.records.models import YearRecord, YearRecordStatus
from hocba.records.schema import validate_document
from hocba.records.tests.conftest import BASE_URL, class_4a, compile_4a, finish, roster


def _nothing_written(events_before: int) -> None:
    assert YearRecord.objects.count() == 0
    assert AuditEvent.objects.count() == events_before


def test_compiling_a_finished_class_writes_valid_documents(filled: World) -> None:
    finish(filled)
    report = compile_4a(filled)
    assert report.counts == {"compiled": 3, "recompiled": 0, "unchanged": 0, "skipped": 0}
    records = list(YearRecord.objects.order_by("pk"))
    assert len(records) == 3
    for record in records:
        document = json.loads(record.canonical_json)
        validate_document(document)
        data = record.canonical_json.encode("utf-8")
        assert hashlib.sha256(data).hexdigest() == record.content_hash
        assert record.status == YearRecordStatus.COMPILED
        assert record.version == 1 and record.supersedes is None
        assert document["record"]["short_code"] == record.short_code
        assert document["record"]["id"] == str(record.record_id)
        assert document["record"]["verify_url"] == f"{BASE_URL}/xac-thuc/{record.short_code}"
    assert len({r.short_code for r in records}) == 3
    events = AuditEvent.objects.filter(action="records.year_record.compiled")
    assert events.count() == 3


def test_the_study_history_lists_every_year_up_to_this_one(filled: World) -> None:
    finish(filled)
    compile_4a(filled)
    pupil = filled.own.pupils[0]
    document = json.loads(YearRecord.objects.get(pupil=pupil).canonical_json)
    assert document["study_history"] == [
        {
            "school_year": "2023-2024",
            "class_name": "3A",
            "school_name": "Trường Tiểu học B (tên cũ)",
            "register_number": "B-57",
            "joined_on": "2023-09-05",
        },
        {
            "school_year": "2024-2025",
            "class_name": "4A",
            "school_name": "Trường Tiểu học A",
            "register_number": "A-1",
            "joined_on": "2024-09-05",
        },
    ]
    assert document["school"]["address_levels"][0]["value"] == "Phường Điện Biên"
    assert document["signing"]["place"] == "Ba Đình"
    assert document["signing"]["principal_name"] == "Nguyễn Văn A"
    assert document["signing"]["homeroom_teacher_name"] == "Nguyễn Văn A"
    assert [row["code"] for row in document["subjects"]][:3] == [
        "tieng_viet",
        "toan",
        "ngoai_ngu_1",
    ]


@pytest.mark.parametrize("user", ["principal", "deputy_principal", "school_admin"])
def test_school_managers_may_compile(filled: World, user: str) -> None:
    finish(filled)
    assert compile_4a(filled, user=user).count("compiled") == 3


def test_an_unlocked_class_is_refused_and_nothing_is_written(filled: World) -> None:
    before = AuditEvent.objects.count()
    with pytest.raises(DomainError, match="chưa được khoá"):
        compile_4a(filled)
    _nothing_written(before)


def test_a_subject_lock_is_not_enough(filled: World) -> None:
    assessment_services.lock(
        actor=filled.own.users["principal"], school_class=class_4a(filled), subject="toan"
    )
    with pytest.raises(DomainError, match="chưa được khoá"):
        compile_4a(filled)


def test_a_whole_class_lock_by_the_principal_is_enough(filled: World) -> None:
    assessment_services.lock(actor=filled.own.users["principal"], school_class=class_4a(filled))
    assert compile_4a(filled).count("compiled") == 3


@pytest.mark.parametrize("user", ["subject_teacher", "foreign_principal", "department_staff"])
def test_unauthorised_users_are_refused_and_nothing_is_written(filled: World, user: str) -> None:
    finish(filled)
    actor = {
        "subject_teacher": filled.own.users["subject_teacher"],
        "foreign_principal": filled.foreign.users["principal"],
        "department_staff": filled.users["department_staff"],
    }[user]
    before = AuditEvent.objects.count()
    from hocba.records.services import compile_class

    with pytest.raises(PermissionRefused):
        compile_class(actor=actor, school_class=class_4a(filled), verify_base_url=BASE_URL)
    _nothing_written(before)


def test_pupils_who_are_not_computable_are_skipped_with_reasons(filled: World) -> None:
    enrolment = roster(class_4a(filled))[1]
    CompetencyMark.objects.filter(enrolment=enrolment, item="pc.yeu_nuoc").delete()
    finish(filled)
    report = compile_4a(filled)
    assert report.counts["compiled"] == 2 and report.counts["skipped"] == 1
    skipped = next(o for o in report.outcomes if o.outcome == "skipped")
    assert skipped.enrolment_id == enrolment.pk
    assert skipped.reasons == ("Yêu nước: thiếu mức đánh giá cuối năm",)
    assert not YearRecord.objects.filter(enrolment=enrolment).exists()


def test_pending_states_are_visible(filled: World) -> None:
    pupils = roster(class_4a(filled))
    fill_end_of_year(pupils[0], levels={"toan": "C"})
    pupils[1].pupil.personal_id = None
    pupils[1].pupil.save(update_fields=["personal_id"])
    finish(filled)
    report = compile_4a(filled)
    statuses = {o.enrolment_id: o.status for o in report.outcomes}
    assert statuses == {
        pupils[0].pk: YearRecordStatus.AWAITING_SUMMER_REASSESSMENT,
        pupils[1].pk: YearRecordStatus.MISSING_IDENTIFIER,
        pupils[2].pk: YearRecordStatus.COMPILED,
    }
    cht = json.loads(YearRecord.objects.get(enrolment=pupils[0]).canonical_json)
    assert cht["year_end"]["result"] == "CHT" and cht["year_end"]["completion"] == ""
    no_id = json.loads(YearRecord.objects.get(enrolment=pupils[1]).canonical_json)
    assert no_id["pupil"]["personal_id"] == ""


def test_recompiling_unchanged_data_creates_nothing(filled: World) -> None:
    finish(filled)
    first = compile_4a(filled)
    events = AuditEvent.objects.count()
    second = compile_4a(filled)
    assert second.counts == {"compiled": 0, "recompiled": 0, "unchanged": 3, "skipped": 0}
    assert [o.short_code for o in second.outcomes] == [o.short_code for o in first.outcomes]
    assert YearRecord.objects.count() == 3
    assert AuditEvent.objects.count() == events


def _unlock_edit_relock(world: World) -> None:
    lock = Lock.objects.get(school_class=class_4a(world), unlocked_at__isnull=True)
    assessment_services.unlock(
        actor=world.own.users["principal"], lock_id=lock.pk, reason="Sửa nhận xét môn Toán"
    )
    enrolment = roster(class_4a(world))[0]
    CompetencyMark.objects.filter(enrolment=enrolment, item="pc.nhan_ai").update(
        comment="Biết quan tâm, giúp đỡ bạn."
    )
    finish(world)


def test_a_change_after_an_unlock_makes_version_2(filled: World) -> None:
    finish(filled)
    compile_4a(filled)
    enrolment = roster(class_4a(filled))[0]
    old = YearRecord.objects.get(enrolment=enrolment)
    old_json = old.canonical_json
    _unlock_edit_relock(filled)
    report = compile_4a(filled)
    assert report.counts == {"compiled": 0, "recompiled": 1, "unchanged": 2, "skipped": 0}
    versions = list(YearRecord.objects.filter(enrolment=enrolment).order_by("version"))
    assert [v.version for v in versions] == [1, 2]
    old, new = versions
    assert old.status == YearRecordStatus.SUPERSEDED and old.canonical_json == old_json
    assert new.status == YearRecordStatus.COMPILED and new.supersedes_id == old.pk
    assert new.record_id == old.record_id and new.short_code != old.short_code
    assert new.content_hash != old.content_hash
    document = json.loads(new.canonical_json)
    assert document["record"]["version"] == 2
    assert document["qualities"][1]["comment"] == "Biết quan tâm, giúp đỡ bạn."
    event = AuditEvent.objects.get(action="records.year_record.recompiled")
    assert event.changes["content_hash"] == [old.content_hash, new.content_hash]
    assert event.changes["version"] == [1, 2]


def test_a_signed_record_is_not_replaced_by_a_recompile(filled: World) -> None:
    finish(filled)
    compile_4a(filled)
    enrolment = roster(class_4a(filled))[0]
    YearRecord.objects.filter(enrolment=enrolment).update(status=YearRecordStatus.ISSUED)
    _unlock_edit_relock(filled)
    report = compile_4a(filled)
    outcome = next(o for o in report.outcomes if o.enrolment_id == enrolment.pk)
    assert outcome.outcome == "skipped" and "đính chính" in outcome.reasons[0]
    assert YearRecord.objects.filter(enrolment=enrolment).count() == 1


def test_the_command_compiles_a_class(filled: World, capsys: pytest.CaptureFixture) -> None:
    finish(filled)
    call_command(
        "records",
        "compile",
        "--school",
        filled.own.school.code,
        "--class",
        "4A",
        "--year",
        "2024-2025",
        "--user",
        "a_gvcn",
    )
    assert YearRecord.objects.count() == 3
    assert "compiled: 3" in capsys.readouterr().out


def test_the_command_reports_a_refusal(filled: World) -> None:
    with pytest.raises(CommandError, match="chưa được khoá"):
        call_command(
            "records", "compile", "--school", filled.own.school.code, "--class", "4A",
            "--year", "2024-2025", "--user", "a_gvcn",
        )  # fmt: skip


def test_a_completed_summer_assessment_compiles_as_completed(filled: World) -> None:
    from hocba.assessment.models import YearEndRecord

    enrolment = roster(class_4a(filled))[0]
    fill_end_of_year(enrolment, levels={"toan": "C"})
    YearEndRecord.objects.create(
        enrolment=enrolment, result="CHT", summer_outcome="completed", summer_note="Đã tiến bộ."
    )
    finish(filled)
    compile_4a(filled)
    record = YearRecord.objects.get(enrolment=enrolment)
    year_end = json.loads(record.canonical_json)["year_end"]
    assert record.status == YearRecordStatus.COMPILED
    assert year_end["completion"] == "Hoàn thành chương trình lớp 4"
    assert year_end["summer"] == {
        "outcome": "completed",
        "outcome_label": "Hoàn thành sau đánh giá bổ sung",
        "note": "Đã tiến bộ.",
    }


def test_a_stale_stored_result_is_skipped(filled: World) -> None:
    from hocba.assessment.models import YearEndRecord

    enrolment = roster(class_4a(filled))[0]
    YearEndRecord.objects.create(enrolment=enrolment, result="HT")
    finish(filled)
    outcome = next(o for o in compile_4a(filled).outcomes if o.enrolment_id == enrolment.pk)
    assert outcome.outcome == "skipped" and "tính lại" in outcome.reasons[0]


def test_exemplary_and_adhoc_awards_are_listed(filled: World) -> None:
    from hocba.assessment.models import YearEndRecord

    enrolment = roster(class_4a(filled))[0]
    YearEndRecord.objects.create(
        enrolment=enrolment,
        result="HTXS",
        exemplary=True,
        exemplary_reason="Giúp bạn học tốt cả năm",
        adhoc_awards="Giải Nhất hội khỏe Phù Đổng",
    )
    finish(filled)
    compile_4a(filled)
    year_end = json.loads(YearRecord.objects.get(enrolment=enrolment).canonical_json)["year_end"]
    assert year_end["awards"] == [
        "Học sinh Xuất sắc",
        "Học sinh Tiêu biểu hoàn thành tốt trong học tập và rèn luyện",
        "Giải Nhất hội khỏe Phù Đổng",
    ]
