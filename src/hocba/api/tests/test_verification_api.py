"""The verification API: status and masked facts by code, full facts with the second factor,
institutions' keys with scopes, per-address and per-key limits, the OpenAPI schema."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from hocba.api import keys
from hocba.api.models import ApiKey
from hocba.ledger import issuing
from hocba.ledger.models import CopyIssued
from hocba.records.models import YearRecord
from hocba.verification.tests.conftest import *  # noqa: F403 — the issued records
from hocba.verification.tests.portal_helpers import access_code, clean_limits  # noqa: F401

pytestmark = pytest.mark.django_db

API = "/api/v1/verify"


def _new_key(*scopes: str, rate_limit: int | None = None) -> tuple[ApiKey, str]:
    return keys.create_key(
        actor=None,
        name="Tuyển sinh lớp 6",
        institution="Trường THCS Cầu Giấy",
        scopes=scopes or ["verify:read"],
        rate_limit=rate_limit,
    )


def test_anonymous_verify_is_masked(issued: list[YearRecord]) -> None:
    record = issued[0]
    response = Client().get(f"{API}/{record.short_code}")
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "valid" and body["details"] is None
    assert body["short_code"] == record.short_code and body["school"] == "Trường Tiểu học A"
    assert body["pupil_initials"] and body["birth_year"] == str(record.pupil.date_of_birth.year)
    assert body["signers"] and body["log_index"] is not None
    assert body["proof_url"].endswith(f"/xac-thuc/{record.short_code}/so-cai.tlog-proof")
    assert record.pupil.full_name not in response.content.decode()
    # A factor in the query string is ignored: it would end up in logs.
    query = Client().get(f"{API}/{record.short_code}?access_code={access_code(record)}")
    assert query.json()["details"] is None


def test_factor_in_header_or_body_gives_full_facts(issued: list[YearRecord]) -> None:
    record = issued[0]
    by_header = Client().get(
        f"{API}/{record.short_code.lower()}", HTTP_X_ACCESS_CODE=access_code(record)
    )
    details = by_header.json()["details"]
    assert details["full_name"] == record.pupil.full_name
    assert details["date_of_birth"] == record.pupil.date_of_birth.isoformat()
    assert details["subjects"] and details["result"]
    born = record.pupil.date_of_birth.strftime("%d/%m/%Y")
    by_body = Client().post(
        f"{API}/{record.short_code}", {"date_of_birth": born}, content_type="application/json"
    )
    assert by_body.status_code == 200 and by_body.json()["details"]["ministry_code"]
    assert not CopyIssued.objects.exists()


def test_wrong_factor_is_refused_without_details(issued: list[YearRecord]) -> None:
    record = issued[0]
    response = Client().get(f"{API}/{record.short_code}", HTTP_X_DATE_OF_BIRTH="01/01/2011")
    assert response.status_code == 403
    assert response.json() == {
        "detail": "Mã truy cập hoặc ngày sinh không đúng. Vui lòng kiểm tra lại bản học bạ giấy."
    }
    wrong = Client().post(
        f"{API}/{record.short_code}",
        {"access_code": access_code(issued[1])},
        content_type="application/json",
    )
    assert wrong.status_code == 403 and record.pupil.full_name not in wrong.content.decode()


def test_status_for_other_systems(registered: Any, issued: list[YearRecord]) -> None:
    record = issued[1]
    assert Client().get(f"{API}/{record.short_code}/status").json()["state"] == "valid"
    reason = "Phát hành nhầm cho học sinh khác cùng tên"
    issuing.revoke(actor=registered.world.own.users["principal"], record=record, reason=reason)
    body = Client().get(f"{API}/{record.short_code}/status").json()
    assert body["state"] == "revoked" and body["revocation_reason"] == reason
    assert body["revoked_at"] and "details" not in body and "school" not in body
    assert Client().get(f"{API}/HB22-2222-2222/status").status_code == 404
    # A word is never read as a code: /verify/file is the upload (POST only), not a record.
    assert Client().get(f"{API}/file").status_code == 405
    assert Client().get(f"{API}/nothing").status_code == 404


def test_keys_by_bearer_or_header_with_scopes(issued: list[YearRecord]) -> None:
    record = issued[0]
    key, raw = _new_key()
    assert key.key_hash != raw and raw not in key.key_hash and key.prefix in raw
    url = f"{API}/{record.short_code}/status"
    assert Client().get(url, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    assert Client().get(url, HTTP_X_API_KEY=raw).status_code == 200
    key.refresh_from_db()
    assert key.last_used_at is not None
    bad = Client().get(url, HTTP_AUTHORIZATION="Bearer hbk_00000000_nope")
    assert bad.status_code == 401 and "Khoá API không hợp lệ" in bad.json()["detail"]
    _file_only, file_raw = _new_key("verify:file")
    refused = Client().get(url, HTTP_X_API_KEY=file_raw)
    assert refused.status_code == 403 and "verify:read" in refused.json()["detail"]
    keys.revoke_key(actor=None, key=key)
    assert Client().get(url, HTTP_X_API_KEY=raw).status_code == 401


def test_anonymous_and_keys_have_their_own_limits(settings: Any, issued: list[YearRecord]) -> None:
    settings.HOCBA_RATE_LIMITS = {"api_anonymous": (2, 60), "api_key": (3, 60)}
    url = f"{API}/{issued[0].short_code}/status"
    client = Client(REMOTE_ADDR="10.2.0.1")
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 429]
    limited = client.get(url)
    assert int(limited["Retry-After"]) > 0 and "quá nhiều yêu cầu" in limited.json()["detail"]
    _key, raw = _new_key()
    statuses = [client.get(url, HTTP_X_API_KEY=raw).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]  # same address, the key's own counter
    _slow, slow_raw = _new_key(rate_limit=1)  # a key's own limit per minute
    assert [client.get(url, HTTP_X_API_KEY=slow_raw).status_code for _ in range(2)] == [200, 429]


def test_anonymous_factor_attempts_are_limited(settings: Any, issued: list[YearRecord]) -> None:
    settings.HOCBA_RATE_LIMITS = {"verify_factor": (2, 900)}
    record, client = issued[0], Client()
    url = f"{API}/{record.short_code}"
    for _attempt in range(2):
        assert client.get(url, HTTP_X_DATE_OF_BIRTH="01/01/2011").status_code == 403
    assert client.get(url, HTTP_X_ACCESS_CODE=access_code(record)).status_code == 429
    assert client.get(url).status_code == 200  # plain look-ups are not factor attempts


def test_api_keys_command(issued: list[YearRecord]) -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "api_keys",
        "create",
        "--name",
        "Hệ thống tuyển sinh",
        "--institution",
        "Sở GD&ĐT Hà Nội",
        "--scope",
        "verify:read",
        "--scope",
        "verify:file",
        stdout=out,
        stderr=err,
    )
    raw = out.getvalue().strip()
    key = ApiKey.objects.get()
    assert key.scopes == ["verify:file", "verify:read"] and "chỉ hiện một lần" in err.getvalue()
    assert keys.key_for(raw) == key
    listing = io.StringIO()
    call_command("api_keys", "list", stdout=listing)
    assert key.prefix in listing.getvalue() and raw not in listing.getvalue()
    call_command("api_keys", "revoke", key.prefix, stdout=io.StringIO())
    assert keys.key_for(raw) is None


def test_openapi_describes_the_verification_operations() -> None:
    schema = Client().get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    assert set(paths["/api/v1/verify/{short_code}"]) == {"get", "post"}
    assert "get" in paths["/api/v1/verify/{short_code}/status"]
    headers = {p["name"] for p in paths["/api/v1/verify/{short_code}"]["get"]["parameters"]}
    assert {"X-Access-Code", "X-Date-Of-Birth"} <= headers
    schemes = schema["components"]["securitySchemes"]
    assert (
        schemes["KeyHeader"]["name"] == "X-API-Key" and schemes["KeyBearer"]["scheme"] == "bearer"
    )
