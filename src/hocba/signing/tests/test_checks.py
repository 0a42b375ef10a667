"""The deployment check: a demo or test root in the trust folder fails ``hocba check --deploy``."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.checks import run_checks

from hocba.signing.checks import demo_trust_roots
from hocba.signing.tests.testpki import PKI_DIR


def _real_looking_root(path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Vietnam National Root CA (copy)")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


def _ids(messages: list[Any]) -> list[str]:
    return [message.id for message in messages]


def test_test_root_under_a_neutral_name_is_found_by_its_subject(
    settings: Any, tmp_path: Path
) -> None:
    settings.DEBUG, settings.TRUST_DIR = False, tmp_path
    shutil.copyfile(PKI_DIR / "root.cert.pem", tmp_path / "vgca-root.pem")
    messages = demo_trust_roots()
    assert _ids(messages) == ["hocba.signing.E001"]
    assert "NOT FOR PRODUCTION" in messages[0].msg


def test_file_named_not_for_production_is_found(settings: Any, tmp_path: Path) -> None:
    settings.DEBUG, settings.TRUST_DIR = False, tmp_path
    shutil.copyfile(PKI_DIR / "crl.der", tmp_path / "demo-NOT-FOR-PRODUCTION.crl")
    assert _ids(demo_trust_roots()) == ["hocba.signing.E001"]


def test_real_roots_pass_and_debug_is_exempt(settings: Any, tmp_path: Path) -> None:
    settings.DEBUG, settings.TRUST_DIR = False, tmp_path
    _real_looking_root(tmp_path / "root.pem")
    assert demo_trust_roots() == []
    settings.TRUST_DIR = tmp_path / "missing"
    assert demo_trust_roots() == []
    shutil.copyfile(PKI_DIR / "root.cert.pem", tmp_path / "root-test.pem")
    settings.DEBUG, settings.TRUST_DIR = True, tmp_path
    assert demo_trust_roots() == []


def test_unreadable_trust_file_is_an_error(settings: Any, tmp_path: Path) -> None:
    settings.DEBUG, settings.TRUST_DIR = False, tmp_path
    (tmp_path / "broken.pem").write_text("not a certificate")
    assert _ids(demo_trust_roots()) == ["hocba.signing.E002"]


def test_registered_as_a_deployment_check(settings: Any, tmp_path: Path) -> None:
    settings.DEBUG, settings.TRUST_DIR = False, tmp_path
    shutil.copyfile(PKI_DIR / "root.cert.pem", tmp_path / "root.pem")
    assert "hocba.signing.E001" not in _ids(run_checks())
    assert "hocba.signing.E001" in _ids(run_checks(include_deployment_checks=True))
