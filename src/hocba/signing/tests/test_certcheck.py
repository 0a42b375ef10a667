"""Certificate checks on the checked-in test PKI: each defect, names, time, trust, revocation."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import shutil
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
import time_machine
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from django.utils import translation

from hocba.common.errors import DomainError
from hocba.signing.certcheck import (
    CertificateRefused,
    CertificateReport,
    TrustStore,
    check_certificate,
    load_certificates,
    names_match,
    require_valid,
)
from hocba.signing.tests.testpki import (
    END,
    PIN,
    PKI_DIR,
    PRINCIPAL_NAME,
    SCHOOL_NAME,
    START,
    TEACHER_NAME,
    cert,
    crl_der,
    issue,
    issuing,
    make_crl,
    p12,
    pki_trust,
    root,
    trust_store,
)

__all__ = ["pki_trust"]  # the imported fixture is used by name

SECOND = dt.timedelta(seconds=1)


@pytest.fixture(autouse=True)
def _vietnamese() -> Iterator[None]:
    with translation.override("vi"):
        yield


def _check(
    name: str,
    expected: str = TEACHER_NAME,
    *,
    purpose: str = "personal",
    trust: TrustStore | None = None,
    **kwargs: object,
) -> CertificateReport:
    return check_certificate(
        cert(name),
        trust=trust or trust_store(),
        expected_name=expected,
        purpose=purpose,  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )


def _codes(report: CertificateReport) -> list[str]:
    return sorted(problem.code for problem in report.problems)


def _text(report: CertificateReport) -> str:
    return " ".join(problem.message for problem in report.problems)


# --- good certificates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected", "algorithm", "size"),
    [
        ("teacher", TEACHER_NAME, "rsa", 2048),
        ("teacher_ec", TEACHER_NAME, "ec", 256),
        ("principal", PRINCIPAL_NAME, "rsa", 2048),
    ],
)
def test_good_personal_certificates_pass(
    name: str, expected: str, algorithm: str, size: int
) -> None:
    report = _check(name, expected)

    assert report.ok, _text(report)
    assert report.problems == ()
    assert (report.key_algorithm, report.key_size) == (algorithm, size)


def test_report_describes_the_certificate() -> None:
    certificate = cert("teacher")

    report = _check("teacher")

    assert report.subject_name == TEACHER_NAME
    assert report.issuer_name == "hocba TEST Issuing CA — NOT FOR PRODUCTION"
    assert int(report.serial_hex, 16) == certificate.serial_number
    assert len(report.serial_hex) % 2 == 0
    assert report.fingerprint_sha256 == hashlib.sha256(certificate.dump()).hexdigest()
    assert (report.not_before, report.not_after) == (START, END)


def test_seal_certificate_matches_the_school() -> None:
    report = _check("seal", SCHOOL_NAME, purpose="seal")

    assert report.ok, _text(report)


def test_seal_name_may_be_in_the_organisation_only() -> None:
    certificate, _key = issue("Văn thư", organisation=SCHOOL_NAME)
    as_seal = check_certificate(
        certificate, trust=trust_store(), expected_name=SCHOOL_NAME, purpose="seal"
    )
    as_person = check_certificate(
        certificate, trust=trust_store(), expected_name=SCHOOL_NAME, purpose="personal"
    )

    assert as_seal.ok, _text(as_seal)
    assert _codes(as_person) == ["name_mismatch"]


def test_seal_of_another_school_is_refused() -> None:
    report = _check("seal", "Trường Tiểu học Lê Lợi", purpose="seal")

    assert _codes(report) == ["name_mismatch"]
    assert "Trường Tiểu học Kim Đồng" in _text(report)
    assert "Trường Tiểu học Lê Lợi" in _text(report)


def test_diacritics_free_upper_case_name_is_accepted() -> None:
    certificate, _key = issue("NGUYEN THI HOA")

    report = check_certificate(
        certificate, trust=trust_store(), expected_name=TEACHER_NAME, purpose="personal"
    )

    assert report.ok, _text(report)


# --- each bad certificate gets exactly its problem ----------------------------------------------


@pytest.mark.parametrize(
    ("name", "codes", "details"),
    [
        ("expired", ["expired"], ["01/01/2021"]),
        ("not_yet_valid", ["not_yet_valid"], ["01/01/2040"]),
        ("revoked", ["revoked"], ["01/03/2026"]),
        ("wrong_usage", ["key_usage", "key_usage"], ["mã hoá khoá", "xác thực máy chủ (TLS)"]),
        ("weak_key", ["weak_key"], ["RSA", "1024 bit", "2048 bit"]),
        ("other_person", ["name_mismatch"], ["“Lê Văn Nam”", f"“{TEACHER_NAME}”"]),
        ("untrusted", ["untrusted"], ["hocba TEST Other Root"]),
        ("ca_as_leaf", ["ca_certificate"], ["(CA)"]),
    ],
)
def test_bad_certificate_gets_its_problem(name: str, codes: list[str], details: list[str]) -> None:
    report = _check(name)

    assert not report.ok
    assert _codes(report) == codes
    for detail in details:
        assert detail in _text(report)


def test_require_valid_raises_with_every_message() -> None:
    report = _check("other_person", PRINCIPAL_NAME)

    with pytest.raises(CertificateRefused) as raised:
        require_valid(report)

    assert isinstance(raised.value, DomainError)
    assert raised.value.report is report
    assert "Lê Văn Nam" in raised.value.message
    assert PRINCIPAL_NAME in raised.value.message


def test_require_valid_accepts_a_good_report() -> None:
    require_valid(_check("teacher"))


def test_several_problems_are_all_reported() -> None:
    certificate, _key = issue(
        "Lê Văn Nam",
        key=rsa.generate_private_key(public_exponent=65537, key_size=1024),  # noqa: S505 weak on purpose
        not_after=dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
    )

    report = check_certificate(
        certificate,
        trust=trust_store(),
        expected_name=TEACHER_NAME,
        purpose="personal",
        at=dt.datetime(2026, 7, 1, tzinfo=dt.UTC),
    )

    assert _codes(report) == ["expired", "name_mismatch", "weak_key"]
    assert "01/06/2026" in _text(report)


def test_untrusted_and_misnamed_and_wrong_usage_together() -> None:
    untrusted = _check("untrusted", "Lê Văn Nam")
    timestamping = _check("tsa")

    assert _codes(untrusted) == ["name_mismatch", "untrusted"]
    assert _codes(timestamping) == ["key_usage", "name_mismatch"]
    assert "cấp dấu thời gian" in _text(timestamping)


# --- time ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "codes"),
    [
        (START - SECOND, ["not_yet_valid"]),
        (START, []),
        (END, []),
        (END + SECOND, ["expired"]),
    ],
)
def test_validity_boundaries(at: dt.datetime, codes: list[str]) -> None:
    assert _codes(_check("teacher", at=at)) == codes


def test_dates_are_shown_in_vietnam_time() -> None:
    report = _check("teacher", at=START - SECOND)

    # 2026-01-01 00:00 UTC is 07:00 in Hà Nội: still 01/01/2026.
    assert "01/01/2026" in _text(report)


def test_not_yet_valid_certificate_passes_once_valid() -> None:
    during = dt.datetime(2041, 1, 1, tzinfo=dt.UTC)
    after = dt.datetime(2045, 1, 2, tzinfo=dt.UTC)

    assert _codes(_check("not_yet_valid", at=during)) == []
    assert _codes(_check("not_yet_valid", at=after)) == ["expired"]


def test_revocation_counts_from_its_date() -> None:
    before = dt.datetime(2026, 2, 28, tzinfo=dt.UTC)
    after = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)

    assert _codes(_check("revoked", at=before)) == []
    assert _codes(_check("revoked", at=after)) == ["revoked"]


def test_issuing_ca_not_yet_valid_at_the_moment_is_refused() -> None:
    # The "expired" certificate was valid in 2020, when the test issuing CA did not exist yet.
    report = _check("expired", at=dt.datetime(2020, 6, 1, tzinfo=dt.UTC))

    assert _codes(report) == ["untrusted"]
    assert "hocba TEST Issuing CA" in _text(report)
    assert "01/01/2026" in _text(report)


def test_default_moment_is_now() -> None:
    with time_machine.travel(dt.datetime(2030, 1, 1, tzinfo=dt.UTC), tick=False):
        not_yet = _check("not_yet_valid")
    with time_machine.travel(dt.datetime(2041, 1, 1, tzinfo=dt.UTC), tick=False):
        valid = _check("not_yet_valid")

    assert _codes(not_yet) == ["not_yet_valid"]
    assert _codes(valid) == []


def test_expiry_of_the_issuing_ca_is_reported_too() -> None:
    # The test issuing CA expires with its certificates: past 2046 both are out of date.
    report = _check("teacher", at=END + dt.timedelta(days=1))

    assert _codes(report) == ["expired", "untrusted"]
    assert "hocba TEST Issuing CA" in _text(report)


# --- trust and revocation ------------------------------------------------------------------------


def test_untrusted_root_is_refused_even_when_it_comes_with_the_chain() -> None:
    report = _check("untrusted", chain=[cert("other_root")])

    assert _codes(report) == ["untrusted"]


def test_chain_completes_the_path_to_the_root() -> None:
    roots_only = TrustStore(roots=(root(),), crls=(crl_der(),))

    assert _codes(_check("teacher", trust=roots_only)) == ["untrusted"]
    assert _codes(_check("teacher", trust=roots_only, chain=[issuing()])) == []


def test_without_a_crl_revocation_is_not_known_and_not_reported() -> None:
    no_crl = TrustStore(roots=(root(),), intermediates=(issuing(),))

    assert _codes(_check("revoked", trust=no_crl)) == []


def test_crl_not_listing_the_certificate_lets_it_pass() -> None:
    clean = TrustStore(roots=(root(),), intermediates=(issuing(),), crls=(make_crl(),))

    assert _codes(_check("revoked", trust=clean)) == []


def test_stale_crl_gives_revocation_unknown() -> None:
    stale = TrustStore(
        roots=(root(),),
        intermediates=(issuing(),),
        crls=(make_crl(next_update=dt.datetime(2026, 4, 1, tzinfo=dt.UTC)),),
    )

    report = _check("teacher", trust=stale, at=dt.datetime(2026, 5, 1, tzinfo=dt.UTC))

    assert _codes(report) == ["revocation_unknown"]
    assert "CRL" in _text(report)


def test_local_crl_applies_to_a_certificate_without_distribution_point() -> None:
    certificate, _key = issue(TEACHER_NAME, crl_point=False)
    revoked_on = dt.datetime(2026, 4, 15, tzinfo=dt.UTC)
    store = TrustStore(
        roots=(root(),),
        intermediates=(issuing(),),
        crls=(make_crl({certificate.serial_number: revoked_on}, this_update=revoked_on),),
    )

    report = check_certificate(
        certificate, trust=store, expected_name=TEACHER_NAME, purpose="personal"
    )

    assert _codes(report) == ["revoked"]
    assert "15/04/2026" in _text(report)


def test_check_works_inside_a_running_event_loop() -> None:
    async def in_loop() -> CertificateReport:
        return _check("revoked")

    assert _codes(asyncio.run(in_loop())) == ["revoked"]


def test_fixture_gives_the_test_trust_store(pki_trust: TrustStore) -> None:
    assert _ders(pki_trust.roots) == _ders([root()])
    assert _check("teacher", trust=pki_trust).ok


# --- trust store from a folder -------------------------------------------------------------------


def _ders(certificates: Iterable[asn1_x509.Certificate]) -> list[bytes]:
    return [certificate.dump() for certificate in certificates]


def _der(name: str) -> bytes:
    return pem.unarmor((PKI_DIR / f"{name}.cert.pem").read_bytes())[2]


def test_trust_store_from_folder_reads_pem_der_and_crls(tmp_path: Path) -> None:
    shutil.copy(PKI_DIR / "root.cert.pem", tmp_path / "root.pem")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "issuing.cer").write_bytes(_der("issuing"))
    (tmp_path / "issuing.crl").write_bytes(crl_der())
    shutil.copy(PKI_DIR / "crl.pem", tmp_path / "issuing-pem.crl")
    shutil.copy(PKI_DIR / "issuing.key.pem", tmp_path / "issuing.key.pem")
    (tmp_path / "notes.txt").write_text("không phải chứng thư")

    store = TrustStore.from_folder(tmp_path)

    assert _ders(store.roots) == _ders([root()])
    assert _ders(store.intermediates) == _ders([issuing()])
    assert store.crls == (crl_der(), crl_der())
    assert _codes(_check("teacher", trust=store)) == []
    assert _codes(_check("revoked", trust=store)) == ["revoked"]


def test_trust_store_from_folder_reads_a_pem_bundle(tmp_path: Path) -> None:
    bundle = (PKI_DIR / "issuing.cert.pem").read_bytes() + (PKI_DIR / "root.cert.pem").read_bytes()
    (tmp_path / "chain.crt").write_bytes(bundle)
    (tmp_path / "root.der").write_bytes(_der("root"))

    store = TrustStore.from_folder(tmp_path)

    assert _ders(store.roots) == _ders([root(), root()])
    assert _ders(store.intermediates) == _ders([issuing()])
    assert store.crls == ()


@pytest.mark.parametrize("missing", [True, False])
def test_trust_store_from_an_empty_or_missing_folder_trusts_nothing(
    tmp_path: Path, missing: bool
) -> None:
    folder = tmp_path / "absent" if missing else tmp_path

    store = TrustStore.from_folder(folder)

    assert store == TrustStore(roots=())
    assert _codes(_check("teacher", trust=store)) == ["untrusted"]


def test_trust_store_refuses_an_unreadable_file(tmp_path: Path) -> None:
    (tmp_path / "broken.crt").write_bytes(b"\x30\x03garbage")

    with pytest.raises(ValueError, match=r"broken\.crt"):
        TrustStore.from_folder(tmp_path)


def test_load_certificates_reads_pem_and_der() -> None:
    bundle = (PKI_DIR / "teacher.cert.pem").read_bytes() + (
        PKI_DIR / "issuing.cert.pem"
    ).read_bytes()

    assert _ders(load_certificates(bundle)) == _ders([cert("teacher"), issuing()])
    assert _ders(load_certificates(_der("teacher"))) == _ders([cert("teacher")])


# --- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        (TEACHER_NAME, TEACHER_NAME),
        (unicodedata.normalize("NFD", TEACHER_NAME), TEACHER_NAME),
        ("  nguyễn   THỊ hoà ", TEACHER_NAME),
        ("Nguyễn Thị Hòa", TEACHER_NAME),  # old-style tone placement
        ("NGUYEN THI HOA", TEACHER_NAME),
        ("TRAN VAN DUC", PRINCIPAL_NAME),
        ("Trần Văn Đức", "TRAN VAN DUC"),
        ("TRUONG TIEU HOC KIM DONG", SCHOOL_NAME),
    ],
)
def test_names_that_match(found: str, expected: str) -> None:
    assert names_match(found, expected)


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        ("Nguyễn Thị Hoá", TEACHER_NAME),  # another tone is another name
        ("Nguyễn Thị Hoa", TEACHER_NAME),
        ("Lê Văn Nam", TEACHER_NAME),
        ("NGUYEN THI HOAN", TEACHER_NAME),
        ("Nguyễn Hoà", TEACHER_NAME),
        ("", TEACHER_NAME),
        (TEACHER_NAME, "   "),
    ],
)
def test_names_that_do_not_match(found: str, expected: str) -> None:
    assert not names_match(found, expected)


# --- the test PKI itself -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["teacher", "teacher_ec", "seal", "weak_key", "ca_as_leaf"])
def test_pkcs12_files_open_with_the_pin_and_carry_the_chain(name: str) -> None:
    key, certificate, extra = pkcs12.load_key_and_certificates(p12(name), PIN.encode())

    assert key is not None and certificate is not None
    assert certificate.public_key() == key.public_key()
    assert certificate.public_bytes(serialization.Encoding.DER) == cert(name).dump()
    assert [c.public_bytes(serialization.Encoding.DER) for c in extra] == _ders([issuing(), root()])
