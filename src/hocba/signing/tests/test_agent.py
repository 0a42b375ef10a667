"""``hocba sign_agent``: the services, the token API, and the command against a live server."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from pkcs11 import Attribute, KeyType
from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from hocba.audit.models import AuditEvent
from hocba.common.errors import DomainError, PermissionRefused
from hocba.conftest import PASSWORD, World
from hocba.records.models import YearRecord, YearRecordStatus
from hocba.signing import agent, services
from hocba.signing.adapters.pkcs11 import Pkcs11Signer
from hocba.signing.adapters.soft import SoftSigner
from hocba.signing.batch import current_pdf
from hocba.signing.management.commands.sign_agent import AgentClient, AgentError
from hocba.signing.models import (
    AdapterKind,
    BatchStatus,
    ItemState,
    RecordSignature,
    SigningBatch,
    SigningCertificate,
    SigningItem,
    SigningStep,
)
from hocba.signing.pki import DemoPki, issue_signing_certificate
from hocba.signing.pki import load_certificate as load_pem_certificate
from hocba.signing.registry import trust_store
from hocba.signing.tests.conftest import PIN
from hocba.signing.tests.softhsm import USER_PIN, SoftHsm, SoftHsmToken, softhsm

# The SoftHSM fixture is imported on purpose: pytest finds fixtures by name in this module.
__all__ = ["softhsm"]

API = "/api/v1/signing/agent"
TOKEN_LABEL = "gvcn-a"
KEY_LABEL = "chu-ky-gvcn"


# --- the world: the homeroom teacher of 4A signs through the agent ----------------------------


def teacher(world: World) -> Any:
    return world.own.users["homeroom_teacher"]


def world_key(pki: DemoPki, username: str = "a_gvcn") -> SoftSigner:
    """A person's key of the world PKI, standing in for the token in the service tests."""
    return SoftSigner(pki.people[username].p12_path.read_bytes(), PIN)


@pytest.fixture
def agent_certificate(world: World, trusted: DemoPki) -> SigningCertificate:
    key = world_key(trusted)
    return agent.register_agent_certificate(
        teacher(world),
        certificate=key.certificate,
        token_label=TOKEN_LABEL,
        key_label=KEY_LABEL,
    )


def start(world: World, certificate: SigningCertificate) -> SigningBatch:
    return services.start_batch(
        teacher(world),
        step=SigningStep.TEACHER,
        certificate=certificate,
        password=PASSWORD,
        pin="",
        school_class=world.own.classes[0],
    )


@pytest.fixture
def agent_batch(
    world: World, agent_certificate: SigningCertificate, compiled: list[YearRecord]
) -> SigningBatch:
    return start(world, agent_certificate)


def sign(pki: DemoPki, digests: list[agent.PreparedDigest], username: str = "a_gvcn") -> Any:
    values = world_key(pki, username).sign_digests([d.digest for d in digests])
    return [(d.item_id, value) for d, value in zip(digests, values, strict=True)]


def validates_trusted(pdf: bytes) -> list[str]:
    store = trust_store()
    context = ValidationContext(
        trust_roots=list(store.roots), crls=list(store.crls), allow_fetching=False
    )
    fields = []
    for signature in PdfFileReader(io.BytesIO(pdf)).embedded_signatures:
        status = validate_pdf_signature(signature, context)
        assert status.intact and status.valid and status.trusted, status.pretty_print_details()
        assert status.timestamp_validity is not None and status.timestamp_validity.valid
        fields.append(signature.field_name)
    return fields


def statuses() -> set[str]:
    return set(YearRecord.objects.values_list("status", flat=True))


# --- services ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_registered_agent_certificate_carries_the_chain(
    agent_certificate: SigningCertificate, world: World
) -> None:
    assert agent_certificate.adapter == AdapterKind.AGENT
    assert agent_certificate.adapter_config == {"token_label": TOKEN_LABEL, "key_label": KEY_LABEL}
    assert agent_certificate.staff == teacher(world).staff
    assert len(agent_certificate.chain_der) == 2  # issuing CA and root, from the trust store
    again = agent.register_agent_certificate(
        teacher(world),
        certificate=asn1_x509.Certificate.load(bytes(agent_certificate.certificate_der)),
        token_label=TOKEN_LABEL,
    )
    assert again.pk == agent_certificate.pk


@pytest.mark.django_db
def test_someone_elses_certificate_cannot_be_registered(world: World, trusted: DemoPki) -> None:
    with pytest.raises(DomainError, match="không khớp với tên cán bộ"):
        agent.register_agent_certificate(
            teacher(world),  # "Nguyễn Văn A" with the certificate of "Nguyễn Văn B"
            certificate=world_key(trusted, "b_gvcn").certificate,
            token_label=TOKEN_LABEL,
        )
    with pytest.raises(PermissionRefused, match="cán bộ của một trường"):
        agent.register_agent_certificate(
            world.users["department_staff"],
            certificate=world_key(trusted).certificate,
            token_label=TOKEN_LABEL,
        )
    assert not SigningCertificate.objects.exists()


@pytest.mark.django_db
def test_agent_batch_signs_every_record_and_validates(
    world: World, trusted: DemoPki, agent_batch: SigningBatch, compiled: list[YearRecord]
) -> None:
    user = teacher(world)
    assert list(agent.pending_batches(user)) == [agent_batch]
    digests = agent.prepare_next(user, agent_batch)
    assert len(digests) == 3 and all(len(d.digest) == 32 for d in digests)
    assert set(agent_batch.items.values_list("state", flat=True)) == {ItemState.PREPARED}
    # A crashed agent fetches the same digests again: nothing is prepared twice.
    assert agent.prepare_next(user, agent_batch) == digests
    agent_batch.refresh_from_db()
    assert agent_batch.status == BatchStatus.RUNNING

    results = agent.submit_signatures(user, agent_batch, sign(trusted, digests))
    assert [r.outcome for r in results] == [agent.Outcome.SIGNED] * 3
    agent_batch.refresh_from_db()
    assert (agent_batch.status, agent_batch.done_count) == (BatchStatus.DONE, 3)
    assert not list(agent.pending_batches(user))
    for record in YearRecord.objects.filter(pk__in=[r.pk for r in compiled]):
        assert record.status == YearRecordStatus.TEACHER_SIGNED
        assert validates_trusted(current_pdf(record)) == ["gvcn"]
    signature = RecordSignature.objects.first()
    assert signature is not None and signature.signer_name == "Nguyễn Văn A"
    assert signature.certificate == agent_batch.certificate
    assert AuditEvent.objects.filter(action="signing.agent_signatures_received").count() == 1


@pytest.mark.django_db
def test_resubmission_is_idempotent(
    world: World, trusted: DemoPki, agent_batch: SigningBatch
) -> None:
    user = teacher(world)
    signed = sign(trusted, agent.prepare_next(user, agent_batch))
    agent.submit_signatures(user, agent_batch, signed[:1])
    first_pdf = RecordSignature.objects.get().pdf_sha256
    results = agent.submit_signatures(user, agent_batch, signed)
    assert [r.outcome for r in results] == [
        agent.Outcome.ALREADY_SIGNED,
        agent.Outcome.SIGNED,
        agent.Outcome.SIGNED,
    ]
    again = agent.submit_signatures(user, agent_batch, signed)
    assert {r.outcome for r in again} == {agent.Outcome.ALREADY_SIGNED}
    assert RecordSignature.objects.count() == 3
    assert RecordSignature.objects.order_by("pk").first().pdf_sha256 == first_pdf  # type: ignore[union-attr]
    agent_batch.refresh_from_db()
    assert (agent_batch.status, agent_batch.done_count, agent_batch.failed_count) == (
        BatchStatus.DONE,
        3,
        0,
    )
    assert agent.prepare_next(user, agent_batch) == []


@pytest.mark.django_db
def test_wrong_key_and_garbage_are_refused_and_nothing_is_embedded(
    world: World, trusted: DemoPki, agent_batch: SigningBatch
) -> None:
    user = teacher(world)
    digests = agent.prepare_next(user, agent_batch)
    wrong_key = sign(trusted, digests, username="a_ht")  # a real signature, by another key
    garbage = [(digests[0].item_id, b"\x00" * 256), (digests[1].item_id, b"")]
    for submission in (wrong_key, garbage):
        results = agent.submit_signatures(user, agent_batch, submission)
        assert {r.outcome for r in results} == {agent.Outcome.REFUSED}
        assert all("không khớp với chứng thư số" in r.message for r in results)
    assert not RecordSignature.objects.exists()
    assert statuses() == {YearRecordStatus.COMPILED}
    assert set(agent_batch.items.values_list("state", flat=True)) == {ItemState.PREPARED}
    # The right values still go in afterwards: the refusals changed nothing.
    results = agent.submit_signatures(user, agent_batch, sign(trusted, digests))
    assert {r.outcome for r in results} == {agent.Outcome.SIGNED}


@pytest.mark.django_db
def test_unknown_and_unprepared_items_are_refused(
    world: World, trusted: DemoPki, agent_batch: SigningBatch
) -> None:
    user = teacher(world)
    digests = agent.prepare_next(user, agent_batch, limit=1)
    assert len(digests) == 1
    pending = agent_batch.items.filter(state=ItemState.PENDING).first()
    assert pending is not None
    results = agent.submit_signatures(
        user, agent_batch, [(pending.pk, b"x" * 256), (999_999, b"x" * 256)]
    )
    assert [r.outcome for r in results] == [agent.Outcome.REFUSED] * 2
    assert "chưa được chuẩn bị" in results[0].message
    assert "không thuộc lượt ký này" in results[1].message
    assert agent.prepare_next(user, agent_batch, limit=5)[0] == digests[0]


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["principal", "subject_teacher"])
def test_someone_elses_batch_is_refused_and_nothing_changes(
    world: World, trusted: DemoPki, agent_batch: SigningBatch, username: str
) -> None:
    user = teacher(world)
    digests = agent.prepare_next(user, agent_batch, limit=2)
    other = world.own.users[username]
    assert not list(agent.pending_batches(other))
    with pytest.raises(PermissionRefused, match="Chỉ người đã bắt đầu lượt ký"):
        agent.prepare_next(other, agent_batch)
    with pytest.raises(PermissionRefused, match="Chỉ người đã bắt đầu lượt ký"):
        agent.submit_signatures(other, agent_batch, sign(trusted, digests))
    assert not RecordSignature.objects.exists()
    states = list(agent_batch.items.order_by("pk").values_list("state", flat=True))
    assert states == [ItemState.PREPARED, ItemState.PREPARED, ItemState.PENDING]


@pytest.mark.django_db
def test_cancelled_batch_takes_no_signatures(
    world: World, trusted: DemoPki, agent_batch: SigningBatch
) -> None:
    user = teacher(world)
    digests = agent.prepare_next(user, agent_batch)
    services.cancel_batch(user, agent_batch)
    with pytest.raises(DomainError, match="đã bị huỷ"):
        agent.submit_signatures(user, agent_batch, sign(trusted, digests))
    assert not RecordSignature.objects.exists()


@pytest.mark.django_db
def test_retired_certificate_cancels_the_batch(
    world: World, agent_batch: SigningBatch, agent_certificate: SigningCertificate
) -> None:
    from hocba.signing.registry import retire_certificate

    user = teacher(world)
    retire_certificate(user, agent_certificate)
    with pytest.raises(DomainError, match="ngừng sử dụng"):
        agent.prepare_next(user, agent_batch)
    agent_batch.refresh_from_db()
    assert agent_batch.status == BatchStatus.CANCELLED
    assert set(agent_batch.items.values_list("state", flat=True)) == {ItemState.PENDING}


@pytest.mark.django_db
def test_timestamp_service_down_keeps_items_for_a_retry(
    world: World, trusted: DemoPki, agent_batch: SigningBatch, settings: Any
) -> None:
    user = teacher(world)
    signed = sign(trusted, agent.prepare_next(user, agent_batch))
    tsa_url = settings.TSA_URL
    settings.TSA_URL = "http://127.0.0.1:9/tsa"  # nothing listens on the discard port
    results = agent.submit_signatures(user, agent_batch, signed)
    assert {r.outcome for r in results} == {agent.Outcome.RETRY}
    assert not RecordSignature.objects.exists()
    assert set(agent_batch.items.values_list("state", flat=True)) == {ItemState.PREPARED}
    settings.TSA_URL = tsa_url
    results = agent.submit_signatures(user, agent_batch, signed)  # the same values, later
    assert {r.outcome for r in results} == {agent.Outcome.SIGNED}


# --- tokens and the API ------------------------------------------------------------------------


def login(client: Client, username: str = "a_gvcn", password: str = PASSWORD) -> Any:
    return client.post(
        f"{API}/login",
        {"username": username, "password": password},
        content_type="application/json",
    )


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def token(world: World) -> str:
    response = login(Client())
    assert response.status_code == 200, response.content
    assert response.json()["full_name"] == "Nguyễn Văn A"
    return str(response.json()["token"])


@pytest.mark.django_db
def test_the_api_signs_a_batch_end_to_end(
    world: World, trusted: DemoPki, agent_batch: SigningBatch, token: str
) -> None:
    client = Client()
    listed = client.get(f"{API}/batches", **bearer(token)).json()
    assert [(b["id"], b["remaining"], b["school_class"]) for b in listed] == [
        (agent_batch.pk, 3, "4A")
    ]
    prepared = client.post(f"{API}/batches/{agent_batch.pk}/prepare", **bearer(token)).json()
    assert prepared["digest_algorithm"] == "sha256" and prepared["key_algorithm"] == "rsa"
    assert prepared["certificate_fingerprint"] == agent_batch.certificate.fingerprint
    assert {item["pupil_name"] for item in prepared["items"]} == {
        "Trần Thị Ánh",
        "Lê Văn An",
        "Phạm Minh Đức",
    }
    key = world_key(trusted)
    values = key.sign_digests([base64.b64decode(item["digest"]) for item in prepared["items"]])
    body = {
        "signatures": [
            {"item_id": item["item_id"], "signature": base64.b64encode(value).decode()}
            for item, value in zip(prepared["items"], values, strict=True)
        ]
    }
    url = f"{API}/batches/{agent_batch.pk}/signatures"
    answer = client.post(url, body, content_type="application/json", **bearer(token)).json()
    assert {r["outcome"] for r in answer["results"]} == {"signed"}
    assert (answer["batch"]["status"], answer["batch"]["remaining"]) == ("done", 0)
    again = client.post(url, body, content_type="application/json", **bearer(token)).json()
    assert {r["outcome"] for r in again["results"]} == {"already_signed"}
    assert statuses() == {YearRecordStatus.TEACHER_SIGNED}


@pytest.mark.django_db
def test_api_refuses_someone_elses_batch(
    world: World, agent_batch: SigningBatch, trusted: DemoPki
) -> None:
    response = login(Client(), "a_ht")
    other = str(response.json()["token"])
    client = Client()
    refused = client.post(f"{API}/batches/{agent_batch.pk}/prepare", **bearer(other))
    assert refused.status_code == 403
    assert "Chỉ người đã bắt đầu lượt ký" in refused.json()["detail"]
    body = {"signatures": [{"item_id": 1, "signature": "AAAA"}]}
    refused = client.post(
        f"{API}/batches/{agent_batch.pk}/signatures",
        body,
        content_type="application/json",
        **bearer(other),
    )
    assert refused.status_code == 403
    assert client.get(f"{API}/batches", **bearer(other)).json() == []
    assert set(agent_batch.items.values_list("state", flat=True)) == {ItemState.PENDING}
    missing = client.post(f"{API}/batches/999999/prepare", **bearer(other))
    assert missing.status_code == 404


@pytest.mark.django_db
def test_bad_login_is_refused_and_throttled(world: World, settings: Any) -> None:
    client = Client()
    wrong = login(client, password="sai")
    assert wrong.status_code == 401
    assert wrong.json()["detail"] == "Tên đăng nhập hoặc mật khẩu không đúng."
    for _attempt in range(settings.LOGIN_FAILURE_LIMIT - 1):
        login(client, password="sai")
    locked = login(client)  # even the right password, while locked
    assert locked.status_code == 429
    assert "quá nhiều lần" in locked.json()["detail"]


@pytest.mark.django_db
def test_inactive_account_cannot_log_in_and_loses_its_token(world: World, token: str) -> None:
    client = Client()
    assert client.get(f"{API}/batches", **bearer(token)).status_code == 200
    user = teacher(world)
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert client.get(f"{API}/batches", **bearer(token)).status_code == 401
    assert login(client).status_code == 401


@pytest.mark.django_db
def test_expired_forged_or_missing_token_is_refused(world: World, token: str) -> None:
    client = Client()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=8, minutes=1)
    with time_machine.travel(later, tick=False):
        expired = client.get(f"{API}/batches", **bearer(token))
    assert expired.status_code == 401
    assert "đã hết hạn" in expired.json()["detail"]
    forged = client.get(f"{API}/batches", **bearer(token[:-2] + "xx"))
    assert forged.status_code == 401 and "không hợp lệ" in forged.json()["detail"]
    missing = client.get(f"{API}/batches")
    assert missing.status_code == 401 and "Bearer" in missing.json()["detail"]
    session = Client()
    session.force_login(teacher(world))  # a browser session is not an agent login
    assert session.get(f"{API}/batches").status_code == 401


@pytest.mark.django_db
def test_new_password_ends_agent_logins(world: World, token: str) -> None:
    user = teacher(world)
    user.set_password("mat-khau-moi-2025")
    user.save(update_fields=["password"])
    assert Client().get(f"{API}/batches", **bearer(token)).status_code == 401


@pytest.mark.django_db
def test_certificate_registration_over_the_api(world: World, trusted: DemoPki, token: str) -> None:
    key = world_key(trusted)
    body = {
        "certificate": base64.b64encode(key.certificate.dump()).decode(),
        "chain": [base64.b64encode(c.dump()).decode() for c in key.chain],
        "token_label": TOKEN_LABEL,
        "key_label": KEY_LABEL,
    }
    client = Client()
    url = f"{API}/certificates"
    answer = client.post(url, body, content_type="application/json", **bearer(token))
    assert answer.status_code == 200, answer.content
    assert answer.json()["subject_name"] == "Nguyễn Văn A"
    registered = SigningCertificate.objects.get()
    assert (registered.adapter, registered.staff) == (AdapterKind.AGENT, teacher(world).staff)
    garbage = client.post(
        url,
        {**body, "certificate": "bm90IGEgY2VydGlmaWNhdGU="},
        content_type="application/json",
        **bearer(token),
    )
    assert garbage.status_code == 400 and "không đọc được" in garbage.json()["detail"]
    other = world_key(trusted, "b_gvcn").certificate
    mismatch = client.post(
        url,
        {**body, "certificate": base64.b64encode(other.dump()).decode()},
        content_type="application/json",
        **bearer(token),
    )
    assert mismatch.status_code == 400
    assert SigningCertificate.objects.count() == 1


# --- the command against a live server, with a real PKCS#11 token ------------------------------


def teacher_key_on_token(hsm: SoftHsm, pki: DemoPki, label: str) -> SoftHsmToken:
    """A token with an EC key made on it, certified for "Nguyễn Văn A" by the world's CA."""
    token = hsm.create_token(label)
    issuer = load_pem_certificate(pki.issuing_cert)
    issuer_key = serialization.load_pem_private_key(pki.issuing_key.read_bytes(), None)
    assert isinstance(issuer_key, ec.EllipticCurvePrivateKey)
    key_id = bytes.fromhex("a9e1")
    with token.session() as session:
        parameters = session.create_domain_parameters(
            KeyType.EC,
            {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")},
            local=True,
        )
        public, _private = parameters.generate_keypair(store=True, label=KEY_LABEL, id=key_id)
        public_key = serialization.load_der_public_key(encode_ec_public_key(public))
        assert isinstance(public_key, ec.EllipticCurvePublicKey)
        certificate = _teacher_certificate(public_key, issuer, issuer_key)
        SoftHsmToken.store_certificate(session, certificate, key_label=KEY_LABEL, key_id=key_id)
    return token


def _teacher_certificate(
    public_key: ec.EllipticCurvePublicKey,
    issuer: x509.Certificate,
    issuer_key: ec.EllipticCurvePrivateKey,
) -> x509.Certificate:
    return issue_signing_certificate(issuer, issuer_key, "Nguyễn Văn A", public_key)


def teacher_rsa_on_token(hsm: SoftHsm, pki: DemoPki, label: str) -> SoftHsmToken:
    """A token holding the world teacher's RSA key: it can be pulled out and plugged back."""
    token = hsm.create_token(label)
    token.import_pkcs12(
        pki.people["a_gvcn"].p12_path.read_bytes(),
        PIN,
        key_label=KEY_LABEL,
        key_id=bytes.fromhex("a1"),
    )
    return token


@pytest.fixture
def flushable(transactional_db: Any) -> Iterator[None]:
    """Let the flush after a live-server test empty the append-only tables (SQLite only).

    SQLite flushes with DELETE, which the append-only triggers refuse (PostgreSQL truncates, which
    they leave alone). So: drop the triggers, flush, and put the very same triggers back.
    """
    yield
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        triggers = cursor.fetchall()
        for name, _sql in triggers:
            cursor.execute(f'DROP TRIGGER "{name}"')
    try:
        call_command("flush", interactive=False, verbosity=0)
    finally:
        with connection.cursor() as cursor:
            for _name, sql in triggers:
                cursor.execute(sql)


@pytest.fixture
def agent_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOCBA_AGENT_PASSWORD", PASSWORD)
    monkeypatch.setenv("HOCBA_AGENT_PIN", USER_PIN)


def run_agent(live_server: Any, hsm: SoftHsm, label: str, *extra: str) -> str:
    out = io.StringIO()
    call_command(
        "sign_agent",
        "--server",
        live_server.url,
        "--username",
        "a_gvcn",
        "--module",
        hsm.module_path,
        "--token-label",
        label,
        "--key-label",
        KEY_LABEL,
        "--once",
        *extra,
        stdout=out,
    )
    return out.getvalue()


def test_sign_agent_registers_the_token_and_signs_the_class(
    flushable: None,
    agent_env: None,
    live_server: Any,
    softhsm: SoftHsm,
    world: World,
    trusted: DemoPki,
    compiled: list[YearRecord],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    label = "hocba-agent-ec"
    teacher_key_on_token(softhsm, trusted, label)
    try:
        with monkeypatch.context() as wrong:
            wrong.setenv("HOCBA_AGENT_PASSWORD", "sai")
            with pytest.raises(CommandError, match="mật khẩu không đúng"):
                run_agent(live_server, softhsm, label)
        output = run_agent(live_server, softhsm, label, "--register")
        assert "Đã đăng ký chứng thư số “Nguyễn Văn A”" in output
        assert "Không còn học bạ nào chờ bạn ký." in output
        certificate = SigningCertificate.objects.get(adapter=AdapterKind.AGENT)
        assert certificate.key_algorithm == "ec"
        batch = start(world, certificate)

        output = run_agent(live_server, softhsm, label)
        assert "Đã ký 3 học bạ" in output, output
        batch.refresh_from_db()
        assert (batch.status, batch.done_count, batch.failed_count) == (BatchStatus.DONE, 3, 0)
        for record in YearRecord.objects.filter(pk__in=[r.pk for r in compiled]):
            assert record.status == YearRecordStatus.TEACHER_SIGNED
            assert validates_trusted(current_pdf(record)) == ["gvcn"]
    finally:
        softhsm.util("--delete-token", "--token", label)


def test_token_pulled_out_mid_batch_stops_and_resumes(
    flushable: None,
    agent_env: None,
    live_server: Any,
    softhsm: SoftHsm,
    world: World,
    trusted: DemoPki,
    compiled: list[YearRecord],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    label = "hocba-agent-rsa"
    token = teacher_rsa_on_token(softhsm, trusted, label)
    key = world_key(trusted)
    certificate = agent.register_agent_certificate(
        teacher(world), certificate=key.certificate, token_label=label
    )
    batch = start(world, certificate)
    sign_digests = Pkcs11Signer.sign_digests

    def pulled_out(self: Pkcs11Signer, digests: list[bytes]) -> list[bytes]:
        token.delete()
        return sign_digests(self, digests)

    monkeypatch.setattr(Pkcs11Signer, "sign_digests", pulled_out)
    with pytest.raises(CommandError, match="thiết bị đã bị rút ra") as stopped:
        run_agent(live_server, softhsm, label)
    assert "chạy lại sign-agent" in str(stopped.value)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.RUNNING and batch.is_active
    assert not RecordSignature.objects.exists()
    prepared = dict(SigningItem.objects.values_list("pk", "prepared_state"))
    assert set(SigningItem.objects.values_list("state", flat=True)) == {ItemState.PREPARED}

    monkeypatch.setattr(Pkcs11Signer, "sign_digests", sign_digests)
    teacher_rsa_on_token(softhsm, trusted, label)  # plugged back in
    try:
        output = run_agent(live_server, softhsm, label)
    finally:
        softhsm.util("--delete-token", "--token", label)
    assert "Đã ký 3 học bạ" in output
    # The same prepared documents (and digests) were handed out again, not new ones.
    assert dict(SigningItem.objects.values_list("pk", "prepared_state")) == prepared
    batch.refresh_from_db()
    assert (batch.status, batch.done_count) == (BatchStatus.DONE, 3)
    assert statuses() == {YearRecordStatus.TEACHER_SIGNED}
    fingerprint = hashlib.sha256(key.certificate.dump()).hexdigest()
    assert fingerprint == certificate.fingerprint


def test_agent_client_logs_in_again_when_its_token_runs_out(
    flushable: None, live_server: Any, world: World
) -> None:
    client = AgentClient(live_server.url + "/api/v1/")
    assert client.base == live_server.url + API
    client.login("a_gvcn", PASSWORD)
    client._token = "het-han"  # as if the 8 hours had passed while the agent kept polling
    assert client.batches() == []
    with pytest.raises(AgentError, match="https:// hoặc http://"):
        AgentClient("file:///etc/passwd")
