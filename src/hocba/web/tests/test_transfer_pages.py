"""Transfer pages: release a pupil, download the package, receive it at another school."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation

from hocba.assessment.models import SubjectMark
from hocba.conftest import World
from hocba.records.models import Transfer, TransferDirection
from hocba.schools.models import Enrolment, EntryKind, SchoolClass


@pytest.fixture(autouse=True)
def vietnamese() -> Iterator[None]:
    with translation.override("vi"):
        yield


@pytest.fixture(autouse=True)
def log_key(settings: Any, tmp_path: Any) -> None:
    settings.HOCBA_LEDGER_KEY_FILE = str(tmp_path / "log.key")


def _as(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def _release(client: Client, world: World) -> Any:
    return client.post(
        reverse("web:transfer_release", args=[world.own.pupils[0].pk]),
        {"destination": "Trường Tiểu học B", "on": "20/01/2025", "reason": "Chuyển nơi ở"},
    )


def test_a_principal_releases_a_pupil_and_downloads_the_package(
    client: Client, world: World
) -> None:
    enrolment = Enrolment.objects.get(pupil=world.own.pupils[0], left_on__isnull=True)
    SubjectMark.objects.create(enrolment=enrolment, subject="toan", period="gk1", level="T")
    _as(client, world.own.users["principal"])
    page = client.get(reverse("web:pupil", args=[world.own.pupils[0].pk]))
    assert reverse("web:transfer_release", args=[world.own.pupils[0].pk]) in page.text

    response = _release(client, world)

    assert response.status_code == 302
    enrolment.refresh_from_db()
    assert str(enrolment.left_on) == "2025-01-20"
    transfer = Transfer.objects.get(direction=TransferDirection.OUT)
    page = client.get(response["Location"])
    assert "Học sinh đã được chuyển đi" in page.text
    assert reverse("web:transfer_package", args=[transfer.pk]) in page.text
    package = client.get(reverse("web:transfer_package", args=[transfer.pk]))
    assert package.status_code == 200 and package["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(package.content)) as archive:
        assert {"manifest.json", "manifest.sig"} <= set(archive.namelist())

    # The other school receives it into its class 4A, the marks so far with it.
    client.logout()
    _as(client, world.foreign.users["principal"])
    school_class = SchoolClass.objects.get(school=world.foreign.school, name="4A")
    response = client.post(
        reverse("web:transfer_receive", args=[world.foreign.school.pk]),
        {
            "package": SimpleUploadedFile("goi.zip", package.content, "application/zip"),
            "school_class": school_class.pk,
            "joined_on": "22/01/2025",
        },
    )
    assert response.status_code == 302
    new = Enrolment.objects.get(pupil=world.own.pupils[0], left_on__isnull=True)
    assert new.school_class == school_class and new.entry_kind == EntryKind.TRANSFER_IN
    assert new.subject_marks.get().level == "T"
    assert "Đã nhận học sinh" in client.get(response["Location"]).text


@pytest.mark.parametrize("who", ["homeroom_teacher", "subject_teacher"])
def test_a_teacher_cannot_release_a_pupil(client: Client, world: World, who: str) -> None:
    _as(client, world.own.users[who])
    assert _release(client, world).status_code in {403, 404}
    assert Enrolment.objects.get(pupil=world.own.pupils[0], school_year=world.year).left_on is None
    assert not Transfer.objects.exists()


def test_the_package_is_only_for_the_sending_school(client: Client, world: World) -> None:
    _release(_as(client, world.own.users["principal"]), world)
    transfer = Transfer.objects.get()
    client.logout()
    _as(client, world.foreign.users["principal"])
    assert client.get(reverse("web:transfer_package", args=[transfer.pk])).status_code == 404


def test_a_broken_package_is_refused_with_the_reason(client: Client, world: World) -> None:
    _as(client, world.foreign.users["principal"])
    school_class = SchoolClass.objects.get(school=world.foreign.school, name="4A")
    before = Enrolment.objects.count()
    response = client.post(
        reverse("web:transfer_receive", args=[world.foreign.school.pk]),
        {
            "package": SimpleUploadedFile("goi.zip", b"PK\x03\x04 broken", "application/zip"),
            "school_class": school_class.pk,
            "joined_on": "22/01/2025",
        },
    )
    assert response.status_code == 400
    assert "Gói hồ sơ chuyển trường bị từ chối" in response.text
    assert Enrolment.objects.count() == before


def test_another_school_cannot_open_the_receive_page(client: Client, world: World) -> None:
    _as(client, world.own.users["principal"])
    url = reverse("web:transfer_receive", args=[world.foreign.school.pk])
    assert client.get(url).status_code in {403, 404}
