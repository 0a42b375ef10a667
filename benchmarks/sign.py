"""Benchmark: sign year records, three PAdES signatures each with its own timestamp (issue 5).

Every record gets the homeroom teacher's signature (certifying, DocMDP P=2), the principal's and
the school seal, each with its own RFC 3161 signature timestamp from the demo TSA answering over
HTTP on loopback (:func:`hocba.signing.tsa.serve`, in a process of its own as the demo's
``/pki/tsa`` is in the web server's). The pipeline is the product's: one batch per step, chunks
of ``batch.CHUNK_SIZE`` records, each chunk prepared (``pades.prepare_signature``), its digests
signed in one adapter call, its signatures finished with overlapping timestamp requests
(``pades.finish_many``), i.e. the inner loop of ``hocba.signing.batch.run_batch`` without its
database reads and writes; keys in PKCS#12 files opened once per batch (the ``soft`` adapter).

Two key types: RSA-2048 (the demo PKI's personal and seal certificates) and ECDSA P-256
(certificates issued here from the same demo issuing CA). Two sizes: a class (35 records) and a
school (1,000 records; ``--quick``: 100). The year records are rendered once up front from the
schema's example with varied names; rendering is not in the signing figures
(``render_per_record_ms`` reports it).

Measured:

* ``class_<alg>_seconds`` (median of 3 runs; ``--quick``: 1), ``school_<alg>_seconds`` (one run)
  and ``per_record_<alg>_ms`` (the school run per record, three signatures);
* ``raw_<alg>_signs_per_s``: the same key signing a SHA-256 digest with ``cryptography``;
* baseline ``naive_per_record_<alg>_ms``, on a small sample: what a straightforward integration
  does, stock pyHanko ``PdfSigner.sign_pdf`` per signature with ``SimpleSigner.load_pkcs12``
  every time, a new ``HTTPTimeStamper`` and the same visible stamp
  (``StaticStampStyle.from_pdf_file``); ``ratio_vs_naive_<alg>`` is
  ``naive_per_record_<alg>_ms / per_record_<alg>_ms``;
* ``db_class_rsa_seconds``: one class through the real path in a throwaway SQLite database, the
  three ``batch.run_batch`` calls (signed PDFs stored in a temporary media folder, each record
  committed on its own). The teacher's batch renders each record first (``current_pdf``);
  ``db_render_seconds`` is that part. ``db_start_seconds`` is the three ``services.start_batch``
  calls before them (the password check with argon2, the PIN check opening the PKCS#12 file,
  the certificate check);
* ``signed_pdf_kb``: mean size of a record after its three signatures (``unsigned_pdf_kb``
  before).

A sample of every run's output is validated with pyHanko against the demo root (intact, valid,
trusted, timestamp valid, DocMDP respected, for all three signatures): the benchmark stops rather
than time a broken pipeline. Targets (issue 5): a class in under 5 s, 1,000 records in under
2 minutes (``target_class_met``, ``target_school_met``; a ``--quick`` run scales its 100 up).
Usage::

    .venv/bin/python benchmarks/sign.py [--quick] [--profile FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import datetime as dt
import hashlib
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

CLASS_SIZE = 35
SCHOOL_SIZE = 1000
QUICK_SCHOOL_SIZE = 100
NAIVE_SAMPLE = 5
QUICK_NAIVE_SAMPLE = 2
VALIDATE_SAMPLE = 3
TARGET_CLASS_SECONDS = 5.0
TARGET_SCHOOL_SECONDS = 120.0
PIN = "123456"
SCHOOL = ("01001", "Trường Tiểu học Thử")
TEACHER = ("gvcn", "Trần Thị Phương")
PRINCIPAL = ("ht", "Nguyễn Phương Trang")
STEPS = ("gvcn", "hieu_truong", "con_dau")  # SigningStep values: teacher, principal, seal
GIVEN = ["An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hải", "Hoa", "Khánh", "Lan", "Linh", "Minh"]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi"]
MIDDLE = ["Văn", "Thị", "Minh", "Bảo", "Ngọc", "Đức"]


def _progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _setup_django(data_dir: str) -> None:
    os.environ["HOCBA_DATA_DIR"] = data_dir
    os.environ["HOCBA_TESTING"] = "1"
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "hocba.settings"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _documents(base: dict[str, Any], count: int, first: int = 0) -> list[dict[str, Any]]:
    """``count`` distinct year records from the example (as benchmarks/render.py varies them)."""
    docs = []
    for i in range(first, first + count):
        doc = copy.deepcopy(base)
        family, middle, given = FAMILY[i % 8], MIDDLE[i % 6], GIVEN[i % 12]
        code = f"HB7K-{i // 1000:04d}-X{i % 1000:03d}"
        doc["pupil"].update(
            {
                "family_name": family,
                "middle_name": middle,
                "given_name": given,
                "full_name": f"{family} {middle} {given} {i}",
                "ministry_code": f"0155{i:06d}",
            }
        )
        doc["record"]["short_code"] = code
        doc["record"]["verify_url"] = f"http://127.0.0.1:8000/xac-thuc/{code}"
        for j, subject in enumerate(doc["subjects"]):
            subject["comment"] = f"{subject['comment']} Nhận xét riêng số {i}-{j}."
        docs.append(doc)
    return docs


# --- keys ------------------------------------------------------------------------------------


def _ec_p12(pki: Any, common_name: str, serial: str, now: dt.datetime) -> bytes:
    """An ECDSA P-256 signing certificate from the demo issuing CA, as a PKCS#12 file.

    The same profile as the demo PKI's RSA certificates (key usage, EKU, AKI/SKI), so the
    signatures validate to the demo root the same way.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    from hocba.signing import pki as demo_pki

    issuing_cert = demo_pki.load_certificate(pki.issuing_cert)
    issuing_key = serialization.load_pem_private_key(pki.issuing_key.read_bytes(), password=None)
    assert isinstance(issuing_key, ec.EllipticCurvePrivateKey)
    root_cert = demo_pki.load_certificate(pki.root_cert)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, demo_pki.DEMO_ORGANISATION),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, serial),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuing_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(min(now + dt.timedelta(days=365), issuing_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuing_key.public_key()), False
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.EMAIL_PROTECTION, demo_pki.DOCUMENT_SIGNING]
            ),
            critical=False,
        )
        .sign(issuing_key, hashes.SHA256())
    )
    return pkcs12.serialize_key_and_certificates(
        name=serial.encode(),
        key=key,
        cert=cert,
        cas=[issuing_cert, root_cert],
        encryption_algorithm=serialization.BestAvailableEncryption(PIN.encode()),
    )


def _key_files(pki: Any, folder: Path) -> dict[str, list[tuple[Path, str]]]:
    """For each algorithm, the (PKCS#12 path, PIN) of the teacher, the principal, the seal."""
    rsa = [
        (pki.people[TEACHER[0]].p12_path, PIN),
        (pki.people[PRINCIPAL[0]].p12_path, PIN),
        (pki.seals[SCHOOL[0]].p12_path, pki.seals[SCHOOL[0]].pin),
    ]
    now = dt.datetime.now(dt.UTC)
    ec = []
    for name, serial in ((TEACHER[1], "ec-gvcn"), (PRINCIPAL[1], "ec-ht"), (SCHOOL[1], "ec-seal")):
        path = folder / f"{serial}.p12"
        path.write_bytes(_ec_p12(pki, name, serial, now))
        ec.append((path, PIN))
    return {"rsa": rsa, "ec": ec}


def _raw_signs_per_s(p12: Path, pin: str, seconds: float) -> float:
    """Signatures per second of the bare key over a SHA-256 digest (``cryptography``)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
    from cryptography.hazmat.primitives.serialization import pkcs12

    key, _cert, _chain = pkcs12.load_key_and_certificates(p12.read_bytes(), pin.encode())
    digest = hashlib.sha256(b"hocba").digest()
    prehashed = utils.Prehashed(hashes.SHA256())
    sign: Callable[[], bytes]
    if isinstance(key, rsa.RSAPrivateKey):
        rsa_key = key
        sign = lambda: rsa_key.sign(digest, padding.PKCS1v15(), prehashed)  # noqa: E731
    else:
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        ec_key = key
        sign = lambda: ec_key.sign(digest, ec.ECDSA(prehashed))  # noqa: E731
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(20):
            sign()
        count += 20
    return count / elapsed


# --- the product pipeline without the database ----------------------------------------------


class _Steps:
    """The three steps' signature requests, the appearance drawn once as a batch does."""

    def __init__(self) -> None:
        from django.utils import timezone
        from django.utils.formats import date_format

        from hocba.documents.render import render_stamp
        from hocba.signing import pades
        from hocba.signing.batch import BOX_SIZES, REASONS
        from hocba.signing.models import SigningStep

        when = timezone.now()
        local = timezone.localtime(when)
        stamp = date_format(local, "d/m/Y H:i")
        lines = {
            SigningStep.TEACHER: ("Đã ký số bởi", TEACHER[1], "Giáo viên chủ nhiệm", stamp),
            SigningStep.PRINCIPAL: ("Đã ký số bởi", PRINCIPAL[1], "HIỆU TRƯỞNG", stamp),
            SigningStep.SEAL: ("Đã đóng dấu số", SCHOOL[1], date_format(local, "d/m/Y")),
        }
        self.stamps: dict[str, bytes] = {}
        self.requests: dict[str, Any] = {}
        for value in STEPS:
            step = SigningStep(value)
            width, height = BOX_SIZES[step]
            kind = "seal" if step == SigningStep.SEAL else "person"
            self.stamps[value] = render_stamp(lines[step], width, height, kind)
            self.requests[value] = pades.SignatureRequest(
                field=value,
                signing_time=when,
                reason=REASONS[step],
                location=SCHOOL[1],
                signer_name=lines[step][1],
                appearance=pades.Appearance(self.stamps[value]),
                certify=step == SigningStep.TEACHER,
            )


def _sign_chunk(pdfs: Sequence[bytes], request: Any, adapter: Any, timestamper: Any) -> list[bytes]:
    """One chunk as ``run_batch`` works it: each document prepared (``prepare_items``), every
    digest signed in one adapter call, all finished with overlapping timestamp requests."""
    from hocba.signing import pades

    certificate, chain = adapter.certificate, list(adapter.chain)
    prepared = [pades.prepare_signature(pdf, request, certificate, chain) for pdf in pdfs]
    values = adapter.sign_digests([p.tbs_digest for p in prepared])
    results = asyncio.run(
        pades.finish_many(list(zip(prepared, values, strict=True)), certificate, chain, timestamper)
    )
    signed = []
    for result in results:
        if isinstance(result, BaseException):
            raise result
        signed.append(result)
    return signed


def _sign_all(pdfs: Sequence[bytes], keys: list[tuple[Path, str]], steps: _Steps) -> list[bytes]:
    """Every record through the three steps, each step one batch."""
    from hocba.signing.adapters.soft import SoftSigner
    from hocba.signing.batch import CHUNK_SIZE
    from hocba.signing.tsa import configured_timestamper

    current = list(pdfs)
    for step, (p12, pin) in zip(STEPS, keys, strict=True):
        adapter = SoftSigner(p12.read_bytes(), pin)  # once per batch, as registry.open_adapter
        timestamper = configured_timestamper()
        signed: list[bytes] = []
        try:
            for start in range(0, len(current), CHUNK_SIZE):
                chunk = current[start : start + CHUNK_SIZE]
                signed.extend(_sign_chunk(chunk, steps.requests[step], adapter, timestamper))
        finally:
            adapter.close()
        current = signed
    return current


# --- baseline: a straightforward pyHanko integration ------------------------------------------


def _naive_record(
    pdf: bytes, keys: list[tuple[Path, str]], stamp_files: list[Path], url: str
) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.timestamps import HTTPTimeStamper
    from pyhanko.stamp import StaticStampStyle

    for step, (p12, pin), stamp in zip(STEPS, keys, stamp_files, strict=True):
        signer = signers.SimpleSigner.load_pkcs12(str(p12), passphrase=pin.encode())
        assert signer is not None
        pdf_signer = signers.PdfSigner(
            signers.PdfSignatureMetadata(
                field_name=step,
                md_algorithm="sha256",
                subfilter=fields.SigSeedSubFilter.PADES,
                certify=step == STEPS[0],
                docmdp_permissions=fields.MDPPerm.FILL_FORMS,
            ),
            signer=signer,
            timestamper=HTTPTimeStamper(url),
            stamp_style=StaticStampStyle.from_pdf_file(str(stamp), border_width=0),
        )
        pdf = pdf_signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf))).getvalue()
    return pdf


# --- checks -----------------------------------------------------------------------------------


def _validate(pdfs: Sequence[bytes], pki: Any) -> None:
    """Stop unless every signature of each PDF is intact, valid, trusted and timestamped."""
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    root = load_cert_from_pemder(str(pki.root_cert))
    crl = pki.crl_der.read_bytes()
    for pdf in pdfs:
        context = ValidationContext(trust_roots=[root], crls=[crl], allow_fetching=False)
        signatures = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
        names = [s.field_name for s in signatures]
        if names != list(STEPS):
            raise SystemExit(f"unexpected signatures {names}")
        for signature in signatures:
            status = validate_pdf_signature(signature, context)
            timestamp_ok = status.timestamp_validity is not None and status.timestamp_validity.valid
            if not (status.intact and status.valid and status.trusted and timestamp_ok):
                raise SystemExit(f"{signature.field_name}: {status.pretty_print_details()}")
            if not status.docmdp_ok:
                raise SystemExit(f"{signature.field_name}: DocMDP not respected")


# --- the real path with the database ----------------------------------------------------------


@contextmanager
def _timed_renders() -> Iterator[list[float]]:
    """Time the renders ``current_pdf`` does inside the batch."""
    from hocba.signing import batch

    spent: list[float] = []
    original = batch.render_year_record

    def timed(*args: Any, **kwargs: Any) -> bytes:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - start)

    batch.render_year_record = timed
    try:
        yield spent
    finally:
        batch.render_year_record = original


@dataclass
class DbFigures:
    start_seconds: (
        float  # the three services.start_batch calls (password, PIN and certificate checks)
    )
    run_seconds: float  # the three batch.run_batch calls
    render_seconds: float  # the part of run_seconds spent rendering (teacher's batch)


def _db_class(pki_folder: Path, docs: list[dict[str, Any]]) -> tuple[DbFigures, list[bytes]]:
    """One class through ``start_batch`` + ``run_batch``, the three steps, in SQLite."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone, translation

    from hocba.documents.render import canonical_bytes
    from hocba.records.models import YearRecord
    from hocba.schools.models import (
        Enrolment,
        Province,
        Pupil,
        Role,
        School,
        SchoolClass,
        SchoolYear,
        Staff,
        StaffRole,
    )
    from hocba.signing import demo, services
    from hocba.signing.batch import current_pdf, run_batch
    from hocba.signing.models import BatchStatus, CertificatePurpose, SigningCertificate

    translation.activate("vi")
    province = Province.objects.create(code="01", name="Thành phố Hà Nội")
    school = School.objects.create(code=SCHOOL[0], name=SCHOOL[1], province=province)
    year = SchoolYear.objects.create(
        name="2024-2025",
        start_year=2024,
        starts_on=dt.date(2024, 9, 5),
        ends_on=dt.date(2025, 5, 31),
        is_current=True,
    )

    def person(username: str, full_name: str, role: str) -> Any:
        family, middle, given = full_name.split(" ", 2)
        user = get_user_model().objects.create_user(username=username, password="x")  # noqa: S106
        staff = Staff.objects.create(
            user=user, family_name=family, middle_name=middle, given_name=given, school=school
        )
        StaffRole.objects.create(staff=staff, role=role)
        return user

    teacher = person(TEACHER[0], TEACHER[1], Role.HOMEROOM_TEACHER)
    principal = person(PRINCIPAL[0], PRINCIPAL[1], Role.PRINCIPAL)
    school_class = SchoolClass.objects.create(
        school=school, school_year=year, grade=4, name="4A", homeroom_teacher=teacher.staff
    )
    for index, doc in enumerate(docs):
        pupil = Pupil.objects.create(
            ministry_code=doc["pupil"]["ministry_code"],
            family_name=doc["pupil"]["family_name"],
            middle_name=doc["pupil"]["middle_name"],
            given_name=doc["pupil"]["given_name"],
            sex="nam" if index % 2 else "nu",
            date_of_birth=dt.date(2015, 1 + index % 12, 1 + index % 28),
        )
        enrolment = Enrolment.objects.create(
            pupil=pupil, school_class=school_class, school_year=year, joined_on=year.starts_on
        )
        canonical = canonical_bytes(doc)
        YearRecord.objects.create(
            enrolment=enrolment,
            pupil=pupil,
            school=school,
            school_year=year,
            short_code=doc["record"]["short_code"],
            canonical_json=canonical.decode(),
            content_hash=hashlib.sha256(canonical).hexdigest(),
            compiled_at=timezone.now(),
        )
    pki = demo.seed_demo_pki(pki_folder)  # trusts the demo root, registers the certificates
    personal = {
        user.pk: SigningCertificate.objects.get(
            staff__user=user, purpose=CertificatePurpose.PERSONAL
        )
        for user in (teacher, principal)
    }
    seal = SigningCertificate.objects.get(school=school, purpose=CertificatePurpose.SEAL)
    runs = (
        (STEPS[0], teacher, personal[teacher.pk], PIN, {"school_class": school_class}),
        (STEPS[1], principal, personal[principal.pk], PIN, {"school": school}),
        (STEPS[2], principal, seal, pki.seals[SCHOOL[0]].pin, {"school": school}),
    )
    started = worked = 0.0
    with _timed_renders() as renders:
        for step, actor, certificate, pin, scope in runs:
            start = time.perf_counter()
            batch = services.start_batch(
                actor,
                step=step,
                certificate=certificate,
                password="x",  # noqa: S106
                pin=pin,
                **scope,
            )
            started += time.perf_counter() - start
            start = time.perf_counter()
            run_batch(batch.pk)
            worked += time.perf_counter() - start
            batch.refresh_from_db()
            if batch.status != BatchStatus.DONE or batch.done_count != len(docs):
                raise SystemExit(f"batch {step}: {batch.status} {batch.message}")
    sample = [current_pdf(r) for r in YearRecord.objects.order_by("pk")[:VALIDATE_SAMPLE]]
    return DbFigures(started, worked, sum(renders)), sample


# --- the TSA, in its own process as in the demo ---------------------------------------------


def _tsa_process(files: tuple[Path, Path, tuple[Path, ...]], ready: Any, stop: Any) -> None:
    from hocba.signing import tsa

    with tsa.serve(tsa.DemoTsa.from_files(*files)) as url:
        ready.put(url)
        stop.wait()


@contextmanager
def _tsa_server(pki: Any) -> Iterator[str]:
    """The demo TSA over HTTP on loopback, served by a child process; yields its URL."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    ready, stop = context.Queue(), context.Event()
    files = (pki.tsa_cert, pki.tsa_key, (pki.issuing_cert, pki.root_cert))
    process = context.Process(target=_tsa_process, args=(files, ready, stop), daemon=True)
    process.start()
    try:
        yield ready.get(timeout=60)
    finally:
        stop.set()
        process.join(timeout=10)
        if process.is_alive():
            process.terminate()


# --- main -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 records, fewer repetitions")
    parser.add_argument("--profile", metavar="FILE", help="cProfile one RSA class run into FILE")
    args = parser.parse_args()
    school_size = QUICK_SCHOOL_SIZE if args.quick else SCHOOL_SIZE
    class_repeat = 1 if args.quick else 3
    naive_sample = QUICK_NAIVE_SAMPLE if args.quick else NAIVE_SAMPLE
    raw_seconds = 0.3 if args.quick else 1.0

    tmp = tempfile.TemporaryDirectory(prefix="hocba-bench-sign-")
    _setup_django(tmp.name)
    from django.conf import settings

    # Everything the run uses, imported now rather than halfway through a long run.
    import hocba.signing.batch
    import hocba.signing.demo
    import hocba.signing.services  # noqa: F401
    from hocba.documents.render import render_class
    from hocba.documents.tests import variants
    from hocba.signing.pki import init_demo_pki

    folder = Path(tmp.name)
    settings.TRUST_DIR = folder / "trust"
    settings.MEDIA_ROOT = folder / "media"
    pki_folder = folder / "pki" / "demo"
    pki = init_demo_pki(
        pki_folder,
        schools=[SCHOOL],
        people=[(TEACHER[0], TEACHER[1], PIN), (PRINCIPAL[0], PRINCIPAL[1], PIN)],
    )
    keys = _key_files(pki, folder)

    docs = _documents(variants.example(), school_size)
    render_class(_documents(variants.example(), 2))  # warm-up: fonts
    start = time.perf_counter()
    pdfs = render_class(docs)
    render_ms = (time.perf_counter() - start) * 1000 / len(docs)
    class_pdfs = pdfs[:CLASS_SIZE]
    _progress(f"rendered {len(pdfs)} records, {render_ms:.1f} ms each")

    figures: dict[str, float] = {}
    sizes: list[int] = []
    with _tsa_server(pki) as url:
        settings.TSA_URL = url
        steps = _Steps()
        stamp_files = []
        for step in STEPS:
            path = folder / f"stamp-{step}.pdf"
            path.write_bytes(steps.stamps[step])
            stamp_files.append(path)
        _sign_all(pdfs[-3:], keys["rsa"], steps)  # warm-up: imports, first connections
        if args.profile:
            import cProfile

            cProfile.runctx(
                "_sign_all(class_pdfs, keys['rsa'], steps)", globals(), locals(), args.profile
            )
        for alg in ("rsa", "ec"):
            figures[f"raw_{alg}_signs_per_s"] = _raw_signs_per_s(*keys[alg][0], raw_seconds)
            class_times = []
            for _ in range(class_repeat):
                start = time.perf_counter()
                signed = _sign_all(class_pdfs, keys[alg], steps)
                class_times.append(time.perf_counter() - start)
            _validate(signed[:VALIDATE_SAMPLE], pki)
            figures[f"class_{alg}_seconds"] = statistics.median(class_times)
            _progress(f"{alg}: class of {CLASS_SIZE} in {figures[f'class_{alg}_seconds']:.2f} s")

            start = time.perf_counter()
            signed = _sign_all(pdfs, keys[alg], steps)
            seconds = time.perf_counter() - start
            _validate(signed[-VALIDATE_SAMPLE:], pki)
            sizes.extend(len(pdf) for pdf in signed)
            del signed
            figures[f"school_{alg}_seconds"] = seconds
            figures[f"per_record_{alg}_ms"] = seconds * 1000 / len(pdfs)
            _progress(f"{alg}: school of {len(pdfs)} in {seconds:.1f} s")

            naive_times, naive_out = [], []
            for pdf in class_pdfs[:naive_sample]:
                start = time.perf_counter()
                naive_out.append(_naive_record(pdf, keys[alg], stamp_files, url))
                naive_times.append((time.perf_counter() - start) * 1000)
            _validate(naive_out[:1], pki)
            naive_ms = statistics.median(naive_times)
            figures[f"naive_per_record_{alg}_ms"] = naive_ms
            figures[f"ratio_vs_naive_{alg}"] = naive_ms / figures[f"per_record_{alg}_ms"]
            _progress(f"{alg}: naive {naive_ms:.0f} ms per record")

        # Records not rendered before: Typst memoises identical inputs.
        db_docs = _documents(variants.example(), CLASS_SIZE, first=SCHOOL_SIZE)
        db, db_sample = _db_class(pki_folder, db_docs)
        _validate(db_sample, pki)
        settings.TSA_URL = ""

    unsigned_kb = statistics.mean(len(p) for p in pdfs) / 1024
    signed_kb = statistics.mean(sizes) / 1024
    n = len(pdfs)
    print(f"{len(pdfs)} records rendered up front, {render_ms:.1f} ms each (not in the figures)")
    print(f"{'three signatures + timestamps':32}{'RSA-2048':>12}{'ECDSA P-256':>14}")
    rows: list[tuple[str, str, str]] = [
        (f"class of {CLASS_SIZE} (s)", "class_{}_seconds", "{:.2f}"),
        (f"school of {n} (s)", "school_{}_seconds", "{:.1f}"),
        ("per record (ms)", "per_record_{}_ms", "{:.1f}"),
        ("naive per record (ms)", "naive_per_record_{}_ms", "{:.0f}"),
        ("ratio naive / pipeline", "ratio_vs_naive_{}", "{:.1f}x"),
        ("raw key signatures/s", "raw_{}_signs_per_s", "{:.0f}"),
    ]
    for label, key, fmt in rows:
        rsa, ec = (fmt.format(figures[key.format(alg)]) for alg in ("rsa", "ec"))
        print(f"{label:32}{rsa:>12}{ec:>14}")
    print(
        f"class of {CLASS_SIZE} through the database (RSA): run_batch x3 {db.run_seconds:.2f} s "
        f"(of which {db.render_seconds:.2f} s rendering the records in the teacher's batch), "
        f"start_batch x3 {db.start_seconds:.2f} s (password, PIN, certificate checks)"
    )
    print(f"record size: {unsigned_kb:.0f} KB unsigned, {signed_kb:.0f} KB signed three times")
    print()
    for key in sorted(figures):
        value = figures[key]
        print(f"{key}={value:.0f}" if key.startswith("raw_") else f"{key}={value:.2f}")
    print(f"db_class_rsa_seconds={db.run_seconds:.2f}")
    print(f"db_render_seconds={db.render_seconds:.2f}")
    print(f"db_start_seconds={db.start_seconds:.2f}")
    print(f"render_per_record_ms={render_ms:.1f}")
    print(f"unsigned_pdf_kb={unsigned_kb:.0f}")
    print(f"signed_pdf_kb={signed_kb:.0f}")
    print(f"class_size={CLASS_SIZE}")
    print(f"school_size={n}")
    worst_class = max(figures["class_rsa_seconds"], figures["class_ec_seconds"])
    worst_school = max(figures["school_rsa_seconds"], figures["school_ec_seconds"])
    print(f"target_class_met={worst_class < TARGET_CLASS_SECONDS}")
    print(f"target_school_met={worst_school * SCHOOL_SIZE / n < TARGET_SCHOOL_SECONDS}")
    tmp.cleanup()


if __name__ == "__main__":
    main()
