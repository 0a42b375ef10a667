"""Benchmark: validating year-record files (issue 7 §2-3), full validation against the fast path.

Builds one demo class in a throwaway SQLite database (the demo world, its PKI, class 1A of Dịch
Vọng A compiled, signed by the teacher, the principal and the seal, given B-LTA data and issued
into the log, with the demo TSA on loopback), then times, on the same issued files:

* ``full_ms``: :func:`hocba.verification.online.full_validation` (every signature through
  ETSI validation, difference analysis, embedded data, log proof, status), median per file;
* ``fast_ms``: :func:`hocba.verification.online.verify_pdf_online` on a file whose report was
  stored (SHA-256 look-up, stored JSON, current status from the database), median;
* ``first_check_ms``: the first online check of a file with no stored report yet (full
  validation plus storing it);
* ``offline_ms``: :func:`hocba.verification.report.verify_pdf` with an exported trust bundle and
  the record's ``.tlog-proof`` (what ``hocba verify`` does after reading its files);
* baseline ``pyhanko_ms``: pyHanko's own ETSI validation of the same file, a straightforward
  integration: ``ades_lta_validation`` of each signature with pyHanko's default difference
  policy, nothing else; ``ratio_full_vs_pyhanko`` and ``ratio_pyhanko_vs_fast``.

Targets (issue 7): a genuine issued file answered in under 50 ms (``target_fast_met``), a file
that needs full validation in under 500 ms (``target_full_met``). Usage::

    .venv/bin/python benchmarks/verify.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

TARGET_FAST_MS = 50.0
TARGET_FULL_MS = 500.0


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
    call_command("createcachetable", verbosity=0)


def _issued_class() -> list[Any]:
    """Class 1A of the demo's issued school: compiled, signed three times, B-LTA, issued."""
    from hocba.records.models import YearRecord, YearRecordStatus
    from hocba.schools.demo import seed_demo
    from hocba.schools.models import SchoolClass
    from hocba.schools.selectors import current_school_year
    from hocba.signing import demo_records
    from hocba.signing.demo import seed_demo_pki
    from hocba.signing.models import SigningStep

    seed_demo(stdout=io.StringIO())
    pki = seed_demo_pki()
    year = current_school_year()
    school_class = (
        SchoolClass.objects.filter(school__code=demo_records.ISSUED_SCHOOL, school_year=year)
        .select_related("school", "homeroom_teacher__user")
        .order_by("grade", "name")
        .first()
    )
    assert school_class is not None and school_class.homeroom_teacher is not None and year
    school = school_class.school
    principal = demo_records._principal(school)
    with demo_records._timestamp_authority(pki):
        demo_records._compile(school_class)
        teacher = school_class.homeroom_teacher.user
        demo_records._sign(teacher, SigningStep.TEACHER, pki, school_class=school_class)
        demo_records._sign(principal, SigningStep.PRINCIPAL, pki, school=school)
        demo_records._sign(principal, SigningStep.SEAL, pki, school=school)
        demo_records._issue(school, year)
    return list(
        YearRecord.objects.filter(status=YearRecordStatus.ISSUED)
        .select_related("school")
        .order_by("pk")
    )


def _median_ms(function: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _pyhanko_validation(data: bytes) -> None:
    """pyHanko alone: ETSI LTA validation of every signature, default difference policy."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.ades import ades_lta_validation
    from pyhanko.sign.validation.policy_decl import (
        PdfSignatureValidationSpec,
        RevinfoOnlineFetchingRule,
        RevocationInfoGatheringSpec,
        SignatureValidationSpec,
    )
    from pyhanko_certvalidator.context import CertValidationPolicySpec
    from pyhanko_certvalidator.policy_decl import (
        CertRevTrustPolicy,
        RevocationCheckingPolicy,
        RevocationCheckingRule,
    )
    from pyhanko_certvalidator.registry import SimpleTrustManager

    from hocba.signing import registry

    store = registry.trust_store()
    spec = PdfSignatureValidationSpec(
        SignatureValidationSpec(
            cert_validation_policy=CertValidationPolicySpec(
                trust_manager=SimpleTrustManager.build(trust_roots=list(store.roots)),
                revinfo_policy=CertRevTrustPolicy(
                    RevocationCheckingPolicy(
                        ee_certificate_rule=RevocationCheckingRule.CHECK_IF_DECLARED,
                        intermediate_ca_cert_rule=RevocationCheckingRule.CHECK_IF_DECLARED,
                    )
                ),
            ),
            revinfo_gathering_policy=RevocationInfoGatheringSpec(
                online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY
            ),
        )
    )
    reader = PdfFileReader(io.BytesIO(data))
    for signature in reader.embedded_regular_signatures:
        asyncio.run(ades_lta_validation(signature, spec))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    files = 2 if args.quick else 5
    repeat = 1 if args.quick else 3
    fast_repeat = 20 if args.quick else 200

    import logging

    logging.disable(logging.WARNING)  # pyHanko's soft-fail notices
    with tempfile.TemporaryDirectory(prefix="hocba-bench-verify-") as folder:
        _setup_django(folder)
        _progress("seeding the demo world and issuing one class (about a minute) …")
        started = time.perf_counter()
        records = _issued_class()
        seed_seconds = time.perf_counter() - started
        assert len(records) >= files, f"only {len(records)} issued records"

        from hocba.signing.batch import current_pdf
        from hocba.verification import bundle
        from hocba.verification.models import StoredReport
        from hocba.verification.online import full_validation, verify_pdf_online
        from hocba.verification.report import VALID, verify_pdf

        pdfs = [current_pdf(record) for record in records[:files]]
        for data in pdfs:  # never time a broken pipeline
            report = full_validation(data)
            assert report.verdict == VALID, report.to_json()
        _progress(f"{len(records)} records issued; timing {files} files …")

        full = [_median_ms(lambda d=data: full_validation(d), repeat) for data in pdfs]
        pyhanko = [_median_ms(lambda d=data: _pyhanko_validation(d), repeat) for data in pdfs]
        StoredReport.objects.all().delete()
        first = []
        for data in pdfs:
            started = time.perf_counter()
            assert verify_pdf_online(data).mode == "stored"
            first.append((time.perf_counter() - started) * 1000)
        fast = [_median_ms(lambda d=data: verify_pdf_online(d), fast_repeat) for data in pdfs]
        assert verify_pdf_online(pdfs[0]).verdict == VALID

        trust = bundle.load_bundle(
            bundle.write_bundle(Path(folder) / "bundle", bundle.bundle_files())
        )
        proofs = [bundle.record_proof(record) for record in records[:files]]
        offline = [
            _median_ms(lambda d=data, p=proof: verify_pdf(d, trust=trust, proof=p), repeat)
            for data, proof in zip(pdfs, proofs, strict=True)
        ]
        assert verify_pdf(pdfs[0], trust=trust, proof=proofs[0]).verdict == VALID

    figures = {
        "files": files,
        "file_kb": round(statistics.mean(len(d) for d in pdfs) / 1024, 1),
        "full_ms": round(statistics.median(full), 1),
        "full_max_ms": round(max(full), 1),
        "fast_ms": round(statistics.median(fast), 2),
        "fast_max_ms": round(max(fast), 2),
        "first_check_ms": round(statistics.median(first), 1),
        "offline_ms": round(statistics.median(offline), 1),
        "pyhanko_ms": round(statistics.median(pyhanko), 1),
        "validations_per_s": round(1000 / statistics.median(full), 2),
        "fast_answers_per_s": round(1000 / statistics.median(fast), 1),
        "ratio_full_vs_pyhanko": round(statistics.median(full) / statistics.median(pyhanko), 2),
        "ratio_pyhanko_vs_fast": round(statistics.median(pyhanko) / statistics.median(fast), 1),
        "target_fast_met": statistics.median(fast) < TARGET_FAST_MS,
        "target_full_met": statistics.median(full) < TARGET_FULL_MS,
        "seed_seconds": round(seed_seconds, 1),
    }
    print(f"{'measure':<24} value")
    for key in ("full_ms", "fast_ms", "first_check_ms", "offline_ms", "pyhanko_ms"):
        print(f"{key:<24} {figures[key]}")
    for key, value in figures.items():
        print(f"{key}={value}")


if __name__ == "__main__":
    main()
