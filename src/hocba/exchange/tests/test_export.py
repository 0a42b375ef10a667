"""``hocba interchange export``: a school's or a Department's ``hocba.export/1`` file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from hocba.audit.models import AuditEvent
from hocba.common.errors import PermissionRefused
from hocba.exchange.export import ExportScope, write_export
from hocba.records import interchange
from hocba.records.models import YearRecord
from hocba.signing.tests.conftest import Registered

pytestmark = pytest.mark.django_db


def _export(tmp_path: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / "export.json"
    call_command("interchange", "export", *args, "--out", str(out))
    document: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return document


def _valid(document: dict[str, Any]) -> None:
    errors = interchange.schema_errors(document, interchange.EXPORT_SCHEMA)
    assert not errors, [(interchange.error_path(e), e.message[:200]) for e in errors[:5]]


def test_school_export_validates_and_is_audited(
    registered: Registered, issued: list[YearRecord], tmp_path: Path
) -> None:
    world = registered.world
    school = world.own.school
    principal = world.own.users["principal"].username
    document = _export(
        tmp_path, "--school", school.code, "--year", world.year.name, "--user", principal
    )
    _valid(document)
    assert document["scope"] == {"kind": "school", "code": school.code, "name": school.name}
    assert document["exported_by"]["username"] == principal
    assert document["checkpoint"]["size"] >= 3
    assert len(document["record_sets"]) == 3
    assert {rs["records"][0]["record_id"] for rs in document["record_sets"]} == {
        str(r.record_id) for r in issued
    }
    event = AuditEvent.objects.get(action="exchange.export.created")
    assert event.changes["records"] == 3 and event.school == school
    assert not (tmp_path / "export.json.partial").exists()


def test_export_refused_outside_the_scope(
    registered: Registered, issued: list[YearRecord], tmp_path: Path
) -> None:
    world = registered.world
    teacher = world.own.users["homeroom_teacher"]
    with pytest.raises(CommandError, match="không có quyền"):
        _export(
            tmp_path,
            "--school",
            world.own.school.code,
            "--year",
            world.year.name,
            "--user",
            teacher.username,
        )
    assert not (tmp_path / "export.json").exists()
    assert not AuditEvent.objects.filter(action="exchange.export.created").exists()
    with pytest.raises(PermissionRefused):
        write_export(
            _Sink(),
            actor=world.foreign.users["principal"],
            scope=ExportScope(school=world.own.school),
            school_year=world.year,
        )


class _Sink:
    def write(self, text: str) -> int:
        return len(text)


def test_department_export_by_department_staff(
    registered: Registered, issued: list[YearRecord], tmp_path: Path
) -> None:
    world = registered.world
    staff = world.users["department_staff"].username
    document = _export(
        tmp_path, "--province", world.province.code, "--year", world.year.name, "--user", staff
    )
    _valid(document)
    assert document["scope"]["kind"] == "province" and len(document["record_sets"]) == 3


def test_export_queries_do_not_grow_with_pupils(
    registered: Registered,
    issued: list[YearRecord],
    django_assert_max_num_queries: Any,
) -> None:
    world = registered.world
    principal = world.own.users["principal"]
    with django_assert_max_num_queries(8):
        write_export(
            _Sink(),
            actor=principal,
            scope=ExportScope(school=world.own.school),
            school_year=world.year,
        )


def test_web_download(registered: Registered, issued: list[YearRecord], client: Any) -> None:
    from hocba.conftest import PASSWORD

    world = registered.world
    query = {"school": world.own.school.code, "year": world.year.name}
    assert client.get("/trao-doi/xuat", query).status_code == 302  # login first
    client.login(username=world.own.users["homeroom_teacher"].username, password=PASSWORD)
    assert client.get("/trao-doi/xuat", query).status_code == 403
    client.login(username=world.users["department_staff"].username, password=PASSWORD)
    response = client.get("/trao-doi/xuat", query)
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    document = json.loads(b"".join(response.streaming_content))
    _valid(document)
    assert len(document["record_sets"]) == 3
    assert AuditEvent.objects.filter(action="exchange.export.created").count() == 1
    assert client.get("/trao-doi/xuat", {**query, "year": "1999-2000"}).status_code == 404


def test_other_provinces_department_is_refused(
    registered: Registered, issued: list[YearRecord]
) -> None:
    from hocba.conftest import make_user
    from hocba.schools.models import Province, Role

    world = registered.world
    other = Province.objects.create(code="79", name="Thành phố Hồ Chí Minh")
    outsider = make_user("so_hcm", [Role.DEPARTMENT_STAFF], province=other)
    for scope in (ExportScope(province=world.province), ExportScope(school=world.own.school)):
        with pytest.raises(PermissionRefused):
            write_export(_Sink(), actor=outsider, scope=scope, school_year=world.year)
    assert not AuditEvent.objects.filter(action="exchange.export.created").exists()
