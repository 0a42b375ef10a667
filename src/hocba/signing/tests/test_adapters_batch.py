"""Each adapter signs real year records through a batch, and the PDFs validate against the root.

``soft`` is covered by test_batch.py; here a SoftHSM2 token (``pkcs11``) and the CSC test server
(``csc``, RSA and ECDSA) sign class 4A, and their failures (token removed, confirmation rejected
or never given) leave the batch resumable with nothing half-signed.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature

from hocba.common.errors import DomainError
from hocba.conftest import PASSWORD
from hocba.records.models import YearRecord, YearRecordStatus
from hocba.signing import registry, services
from hocba.signing.adapters import WrongPin
from hocba.signing.adapters.csc import CscClient
from hocba.signing.adapters.pkcs11 import Pkcs11Signer
from hocba.signing.batch import current_pdf, run_batch
from hocba.signing.models import (
    AdapterKind,
    BatchStatus,
    CertificatePurpose,
    RecordSignature,
    SigningBatch,
    SigningStep,
)
from hocba.signing.pki import DemoPki
from hocba.signing.tests.conftest import PIN, Registered
from hocba.signing.tests.csc_server import Confirmation, CscTestServer, issue_ec_credential
from hocba.signing.tests.softhsm import SoftHsm, SoftHsmToken

pytestmark = pytest.mark.django_db

CSC_USER, CSC_PASSWORD = "a_gvcn@smartca.test", "mật-khẩu-ký-từ-xa"


def _retire_soft(registered: Registered) -> None:
    """The teacher moves her key from the PKCS#12 file to a token or a remote service."""
    teacher = registered.world.own.users["homeroom_teacher"]
    registry.retire_certificate(teacher, registered.personal("a_gvcn"))


def _validate_all(records: list[YearRecord], fields: list[str]) -> None:
    store = registry.trust_store()
    for record in YearRecord.objects.filter(pk__in=[r.pk for r in records]):
        reader = PdfFileReader(io.BytesIO(current_pdf(record)))
        assert [s.field_name for s in reader.embedded_signatures] == fields
        for signature in reader.embedded_signatures:
            status = validate_pdf_signature(signature, store.validation_context(at=None))
            assert status.intact and status.valid and status.trusted, status.pretty_print_details()
            assert status.timestamp_validity is not None and status.timestamp_validity.valid


def _teacher_batch(registered: Registered, certificate: Any, pin: str) -> SigningBatch:
    world = registered.world
    return services.start_batch(
        world.own.users["homeroom_teacher"],
        step=SigningStep.TEACHER,
        certificate=certificate,
        password=PASSWORD,
        pin=pin,
        school_class=world.own.classes[0],
    )


def _run(batch: SigningBatch) -> SigningBatch:
    run_batch(batch.pk)
    batch.refresh_from_db()
    return batch


# --- pkcs11 ----------------------------------------------------------------------------------


def _token_with_teacher_key(softhsm: SoftHsm, pki: DemoPki, label: str) -> SoftHsmToken:
    token = softhsm.create_token(label)
    token.import_pkcs12(
        pki.people["a_gvcn"].p12_path.read_bytes(), PIN, key_label="gvcn", key_id=b"\x0a\x01"
    )
    return token


def _register_token(registered: Registered, token: SoftHsmToken, softhsm: SoftHsm) -> Any:
    signer = Pkcs11Signer(
        module_path=softhsm.module_path, token_label=token.label, pin=token.pin, key_label="gvcn"
    )
    try:
        certificate, chain = signer.certificate, list(signer.chain)
    finally:
        signer.close()
    _retire_soft(registered)
    teacher = registered.world.own.users["homeroom_teacher"]
    pki_chain = [
        asn1_x509.Certificate.load(pem.unarmor(path.read_bytes())[2])
        for path in (registered.pki.issuing_cert, registered.pki.root_cert)
    ]
    return registry.register_certificate(
        teacher,
        purpose=CertificatePurpose.PERSONAL,
        school=registered.world.own.school,
        staff=teacher.staff,
        adapter=AdapterKind.PKCS11,
        certificate=certificate,
        chain=chain or pki_chain,
        adapter_config={
            "module_path": softhsm.module_path,
            "token_label": token.label,
            "key_label": "gvcn",
            "key_id": "0a01",
        },
    )


def test_pkcs11_token_signs_the_class(
    registered: Registered, compiled: list[YearRecord], softhsm: SoftHsm
) -> None:
    token = _token_with_teacher_key(softhsm, registered.pki, "lop-4a")
    certificate = _register_token(registered, token, softhsm)
    batch = _run(_teacher_batch(registered, certificate, token.pin))
    assert (batch.status, batch.done_count, batch.failed_count) == (BatchStatus.DONE, 3, 0)
    _validate_all(compiled, ["gvcn"])
    token.delete()


def test_token_removed_mid_batch_is_resumable(
    registered: Registered, compiled: list[YearRecord], softhsm: SoftHsm
) -> None:
    token = _token_with_teacher_key(softhsm, registered.pki, "rut-ra")
    certificate = _register_token(registered, token, softhsm)
    batch = _teacher_batch(registered, certificate, token.pin)
    token.delete()  # the teacher pulls the USB token out after starting
    batch = _run(batch)
    assert batch.status == BatchStatus.WAITING
    assert "rut-ra" in batch.message
    assert not RecordSignature.objects.exists()
    assert set(YearRecord.objects.values_list("status", flat=True)) == {"compiled"}

    _token_with_teacher_key(softhsm, registered.pki, "rut-ra")  # plugged in again
    services.resume_batch(
        registered.world.own.users["homeroom_teacher"], batch, password=PASSWORD, pin=token.pin
    )
    batch = _run(batch)
    assert (batch.status, batch.done_count) == (BatchStatus.DONE, 3)
    _validate_all(compiled, ["gvcn"])


# --- csc -------------------------------------------------------------------------------------


@pytest.fixture
def smartca(registered: Registered) -> Iterator[CscTestServer]:
    """A remote-signing service holding the teacher's RSA key and a new P-256 key for her."""
    pki = registered.pki
    key, certificate, extra = pkcs12.load_key_and_certificates(
        pki.people["a_gvcn"].p12_path.read_bytes(), PIN.encode()
    )
    assert certificate is not None
    ec_key, ec_chain = issue_ec_credential(pki, "Nguyễn Văn A", "agvcn-ec")
    server = CscTestServer()
    server.add_user(CSC_USER, CSC_PASSWORD)
    server.add_credential("rsa", CSC_USER, key, [certificate, *extra])  # type: ignore[arg-type]
    server.add_credential("ec", CSC_USER, ec_key, ec_chain)
    with server:
        yield server


def _register_csc(registered: Registered, server: CscTestServer, credential: str) -> Any:
    _retire_soft(registered)
    teacher = registered.world.own.users["homeroom_teacher"]

    info = CscClient(server.base_url, username=CSC_USER, password=CSC_PASSWORD).credentials_info(
        credential
    )
    return registry.register_certificate(
        teacher,
        purpose=CertificatePurpose.PERSONAL,
        school=registered.world.own.school,
        staff=teacher.staff,
        adapter=AdapterKind.CSC,
        certificate=info.certificate,
        chain=info.chain,
        adapter_config={
            "base_url": server.base_url,
            "credential_id": credential,
            "username": CSC_USER,
            "wait_seconds": 0.5,
        },
    )


@pytest.mark.parametrize("credential", ["rsa", "ec"])
def test_remote_signing_signs_the_class_with_one_confirmation(
    registered: Registered, compiled: list[YearRecord], smartca: CscTestServer, credential: str
) -> None:
    certificate = _register_csc(registered, smartca, credential)
    batch = _run(_teacher_batch(registered, certificate, CSC_PASSWORD))
    assert (batch.status, batch.done_count, batch.message) == (BatchStatus.DONE, 3, "")
    assert smartca.count("credentials/authorize") == 1  # one confirmation for the class
    _validate_all(compiled, ["gvcn"])


@pytest.mark.parametrize(
    ("confirmation", "words"),
    [
        (Confirmation(mode="reject"), "từ chối"),
        (Confirmation(mode="manual", expires_after=0.2), "hết hạn"),
    ],
)
def test_rejected_or_expired_confirmation_is_resumable(
    registered: Registered,
    compiled: list[YearRecord],
    smartca: CscTestServer,
    confirmation: Confirmation,
    words: str,
) -> None:
    certificate = _register_csc(registered, smartca, "rsa")
    smartca.confirmation = confirmation
    batch = _run(_teacher_batch(registered, certificate, CSC_PASSWORD))
    assert batch.status == BatchStatus.WAITING
    assert words in batch.message.lower()
    assert not RecordSignature.objects.exists()
    assert set(YearRecord.objects.values_list("status", flat=True)) == {YearRecordStatus.COMPILED}

    smartca.confirmation = Confirmation(mode="auto")
    services.resume_batch(
        registered.world.own.users["homeroom_teacher"],
        batch,
        password=PASSWORD,
        pin=CSC_PASSWORD,
    )
    batch = _run(batch)
    assert (batch.status, batch.done_count) == (BatchStatus.DONE, 3)
    _validate_all(compiled, ["gvcn"])


# --- registration from a remote-signing account and from a server-side token ------------------


def test_register_a_remote_signing_account(registered: Registered, smartca: CscTestServer) -> None:
    _retire_soft(registered)
    world = registered.world
    teacher = world.own.users["homeroom_teacher"]
    arguments: dict[str, Any] = {
        "school": world.own.school,
        "staff": teacher.staff,
        "base_url": smartca.base_url,
        "username": CSC_USER,
    }
    with pytest.raises(DomainError, match="2 chứng thư số"):
        registry.register_remote(teacher, password=CSC_PASSWORD, **arguments)
    with pytest.raises(DomainError, match="không có chứng thư số mã “x”"):
        registry.register_remote(teacher, password=CSC_PASSWORD, credential_id="x", **arguments)
    with pytest.raises(WrongPin):
        registry.register_remote(teacher, password="sai", credential_id="rsa", **arguments)
    with pytest.raises(DomainError, match="https://"):
        registry.register_remote(
            teacher,
            password=CSC_PASSWORD,
            credential_id="rsa",
            **(arguments | {"base_url": "ftp://x"}),
        )
    registered_csc = registry.register_remote(
        teacher, password=CSC_PASSWORD, credential_id="ec", **arguments
    )
    assert registered_csc.adapter == AdapterKind.CSC and registered_csc.key_algorithm == "ec"
    assert "password" not in registered_csc.adapter_config


def test_school_seal_on_a_server_token_seals_the_school(
    registered: Registered, compiled: list[YearRecord], softhsm: SoftHsm, settings: Any
) -> None:
    world = registered.world
    principal = world.own.users["principal"]
    seal = registered.pki.seals["01001"]
    token = softhsm.create_token("con-dau-a")
    token.import_pkcs12(seal.p12_path.read_bytes(), seal.pin, key_label="seal", key_id=b"\x5e")
    with pytest.raises(DomainError, match="chưa được quản trị hệ thống cho phép"):
        registry.register_token(
            principal,
            purpose=CertificatePurpose.SEAL,
            school=world.own.school,
            staff=None,
            module_path="/home/someone/evil.so",
            token_label="con-dau-a",
            pin=token.pin,
        )
    settings.PKCS11_MODULES = [softhsm.module_path]
    registry.retire_certificate(principal, registered.seal(world.own.school))
    hsm_seal = registry.register_token(
        principal,
        purpose=CertificatePurpose.SEAL,
        school=world.own.school,
        staff=None,
        module_path=softhsm.module_path,
        token_label="con-dau-a",
        pin=token.pin,
    )
    assert hsm_seal.adapter == AdapterKind.PKCS11 and hsm_seal.chain_der
    _run(_teacher_batch(registered, registered.personal("a_gvcn"), PIN))
    for step, certificate, pin in [
        (SigningStep.PRINCIPAL, registered.personal("a_ht"), PIN),
        (SigningStep.SEAL, hsm_seal, token.pin),
    ]:
        batch = services.start_batch(
            principal,
            step=step,
            certificate=certificate,
            password=PASSWORD,
            pin=pin,
            school=world.own.school,
        )
        assert _run(batch).status == BatchStatus.DONE
    _validate_all(compiled, ["gvcn", "hieu_truong", "con_dau"])
    token.delete()


def test_a_slow_phone_confirmation_is_polled_and_the_same_documents_are_finished(
    registered: Registered,
    compiled: list[YearRecord],
    smartca: CscTestServer,
    django_capture_on_commit_callbacks: Any,
) -> None:
    certificate = _register_csc(registered, smartca, "rsa")
    smartca.confirmation = Confirmation(mode="manual", expires_after=60)
    batch = _teacher_batch(registered, certificate, CSC_PASSWORD)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        batch = _run(batch)
    # Still waiting for the phone: the documents stay prepared, a poll is scheduled.
    assert batch.status == BatchStatus.QUEUED and batch.message
    assert len(callbacks) == 1 and batch.authorisation is not None
    assert set(batch.items.values_list("state", flat=True)) == {"prepared"}
    assert not RecordSignature.objects.exists()

    smartca.confirm()
    batch = _run(batch)
    assert (batch.status, batch.done_count) == (BatchStatus.DONE, 3)
    assert smartca.count("credentials/authorize") == 1  # one confirmation, never asked again
    _validate_all(compiled, ["gvcn"])
