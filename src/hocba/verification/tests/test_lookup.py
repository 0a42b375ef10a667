"""Parent look-up: a pupil's Ministry code and a second factor → every issued record, across
schools; a wrong factor and an unknown pupil get the same answer."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from hocba.ledger import issuing
from hocba.ledger.models import CopyIssued
from hocba.records.models import Correction, YearRecord, YearRecordStatus
from hocba.records.tests.conftest import compile_4a
from hocba.schools.models import Enrolment
from hocba.signing.models import SigningStep
from hocba.signing.tests.test_batch import _sign
from hocba.verification.tests.portal_helpers import (  # noqa: F401
    access_code,
    clean_limits,
    issue_earlier_year,
    without_csrf,
)

pytestmark = pytest.mark.django_db

WRONG = "Mã truy cập hoặc ngày sinh không đúng"


def _look_up(client: Client, ministry_code: str, **factor: str) -> Any:
    return client.post("/tra-cuu/", {"ministry_code": ministry_code, **factor})


@pytest.fixture
def moved(issued: list[YearRecord]) -> tuple[YearRecord, YearRecord]:
    """A pupil's grade 3 at school B and grade 4 at school A, both issued."""
    moved_pupil = Enrolment.objects.get(school_year__name="2023-2024").pupil_id
    current = next(record for record in issued if record.pupil_id == moved_pupil)
    return issue_earlier_year(current), current


def test_every_record_across_schools_and_the_booklet(moved: tuple[YearRecord, YearRecord]) -> None:
    earlier, current = moved
    client = Client()
    pupil = current.pupil
    # The access code of the older paper (the other school) finds both years.
    response = _look_up(client, f" {pupil.ministry_code} ", access_code=access_code(earlier))
    assert response.status_code == 302 and response["Location"] == "/tra-cuu/"
    page = client.get("/tra-cuu/").content.decode()
    assert pupil.full_name in page and pupil.date_of_birth.strftime("%d/%m/%Y") in page
    assert "Trường Tiểu học B (tên cũ)" in page and "2023-2024" in page and "2024-2025" in page
    assert page.index("2024-2025") < page.index("2023-2024")  # newest year first
    assert f"/xac-thuc/{earlier.short_code}/hoc-ba.pdf" in page
    assert f"/xac-thuc/{current.short_code}/hoc-ba.pdf" in page

    booklet = client.get("/tra-cuu/so-hoc-ba.pdf")
    assert booklet.status_code == 200 and booklet.content.startswith(b"%PDF")
    copies = list(CopyIssued.objects.order_by("record_id"))
    assert [(c.record, c.channel, c.purpose) for c in copies] == sorted(
        [(earlier, "booklet", "parent"), (current, "booklet", "parent")], key=lambda c: c[0].pk
    )
    single = client.get(f"/xac-thuc/{earlier.short_code}/hoc-ba.pdf")
    assert single.status_code == 200 and single.content.startswith(b"%PDF")
    last = CopyIssued.objects.order_by("-pk").first()
    assert last is not None and (last.record, last.channel, last.purpose) == (
        earlier,
        "download",
        "parent",
    )
    # The status page of the child's records shows the details too.
    assert pupil.full_name in client.get(f"/xac-thuc/{current.short_code}").content.decode()
    # Leaving forgets the child.
    client.post("/tra-cuu/thoat/")
    assert pupil.full_name not in client.get("/tra-cuu/").content.decode()
    assert client.get("/tra-cuu/so-hoc-ba.pdf").status_code == 302
    assert CopyIssued.objects.count() == 3


def test_date_of_birth_works(issued: list[YearRecord]) -> None:
    pupil, client = issued[1].pupil, Client()
    born = pupil.date_of_birth.strftime("%d/%m/%Y")
    assert _look_up(client, pupil.ministry_code, date_of_birth=born).status_code == 302
    assert pupil.full_name in client.get("/tra-cuu/").content.decode()


def test_wrong_factor_and_unknown_pupil_answer_alike(issued: list[YearRecord]) -> None:
    pupil, other = issued[0].pupil, issued[1]
    not_issued = "0000000101"  # a pupil of school B with nothing issued
    answers, queries = [], []
    for code, factor in [
        (pupil.ministry_code, {"access_code": access_code(other)}),  # another child's code
        (pupil.ministry_code, {"date_of_birth": "01/01/2011"}),
        ("9999999999", {"access_code": access_code(other)}),
        (not_issued, {"date_of_birth": "10/01/2015"}),
    ]:
        with CaptureQueriesContext(connection) as captured:
            response = _look_up(Client(), code, **factor)
        answers.append((response.status_code, without_csrf(response.content.decode())))
        queries.append(len(captured))
    assert answers[0][0] == 200 and WRONG in answers[0][1]
    assert all(answer == answers[0] for answer in answers), "the answers must not differ"
    assert len(set(queries)) == 1, queries
    assert pupil.full_name not in answers[0][1] and not CopyIssued.objects.exists()


def test_malformed_code_and_missing_factor(issued: list[YearRecord]) -> None:
    page = _look_up(Client(), "12345", access_code="x").content.decode()
    assert "Mã học sinh gồm 10 chữ số" in page
    page = _look_up(Client(), issued[0].pupil.ministry_code).content.decode()
    assert "Hãy nhập mã truy cập" in page and issued[0].pupil.full_name not in page


def test_lookup_limits(settings: Any, issued: list[YearRecord]) -> None:
    settings.HOCBA_RATE_LIMITS = {"parent_lookup": (2, 900), "parent_lookup_target": (2, 3600)}
    pupil = issued[0].pupil
    client = Client(REMOTE_ADDR="10.1.0.1")
    for _attempt in range(2):
        assert _look_up(client, "9999999999", date_of_birth="01/01/2011").status_code == 200
    refused = _look_up(client, pupil.ministry_code, access_code=access_code(issued[0]))
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert pupil.full_name not in refused.content.decode()
    # Two failures on one code lock that code from anywhere, known pupil or not.
    for address in ("10.1.0.2", "10.1.0.3"):
        _look_up(Client(REMOTE_ADDR=address), pupil.ministry_code, date_of_birth="01/01/2011")
        _look_up(Client(REMOTE_ADDR=address), "8888888888", date_of_birth="01/01/2011")
    for code in (pupil.ministry_code, "8888888888"):
        assert (
            _look_up(Client(REMOTE_ADDR="10.1.0.4"), code, date_of_birth="01/01/2011").status_code
            == 429
        )


def test_revoked_and_superseded_are_listed_with_their_state(
    registered: Any, issued: list[YearRecord]
) -> None:
    world = registered.world
    principal = world.own.users["principal"]
    old = issued[0]
    Correction.objects.create(
        original=old,
        enrolment=old.enrolment,
        reason="Sai nơi sinh của học sinh so với giấy khai sinh",
        requested_by=principal,
        requested_at=old.compiled_at,
    )
    pupil = old.pupil
    pupil.birthplace = "Bệnh viện Phụ sản Hà Nội"
    pupil.save(update_fields=["birthplace"])
    compile_4a(world, user="principal")
    _sign(registered, SigningStep.TEACHER, "homeroom_teacher")
    _sign(registered, SigningStep.PRINCIPAL, "principal", whole_school=True)
    _sign(registered, SigningStep.SEAL, "principal", whole_school=True)
    issuing.issue_sealed(YearRecord.objects.filter(status="sealed").values_list("pk", flat=True))
    new = YearRecord.objects.get(enrolment=old.enrolment, status=YearRecordStatus.ISSUED)

    client = Client()
    # The old paper's access code still finds the child (superseded, not revoked).
    assert _look_up(client, pupil.ministry_code, access_code=access_code(old)).status_code == 302
    page = client.get("/tra-cuu/").content.decode()
    assert f'class="superseded" data-code="{old.short_code}"' in page
    assert f'href="/xac-thuc/{new.short_code}"' in page
    assert f"/xac-thuc/{old.short_code}/hoc-ba.pdf" not in page
    assert f"/xac-thuc/{new.short_code}/hoc-ba.pdf" in page

    issuing.revoke(actor=principal, record=new, reason="Phát hành nhầm cho học sinh khác")
    page = client.get("/tra-cuu/").content.decode()
    assert f'class="revoked" data-code="{new.short_code}"' in page
    assert "Phát hành nhầm cho học sinh khác" in page
    assert "Tải sổ học bạ" not in page and client.get("/tra-cuu/so-hoc-ba.pdf").status_code == 404
    # A revoked paper's code finds nothing.
    stranger = Client()
    page = _look_up(stranger, pupil.ministry_code, access_code=access_code(new)).content.decode()
    assert WRONG in page
