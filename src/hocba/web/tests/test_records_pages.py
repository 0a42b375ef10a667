"""Year-record pages: class list and compile, PDF preview, class zip, booklet, permissions."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from hocba.assessment.models import CompetencyMark
from hocba.audit.models import AuditEvent
from hocba.conftest import World
from hocba.documents.render import ATTACHMENT_NAME
from hocba.records.models import YearRecord
from hocba.records.tests.conftest import class_4a, compile_4a, filled, finish, roster
from hocba.records.tests.test_rendered_records import embedded_files

# The records tests' "filled" fixture (class 4A filled in), imported so pytest finds it here.
SHARED_FIXTURES = (filled,)


@pytest.fixture(autouse=True)
def vietnamese() -> Iterator[None]:
    with translation.override("vi"):
        yield


def login(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def page_url(world: World) -> str:
    return reverse("web:records_class", args=[class_4a(world).pk])


def test_homeroom_compiles_and_sees_the_records_in_name_order(
    client: Client, filled: World
) -> None:
    finish(filled)
    login(client, filled.own.users["homeroom_teacher"])
    before = client.get(page_url(filled)).content.decode()
    assert before.count("Chưa tổng hợp") == 3
    assert "Tổng hợp học bạ" in before and "Tải cả lớp (.zip)" not in before
    response = client.post(reverse("web:records_compile", args=[class_4a(filled).pk]), follow=True)
    text = response.content.decode()
    assert "Đã tổng hợp học bạ: 3 mới, 0 tổng hợp lại, 0 không đổi, 0 bỏ qua." in text
    assert "Tải cả lớp (.zip)" in text and text.count("Xem bản PDF") == 3
    for record in YearRecord.objects.all():
        assert record.short_code in text and record.content_hash[:12] in text
        assert reverse("web:records_pdf", args=[record.short_code]) in text
    assert "Đã tổng hợp" in text
    assert text.index("Lê Văn An") < text.index("Trần Thị Ánh") < text.index("Phạm Minh Đức")


def test_skipped_pupils_show_the_reason_of_the_last_compile(client: Client, filled: World) -> None:
    enrolment = roster(class_4a(filled))[1]
    CompetencyMark.objects.filter(enrolment=enrolment, item="pc.yeu_nuoc").delete()
    finish(filled)
    login(client, filled.own.users["principal"])
    response = client.post(reverse("web:records_compile", args=[class_4a(filled).pk]), follow=True)
    text = response.content.decode()
    assert "2 mới, 0 tổng hợp lại, 0 không đổi, 1 bỏ qua" in text
    assert "Yêu nước: thiếu mức đánh giá cuối năm" in text
    # Still listed on a later visit (from the session), in that pupil's row.
    again = client.get(page_url(filled)).content.decode()
    assert "Yêu nước: thiếu mức đánh giá cuối năm" in again


def test_an_unlocked_class_is_refused_with_the_service_message(
    client: Client, filled: World
) -> None:
    login(client, filled.own.users["homeroom_teacher"])
    response = client.post(reverse("web:records_compile", args=[class_4a(filled).pk]), follow=True)
    assert "chưa được khoá" in response.content.decode()
    assert not YearRecord.objects.exists()


def test_a_subject_teacher_sees_but_may_not_compile(client: Client, filled: World) -> None:
    finish(filled)
    login(client, filled.own.users["subject_teacher"])
    page = client.get(page_url(filled))
    assert page.status_code == 200 and "Tổng hợp học bạ</button>" not in page.content.decode()
    response = client.post(reverse("web:records_compile", args=[class_4a(filled).pk]), follow=True)
    assert "Bạn không có quyền tổng hợp học bạ của lớp này." in response.content.decode()
    assert not YearRecord.objects.exists()


def test_another_school_gets_404(client: Client, filled: World) -> None:
    finish(filled)
    compile_4a(filled)
    login(client, filled.foreign.users["principal"])
    # pupils[0] did grade 3 at the other school, which still sees the pupil but not the new
    # school's record nor the booklet; pupils[2] never was there.
    former = YearRecord.objects.get(pupil=filled.own.pupils[0])
    assert client.get(reverse("web:records_pdf", args=[former.short_code])).status_code == 404
    former_booklet = reverse("web:records_booklet", args=[former.pupil_id])
    assert client.get(former_booklet).status_code == 404
    record = YearRecord.objects.filter(pupil=filled.own.pupils[2]).first()
    assert record is not None
    assert client.get(page_url(filled)).status_code == 404
    assert client.get(reverse("web:records_pdf", args=[record.short_code])).status_code == 404
    zip_url = reverse("web:records_class_zip", args=[class_4a(filled).pk])
    assert client.get(zip_url).status_code == 404
    booklet_url = reverse("web:records_booklet", args=[record.pupil_id])
    assert client.get(booklet_url).status_code == 404
    assert client.get(reverse("web:records_pdf", args=["khong-co"])).status_code == 404


def test_the_pdf_embeds_the_stored_json_and_is_inline(client: Client, filled: World) -> None:
    finish(filled)
    compile_4a(filled)
    record = YearRecord.objects.select_related("pupil").get(pupil=filled.own.pupils[2])
    login(client, filled.own.users["homeroom_teacher"])
    response = client.get(reverse("web:records_pdf", args=[record.short_code.lower()]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    disposition = response["Content-Disposition"]
    assert disposition.startswith('inline; filename="4A - Pham Minh Duc - 0000000003.pdf"')
    assert "filename*=UTF-8''4A%20-%20Ph%E1%BA%A1m%20Minh%20%C4%90%E1%BB%A9c" in disposition
    data = embedded_files(response.content)[ATTACHMENT_NAME]
    assert hashlib.sha256(data).hexdigest() == record.content_hash


def test_reads_from_above_the_school_are_audited(client: Client, filled: World) -> None:
    finish(filled)
    compile_4a(filled)
    record = YearRecord.objects.first()
    assert record is not None
    login(client, filled.users["district_staff"])
    before = AuditEvent.objects.filter(action="schools.pupil.personal_data_read").count()
    assert client.get(reverse("web:records_pdf", args=[record.short_code])).status_code == 200
    after = AuditEvent.objects.filter(action="schools.pupil.personal_data_read").count()
    assert after == before + 1


def test_the_class_zip_names_each_pupil(client: Client, filled: World) -> None:
    finish(filled)
    compile_4a(filled)
    login(client, filled.own.users["principal"])
    response = client.get(reverse("web:records_class_zip", args=[class_4a(filled).pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert 'attachment; filename="01001 - 4A - 2024-2025.zip"' in response["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert sorted(archive.namelist()) == [
            "4A/01 - Lê Văn An - 0000000002.pdf",
            "4A/02 - Trần Thị Ánh - 0000000001.pdf",
            "4A/03 - Phạm Minh Đức - 0000000003.pdf",
        ]


def test_the_booklet_needs_a_record(client: Client, filled: World) -> None:
    login(client, filled.own.users["homeroom_teacher"])
    pupil = filled.own.pupils[0]
    url = reverse("web:records_booklet", args=[pupil.pk])
    missing = client.get(url)
    assert missing.status_code == 404
    assert "Học sinh này chưa có học bạ năm học nào đã tổng hợp." in missing.content.decode()
    finish(filled)
    compile_4a(filled)
    response = client.get(url)
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert response["Content-Disposition"].startswith("inline;")


def test_the_records_page_offers_background_printing(client: Client, filled: World) -> None:
    finish(filled)
    compile_4a(filled)
    login(client, filled.own.users["homeroom_teacher"])
    page = client.get(page_url(filled)).content.decode()
    assert reverse("web:render_job_start", args=[class_4a(filled).pk]) in page
    assert "In cả lớp (chạy nền)" in page
