"""Discovery of every URL pattern and API operation, and the machinery that asks them.

Used by ``test_access_matrix.py`` with the table of ``access_policy.py``.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from hocba.api.endpoints import api
from hocba.conftest import PASSWORD, World
from hocba.signing import agent

ROLES = (
    "anonymous",
    "subject_teacher",
    "homeroom_teacher",
    "principal",
    "deputy_principal",
    "school_admin",
    "district_staff",
    "department_staff",
    "system_admin",
)
API_PREFIX = "/api/v1"
AGENT_PREFIX = "/signing/agent/"


@dataclass(frozen=True)
class Route:
    """One URL pattern: its reversible name, its keyword arguments and its route text."""

    name: str
    kwargs: tuple[str, ...]
    route: str


def _walk(patterns: list[Any], namespace: str, prefix: str) -> Iterator[Route]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern.url_patterns, inner, route)
        elif isinstance(pattern, URLPattern):
            name = pattern.name or route
            full = f"{namespace}:{name}" if namespace else name
            names = tuple(pattern.pattern.regex.groupindex)
            yield Route(full, tuple(n for n in names if n not in pattern.default_args), route)


def url_routes() -> list[Route]:
    """Every URL pattern of the project, the API's own patterns left to :func:`api_operations`."""
    return [r for r in _walk(get_resolver().url_patterns, "", "") if not r.name.startswith("api:")]


def api_operations() -> list[str]:
    """``"METHOD /api/v1/path"`` for every operation of the OpenAPI schema."""
    schema = api.get_openapi_schema()
    methods = {"get", "post", "put", "patch", "delete"}
    return sorted(
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method in operations
        if method in methods
    )


# --- asking ---------------------------------------------------------------------------------


def outcome(response: Any) -> str | int:
    """The class of an answer: ``login``, a refusal code, or ``ok``."""
    if response.status_code == 302:
        path = urlsplit(response.get("Location", "")).path
        if path in {reverse("web:login"), reverse("admin:login")}:
            return "login"
    if response.status_code in {401, 403, 404, 405}:
        return int(response.status_code)
    return "ok"


@dataclass
class Caller:
    role: str
    client: Client
    user: Any
    headers: dict[str, str]


def callers(world: World) -> dict[str, Caller]:
    found = {}
    for role in ROLES:
        client = Client()
        user = None
        headers: dict[str, str] = {}
        if role != "anonymous":
            user = world.own.users.get(role) or world.users[role]
            client.force_login(user)
            headers = {"Authorization": f"Bearer {agent.issue_token(user).token}"}
        found[role] = Caller(role, client, user, headers)
    return found


def api_body(path: str, caller: Caller, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The smallest body each operation accepts, so that a refusal is about access, not form."""
    if path.endswith("/marks"):
        edit = {"sheet": "subject", "key": "toan", "period": "ck2", "field": "level"}
        return {"edits": [{**edit, "enrolment": kwargs.get("enrolment_id", 0), "value": "T"}]}
    if path.endswith("/signatures"):
        return {"signatures": [{"item_id": 0, "signature": "AA=="}]}
    if path.endswith("/agent/certificates"):
        return {"certificate": "AA==", "chain": [], "token_label": "usb"}
    if path.endswith("/agent/login"):
        username = caller.user.get_username() if caller.user else "khach"
        return {"username": username, "password": PASSWORD}
    return {}


def ask(
    caller: Caller,
    method: str,
    url: str,
    *,
    api_call: bool,
    body: dict[str, Any] | None = None,
    baseline: dict[str, str] | None = None,
) -> tuple[Any, list[str]]:
    """One request, rolled back afterwards so the next caller finds the same world; with a
    ``baseline`` of :func:`table_hashes`, also the tables the request changed."""
    headers = caller.headers if api_call and AGENT_PREFIX in url else {}
    cookies = copy.deepcopy(caller.client.cookies)  # a logout must not end the next request's login
    with transaction.atomic():
        if method == "GET":
            response = caller.client.get(url, headers=headers)
        elif api_call and url.endswith("/verify/file"):
            upload = SimpleUploadedFile("hoc-ba.pdf", b"%PDF-1.7\n", "application/pdf")
            response = caller.client.post(url, {"file": upload}, headers=headers)
        elif api_call:
            response = caller.client.generic(
                method,
                url,
                data=json.dumps(body or {}),
                content_type="application/json",
                headers=headers,
            )
        else:
            response = caller.client.post(url, data=body or {}, headers=headers)
        changed = []
        if baseline is not None:
            after = table_hashes()
            changed = sorted(t for t in after if after[t] != baseline.get(t))
        transaction.set_rollback(True)
    caller.client.cookies = cookies
    return response, changed


# --- nothing changed -----------------------------------------------------------------------

SKIPPED_TABLES = {"django_session"}


def _plain(value: Any) -> Any:
    if isinstance(value, memoryview | bytes | bytearray):
        return hashlib.sha256(bytes(value)).hexdigest()
    return str(value)


def table_hashes() -> dict[str, str]:
    """A hash of every row of each table (sessions aside)."""
    hashes = {}
    for model in apps.get_models(include_auto_created=True):
        table = model._meta.db_table
        if table in SKIPPED_TABLES or not model._meta.managed:
            continue
        digest = hashlib.sha256()
        for row in model._default_manager.order_by("pk").values_list().iterator():
            digest.update(json.dumps([_plain(v) for v in row]).encode())
        hashes[table] = digest.hexdigest()
    return hashes


def fingerprint() -> str:
    """One hash of every row of every table (sessions aside): equal means nothing changed."""
    return hashlib.sha256(json.dumps(sorted(table_hashes().items())).encode()).hexdigest()
