"""The demo PKI for the schools and signing staff in the database (issue 5 §1).

Persons are the staff with a principal, deputy principal, homeroom teacher or subject teacher
role; each gets the demo PIN. The demo root, issuing CA and CRL are copied into the trust folder
(``settings.TRUST_DIR``) under names that say NOT-FOR-PRODUCTION, and every demo certificate is
registered (issue 5 §2) for its holder, the seals by their school's principal, so the demo can
sign at once. Safe to re-run: existing files and registrations are reused.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from django.conf import settings

from hocba.schools.models import Role, School, Staff
from hocba.signing.pki import DemoPki, init_demo_pki, load_certificate

DEMO_PIN = "123456"
SIGNING_ROLES = (
    Role.PRINCIPAL,
    Role.DEPUTY_PRINCIPAL,
    Role.HOMEROOM_TEACHER,
    Role.SUBJECT_TEACHER,
)
TRUST_FILES = {
    "root_cert": "demo-root-NOT-FOR-PRODUCTION.pem",
    "issuing_cert": "demo-issuing-NOT-FOR-PRODUCTION.pem",
    "crl_der": "demo-NOT-FOR-PRODUCTION.crl",
    "arl_der": "demo-root-NOT-FOR-PRODUCTION.crl",
}


def default_folder() -> Path:
    return Path(settings.DATA_DIR) / "pki" / "demo"


def seed_demo_pki(folder: Path | None = None, *, register: bool = True) -> DemoPki:
    staff = list(
        Staff.objects.filter(roles__role__in=SIGNING_ROLES)
        .select_related("user", "school")
        .distinct()
        .order_by("user__username")
    )
    people = [(person.user.username, person.full_name, DEMO_PIN) for person in staff]
    schools = list(School.objects.order_by("code"))
    pki = init_demo_pki(
        folder or default_folder(),
        schools=[(school.code, school.name) for school in schools],
        people=people,
    )
    trust_demo_root(pki)
    if register:
        register_demo_certificates(pki, staff, schools)
    return pki


def trust_demo_root(pki: DemoPki) -> None:
    """Put the demo root, issuing CA and CRL in the trust folder (replacing older copies)."""
    trust = Path(settings.TRUST_DIR)
    trust.mkdir(parents=True, exist_ok=True)
    for attribute, name in TRUST_FILES.items():
        source: Path = getattr(pki, attribute)
        target = trust / name
        if not target.exists() or target.read_bytes() != source.read_bytes():
            shutil.copyfile(source, target)


def register_demo_certificates(pki: DemoPki, staff: list[Staff], schools: list[School]) -> int:
    """Register each demo certificate not yet registered; returns how many were added."""
    from hocba.signing.models import CertificatePurpose, SigningCertificate
    from hocba.signing.registry import register_pkcs12

    registered = set(
        SigningCertificate.objects.filter(retired_at__isnull=True).values_list(
            "fingerprint", flat=True
        )
    )
    added = 0
    for person in staff:
        credential = pki.people.get(person.user.username)
        if credential is None or person.school is None:
            continue
        if _fingerprint(credential.cert_path) in registered:
            continue
        register_pkcs12(
            person.user,
            purpose=CertificatePurpose.PERSONAL,
            school=person.school,
            staff=person,
            p12=credential.p12_path.read_bytes(),
            pin=DEMO_PIN,
        )
        added += 1
    for school in schools:
        seal = pki.seals.get(school.code)
        principal = (
            Staff.objects.filter(school=school, roles__role=Role.PRINCIPAL)
            .select_related("user")
            .first()
        )
        if seal is None or principal is None:
            continue
        if _fingerprint(seal.cert_path) in registered:
            continue
        register_pkcs12(
            principal.user,
            purpose=CertificatePurpose.SEAL,
            school=school,
            staff=None,
            p12=seal.p12_path.read_bytes(),
            pin=seal.pin,
        )
        added += 1
    return added


def _fingerprint(cert_path: Path) -> str:
    certificate = load_certificate(cert_path)
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()
