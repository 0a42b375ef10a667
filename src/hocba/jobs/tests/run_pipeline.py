"""A small district's year through worker processes, one of them SIGKILLed mid-batch; prints the
outcome as JSON. Run by :mod:`test_killed_worker` in a process of its own, against the database
and data folder its environment names (never the test database)."""

from __future__ import annotations

import argparse
import json
import os
import sys


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--schools", type=int, default=1)
    parser.add_argument("--classes", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kill", default="teacher,seal")
    args = parser.parse_args()
    os.environ["DJANGO_SETTINGS_MODULE"] = "hocba.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)

    from hocba.jobs import pipeline
    from hocba.jobs.district import seed_district
    from hocba.signing import tsa
    from hocba.signing.demo import DEMO_PIN

    district = seed_district(args.schools, classes_per_school=args.classes)
    pki = district.pki
    authority = tsa.DemoTsa.from_files(pki.tsa_cert, pki.tsa_key, (pki.issuing_cert, pki.root_cert))
    env = dict(os.environ)
    with tsa.serve(authority) as url:
        env["HOCBA_TSA_URL"] = settings.TSA_URL = url
        run = pipeline.run_year(
            district.schools,
            district.school_year,
            workers=args.workers,
            env=env,
            pin=DEMO_PIN,
            seal_pins=lambda school: pki.seals[school.code].pin,
            kill_in=tuple(filter(None, args.kill.split(","))),
            timeout=900,
            progress=lambda text: print(text, file=sys.stderr, flush=True),
        )
    check = pipeline.check_issued_once(district.schools, district.school_year)
    from django_tasks_db.models import DBTaskResult

    from hocba.jobs.models import WorkerLease

    tasks = DBTaskResult.objects.values_list("status", flat=True)
    print(
        json.dumps(
            {
                "stages": [vars(stage) for stage in run.stages],
                "records": check.records,
                "issued": check.issued,
                "issued_leaves": check.issued_leaves,
                "duplicate_leaves": check.duplicate_leaves,
                "not_issued": check.not_issued,
                "pending": check.pending,
                "signatures": check.signatures,
                "long_term": check.long_term,
                "audit_ok": check.audit_ok,
                "audit_problems": check.audit_problems,
                "ok": check.ok,
                "task_statuses": sorted(set(tasks)),
                "leases_left": WorkerLease.objects.count(),
            }
        )
    )


if __name__ == "__main__":
    main()
