"""The access matrix (issue 10 §1): every URL pattern and API operation, every role, own and
foreign objects, against the declared policy of ``access_policy.py``.

One world (two schools, every role, compiled records, jobs, batches, transfers...) is built per
module; every request runs in a transaction that is rolled back, so each caller finds it as it was.
A POST to a state-changing endpoint is compared with a hash of every table: a refusal must change
nothing, an allowed POST says whether it wrote (``w``).

A new endpoint fails ``test_every_url_pattern_is_declared`` (or ``..._api_operation_...``) until
it has a row. To write the row: add it with a guess, run this module with
``HOCBA_MATRIX_RECORD=/tmp/matrix.json``, read the answers recorded there, and declare the ones
that are right (a wrong answer is an access bug to fix, not a row to copy).
"""

from __future__ import annotations

import functools
import json
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation

from hocba.api import keys
from hocba.common.tests import access_policy as policy
from hocba.common.tests.access_harness import (
    ROLES,
    api_body,
    api_operations,
    ask,
    callers,
    fingerprint,
    outcome,
    table_hashes,
    url_routes,
)
from hocba.common.tests.access_objects import Targets, build_targets, build_world

CODES: dict[str | int, str] = {"login": "L", "ok": "+", 401: "1", 403: "3", 404: "4", 405: "5"}
READ_ONLY = {"anonymous", "district_staff", "department_staff"}  # never change a school's data
API_METHODS = ("GET ", "POST ", "PUT ", "PATCH ", "DELETE ")


@dataclass
class Matrix:
    targets: Targets
    world: Any


@pytest.fixture(scope="module")
def matrix(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Matrix]:
    """One world for the whole module, rolled back at its end."""
    with (
        django_db_blocker.unblock(),
        tempfile.TemporaryDirectory() as media,
        override_settings(MEDIA_ROOT=media),
        translation.override("vi"),
        transaction.atomic(),
    ):
        world = build_world()
        yield Matrix(build_targets(world), world)
        transaction.set_rollback(True)


# --- the table covers everything ----------------------------------------------------------


def test_every_url_pattern_is_declared() -> None:
    routes = url_routes()
    missing = sorted(
        r.name
        for r in routes
        if r.name not in policy.POLICY and not r.name.startswith(f"{policy.ADMIN_NAMESPACE}:")
    )
    assert not missing, f"URL patterns missing from access_policy.POLICY: {missing}"
    assert len(routes) > 100


def test_every_api_operation_is_declared() -> None:
    operations = api_operations()
    missing = [op for op in operations if op not in policy.POLICY]
    assert not missing, f"API operations missing from access_policy.POLICY: {missing}"
    assert operations


def test_the_policy_names_only_existing_endpoints() -> None:
    known = {r.name for r in url_routes()} | set(api_operations())
    stale = sorted(set(policy.POLICY) - known)
    assert not stale, f"access_policy.POLICY names endpoints that no longer exist: {stale}"
    assert set(policy.POLICY) >= policy.WRITES


def test_every_row_is_well_formed() -> None:
    for name, methods in policy.POLICY.items():
        for method, row in methods.items():
            assert method in {"GET", "POST"}, name
            rows = row if isinstance(row, tuple) else (row,)
            for text in rows:
                assert re.fullmatch(r"[+wL13457]{9}", text), f"{name} {method}: {text!r}"


# --- the matrix ---------------------------------------------------------------------------


def _sides(row: policy.Row) -> list[tuple[str, str]]:
    if isinstance(row, tuple):
        return [("own", row[0]), ("foreign", row[1])]
    return [("own", row)]


@functools.cache
def _routes() -> dict[str, Any]:
    return {route.name: route for route in url_routes()}


def _url(name: str, side: str, targets: Targets) -> tuple[str, dict[str, Any]]:
    if name.startswith(API_METHODS):
        path = name.split(" ", 1)[1]
        values = targets.values[side]
        names = re.findall(r"{(\w+)}", path)
        for key, value in targets.kwargs(names, side).items():
            path = path.replace(f"{{{key}}}", str(value))
        return path, values
    route = _routes()[name]
    url = reverse(name, kwargs=targets.kwargs(list(route.kwargs), side))
    if name in policy.QUERIES:
        url += "?" + policy.QUERIES[name].format(**targets.values[side])
    return url, {}


def _answer(name: str, method: str, response: Any, changed: list[str]) -> str:
    """The outcome code; for a POST to a state-changing endpoint, ``w`` if it wrote, and ``!``
    if it was refused but wrote anyway."""
    got = CODES[outcome(response)]
    if name not in policy.WRITES or method != "POST" or got == "5":
        return got
    if got == "+":
        return "w" if changed else "+"
    return "!" if changed else got


RECORDED: dict[str, dict[str, Any]] = {}


def _row(
    name: str, method: str, side: str, url: str, values: dict[str, Any], context: dict[str, Any]
) -> tuple[str, list[str]]:
    """What each role gets, as a policy row, and one line per answer that changed data."""
    api_call = name.startswith(API_METHODS)
    baseline = context["baseline"] if method == "POST" else None
    actual, notes = "", []
    for role in ROLES:
        caller = context["callers"][role]
        body: dict[str, Any] | None = (
            api_body(url, caller, values) if api_call else policy.POST_BODIES.get(name)
        )
        response, changed = ask(
            caller, method, url, api_call=api_call, body=body, baseline=baseline
        )
        actual += _answer(name, method, response, changed)
        notes.append(f"{role}: {response.status_code}, changed {', '.join(changed) or 'nothing'}")
    return actual, notes


@pytest.mark.parametrize("name", sorted(policy.POLICY))
def test_each_role_gets_the_declared_answer(matrix: Matrix, name: str, db: Any) -> None:
    context = {
        "callers": callers(matrix.world),
        "baseline": table_hashes() if name in policy.WRITES else None,
    }
    wrong = []
    for method, row in policy.POLICY[name].items():
        for side, expected in _sides(row):
            url, values = _url(name, side, matrix.targets)
            actual, notes = _row(name, method, side, url, values, context)
            RECORDED.setdefault(name, {}).setdefault(method, {})[side] = actual
            for role, want, got, note in zip(ROLES, expected, actual, notes, strict=True):
                if want != got:
                    wrong.append(f"{name} {method} {side} as {role}: expected {want}, got {got}")
                    wrong.append(f"    ({note})")
    _record_if_asked()
    assert not wrong, "\n".join(wrong)


def _record_if_asked() -> None:
    """``HOCBA_MATRIX_RECORD=file.json``: write the answers seen, to review a new endpoint."""
    target = os.environ.get("HOCBA_MATRIX_RECORD")
    if target:
        Path(target).write_text(json.dumps(RECORDED, indent=1, sort_keys=True))


def test_admin_is_for_staff_only(matrix: Matrix, db: Any) -> None:
    """:data:`access_policy.ADMIN_RULE`: the roles are sent to the admin's login; staff get in."""
    urls = [reverse("admin:index")] + [
        reverse(r.name) for r in url_routes() if r.name.endswith("_changelist")
    ]
    who = callers(matrix.world)
    for role, want in zip(ROLES, policy.ADMIN_RULE, strict=True):
        for url in urls:
            got = CODES[outcome(ask(who[role], "GET", url, api_call=False)[0])]
            assert got == want, f"{url} as {role}: expected {want}, got {got}"
    superuser = get_user_model().objects.create_superuser("sieu", password="x")
    client = Client()
    client.force_login(superuser)
    for url in urls:
        assert client.get(url).status_code == 200, url


# --- the table itself keeps the ground rules ------------------------------------------------

SCHOOL_ROLES = range(1, 6)  # subject teacher ... school administrator: columns of ROLES


def test_no_role_writes_where_the_ground_rules_forbid_it() -> None:
    """Above the school everything is read-only; nobody at a school writes to another school;
    only the system administrator crosses schools (schools/access.py)."""
    read_only = [ROLES.index(role) for role in READ_ONLY]
    for name in policy.WRITES:
        row = policy.POLICY[name].get("POST")
        if row is None:
            continue
        for side, text in _sides(row):
            writers = {ROLES[i] for i, code in enumerate(text) if code == "w"}
            assert not writers & {ROLES[i] for i in read_only}, f"{name} {side}: {writers}"
            if side == "foreign":
                assert writers <= {"system_admin"}, f"{name} foreign: {writers}"
    for name, methods in policy.POLICY.items():
        for method, row in methods.items():
            if method == "POST" and name in policy.WRITES:
                continue  # refused in the page ("+": answered, nothing changed), checked above
            for side, text in _sides(row):
                if side == "foreign" and text[0] != "+":
                    school_side = {text[i] for i in SCHOOL_ROLES}
                    assert not school_side & set("+w"), f"{name} {method} foreign: {text}"


def test_a_change_is_seen_by_the_fingerprint(matrix: Matrix, db: Any) -> None:
    before = fingerprint()
    matrix.world.own.pupils[0].__class__.objects.filter(pk=matrix.world.own.pupils[0].pk).update(
        given_name="Ánh Mới"
    )
    assert fingerprint() != before


@pytest.mark.parametrize(
    ("scopes", "expected"),
    [(["exchange:push"], 400), (["verify:read", "verify:file"], 403), (None, 401)],
)
def test_exchange_push_needs_a_key_with_its_scope(
    matrix: Matrix, db: Any, scopes: list[str] | None, expected: int
) -> None:
    """``POST /api/v1/exchange/record-sets``: API keys only (sessions get 401, see POLICY); the
    key needs ``exchange:push``. An empty batch is refused (400) and stores nothing."""
    headers = {"Idempotency-Key": "lan-1"}
    if scopes is not None:
        _key, raw_key = keys.create_key(
            actor=matrix.world.users["system_admin"], name="Kho", institution="Sở", scopes=scopes
        )
        headers["Authorization"] = f"Bearer {raw_key}"
    before = table_hashes()
    response = Client().post(
        "/api/v1/exchange/record-sets",
        data=json.dumps({"record_sets": []}),
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == expected
    after = table_hashes()
    # A key that authenticates notes when it was last used (api/keys.py), even if refused.
    assert [t for t in after if after[t] != before[t] and t != "api_apikey"] == []
