"""The certificate registry with the checked-in test PKI: accepted, refused, re-checked."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from hocba.audit.models import AuditEvent
from hocba.common.errors import DomainError, PermissionRefused
from hocba.conftest import PASSWORD, World
from hocba.records.models import YearRecord
from hocba.signing import registry, services
from hocba.signing.certcheck import CertificateRefused
from hocba.signing.models import CertificatePurpose, SigningBatch, SigningCertificate
from hocba.signing.tests import testpki

pytestmark = pytest.mark.django_db


@pytest.fixture
def test_trust(settings: Any, tmp_path: Path) -> Path:
    folder = tmp_path / "trust"
    folder.mkdir()
    for name in ("root.cert.pem", "issuing.cert.pem", "crl.der"):
        shutil.copyfile(testpki.PKI_DIR / name, folder / name)
    settings.TRUST_DIR = folder
    return folder


@pytest.fixture
def hoa(world: World) -> World:
    """The homeroom teacher of school A is Nguyễn Thị Hoà, the test PKI's teacher."""
    staff = world.own.users["homeroom_teacher"].staff
    staff.family_name, staff.middle_name, staff.given_name = "Nguyễn", "Thị", "Hoà"
    staff.save()
    world.own.school.name = testpki.SCHOOL_NAME
    world.own.school.save()
    return world


def _register(world: World, name: str, *, purpose: str = CertificatePurpose.PERSONAL) -> Any:
    user = world.own.users["homeroom_teacher" if purpose == "personal" else "principal"]
    return registry.register_pkcs12(
        user,
        purpose=purpose,
        school=world.own.school,
        staff=user.staff if purpose == "personal" else None,
        p12=testpki.p12(name),
        pin=testpki.PIN,
    )


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("expired", "hết hạn"),
        ("not_yet_valid", "chưa có hiệu lực"),
        ("revoked", "thu hồi"),
        ("wrong_usage", "mục đích"),
        ("weak_key", "1024"),
        ("other_person", "Lê Văn Nam"),
        ("untrusted", "tin cậy"),
        ("ca_as_leaf", "CA"),
    ],
)
def test_bad_certificates_are_refused_with_the_reason(
    hoa: World, test_trust: Path, name: str, words: str
) -> None:
    with pytest.raises(CertificateRefused) as refused:
        _register(hoa, name)
    assert words.lower() in refused.value.message.lower()
    assert refused.value.message.startswith("Không chấp nhận chứng thư số")
    assert not SigningCertificate.objects.exists()
    assert not AuditEvent.objects.filter(action="signing.certificate_registered").exists()


def test_good_certificates_register_rsa_ec_and_seal(hoa: World, test_trust: Path) -> None:
    rsa = _register(hoa, "teacher")
    ec = _register(hoa, "teacher_ec")
    seal = _register(hoa, "seal", purpose=CertificatePurpose.SEAL)
    assert (rsa.key_algorithm, rsa.key_size) == ("rsa", 2048)
    assert (ec.key_algorithm, ec.key_size) == ("ec", 256)
    assert seal.staff is None and seal.subject_name == testpki.SCHOOL_NAME
    assert AuditEvent.objects.filter(action="signing.certificate_registered").count() == 3
    with pytest.raises(DomainError, match="đã được đăng ký"):
        _register(hoa, "teacher")


def test_registering_for_someone_else_is_refused(hoa: World, test_trust: Path) -> None:
    subject_teacher = hoa.own.users["subject_teacher"]
    with pytest.raises(PermissionRefused):
        registry.register_pkcs12(
            subject_teacher,
            purpose=CertificatePurpose.PERSONAL,
            school=hoa.own.school,
            staff=hoa.own.users["homeroom_teacher"].staff,
            p12=testpki.p12("teacher"),
            pin=testpki.PIN,
        )
    with pytest.raises(PermissionRefused, match="Hiệu trưởng"):
        registry.register_pkcs12(
            hoa.own.users["deputy_principal"],
            purpose=CertificatePurpose.SEAL,
            school=hoa.own.school,
            staff=None,
            p12=testpki.p12("seal"),
            pin=testpki.PIN,
        )
    assert not SigningCertificate.objects.exists()


def test_a_certificate_revoked_after_registration_is_refused_before_signing(
    hoa: World, test_trust: Path, compiled: list[YearRecord]
) -> None:
    registered = _register(hoa, "teacher")
    serial = testpki.crypto_cert("teacher").serial_number
    (test_trust / "crl.der").write_bytes(testpki.make_crl({serial: testpki.REVOKED_AT}))
    with pytest.raises(CertificateRefused, match="thu hồi"):
        services.start_batch(
            hoa.own.users["homeroom_teacher"],
            step="gvcn",
            certificate=registered,
            password=PASSWORD,
            pin=testpki.PIN,
            school_class=hoa.own.classes[0],
        )
    assert not SigningBatch.objects.exists()
    registered.refresh_from_db()
    assert [p["code"] for p in registered.last_check_problems] == ["revoked"]
    assert set(YearRecord.objects.values_list("status", flat=True)) == {"compiled"}
