"""The signing pages: register a certificate, sign a class from the page, follow the batch."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from hocba.conftest import PASSWORD
from hocba.records.models import YearRecord, YearRecordStatus
from hocba.signing.batch import run_batch
from hocba.signing.models import BatchStatus, SigningBatch, SigningCertificate, SigningStep
from hocba.signing.pki import DemoPki
from hocba.signing.tests.conftest import PIN, Registered
from hocba.signing.tests.test_adapters_batch import CSC_PASSWORD, CSC_USER, smartca

__all__ = ["smartca"]  # a fixture, imported for pytest

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_teacher_registers_own_pkcs12(world: Any, trusted: DemoPki) -> None:
    teacher = world.own.users["homeroom_teacher"]
    client = _client(teacher)
    p12 = trusted.people["a_gvcn"].p12_path.read_bytes()
    response = client.post(
        reverse("web:signing_register"),
        {"purpose": "personal", "pin": PIN, "file": SimpleUploadedFile("gv.p12", p12)},
        follow=True,
    )
    assert "Đã đăng ký chứng thư số" in response.content.decode()
    registered = SigningCertificate.objects.get()
    assert registered.staff == teacher.staff and registered.adapter == "soft"
    page = client.get(reverse("web:signing_certificates")).content.decode()
    assert "Nguyễn Văn A" in page and "Hợp lệ" in page


def test_wrong_pin_and_wrong_person_are_refused(world: Any, trusted: DemoPki) -> None:
    client = _client(world.own.users["homeroom_teacher"])
    mine = trusted.people["a_gvcn"].p12_path.read_bytes()
    response = client.post(
        reverse("web:signing_register"),
        {"purpose": "personal", "pin": "999999", "file": SimpleUploadedFile("gv.p12", mine)},
        follow=True,
    )
    assert "Mã PIN không đúng" in response.content.decode()
    someone_else = trusted.people["b_gvcn"].p12_path.read_bytes()
    response = client.post(
        reverse("web:signing_register"),
        {"purpose": "personal", "pin": PIN, "file": SimpleUploadedFile("b.p12", someone_else)},
        follow=True,
    )
    assert "Không chấp nhận chứng thư số" in response.content.decode()
    assert not SigningCertificate.objects.exists()


def test_only_the_principal_registers_the_seal(world: Any, trusted: DemoPki) -> None:
    seal = trusted.seals["01001"]
    for username in ("deputy_principal", "school_admin"):
        response = _client(world.own.users[username]).post(
            reverse("web:signing_register"),
            {
                "purpose": "seal",
                "pin": seal.pin,
                "file": SimpleUploadedFile("seal.p12", seal.p12_path.read_bytes()),
            },
            follow=True,
        )
        assert "Chỉ Hiệu trưởng" in response.content.decode()
    assert not SigningCertificate.objects.exists()
    _client(world.own.users["principal"]).post(
        reverse("web:signing_register"),
        {
            "purpose": "seal",
            "pin": seal.pin,
            "file": SimpleUploadedFile("seal.p12", seal.p12_path.read_bytes()),
        },
    )
    assert SigningCertificate.objects.get().purpose == "seal"


def test_teacher_signs_the_class_from_the_page(
    registered: Registered, compiled: list[YearRecord], django_capture_on_commit_callbacks: Any
) -> None:
    world = registered.world
    school_class = world.own.classes[0]
    client = _client(world.own.users["homeroom_teacher"])
    page = client.get(reverse("web:signing_class", args=[school_class.pk])).content.decode()
    assert "Giáo viên chủ nhiệm ký" in page and "Ký tất cả học bạ đang chờ" in page
    certificate = registered.personal("a_gvcn")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            reverse("web:signing_start"),
            {
                "step": SigningStep.TEACHER,
                "class_id": school_class.pk,
                "gvcn-certificate": certificate.pk,
                "gvcn-password": PASSWORD,
                "gvcn-pin": PIN,
            },
        )
    batch = SigningBatch.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{batch.pk}/")
    assert len(callbacks) == 1  # the task is queued once the batch is committed
    run_batch(batch.pk)
    page = client.get(reverse("web:signing_batch", args=[batch.pk])).content.decode()
    assert "Đã xong" in page and "đã ký 3/3 học bạ" in page
    status = client.get(reverse("web:signing_class", args=[school_class.pk])).content.decode()
    assert status.count("Giáo viên chủ nhiệm đã ký") == 3
    assert "Hiệu trưởng ký" in status  # what each record now waits for
    pdf = client.get(reverse("web:records_pdf", args=[compiled[0].short_code]))
    assert pdf.content.count(b"/ByteRange") == 1


def test_subject_teacher_cannot_start_signing(
    registered: Registered, compiled: list[YearRecord]
) -> None:
    world = registered.world
    school_class = world.own.classes[0]
    client = _client(world.own.users["subject_teacher"])
    page = client.get(reverse("web:signing_class", args=[school_class.pk])).content.decode()
    assert "Ký tất cả học bạ đang chờ" not in page
    response = client.post(
        reverse("web:signing_start"),
        {
            "step": SigningStep.TEACHER,
            "class_id": school_class.pk,
            "gvcn-certificate": registered.personal("a_gvcn").pk,
            "gvcn-password": PASSWORD,
            "gvcn-pin": PIN,
        },
    )
    assert response.status_code == 302
    assert not SigningBatch.objects.exists()
    assert set(YearRecord.objects.values_list("status", flat=True)) == {YearRecordStatus.COMPILED}


def test_school_page_counts_and_foreign_batches_hidden(
    registered: Registered, compiled: list[YearRecord]
) -> None:
    world = registered.world
    principal = _client(world.own.users["principal"])
    page = principal.get(reverse("web:signing_school", args=[world.own.school.pk]))
    text = page.content.decode()
    assert "Hiệu trưởng ký" in text and "Đóng dấu của trường" in text
    batch = SigningBatch.objects.create(
        step=SigningStep.TEACHER,
        school=world.own.school,
        school_year=world.year,
        school_class=world.own.classes[0],
        certificate=registered.personal("a_gvcn"),
        signer_title="Giáo viên chủ nhiệm",
        requested_by=world.own.users["homeroom_teacher"],
        requested_at=compiled[0].compiled_at,
        status=BatchStatus.DONE,
    )
    outsider = _client(world.foreign.users["principal"])
    assert outsider.get(reverse("web:signing_batch", args=[batch.pk])).status_code == 404
    assert outsider.post(reverse("web:signing_cancel", args=[batch.pk])).status_code == 404


def test_teacher_registers_a_remote_signing_account_from_the_page(
    registered: Registered, smartca: Any
) -> None:
    world = registered.world
    client = _client(world.own.users["homeroom_teacher"])
    form = {
        "base_url": smartca.base_url,
        "username": CSC_USER,
        "password": CSC_PASSWORD,
        "credential_id": "ec",
    }
    response = client.post(reverse("web:signing_remote"), form, follow=True)
    assert "Đã đăng ký chứng thư số" in response.content.decode()
    assert SigningCertificate.objects.filter(adapter="csc", key_algorithm="ec").count() == 1
    response = client.post(reverse("web:signing_remote"), form | {"password": "sai"}, follow=True)
    assert "không đúng" in response.content.decode()
