"""The objects the access matrix points its URLs at: one of each kind per school side.

"own" objects belong to school A (the users under test work there, district staff oversee its
district); "foreign" objects belong to school B (another district of the same province) or, for
places above the school, to another district or province.
"""

from __future__ import annotations

import datetime
import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from hocba.assessment.models import CommentBankEntry, Lock
from hocba.assessment.services import finish_class
from hocba.assessment.tests.marks import fill_end_of_year
from hocba.conftest import World, _make_side, make_user
from hocba.records.models import (
    RenderJob,
    RenderJobKind,
    Transfer,
    TransferDirection,
    TransferredRecord,
    YearRecord,
)
from hocba.records.services import compile_class
from hocba.schools.models import (
    District,
    Enrolment,
    Province,
    Role,
    School,
    SchoolYear,
    SchoolYearProfile,
)
from hocba.signing.models import (
    AdapterKind,
    CertificatePurpose,
    SigningBatch,
    SigningCertificate,
    SigningStep,
)

SIDES = ("own", "foreign")
PACKAGE = b"PK\x05\x06" + bytes(18)  # an empty zip
PDF = b"%PDF-1.7\n%%EOF\n"


@dataclass
class Targets:
    """Values for every URL keyword argument, per side."""

    values: dict[str, dict[str, Any]]

    def kwargs(self, names: list[str], side: str) -> dict[str, Any]:
        missing = [name for name in names if name not in self.values[side]]
        assert not missing, f"no object for URL argument(s) {missing}: add one to access_objects"
        return {name: self.values[side][name] for name in names}


def _records(world: World, side_name: str) -> YearRecord:
    side = getattr(world, side_name)
    school_class = side.classes[0]
    SchoolYearProfile.objects.create(
        school=side.school,
        school_year=world.year,
        school_name=side.school.name,
        address_levels=[{"label": "Tỉnh (Thành phố)", "value": "Thành phố Hà Nội"}],
        place_name="Hà Nội",
    )
    enrolments = Enrolment.objects.filter(school_class=school_class).order_by("pk")
    for enrolment in enrolments:
        fill_end_of_year(enrolment)
    finish_class(actor=side.users["homeroom_teacher"], school_class=school_class)
    compile_class(
        actor=side.users["homeroom_teacher"],
        school_class=school_class,
        verify_base_url="https://hocba.test",
    )
    return YearRecord.objects.filter(school=side.school).order_by("pk").first()  # type: ignore[return-value]


def _certificate(world: World, side_name: str) -> SigningCertificate:
    side = getattr(world, side_name)
    principal = side.users["principal"]
    now = timezone.now()
    return SigningCertificate.objects.create(
        purpose=CertificatePurpose.PERSONAL,
        school=side.school,
        staff=principal.staff,
        adapter=AdapterKind.SOFT,
        certificate_der=b"not a certificate",
        fingerprint=hashlib.sha256(side_name.encode()).hexdigest(),
        subject_name=f"CN={principal.username}",
        issuer_name="CN=Demo CA",
        serial_hex="01",
        not_before=now - datetime.timedelta(days=1),
        not_after=now + datetime.timedelta(days=365),
        key_algorithm="rsa",
        key_size=2048,
        registered_by=principal,
        registered_at=now,
    )


def _batch(world: World, side_name: str, certificate: SigningCertificate) -> SigningBatch:
    side = getattr(world, side_name)
    return SigningBatch.objects.create(
        step=SigningStep.PRINCIPAL,
        school=side.school,
        school_year=world.year,
        school_class=side.classes[0],
        certificate=certificate,
        signer_title="Hiệu trưởng",
        requested_by=side.users["principal"],
        requested_at=timezone.now(),
    )


def _transfer(world: World, side_name: str) -> tuple[Transfer, TransferredRecord]:
    side = getattr(world, side_name)
    pupil = side.pupils[5]
    enrolment = pupil.enrolments.get()
    now = timezone.now()
    transfer = Transfer.objects.create(
        direction=TransferDirection.OUT,
        pupil=pupil,
        enrolment=enrolment,
        school=side.school,
        counterpart_school="Trường Tiểu học C",
        on=now.date(),
        package_sha256=hashlib.sha256(PACKAGE).hexdigest(),
        package_file=default_storage.save(f"matrix/{side_name}.zip", ContentFile(PACKAGE)),
        actor=side.users["principal"],
        at=now,
    )
    received = TransferredRecord.objects.create(
        transfer=transfer,
        pupil=pupil,
        origin="hocba.test/other",
        record_id=uuid.uuid4(),
        version=1,
        short_code="AAAA-BBBB-CCCC",
        school_year="2023-2024",
        start_year=2023,
        grade=3,
        class_name="3A",
        school_code="99999",
        school_name="Trường Tiểu học C",
        content_hash="0" * 64,
        pdf_sha256=hashlib.sha256(PDF).hexdigest(),
        pdf_file=default_storage.save(f"matrix/{side_name}.pdf", ContentFile(PDF)),
        proof="",
        log_index=0,
        received_at=now,
    )
    return transfer, received


def _side_objects(world: World, side_name: str, place: dict[str, Any]) -> dict[str, Any]:
    side = getattr(world, side_name)
    school_class = side.classes[0]
    record = _records(world, side_name)
    certificate = _certificate(world, side_name)
    transfer, received = _transfer(world, side_name)
    entry = CommentBankEntry.objects.create(
        school=side.school, code="TO1", target="toan", text="Tính toán nhanh."
    )
    job = RenderJob.objects.create(
        kind=RenderJobKind.values[0],
        school_class=school_class,
        school=side.school,
        school_year=world.year,
        requested_by=side.users["homeroom_teacher"],
        requested_at=timezone.now(),
    )
    lock = Lock.objects.get(school_class=school_class, is_class_finished=True)
    return {
        "school_id": side.school.pk,
        "school_code": side.school.code,
        "year_name": world.year.name,
        "class_id": school_class.pk,
        "pupil_id": side.pupils[0].pk,
        "enrolment_id": side.pupils[0].enrolments.get().pk,
        "short_code": record.short_code,
        "entry_id": entry.pk,
        "job_id": job.pk,
        "certificate_id": certificate.pk,
        "batch_id": _batch(world, side_name, certificate).pk,
        "lock_id": lock.pk,
        "transfer_id": transfer.pk,
        "record_id": received.pk,
        **place,
    }


# Values that name no object: the same on both sides.
CONSTANTS: dict[str, Any] = {
    "subject": "toan",
    "period": "cn",
    "scope": "chung",
    "fmt": "csv",
    "slug": "nhap-diem",
    "path": "0/000",
    "size": 1,
}


def build_targets(world: World) -> Targets:
    other_province = Province.objects.create(code="79", name="Thành phố Hồ Chí Minh")
    District.objects.create(province=other_province, code="760", name="Quận 1")
    places = {
        "own": {"province_id": world.province.pk, "district_id": world.districts[0].pk},
        "foreign": {"province_id": other_province.pk, "district_id": world.districts[1].pk},
    }
    values = {side: {**CONSTANTS, **_side_objects(world, side, places[side])} for side in SIDES}
    return Targets(values)


def build_world() -> World:
    """The ``world`` fixture of ``hocba/conftest.py``, callable once per module."""
    province = Province.objects.create(code="01", name="Thành phố Hà Nội")
    districts = [
        District.objects.create(province=province, code="001", name="Quận Ba Đình"),
        District.objects.create(province=province, code="002", name="Quận Hoàn Kiếm"),
    ]
    year = SchoolYear.objects.create(
        name="2024-2025",
        start_year=2024,
        starts_on=datetime.date(2024, 9, 5),
        ends_on=datetime.date(2025, 5, 31),
        is_current=True,
    )
    schools = [
        School.objects.create(
            code=f"0100{n}", name=f"Trường Tiểu học {n}", province=province, district=district
        )
        for n, district in zip((1, 2), districts, strict=True)
    ]
    own = _make_side("a", schools[0], year, 1)
    foreign = _make_side("b", schools[1], year, 101)
    users = {
        "district_staff": make_user(
            "phong_badinh", [Role.DISTRICT_STAFF], district=districts[0], province=province
        ),
        "department_staff": make_user("so_hanoi", [Role.DEPARTMENT_STAFF], province=province),
        "system_admin": make_user("quantri", [Role.SYSTEM_ADMIN]),
    }
    return World(province, year, districts, own, foreign, users)
