"""End-to-end throughput: a synthetic district's school year through ``hocba worker`` processes.

A district of ``--schools`` schools (about 315 pupils each: 64 schools make 20,000 pupils) is
seeded with a year of assessments and demo certificates. Half of the schools then go through the
whole pipeline with one worker process, the other half with two: compile, render, sign by the
teacher, the principal and the school seal (each signature with its RFC 3161 timestamp from the
demo TSA over HTTP, in a process of its own), long-term validation data and a document timestamp,
issue into the transparency log (:mod:`hocba.jobs.pipeline`). A stage starts when its work is
queued (as people would queue it from the web pages) and ends when the workers are done; the
seal stage ends when every record is issued, and the stored verification reports that follow
(low priority) are timed apart. Afterwards every record must be issued by exactly one log entry
and the log audit must pass, or the benchmark fails.

In the same run, on the same machine:

* the raw crypto floor: RSA signatures per second of a teacher's key (``cryptography``, the key
  loaded once);
* the naive baseline, on a sample: the same record rendered with WeasyPrint from HTML, then one
  plain ``pyhanko`` sign call per signature (the key loaded from its PKCS#12 file each time, the
  same TSA), in one process.

``records_per_s_<n>worker(s)`` counts issued records over the compile + teacher + principal +
seal stages; ``scaling`` is 2 workers over 1; ``naive_ratio`` is 2 workers over the naive
baseline. ``peak_rss_mb`` is the largest worker process. Each database runs in a child process
of its own (Django is set up once per process)::

    .venv/bin/python benchmarks/pipeline.py [--quick] [--schools N] [--database DB]

``--database`` is ``sqlite``, ``postgres`` or ``both`` (default).

PostgreSQL: a scratch database ``hocba_bench_pipeline`` on ``--postgres-server`` (default
``postgres://postgres@127.0.0.1:5432``) is created and dropped.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PG_DATABASE = "hocba_bench_pipeline"
NAIVE_SAMPLE = 5
QUICK_NAIVE_SAMPLE = 2


def _progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- one database, in a child process -------------------------------------------------------------


def _pg_admin(server: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def _naive(district: Any, sample: int, tsa_url: str, folder: Path) -> float:
    """Median ms per record: WeasyPrint, then three plain pyHanko signatures, keys loaded each
    time (the baselines of benchmarks/render.py and benchmarks/sign.py)."""
    sys.path.insert(0, str(HERE))
    import logging

    import weasyprint
    from render import _html

    logging.getLogger("weasyprint").setLevel(logging.WARNING)
    from sign import _naive_record, _Steps

    from hocba.documents import render
    from hocba.records.models import YearRecord
    from hocba.signing.demo import DEMO_PIN

    school = district.schools[0]
    pki = district.pki
    principal = next(u for u in pki.people if u.startswith("ht."))
    teacher = next(u for u in pki.people if u.startswith("gv."))
    keys = [
        (pki.people[teacher].p12_path, DEMO_PIN),
        (pki.people[principal].p12_path, DEMO_PIN),
        (pki.seals[school.code].p12_path, pki.seals[school.code].pin),
    ]
    steps = _Steps()
    stamps = []
    for name, stamp in steps.stamps.items():
        path = folder / f"naive-stamp-{name}.pdf"
        path.write_bytes(stamp)
        stamps.append(path)
    records = YearRecord.objects.filter(school=school)[: sample + 1]
    docs = [json.loads(r.canonical_json) for r in records]
    qr = render._qr_svg(docs[0]["record"]["verify_url"]).decode()
    weasyprint.HTML(string=_html(docs[0], qr)).write_pdf()  # warm-up: fonts
    times = []
    for doc in docs[1:]:
        started = time.perf_counter()
        pdf = weasyprint.HTML(string=_html(doc, qr)).write_pdf()
        _naive_record(pdf, keys, stamps, tsa_url)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _one_database(args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="hocba-bench-pipeline-"))
    database_url = None
    if args.one == "postgres":
        _pg_admin(args.postgres_server, f"DROP DATABASE IF EXISTS {PG_DATABASE}")
        _pg_admin(args.postgres_server, f"CREATE DATABASE {PG_DATABASE}")
        database_url = f"{args.postgres_server}/{PG_DATABASE}"
    env = {**os.environ, "HOCBA_DATA_DIR": str(folder), "HOCBA_TESTING": "1"}
    env["DB_CONN_MAX_AGE"] = "600"  # persistent connections for the workers (ARCHITECTURE §10)
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    os.environ.clear()
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "hocba.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    # The synthetic district's published password: hashed quickly (each start of a signing
    # batch checks it, as the web page does; Argon2 would cost 0.2 s each in this driver).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)

    from hocba.jobs import pipeline
    from hocba.jobs.district import seed_district
    from hocba.signing.demo import DEMO_PIN

    started = time.perf_counter()
    district = seed_district(args.schools, classes_per_school=args.classes)
    setup_s = time.perf_counter() - started
    from hocba.schools.models import Enrolment

    pupils = Enrolment.objects.filter(school_class__school__in=district.schools).count()
    _progress(f"{args.one}: district of {len(district.schools)} schools, {pupils} pupils seeded")
    sys.path.insert(0, str(HERE))
    from sign import _raw_signs_per_s, _tsa_server

    figures: dict[str, Any] = {"database": args.one, "pupils": pupils, "setup_s": setup_s}
    with _tsa_server(district.pki) as tsa_url:
        env["HOCBA_TSA_URL"] = tsa_url
        settings.TSA_URL = tsa_url
        half = max(1, len(district.schools) // 2)
        groups = {1: district.schools[:half], 2: district.schools[half:]}
        for workers, schools in groups.items():
            if not schools:
                continue
            run = pipeline.run_year(
                schools,
                district.school_year,
                workers=workers,
                env=env,
                pin=DEMO_PIN,
                seal_pins=lambda school: district.pki.seals[school.code].pin,
                reports=not args.no_reports,
                progress=lambda text, w=workers: _progress(f"{args.one}, {w}: {text}"),
            )
            label = "1worker" if workers == 1 else f"{workers}workers"
            figures[f"records_{label}"] = run.records
            figures[f"records_per_s_{label}"] = run.records_per_s
            for stage in run.stages:
                figures[f"{stage.name}_s_{label}"] = stage.seconds
        figures["peak_rss_mb"] = pipeline.peak_child_rss_mb()
        teacher = next(u for u in district.pki.people if u.startswith("gv."))
        figures["raw_rsa_signs_per_s"] = _raw_signs_per_s(
            district.pki.people[teacher].p12_path, DEMO_PIN, 0.3 if args.quick else 1.0
        )
        sample = QUICK_NAIVE_SAMPLE if args.quick else NAIVE_SAMPLE
        figures["naive_ms_per_record"] = _naive(district, sample, tsa_url, folder)
    check = pipeline.check_issued_once(district.schools, district.school_year)
    figures["check_ok"] = check.ok
    figures["check"] = {
        "records": check.records,
        "issued": check.issued,
        "issued_leaves": check.issued_leaves,
        "duplicates": check.duplicate_leaves,
        "not_issued": check.not_issued,
        "pending": check.pending,
        "audit": check.audit_problems,
    }
    from django.db import connections

    connections.close_all()
    if database_url:
        _pg_admin(args.postgres_server, f"DROP DATABASE IF EXISTS {PG_DATABASE}")
    return figures


# --- the parent: run each database, print the figures --------------------------------------------


def _derived(f: dict[str, Any]) -> dict[str, Any]:
    one, two = f.get("records_per_s_1worker", 0.0), f.get("records_per_s_2workers", 0.0)
    naive_per_s = 1000 / f["naive_ms_per_record"]
    return {
        "scaling": two / one if one else 0.0,
        "naive_records_per_s": naive_per_s,
        "naive_ratio": two / naive_per_s,
        "naive_ratio_1worker": one / naive_per_s,
        # Three signatures a record: how far the pipeline is from the bare key's speed.
        "crypto_floor_records_per_s": f["raw_rsa_signs_per_s"] / 3,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 schools of 2 classes (250 pupils)")
    parser.add_argument("--schools", type=int, help="schools in the district (default 64)")
    parser.add_argument("--classes", type=int, help="classes per school (default 10, 1A-5B)")
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--postgres-server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument(
        "--no-reports",
        action="store_true",
        help="drop the stored verification reports queued after issuing instead of timing them",
    )
    parser.add_argument("--one", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.schools = args.schools or (4 if args.quick else 64)
    args.classes = args.classes or (2 if args.quick else 10)
    if args.one:
        print(json.dumps(_one_database(args), default=str))
        return

    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    results = {}
    for database in databases:
        command = [sys.executable, __file__, "--one", database, "--schools", str(args.schools)]
        command += ["--classes", str(args.classes)] + (["--no-reports"] if args.no_reports else [])
        command += ["--postgres-server", args.postgres_server] + (["--quick"] if args.quick else [])
        done = subprocess.run(command, stdout=subprocess.PIPE, check=False)  # noqa: S603
        if done.returncode != 0:
            sys.exit(f"pipeline on {database} failed (exit {done.returncode})")
        figures = json.loads(done.stdout.decode().strip().splitlines()[-1])
        figures.update(_derived(figures))
        results[database] = figures
        if not figures["check_ok"]:
            sys.exit(f"pipeline on {database}: records not issued exactly once: {figures['check']}")

    stages = ["compile", "teacher", "principal", "seal"] + ([] if args.no_reports else ["reports"])
    for database, f in results.items():
        print(
            f"\n{database}: {f['pupils']} pupils, {f['records_1worker']} + "
            f"{f['records_2workers']} records issued"
        )
        print(f"{'stage (s)':<22}{'1 worker':>10}{'2 workers':>11}")
        for stage in stages:
            print(f"{stage:<22}{f[f'{stage}_s_1worker']:>10.1f}{f[f'{stage}_s_2workers']:>11.1f}")
        print(
            f"{'records per second':<22}{f['records_per_s_1worker']:>10.2f}"
            f"{f['records_per_s_2workers']:>11.2f}"
        )
        print(
            f"scaling 1 -> 2 workers {f['scaling']:.2f}x; naive baseline "
            f"{f['naive_ms_per_record']:.0f} ms per record ({f['naive_ratio']:.1f}x slower "
            f"than 2 workers); raw RSA {f['raw_rsa_signs_per_s']:.0f} signatures/s; peak RSS "
            f"{f['peak_rss_mb']:.0f} MB"
        )
    print()
    for database, f in results.items():
        prefix = "" if len(results) == 1 or database == "postgres" else f"{database}_"
        for key in (
            "records_per_s_1worker",
            "records_per_s_2workers",
            "scaling",
            "naive_ratio",
            "naive_ratio_1worker",
            "naive_ms_per_record",
            "peak_rss_mb",
            "raw_rsa_signs_per_s",
            "pupils",
            "crypto_floor_records_per_s",
            *(f"{s}_s_{w}" for s in stages for w in ("1worker", "2workers")),
        ):
            value = f[key]
            print(
                f"{prefix}{key}={value:.2f}"
                if isinstance(value, float)
                else f"{prefix}{key}={value}"
            )


if __name__ == "__main__":
    main()
