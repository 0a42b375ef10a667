"""Certificate checks: when a staff member registers a certificate and before every signing batch.

:func:`check_certificate` looks at one signing certificate and reports every problem it finds (it
does not stop at the first): validity period, key usage, path to a configured root, revocation
where a CRL or OCSP answers, key size (RSA >= 2048, ECDSA >= 256), that the certificate is not a
CA certificate, and that its name matches the staff member (personal) or the school (seal).
Who may register which certificate (the principal registers the school's seal) is the registry's
business, not this module's.

Path building, signature checks and revocation are pyhanko-certvalidator's; the rest is ours so
each problem gets a stable code and a specific Vietnamese message.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import unicodedata
from collections.abc import Coroutine, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from asn1crypto import crl as asn1_crl
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509 as crypto_x509
from django.utils import timezone
from django.utils.translation import gettext as _
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import (
    DisallowedAlgorithmError,
    ExpiredError,
    InsufficientRevinfoError,
    InvalidCertificateError,
    NotYetValidError,
    PathBuildingError,
    RevokedError,
    ValidationError,
)
from pyhanko_certvalidator.path import ValidationPath
from pyhanko_certvalidator.policy_decl import (
    CertRevTrustPolicy,
    RevocationCheckingPolicy,
    RevocationCheckingRule,
)

from hocba.common.errors import DomainError
from hocba.common.text import clean_text, fold

ProblemCode = Literal[
    "not_yet_valid",
    "expired",
    "key_usage",
    "untrusted",
    "revoked",
    "revocation_unknown",
    "weak_key",
    "name_mismatch",
    "ca_certificate",
    "unsupported_key",
]
Purpose = Literal["personal", "seal"]

MINIMUM_KEY_SIZE = {"rsa": 2048, "ec": 256}
SIGNING_KEY_USAGES = frozenset({"digital_signature", "non_repudiation"})
DOCUMENT_SIGNING_EKUS = frozenset(
    {
        "1.3.6.1.4.1.311.10.3.12",  # Microsoft documentSigning
        "1.3.6.1.5.5.7.3.4",  # emailProtection (what most CAs put on signing certificates)
        "1.2.840.113583.1.1.5",  # Adobe Authentic Documents Trust
        "1.3.6.1.5.5.7.3.36",  # id-kp-documentSigning (RFC 9336)
        "2.5.29.37.0",  # anyExtendedKeyUsage
    }
)
CERTIFICATE_SUFFIXES = frozenset({".pem", ".crt", ".cer", ".der"})
CRL_SUFFIXES = frozenset({".crl"})
TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")  # huyền, sắc, ngã, hỏi, nặng

T = TypeVar("T")


# --- trust store ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrustStore:
    """The configured trust anchors, the CA certificates below them and the CRLs at hand."""

    roots: tuple[asn1_x509.Certificate, ...]
    intermediates: tuple[asn1_x509.Certificate, ...] = ()
    crls: tuple[bytes, ...] = ()  # DER CRLs available locally (fetched once per batch)

    @classmethod
    def from_folder(cls, folder: Path) -> TrustStore:
        """Read ``*.pem``/``*.crt``/``*.cer``/``*.der`` and ``*.crl`` files under ``folder``.

        Files are recognised by content: a PEM file may hold several certificates and CRLs,
        private keys in it are skipped. Self-signed certificates become roots, the others
        intermediates. A missing folder gives an empty store; an unreadable certificate or CRL
        file raises ``ValueError`` naming it.
        """
        roots: list[asn1_x509.Certificate] = []
        intermediates: list[asn1_x509.Certificate] = []
        crls: list[bytes] = []
        if not folder.is_dir():
            return cls(roots=())
        for path in sorted(folder.rglob("*")):
            suffix = path.suffix.lower()
            if not path.is_file() or path.name.startswith("."):
                continue
            if suffix not in CERTIFICATE_SUFFIXES | CRL_SUFFIXES:
                continue
            try:
                certificates, file_crls = _read_pki_file(path.read_bytes())
            except ValueError as error:
                raise ValueError(f"{path}: {error}") from None
            for certificate in certificates:
                if certificate.self_signed in {"yes", "maybe"}:
                    roots.append(certificate)
                else:
                    intermediates.append(certificate)
            crls.extend(file_crls)
        return cls(roots=tuple(roots), intermediates=tuple(intermediates), crls=tuple(crls))

    def validation_context(
        self,
        *,
        at: dt.datetime | None = None,
        extra_certs: Iterable[asn1_x509.Certificate] = (),
        allow_fetching: bool = False,
    ) -> ValidationContext:
        """A pyhanko-certvalidator context trusting only this store's roots.

        Revocation is "soft-fail": a CRL or OCSP response is consulted for a certificate that
        declares a CRL distribution point or an OCSP responder; when none can be had (nothing
        local, fetching off or failing) the certificate passes, but a CRL that matches and
        cannot be used (stale, bad signature) fails the validation. Revocation data newer than
        ``at`` is accepted (``retroactive_revinfo``): the CRLs at hand are usually newer than a
        moment in the past, and a revocation dated after ``at`` does not count.
        """
        return _validation_context(
            self,
            at=at,
            extra_certs=extra_certs,
            allow_fetching=allow_fetching,
            end_entity_rule=RevocationCheckingRule.CHECK_IF_DECLARED_SOFT,
        )

    def has_crl_from(self, issuer: asn1_x509.Name) -> bool:
        """Whether a local CRL was issued under ``issuer``'s name."""
        wanted = issuer.hashable
        return any(
            asn1_crl.CertificateList.load(data)["tbs_cert_list"]["issuer"].hashable == wanted
            for data in self.crls
        )


def load_certificates(data: bytes) -> list[asn1_x509.Certificate]:
    """The certificates in an uploaded file: PEM (one or more) or a single DER certificate."""
    certificates, _crls = _read_pki_file(data)
    return certificates


def _read_pki_file(data: bytes) -> tuple[list[asn1_x509.Certificate], list[bytes]]:
    """Certificates and DER CRLs in ``data``; ValueError when nothing in it can be read."""
    certificates: list[asn1_x509.Certificate] = []
    crls: list[bytes] = []
    if pem.detect(data):
        for kind, _headers, der in pem.unarmor(data, multiple=True):
            if kind == "CERTIFICATE":
                certificates.append(_certificate_from_der(der))
            elif kind == "X509 CRL":
                crls.append(_crl_from_der(der))
        return certificates, crls
    try:
        return [_certificate_from_der(data)], []
    except ValueError:
        pass
    try:
        return [], [_crl_from_der(data)]
    except ValueError:
        raise ValueError("not a certificate or a CRL (PEM or DER)") from None


def _certificate_from_der(der: bytes) -> asn1_x509.Certificate:
    crypto_x509.load_der_x509_certificate(der)  # asn1crypto parses lazily; this raises now
    return asn1_x509.Certificate.load(der)


def _crl_from_der(der: bytes) -> bytes:
    crypto_x509.load_der_x509_crl(der)
    return der


def _validation_context(
    store: TrustStore,
    *,
    at: dt.datetime | None,
    extra_certs: Iterable[asn1_x509.Certificate],
    allow_fetching: bool,
    end_entity_rule: RevocationCheckingRule,
) -> ValidationContext:
    policy = CertRevTrustPolicy(
        RevocationCheckingPolicy(
            ee_certificate_rule=end_entity_rule,
            intermediate_ca_cert_rule=RevocationCheckingRule.CHECK_IF_DECLARED_SOFT,
        ),
        retroactive_revinfo=True,
    )
    return ValidationContext(
        trust_roots=list(store.roots),
        other_certs=[*store.intermediates, *extra_certs],
        crls=list(store.crls),
        moment=at,
        allow_fetching=allow_fetching,
        revinfo_policy=policy,
    )


# --- reports -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CertificateProblem:
    code: ProblemCode
    message: str  # Vietnamese, names the specifics (date, name, key size ...)


@dataclass(frozen=True)
class CertificateReport:
    subject_name: str  # the common name (or the whole subject when it has none)
    issuer_name: str
    serial_hex: str
    fingerprint_sha256: str
    not_before: dt.datetime
    not_after: dt.datetime
    key_algorithm: str  # "rsa", "ec", or what else the key is (then "unsupported_key")
    key_size: int
    problems: tuple[CertificateProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


class CertificateRefused(DomainError):
    """A certificate that may not be registered or used for signing; ``report`` says why."""

    def __init__(self, report: CertificateReport) -> None:
        super().__init__(" ".join(problem.message for problem in report.problems))
        self.report = report


def require_valid(report: CertificateReport) -> None:
    if not report.ok:
        raise CertificateRefused(report)


# --- the check -----------------------------------------------------------------------------------


def check_certificate(
    certificate: asn1_x509.Certificate,
    *,
    chain: Sequence[asn1_x509.Certificate] = (),
    trust: TrustStore,
    expected_name: str,
    purpose: Purpose,
    at: dt.datetime | None = None,
    allow_fetching: bool = False,
) -> CertificateReport:
    """Check a signing certificate at ``at`` (default now) and report every problem found.

    ``chain`` holds the certificates that came with it (from the PKCS#12 file or the token) to
    help build the path; only ``trust.roots`` are trusted. Revocation is checked against the
    CRLs in ``trust`` and, when ``allow_fetching``, the CRL/OCSP the certificate points to. When
    no revocation source answers for the issuer (fetching off and no local CRL from it, or a
    server down), no problem is reported: the check is as good as the revocation data at hand.
    A local CRL from the issuer is always consulted, even if the certificate names no
    distribution point; a CRL that covers the certificate but cannot be used for ``at``
    (expired next update, bad signature) gives "revocation_unknown". A certificate outside its
    validity period at ``at`` is reported as such; its own revocation is then not looked at.
    """
    moment = at or dt.datetime.now(dt.UTC)
    algorithm, key_size = _key_facts(certificate)
    problems = [
        *_validity_problems(certificate, moment),
        *_ca_problems(certificate),
        *_usage_problems(certificate),
        *_key_problems(algorithm, key_size),
        *_name_problems(certificate, expected_name, purpose),
        *_path_problems(certificate, chain, trust, at=at, allow_fetching=allow_fetching),
    ]
    return CertificateReport(
        subject_name=_display_name(certificate.subject),
        issuer_name=_display_name(certificate.issuer),
        serial_hex=_serial_hex(certificate.serial_number),
        fingerprint_sha256=hashlib.sha256(certificate.dump()).hexdigest(),
        not_before=certificate.not_valid_before,
        not_after=certificate.not_valid_after,
        key_algorithm=algorithm,
        key_size=key_size,
        problems=tuple(problems),
    )


def names_match(certificate_name: str, expected: str) -> bool:
    """Whether a name on a certificate is the expected person's or school's name.

    Compared NFC, case-insensitively, with whitespace collapsed, and tolerant of where the tone
    mark sits ("Hòa" = "Hoà", "Thúy" = "Thuý"). If either side is written without diacritics
    (the upper-case spelling many Vietnamese CAs use: "NGUYEN THI HOA") the other side is
    compared without its diacritics too.
    """
    found, wanted = clean_text(certificate_name), clean_text(expected)
    if not found or not wanted:
        return False
    if _syllables(found) == _syllables(wanted):
        return True
    if _is_plain(found) or _is_plain(wanted):
        return fold(found) == fold(wanted)
    return False


def _syllables(name: str) -> list[tuple[str, str]]:
    """Each word as (letters with their vowel marks, its tone marks): placement-independent."""
    words = []
    for word in name.casefold().split():
        decomposed = unicodedata.normalize("NFD", word)
        tones = "".join(sorted(char for char in decomposed if char in TONE_MARKS))
        letters = "".join(char for char in decomposed if char not in TONE_MARKS)
        words.append((unicodedata.normalize("NFC", letters), tones))
    return words


def _is_plain(name: str) -> bool:
    return fold(name) == name.lower()


# --- the parts of the check ---------------------------------------------------------------------


def _validity_problems(
    certificate: asn1_x509.Certificate, moment: dt.datetime
) -> list[CertificateProblem]:
    if moment < certificate.not_valid_before:
        message = _("Chứng thư số chưa có hiệu lực: chỉ có hiệu lực từ ngày %(date)s.") % {
            "date": _date(certificate.not_valid_before)
        }
        return [CertificateProblem("not_yet_valid", message)]
    if moment > certificate.not_valid_after:
        message = _("Chứng thư số đã hết hạn từ ngày %(date)s.") % {
            "date": _date(certificate.not_valid_after)
        }
        return [CertificateProblem("expired", message)]
    return []


def _ca_problems(certificate: asn1_x509.Certificate) -> list[CertificateProblem]:
    if not certificate.ca:
        return []
    message = _(
        "Đây là chứng thư của một tổ chức cấp chứng thư số (CA), không phải chứng thư số "
        "của cá nhân hay tổ chức dùng để ký."
    )
    return [CertificateProblem("ca_certificate", message)]


def _usage_problems(certificate: asn1_x509.Certificate) -> list[CertificateProblem]:
    problems = []
    key_usage = certificate.key_usage_value
    usages: set[str] = set(key_usage.native) if key_usage is not None else set()
    if key_usage is None:
        message = _(
            "Chứng thư số không ghi mục đích sử dụng khoá, nên không xác định được là "
            "được phép dùng để ký số."
        )
        problems.append(CertificateProblem("key_usage", message))
    elif not usages & SIGNING_KEY_USAGES:
        message = _(
            "Chứng thư số không được phép dùng để ký số: mục đích sử dụng khoá chỉ gồm %(usages)s."
        ) % {"usages": ", ".join(_key_usage_label(usage) for usage in sorted(usages))}
        problems.append(CertificateProblem("key_usage", message))
    extended = certificate.extended_key_usage_value
    if extended is not None:
        purposes = [purpose.dotted for purpose in extended]
        if not set(purposes) & DOCUMENT_SIGNING_EKUS:
            message = _("Chứng thư số chỉ dùng cho %(purposes)s, không dùng để ký tài liệu.") % {
                "purposes": ", ".join(_extended_usage_label(oid) for oid in purposes)
            }
            problems.append(CertificateProblem("key_usage", message))
    return problems


def _key_facts(certificate: asn1_x509.Certificate) -> tuple[str, int]:
    public_key = certificate.public_key
    algorithm = public_key.algorithm
    if algorithm == "rsassa_pss":
        algorithm = "rsa"
    try:
        size = int(public_key.bit_size)
    except (ValueError, KeyError, TypeError, NotImplementedError):
        size = 0  # an unnamed or unknown curve, or a key type asn1crypto cannot size
    return str(algorithm), size


def _key_problems(algorithm: str, key_size: int) -> list[CertificateProblem]:
    minimum = MINIMUM_KEY_SIZE.get(algorithm)
    if minimum is None or key_size == 0:
        message = _(
            "Loại khoá %(algorithm)s của chứng thư số không được hỗ trợ: chỉ chấp nhận khoá "
            "RSA hoặc ECDSA."
        ) % {"algorithm": algorithm.upper()}
        return [CertificateProblem("unsupported_key", message)]
    if key_size < minimum:
        message = _(
            "Khoá %(algorithm)s của chứng thư số chỉ dài %(size)s bit, cần tối thiểu "
            "%(minimum)s bit."
        ) % {
            "algorithm": "RSA" if algorithm == "rsa" else "ECDSA",
            "size": key_size,
            "minimum": minimum,
        }
        return [CertificateProblem("weak_key", message)]
    return []


def _name_problems(
    certificate: asn1_x509.Certificate, expected: str, purpose: Purpose
) -> list[CertificateProblem]:
    names = _attribute_values(certificate.subject, "common_name")
    if purpose == "seal":
        names += _attribute_values(certificate.subject, "organization_name")
    if any(names_match(name, expected) for name in names):
        return []
    found = " / ".join(dict.fromkeys(names)) or _("(không có)")
    if purpose == "seal":
        message = _(
            "Tên tổ chức trên chứng thư số là “%(found)s”, không khớp với tên trường "
            "“%(expected)s”."
        )
    else:
        message = _(
            "Tên trên chứng thư số là “%(found)s”, không khớp với tên cán bộ “%(expected)s”."
        )
    return [
        CertificateProblem(
            "name_mismatch", message % {"found": found, "expected": clean_text(expected)}
        )
    ]


def _path_problems(
    certificate: asn1_x509.Certificate,
    chain: Sequence[asn1_x509.Certificate],
    trust: TrustStore,
    *,
    at: dt.datetime | None,
    allow_fetching: bool,
) -> list[CertificateProblem]:
    # pyhanko consults even a local CRL only for a certificate that names a distribution point
    # (or OCSP responder). For one that names neither while we hold a CRL from its issuer, ask
    # for an answer anyway. Only then: the strict rule also applies to the end of side paths
    # (a separate CRL signer), which would otherwise turn a missing answer into a refusal.
    declares_revocation = bool(certificate.crl_distribution_points or certificate.ocsp_urls)
    end_entity_rule = (
        RevocationCheckingRule.CRL_OR_OCSP_REQUIRED
        if not declares_revocation and trust.has_crl_from(certificate.issuer)
        else RevocationCheckingRule.CHECK_IF_DECLARED_SOFT
    )
    context = _validation_context(
        trust,
        at=at,
        extra_certs=chain,
        allow_fetching=allow_fetching,
        end_entity_rule=end_entity_rule,
    )
    try:
        _run(_validate(certificate, context))
    except RevokedError as error:
        authority = _revoked_authority(error.current_path, context)
        if authority is None:
            message = _("Chứng thư số đã bị thu hồi từ ngày %(date)s.") % {
                "date": _date(error.revocation_dt)
            }
        else:
            message = _(
                "Chứng thư của tổ chức cấp “%(issuer)s” đã bị thu hồi từ ngày %(date)s."
            ) % {"issuer": _display_name(authority.subject), "date": _date(error.revocation_dt)}
        return [CertificateProblem("revoked", message)]
    except InsufficientRevinfoError:
        message = _(
            "Không xác định được chứng thư số có bị thu hồi hay không: danh sách chứng thư bị "
            "thu hồi (CRL) hiện có không dùng được cho thời điểm kiểm tra. Hãy cập nhật CRL "
            "rồi kiểm tra lại."
        )
        return [CertificateProblem("revocation_unknown", message)]
    except (ExpiredError, NotYetValidError) as error:
        failing = _outside_validity(error.current_path, context)
        if failing is not None and failing.sha256 == certificate.sha256:
            return []  # reported by _validity_problems, with the same dates
        name = _display_name(failing.subject) if failing is not None else _("chứng thư gốc")
        if isinstance(error, ExpiredError):
            message = _("Chứng thư của tổ chức cấp “%(issuer)s” đã hết hạn từ ngày %(date)s.") % {
                "issuer": name,
                "date": _date(error.expired_dt),
            }
        else:
            message = _(
                "Chứng thư của tổ chức cấp “%(issuer)s” chỉ có hiệu lực từ ngày %(date)s."
            ) % {"issuer": name, "date": _date(error.valid_from)}
        return [CertificateProblem("untrusted", message)]
    except DisallowedAlgorithmError:
        message = _("Chuỗi chứng thư số dùng thuật toán ký không còn an toàn.")
        return [CertificateProblem("untrusted", message)]
    except (PathBuildingError, InvalidCertificateError):
        message = _(
            "Chứng thư số do “%(issuer)s” cấp, không dẫn tới chứng thư gốc nào được tin cậy "
            "trong hệ thống."
        ) % {"issuer": _display_name(certificate.issuer)}
        return [CertificateProblem("untrusted", message)]
    except ValidationError:
        message = _(
            "Không xác thực được chuỗi chứng thư số tới chứng thư gốc được tin cậy "
            "(chứng thư do “%(issuer)s” cấp)."
        ) % {"issuer": _display_name(certificate.issuer)}
        return [CertificateProblem("untrusted", message)]
    return []


async def _validate(certificate: asn1_x509.Certificate, context: ValidationContext) -> None:
    try:
        await CertificateValidator(certificate, validation_context=context).async_validate_path()
    finally:
        await context.aclose()  # closes the HTTP fetchers when fetching was allowed


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to completion from sync code, or from inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


# pyhanko's path errors do not say which certificate failed (only in the English message), so
# these two find it again: the first one out of its validity, or a CA certificate on a CRL.


def _outside_validity(
    path: ValidationPath, context: ValidationContext
) -> asn1_x509.Certificate | None:
    moment, tolerance = context.moment, context.time_tolerance
    # Like pyhanko: a trust anchor's own validity is not checked, only what it signed.
    for certificate in path.iter_certs(include_root=False):
        if not (
            certificate.not_valid_before - tolerance
            <= moment
            <= certificate.not_valid_after + tolerance
        ):
            return certificate
    return None


def _revoked_authority(
    path: ValidationPath, context: ValidationContext
) -> asn1_x509.Certificate | None:
    """The CA certificate of ``path`` that a known CRL lists; None when it is the leaf."""
    authorities = list(path.iter_certs(include_root=True))[:-1]
    for certificate_list in context.crls:
        tbs = certificate_list["tbs_cert_list"]
        listed = {entry["user_certificate"].native for entry in tbs["revoked_certificates"]}
        for authority in authorities:
            if (
                authority.issuer.hashable == tbs["issuer"].hashable
                and authority.serial_number in listed
            ):
                return authority
    return None


# --- formatting ----------------------------------------------------------------------------------


def _date(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%d/%m/%Y")


def _serial_hex(serial: int) -> str:
    digits = format(serial, "x")
    return digits.zfill(len(digits) + len(digits) % 2)


def _attribute_values(name: asn1_x509.Name, attribute: str) -> list[str]:
    return [
        clean_text(type_and_value["value"].native)
        for rdn in name.chosen
        for type_and_value in rdn
        if type_and_value["type"].native == attribute
    ]


def _display_name(name: asn1_x509.Name) -> str:
    common_names = _attribute_values(name, "common_name")
    return common_names[0] if common_names else clean_text(name.human_friendly)


def _key_usage_label(usage: str) -> str:
    labels = {
        "digital_signature": _("ký số"),
        "non_repudiation": _("chống chối bỏ"),
        "key_encipherment": _("mã hoá khoá"),
        "data_encipherment": _("mã hoá dữ liệu"),
        "key_agreement": _("thoả thuận khoá"),
        "key_cert_sign": _("ký chứng thư số"),
        "crl_sign": _("ký danh sách thu hồi"),
        "encipher_only": _("chỉ mã hoá"),
        "decipher_only": _("chỉ giải mã"),
    }
    return labels.get(usage, usage)


def _extended_usage_label(oid: str) -> str:
    labels = {
        "1.3.6.1.5.5.7.3.1": _("xác thực máy chủ (TLS)"),
        "1.3.6.1.5.5.7.3.2": _("xác thực người dùng"),
        "1.3.6.1.5.5.7.3.3": _("ký mã chương trình"),
        "1.3.6.1.5.5.7.3.8": _("cấp dấu thời gian"),
        "1.3.6.1.5.5.7.3.9": _("ký phản hồi OCSP"),
    }
    return labels.get(oid, oid)
