"""The public status page behind the QR code, and the staff record page's lifecycle actions."""

from __future__ import annotations

import pytest
from django.test import Client

from hocba.ledger import issuing, keys, services
from hocba.ledger.models import CopyIssued, IssuedRecord, LogLeaf
from hocba.records.models import Correction, YearRecord, YearRecordStatus
from hocba.records.tests.conftest import compile_4a
from hocba.signing.models import SigningStep
from hocba.signing.tests.conftest import Registered
from hocba.signing.tests.test_batch import _sign

pytestmark = pytest.mark.django_db

REASON = "Sai nơi sinh của học sinh so với giấy khai sinh"


def _client(registered: Registered, who: str) -> Client:
    client = Client()
    client.force_login(registered.world.own.users[who])
    return client


def test_valid_record_page_masks_the_pupil(issued: list[YearRecord]) -> None:
    record = issued[0]
    response = Client().get(f"/xac-thuc/{record.short_code}")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-state="valid"' in page and "Hợp lệ" in page
    assert record.pupil.full_name not in page
    initials = " ".join(f"{part[0]}." for part in record.pupil.full_name.split())
    assert initials in page
    assert "Giáo viên chủ nhiệm" in page or "giáo viên" in page.lower()
    proof = Client().get(f"/xac-thuc/{record.short_code}/so-cai.tlog-proof")
    assert proof.status_code == 200
    leaf = IssuedRecord.objects.get(record=record).leaf
    assert services.verify_bundle(proof.content.decode(), keys.verifier_key(), leaf.leaf_hash)


def test_unknown_and_draft_codes(compiled: list[YearRecord]) -> None:
    assert Client().get("/xac-thuc/HB00-0000-0000").status_code == 404
    page = Client().get(f"/xac-thuc/{compiled[0].short_code}").content.decode()
    assert 'data-state="not_issued"' in page
    assert Client().get(f"/xac-thuc/{compiled[0].short_code}/so-cai.tlog-proof").status_code == 404


def test_correction_through_the_pages(registered: Registered, issued: list[YearRecord]) -> None:
    old = issued[0]
    principal = _client(registered, "principal")
    response = principal.post(f"/hoc-ba/{old.short_code}/dinh-chinh/", {"reason": REASON})
    assert response.status_code == 302
    assert Correction.objects.filter(original=old).exists()
    page = principal.get(f"/hoc-ba/{old.short_code}/").content.decode()
    assert "Đang đính chính" in page and REASON in page

    pupil = old.pupil
    pupil.birthplace = "Bệnh viện Phụ sản Hà Nội"
    pupil.save(update_fields=["birthplace"])
    compile_4a(registered.world, user="principal")
    _sign(registered, SigningStep.TEACHER, "homeroom_teacher")
    _sign(registered, SigningStep.PRINCIPAL, "principal", whole_school=True)
    _sign(registered, SigningStep.SEAL, "principal", whole_school=True)
    issuing.issue_sealed(YearRecord.objects.filter(status="sealed").values_list("pk", flat=True))
    new = YearRecord.objects.get(enrolment=old.enrolment, status=YearRecordStatus.ISSUED)

    # The QR code of the old paper copy now says "superseded" and points to the new version.
    page = Client().get(f"/xac-thuc/{old.short_code}").content.decode()
    assert 'data-state="superseded"' in page
    assert f'href="/xac-thuc/{new.short_code}"' in page
    assert REASON in page
    assert 'data-state="valid"' in Client().get(f"/xac-thuc/{new.short_code}").content.decode()


def test_teacher_cannot_correct_or_revoke(registered: Registered, issued: list[YearRecord]) -> None:
    teacher = _client(registered, "homeroom_teacher")
    record = issued[0]
    size = services.log_size()
    teacher.post(f"/hoc-ba/{record.short_code}/dinh-chinh/", {"reason": REASON})
    response = teacher.post(f"/hoc-ba/{record.short_code}/thu-hoi/", {"reason": REASON})
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.status == YearRecordStatus.ISSUED
    assert not Correction.objects.exists() and services.log_size() == size
    page = teacher.get(f"/hoc-ba/{record.short_code}/").content.decode()
    assert "Thu hồi học bạ" not in page  # no button either


def test_foreign_school_sees_nothing(registered: Registered, issued: list[YearRecord]) -> None:
    foreign = Client()
    foreign.force_login(registered.world.foreign.users["principal"])
    record = issued[0]
    assert foreign.get(f"/hoc-ba/{record.short_code}/").status_code == 404
    response = foreign.post(f"/hoc-ba/{record.short_code}/thu-hoi/", {"reason": REASON})
    assert response.status_code == 404
    record.refresh_from_db()
    assert record.status == YearRecordStatus.ISSUED


def test_revocation_through_the_page(registered: Registered, issued: list[YearRecord]) -> None:
    record = issued[1]
    reason = "Phát hành nhầm cho học sinh khác cùng tên"
    _client(registered, "principal").post(
        f"/hoc-ba/{record.short_code}/thu-hoi/", {"reason": reason}
    )
    page = Client().get(f"/xac-thuc/{record.short_code}").content.decode()
    assert 'data-state="revoked"' in page and reason in page


def test_copies_are_logged_with_purpose(registered: Registered, issued: list[YearRecord]) -> None:
    record = issued[0]
    teacher = _client(registered, "homeroom_teacher")
    response = teacher.post(f"/hoc-ba/{record.short_code}/ban-sao/", {"purpose": "transfer"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    copy = CopyIssued.objects.get()
    assert (copy.purpose, copy.channel, copy.record) == ("transfer", "download", record)
    assert response.content.startswith(b"%PDF")
    # A copy without a purpose is refused and logs nothing.
    teacher.post(f"/hoc-ba/{record.short_code}/ban-sao/", {"purpose": ""})
    assert CopyIssued.objects.count() == 1
    # Viewing the PDF and the class zip also hand out copies.
    teacher.get(f"/hoc-ba/{record.short_code}.pdf")
    teacher.get(f"/lop/{record.enrolment.school_class_id}/hoc-ba/ca-lop.zip")
    assert sorted(CopyIssued.objects.values_list("channel", flat=True)) == [
        "class_zip",
        "class_zip",
        "class_zip",
        "download",
        "download",
    ]
    assert LogLeaf.objects.filter(event_type="copy_issued").count() == 5
