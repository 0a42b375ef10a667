"""The certificate registry (issue 5 §2): register, check again before signing, retire.

A staff member registers their own personal certificate (a PKCS#12 file with its PIN, a
certificate on a token, or a remote-signing credential); the principal registers the school's
seal certificate. Each registration and each signing batch runs :func:`certcheck.check_certificate`
against the configured trust store (``settings.TRUST_DIR``): validity, key usage, path to a
root, revocation where a CRL answers, key size and the holder's name.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

from asn1crypto import x509 as asn1_x509
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hocba.audit.services import record_event
from hocba.common.errors import DomainError, PermissionRefused
from hocba.schools import access
from hocba.schools.models import Role, School, Staff
from hocba.signing.adapters import SignerAdapter
from hocba.signing.adapters.soft import SoftSigner
from hocba.signing.certcheck import (
    CertificateRefused,
    CertificateReport,
    TrustStore,
    check_certificate,
)
from hocba.signing.models import AdapterKind, CertificatePurpose, SigningCertificate

MAX_PKCS12_BYTES = 64 * 1024


def trust_store() -> TrustStore:
    return TrustStore.from_folder(settings.TRUST_DIR)


def may_register(actor: Any, *, purpose: str, school: School, staff: Staff | None = None) -> bool:
    """A person registers their own certificate; the principal registers the school's seal."""
    if access.is_system_admin(actor):
        return True
    me = access.staff_of(actor)
    if me is None or me.school_id != school.pk:
        return False
    if purpose == CertificatePurpose.SEAL:
        return Role.PRINCIPAL in me.role_set
    return staff is not None and staff.pk == me.pk


def expected_name(purpose: str, school: School, staff: Staff | None) -> str:
    if purpose == CertificatePurpose.SEAL or staff is None:
        return school.name
    return staff.full_name


def check(
    certificate: asn1_x509.Certificate,
    chain: Sequence[asn1_x509.Certificate],
    *,
    purpose: str,
    school: School,
    staff: Staff | None,
    at: dt.datetime | None = None,
) -> CertificateReport:
    return check_certificate(
        certificate,
        chain=chain,
        trust=trust_store(),
        expected_name=expected_name(purpose, school, staff),
        purpose="seal" if purpose == CertificatePurpose.SEAL else "personal",
        at=at or timezone.now(),
    )


def _refuse(report: CertificateReport) -> CertificateRefused:
    refused = CertificateRefused(report)
    refused.message = _("Không chấp nhận chứng thư số “%(name)s”: %(problems)s") % {
        "name": report.subject_name,
        "problems": refused.message,
    }
    refused.args = (refused.message,)
    return refused


def register_certificate(
    actor: Any,
    *,
    purpose: str,
    school: School,
    staff: Staff | None,
    adapter: str,
    certificate: asn1_x509.Certificate,
    chain: Sequence[asn1_x509.Certificate] = (),
    pkcs12: bytes | None = None,
    adapter_config: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> SigningCertificate:
    """Check the certificate and register it; refused with every problem named."""
    if purpose == CertificatePurpose.SEAL:
        staff = None
    elif staff is None:
        raise DomainError(_("Chứng thư số cá nhân phải gắn với một cán bộ."))
    if not may_register(actor, purpose=purpose, school=school, staff=staff):
        if purpose == CertificatePurpose.SEAL:
            raise PermissionRefused(
                _("Chỉ Hiệu trưởng được đăng ký chứng thư số con dấu của %(school)s.")
                % {"school": school.name}
            )
        raise PermissionRefused(_("Mỗi người chỉ đăng ký chứng thư số của chính mình."))
    report = check(certificate, chain, purpose=purpose, school=school, staff=staff, at=at)
    if not report.ok:
        raise _refuse(report)
    now = timezone.now()
    with transaction.atomic():
        if SigningCertificate.objects.filter(
            fingerprint=report.fingerprint_sha256, retired_at__isnull=True
        ).exists():
            raise DomainError(_("Chứng thư số này đã được đăng ký."))
        registered = SigningCertificate.objects.create(
            purpose=purpose,
            school=school,
            staff=staff,
            adapter=adapter,
            adapter_config=adapter_config or {},
            certificate_der=certificate.dump(),
            chain_der=[base64.b64encode(c.dump()).decode() for c in chain],
            pkcs12=pkcs12,
            fingerprint=report.fingerprint_sha256,
            subject_name=report.subject_name,
            issuer_name=report.issuer_name,
            serial_hex=report.serial_hex,
            not_before=report.not_before,
            not_after=report.not_after,
            key_algorithm=report.key_algorithm,
            key_size=report.key_size,
            registered_by=actor,
            registered_at=now,
            last_checked_at=now,
        )
        record_event(
            actor=actor,
            action="signing.certificate_registered",
            obj=registered,
            school=school,
            changes={
                "purpose": purpose,
                "adapter": adapter,
                "subject": report.subject_name,
                "serial": report.serial_hex,
                "fingerprint": report.fingerprint_sha256,
            },
        )
    return registered


def register_pkcs12(
    actor: Any,
    *,
    purpose: str,
    school: School,
    staff: Staff | None,
    p12: bytes,
    pin: str,
    at: dt.datetime | None = None,
) -> SigningCertificate:
    """Register a ``soft`` certificate from its PKCS#12 file; the PIN proves the key opens."""
    if len(p12) > MAX_PKCS12_BYTES:
        raise DomainError(
            _("Tệp PKCS#12 quá lớn (tối đa %(size)d KB).") % {"size": MAX_PKCS12_BYTES // 1024}
        )
    signer = SoftSigner(p12, pin)
    try:
        return register_certificate(
            actor,
            purpose=purpose,
            school=school,
            staff=staff,
            adapter=AdapterKind.SOFT,
            certificate=signer.certificate,
            chain=signer.chain,
            pkcs12=p12,
            at=at,
        )
    finally:
        signer.close()


def register_remote(
    actor: Any,
    *,
    school: School,
    staff: Staff,
    base_url: str,
    username: str,
    password: str,
    credential_id: str = "",
    at: dt.datetime | None = None,
) -> SigningCertificate:
    """Register a remote-signing credential (CSC API: VNPT SmartCA, Viettel MySign ...).

    The account password proves the credential is the actor's and is not kept; each batch asks
    for it again. Without ``credential_id`` the account must hold exactly one credential.
    """
    from hocba.signing.adapters.csc import CscClient

    if not base_url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise DomainError(
            _("Địa chỉ dịch vụ ký số từ xa phải bắt đầu bằng https://."), field="base_url"
        )
    client = CscClient(base_url, username=username, password=password)
    credentials = client.credentials_list()
    if not credential_id:
        if len(credentials) != 1:
            raise DomainError(
                _("Tài khoản có %(n)d chứng thư số; hãy chọn một mã: %(ids)s.")
                % {"n": len(credentials), "ids": ", ".join(credentials) or "—"},
                field="credential_id",
            )
        credential_id = credentials[0]
    elif credential_id not in credentials:
        raise DomainError(
            _("Tài khoản không có chứng thư số mã “%(id)s”.") % {"id": credential_id},
            field="credential_id",
        )
    info = client.credentials_info(credential_id)
    return register_certificate(
        actor,
        purpose=CertificatePurpose.PERSONAL,
        school=school,
        staff=staff,
        adapter=AdapterKind.CSC,
        certificate=info.certificate,
        chain=info.chain,
        adapter_config={
            "base_url": base_url,
            "username": username,
            "credential_id": credential_id,
        },
        at=at,
    )


def chain_from_trust_store(certificate: asn1_x509.Certificate) -> list[asn1_x509.Certificate]:
    """The issuing CAs (up to the root) of a certificate, from the trust folder: for keys whose
    token or service hands over the certificate alone."""
    store = trust_store()
    known = [*store.intermediates, *store.roots]
    chain: list[asn1_x509.Certificate] = []
    current = certificate
    while current.self_signed == "no" and len(chain) < 5:
        issuer = next((c for c in known if c.subject == current.issuer and c not in chain), None)
        if issuer is None:
            break
        chain.append(issuer)
        current = issuer
    return chain


def allowed_pkcs11_modules() -> list[str]:
    """The modules the administrator allows (``HOCBA_PKCS11_MODULES``), else the default one."""
    from hocba.signing.adapters.pkcs11 import default_module_path

    configured = list(getattr(settings, "PKCS11_MODULES", []))
    if configured:
        return configured
    default = default_module_path()
    return [default] if default else []


def register_token(
    actor: Any,
    *,
    purpose: str,
    school: School,
    staff: Staff | None,
    module_path: str,
    token_label: str,
    pin: str,
    at: dt.datetime | None = None,
) -> SigningCertificate:
    """Register the certificate of a token or HSM attached to the server (e.g. the school seal
    on an HSM). The token must hold exactly one certificate with its key; the PIN opens it."""
    from hocba.signing.adapters.pkcs11 import list_token_certificates

    if module_path not in allowed_pkcs11_modules():
        raise DomainError(
            _("Thư viện PKCS#11 “%(path)s” chưa được quản trị hệ thống cho phép.")
            % {"path": module_path},
            field="module_path",
        )
    found = list_token_certificates(module_path=module_path, token_label=token_label, pin=pin)
    if len(found) != 1:
        raise DomainError(
            _("Thiết bị “%(label)s” có %(n)d chứng thư số kèm khoá; cần đúng một.")
            % {"label": token_label, "n": len(found)}
        )
    entry = found[0]
    return register_certificate(
        actor,
        purpose=purpose,
        school=school,
        staff=staff,
        adapter=AdapterKind.PKCS11,
        certificate=entry.certificate,
        chain=chain_from_trust_store(entry.certificate),
        adapter_config={
            "module_path": module_path,
            "token_label": token_label,
            "key_label": None,
            "key_id": entry.key_id.hex(),
        },
        at=at,
    )


def retire_certificate(actor: Any, registered: SigningCertificate) -> None:
    if not may_register(
        actor, purpose=registered.purpose, school=registered.school, staff=registered.staff
    ):
        raise PermissionRefused(_("Bạn không có quyền ngừng dùng chứng thư số này."))
    with transaction.atomic():
        locked = SigningCertificate.objects.select_for_update().get(pk=registered.pk)
        if locked.retired_at is not None:
            return
        locked.retired_at = timezone.now()
        locked.save(update_fields=["retired_at"])
        record_event(
            actor=actor,
            action="signing.certificate_retired",
            obj=locked,
            school=locked.school,
            changes={"serial": locked.serial_hex},
        )
    registered.retired_at = locked.retired_at


def certificate_of(registered: SigningCertificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(bytes(registered.certificate_der))


def chain_of(registered: SigningCertificate) -> list[asn1_x509.Certificate]:
    return [asn1_x509.Certificate.load(base64.b64decode(item)) for item in registered.chain_der]


def check_before_signing(
    registered: SigningCertificate, at: dt.datetime | None = None
) -> CertificateReport:
    """Check again (issue 5 §2); records the outcome; raises :class:`CertificateRefused`."""
    if registered.retired_at is not None:
        raise DomainError(_("Chứng thư số này đã ngừng sử dụng."))
    report = check(
        certificate_of(registered),
        chain_of(registered),
        purpose=registered.purpose,
        school=registered.school,
        staff=registered.staff,
        at=at,
    )
    SigningCertificate.objects.filter(pk=registered.pk).update(
        last_checked_at=timezone.now(),
        last_check_problems=[{"code": p.code, "message": p.message} for p in report.problems],
    )
    if not report.ok:
        raise _refuse(report)
    return report


def open_adapter(registered: SigningCertificate, secret: dict[str, Any]) -> SignerAdapter:
    """The adapter for a registered certificate, unlocked with the batch's secret."""
    if registered.adapter == AdapterKind.SOFT:
        if registered.pkcs12 is None:
            raise DomainError(_("Chứng thư số này không có tệp khoá PKCS#12."))
        return SoftSigner(bytes(registered.pkcs12), str(secret.get("pin", "")))
    if registered.adapter == AdapterKind.PKCS11:
        from hocba.signing.adapters.pkcs11 import Pkcs11Signer

        config = registered.adapter_config
        return Pkcs11Signer(
            module_path=str(config["module_path"]),
            token_label=str(config["token_label"]),
            key_label=config.get("key_label"),
            key_id=bytes.fromhex(config["key_id"]) if config.get("key_id") else None,
            pin=str(secret.get("pin", "")),
            chain=chain_of(registered),
        )
    if registered.adapter == AdapterKind.CSC:
        return open_csc_signer(registered.adapter_config, secret)
    raise DomainError(_("Chứng thư số này được ký bằng phần mềm sign-agent trên máy của người ký."))


def open_csc_signer(config: dict[str, Any], secret: dict[str, Any]) -> SignerAdapter:
    """A remote-signing adapter; ``secret`` holds the account password and, while the user
    has not confirmed on their phone yet, the pending authorisation to resume."""
    from hocba.signing.adapters.csc import CscClient, CscSigner

    client = CscClient(
        str(config["base_url"]),
        username=str(config.get("username", "")),
        password=str(secret.get("pin", "")),
    )
    wait = float(config.get("wait_seconds", 10))
    if secret.get("pending"):
        return CscSigner.resume(client, secret["pending"], wait_seconds=wait, poll_interval=1.0)
    return CscSigner(client, str(config["credential_id"]), wait_seconds=wait, poll_interval=1.0)


def fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()
