"""The sending deployment of the two-instance transfer test (:mod:`test_transfer_instances`).

Run in a process of its own with its own data folder (its own SQLite database, log key and demo
PKI) and ledger origin: a synthetic school whose grade-2 pupil also did grade 1 there the year
before; both years are compiled, signed by the homeroom teacher, the principal and the seal, and
issued into this deployment's log. The pupil is then released to another school; the transfer
package and this deployment's trust bundle are written where asked, and a JSON summary printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--package", required=True)
    parser.add_argument("--bundle", required=True)
    args = parser.parse_args()
    os.environ["DJANGO_SETTINGS_MODULE"] = "hocba.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)

    from hocba.assessment import services as assessment_services
    from hocba.assessment.tests.marks import fill_end_of_year
    from hocba.jobs.district import seed_district
    from hocba.records.models import YearRecord, YearRecordStatus
    from hocba.records.services import compile_class
    from hocba.records.transfers import package_bytes, release_pupil
    from hocba.schools.models import Enrolment, Role, SchoolClass, SchoolYear, SchoolYearProfile
    from hocba.signing import tsa
    from hocba.signing.demo_records import _issue, _sign
    from hocba.signing.models import SigningStep
    from hocba.verification.bundle import bundle_files, write_bundle

    district = seed_district(1, classes_per_school=3)
    school, pki = district.schools[0], district.pki
    this_year = district.school_year
    class_2a = SchoolClass.objects.get(school=school, school_year=this_year, grade=2)
    teacher = class_2a.homeroom_teacher
    principal = school.staff.filter(roles__role=Role.PRINCIPAL).get().user
    enrolment = (
        Enrolment.objects.filter(school_class=class_2a).select_related("pupil").order_by("pk")[0]
    )
    pupil = enrolment.pupil

    last_year = SchoolYear.objects.create(
        name=f"{this_year.start_year - 1}-{this_year.start_year}",
        start_year=this_year.start_year - 1,
        starts_on=dt.date(this_year.start_year - 1, 9, 5),
        ends_on=dt.date(this_year.start_year, 5, 31),
    )
    profile = SchoolYearProfile.objects.get(school=school, school_year=this_year)
    SchoolYearProfile.objects.create(
        school=school,
        school_year=last_year,
        school_name=profile.school_name,
        address_levels=profile.address_levels,
        place_name=profile.place_name,
    )
    class_1a = SchoolClass.objects.create(
        school=school, school_year=last_year, grade=1, name="1A", homeroom_teacher=teacher
    )
    earlier = Enrolment.objects.create(
        pupil=pupil,
        school_class=class_1a,
        school_year=last_year,
        register_number=enrolment.register_number,
        joined_on=last_year.starts_on,
    )
    fill_end_of_year(earlier)

    authority = tsa.DemoTsa.from_files(pki.tsa_cert, pki.tsa_key, (pki.issuing_cert, pki.root_cert))
    with tsa.serve(authority) as url:
        settings.TSA_URL = url
        for school_class in (class_1a, class_2a):
            assessment_services.finish_class(actor=teacher.user, school_class=school_class)
            compile_class(actor=teacher.user, school_class=school_class)
            _sign(teacher.user, SigningStep.TEACHER, pki, school_class=school_class)
            _sign(principal, SigningStep.PRINCIPAL, pki, school_class=school_class)
            _sign(principal, SigningStep.SEAL, pki, school_class=school_class)
            _issue(school, school_class.school_year)

    issued = YearRecord.objects.filter(pupil=pupil, status=YearRecordStatus.ISSUED)
    transfer = release_pupil(
        actor=principal,
        enrolment=enrolment,
        destination="Trường Tiểu học B (hệ thống khác)",
        on=this_year.ends_on + dt.timedelta(days=20),
        reason="Gia đình chuyển nơi ở",
    )
    Path(args.package).write_bytes(package_bytes(transfer))
    write_bundle(Path(args.bundle), bundle_files())
    print(
        json.dumps(
            {
                "ministry_code": pupil.ministry_code,
                "full_name": pupil.full_name,
                "short_codes": sorted(r.short_code for r in issued),
                "years": sorted(r.school_year.name for r in issued),
                "records": transfer.records,
                "school_name": school.name,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
