"""Fixtures for the signing tests: a demo PKI for the shared world, a TSA over HTTP, records.

The PKI (one RSA key per person of the world, the seals of both schools) is made once per test
session in a temporary folder; each test gets it trusted (``settings.TRUST_DIR``) and, with
``registered``, every certificate registered as the demo does it. The TSA is the demo one,
answering RFC 3161 over HTTP on loopback for the whole session.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

from hocba.conftest import World
from hocba.records.models import YearRecord
from hocba.records.tests.conftest import compile_4a, filled, finish  # noqa: F401 (fixture)
from hocba.schools.models import School, Staff
from hocba.signing import demo, tsa
from hocba.signing.models import CertificatePurpose, SigningCertificate
from hocba.signing.pki import DemoPki, init_demo_pki
from hocba.signing.tests.softhsm import (  # noqa: F401 — fixtures, defined once per process here
    softhsm,
    softhsm_ec_token,
    softhsm_pki,
    softhsm_rsa_token,
)

PIN = demo.DEMO_PIN
# The world's staff are all named "Nguyễn Văn <school letter>" (hocba.conftest.make_user).
WORLD_PEOPLE = [
    (f"{side}_{role}", f"Nguyễn Văn {side.upper()}", PIN)
    for side in ("a", "b")
    for role in ("gvcn", "gvbm", "ht", "pht")
]
WORLD_SCHOOLS = [("01001", "Trường Tiểu học A"), ("01002", "Trường Tiểu học B")]


@pytest.fixture(autouse=True)
def vietnamese() -> Iterator[None]:
    with translation.override("vi"):
        yield


@pytest.fixture(scope="session")
def world_pki(tmp_path_factory: pytest.TempPathFactory) -> DemoPki:
    return init_demo_pki(
        tmp_path_factory.mktemp("pki") / "demo", schools=WORLD_SCHOOLS, people=WORLD_PEOPLE
    )


@pytest.fixture(scope="session")
def tsa_url(world_pki: DemoPki) -> Iterator[str]:
    authority = tsa.DemoTsa.from_files(
        world_pki.tsa_cert, world_pki.tsa_key, (world_pki.issuing_cert, world_pki.root_cert)
    )
    with tsa.serve(authority) as url:
        yield url


@pytest.fixture
def trusted(settings: Any, tmp_path: Path, world_pki: DemoPki, tsa_url: str) -> DemoPki:
    """The world PKI's root and CRL trusted, the TSA configured."""
    settings.TRUST_DIR = tmp_path / "trust"
    settings.TSA_URL = tsa_url
    settings.MEDIA_ROOT = tmp_path / "media"
    demo.trust_demo_root(world_pki)
    return world_pki


@dataclass
class Registered:
    world: World
    pki: DemoPki

    def personal(self, username: str) -> SigningCertificate:
        return SigningCertificate.objects.get(
            staff__user__username=username,
            purpose=CertificatePurpose.PERSONAL,
            retired_at__isnull=True,
        )

    def seal(self, school: School) -> SigningCertificate:
        return SigningCertificate.objects.get(
            school=school, purpose=CertificatePurpose.SEAL, retired_at__isnull=True
        )


@pytest.fixture
def registered(world: World, trusted: DemoPki) -> Registered:
    staff = list(Staff.objects.filter(user__username__in=[p[0] for p in WORLD_PEOPLE]))
    demo.register_demo_certificates(trusted, staff, [world.own.school, world.foreign.school])
    return Registered(world, trusted)


@pytest.fixture
def compiled(filled: World) -> list[YearRecord]:  # noqa: F811
    """Class 4A of school A finished and compiled: three records waiting for the teacher."""
    finish(filled)
    compile_4a(filled)
    return list(YearRecord.objects.filter(school=filled.own.school).order_by("pk"))
