"""The demo Department's export (``hocba demo`` world with its issued school) fits the schema."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from hocba.exchange.export import ExportScope, write_export
from hocba.records import interchange
from hocba.schools.demo import seed_demo
from hocba.schools.models import Province
from hocba.schools.selectors import current_school_year
from hocba.signing.demo import seed_demo_pki
from hocba.signing.demo_records import seed_demo_records


@pytest.fixture(scope="module")
def demo_world(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """The demo seeded once for the module, in a transaction rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        seed_demo()
        pki = seed_demo_pki(tmp_path_factory.mktemp("demo-pki") / "demo")
        year = current_school_year()
        assert year is not None
        yield seed_demo_records(pki, year), year
        transaction.set_rollback(True)


def test_demo_department_export_validates(demo_world: Any, db: Any) -> None:
    from django.contrib.auth import get_user_model

    summary, year = demo_world
    assert summary.issued > 0 and summary.corrected
    province = Province.objects.get()
    admin = get_user_model().objects.create_superuser("xuat_du_lieu", password="x")
    out = io.StringIO()
    counts = write_export(out, actor=admin, scope=ExportScope(province=province), school_year=year)
    document = json.loads(out.getvalue())
    errors = interchange.schema_errors(document, interchange.EXPORT_SCHEMA)
    assert not errors, [(interchange.error_path(e), e.message[:200]) for e in errors[:5]]
    assert counts.records == summary.issued + 1  # the corrected pupil has two issued versions
    statuses = [r["status"] for rs in document["record_sets"] for r in rs["records"]]
    assert statuses.count("superseded") == 1
    assert len(document["record_sets"]) == summary.issued
