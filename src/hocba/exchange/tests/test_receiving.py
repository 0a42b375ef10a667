"""The receiving store's endpoint: ``POST /api/v1/exchange/record-sets`` (issue 9 §2)."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import pytest
import rfc8785
from django.test import Client

from hocba.api import keys
from hocba.api.models import ApiScope
from hocba.audit.models import AuditEvent
from hocba.exchange.models import ReceivedBatch, ReceivedRecord
from hocba.exchange.tests.conftest import ENDPOINT
from hocba.ledger import issuing
from hocba.records import interchange
from hocba.records.models import YearRecord
from hocba.signing.tests.conftest import Registered

pytestmark = pytest.mark.django_db


def _post(body: Any, key: str | None, idempotency_key: str = "lo-1") -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": idempotency_key}
    if key:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return Client().post(
        ENDPOINT, data=json.dumps(body), content_type="application/json", **headers
    )


def _batch(records: list[YearRecord]) -> dict[str, Any]:
    return {"record_sets": [interchange.pupil_record_set(r.pupil) for r in records]}


def test_batch_is_stored_with_one_receipt_per_version(
    issued: list[YearRecord], push_key: str
) -> None:
    response = _post(_batch(issued), push_key)
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["format"] == "hocba.exchange-receipt/1"
    assert [r["outcome"] for r in answer["receipts"]] == ["stored"] * 3
    stored = ReceivedRecord.objects.get(record_id=issued[0].record_id)
    assert (stored.origin, stored.version, stored.status) == ("test.hocba.local/log", 1, "issued")
    assert stored.content_hash == issued[0].content_hash
    assert stored.ministry_code == issued[0].pupil.ministry_code
    assert AuditEvent.objects.filter(action="exchange.record_sets.received").count() == 1


def test_same_idempotency_key_gets_the_same_answer(issued: list[YearRecord], push_key: str) -> None:
    body = _batch(issued)
    first = _post(body, push_key).json()
    assert _post(body, push_key).json() == first
    assert (ReceivedRecord.objects.count(), ReceivedBatch.objects.count()) == (3, 1)
    # Another key for the same content: no duplicate, the receipts it got the first time.
    again = _post(body, push_key, idempotency_key="lo-2").json()
    assert [r["outcome"] for r in again["receipts"]] == ["duplicate"] * 3
    assert [r["receipt_id"] for r in again["receipts"]] == [
        r["receipt_id"] for r in first["receipts"]
    ]
    assert ReceivedRecord.objects.count() == 3
    # The same key for other content is refused.
    response = _post(_batch(issued[:1]), push_key)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["detail"]


def test_status_change_updates_the_stored_version(
    registered: Registered, issued: list[YearRecord], push_key: str
) -> None:
    first = _post(_batch(issued[:1]), push_key).json()["receipts"][0]
    issuing.revoke(
        actor=registered.world.own.users["principal"], record=issued[0], reason="Phát hành nhầm"
    )
    answer = _post(_batch(issued[:1]), push_key, idempotency_key="lo-2").json()["receipts"][0]
    assert (answer["outcome"], answer["status"]) == ("updated", "revoked")
    assert answer["receipt_id"] == first["receipt_id"]
    # A late "issued" never overwrites the revocation.
    late = copy.deepcopy(_batch(issued[:1]))
    late["record_sets"][0]["records"][0].update(status="issued", revoked=None)
    assert _post(late, push_key, "lo-3").json()["receipts"][0]["outcome"] == "duplicate"
    assert ReceivedRecord.objects.get().status == "revoked"


def test_invalid_record_names_record_and_field_and_stores_nothing(
    issued: list[YearRecord], push_key: str
) -> None:
    body = _batch(issued)
    del body["record_sets"][1]["records"][0]["pdf_sha256"]
    body["record_sets"][2]["records"][0]["document"]["pupil"]["given_name"] = "Sửa trộm"
    response = _post(body, push_key)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(e["index"], e["record_id"]) for e in errors] == [
        (1, str(issued[1].record_id)),
        (2, str(issued[2].record_id)),
    ]
    assert "pdf_sha256" in errors[0]["message"] and "Bộ hồ sơ thứ 2" in errors[0]["message"]
    assert errors[1]["field"] == "/records/0/content_hash"
    assert "mã băm" in errors[1]["message"]
    assert (ReceivedRecord.objects.count(), ReceivedBatch.objects.count()) == (0, 0)


def test_changed_content_for_a_received_version_is_refused(
    issued: list[YearRecord], push_key: str
) -> None:
    assert _post(_batch(issued[:1]), push_key).status_code == 200
    forged = _batch(issued[:1])
    entry = forged["record_sets"][0]["records"][0]
    entry["document"]["pupil"]["given_name"] = "Khác"
    entry["content_hash"] = hashlib.sha256(rfc8785.dumps(entry["document"])).hexdigest()
    # A sender whose own log says so (another deployment re-using the record id, say).
    event = json.loads(entry["log"]["leaf_event"])
    entry["log"].update(
        leaf_event=json.dumps({**event, "content_hash": entry["content_hash"]}), proof=None
    )
    response = _post(forged, push_key, "lo-2")
    assert response.status_code == 400 and "không được thay đổi" in response.json()["detail"]
    assert ReceivedRecord.objects.get().content_hash == issued[0].content_hash


def test_only_keys_with_the_push_scope(issued: list[YearRecord], push_key: str) -> None:
    body = _batch(issued[:1])
    assert _post(body, None).status_code == 401
    _key, reader = keys.create_key(
        actor=None, name="Đọc", institution="Trường khác", scopes=[ApiScope.VERIFY_READ]
    )
    assert _post(body, reader).status_code == 403
    assert _post(body, "hbk_sai_khoa").status_code == 401
    assert ReceivedRecord.objects.count() == 0


def test_malformed_bodies(push_key: str) -> None:
    assert _post({"record_sets": []}, push_key).status_code == 400
    assert _post({"khac": 1}, push_key).status_code == 400
    response = _post({"record_sets": [{"format": "x"}]}, push_key)
    assert response.status_code == 400 and response.json()["errors"][0]["index"] == 0
    assert _post({"record_sets": [{}]}, push_key, idempotency_key="").status_code == 400


def test_log_event_and_proof_must_match_the_entry(issued: list[YearRecord], push_key: str) -> None:
    body = _batch(issued[:2])
    first, second = (rs["records"][0] for rs in body["record_sets"])
    first["pdf_sha256"] = "0" * 64
    second["log"]["proof"] = second["log"]["proof"].replace("index ", "index 9", 1)
    response = _post(body, push_key)
    assert response.status_code == 400
    fields = [(e["index"], e["field"]) for e in response.json()["errors"]]
    assert fields == [(0, "/records/0/log/leaf_event"), (1, "/records/0/log/proof")]
    assert ReceivedRecord.objects.count() == 0


def test_admin_pages_are_read_only(issued: list[YearRecord], push_key: str) -> None:
    from django.contrib.auth import get_user_model

    _post(_batch(issued[:1]), push_key)
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("admin_trao_doi", password="x"))
    for model in ("synctarget", "recordsync", "receivedrecord"):
        assert client.get(f"/quan-tri/exchange/{model}/").status_code == 200
    assert client.get("/quan-tri/exchange/synctarget/add/").status_code == 403


def test_trusted_sender_logs_verify_the_proofs(
    issued: list[YearRecord], push_key: str, settings: Any, tmp_path: Any
) -> None:
    from hocba.ledger import keys as log_keys

    body = _batch(issued[:1])
    own_key = log_keys.verifier_key()
    settings.HOCBA_LEDGER_KEY_FILE = str(tmp_path / "other.key")  # same origin, another key
    impostor_key = log_keys.verifier_key()
    assert own_key != impostor_key
    settings.HOCBA_EXCHANGE_TRUSTED_LOGS = [impostor_key]
    response = _post(body, push_key)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "/records/0/log/proof"
    settings.HOCBA_EXCHANGE_TRUSTED_LOGS = [own_key]
    assert _post(body, push_key).status_code == 200
    # Unknown origins refused when the receiver requires registered logs.
    settings.HOCBA_EXCHANGE_REQUIRE_TRUSTED_LOG = True
    settings.HOCBA_EXCHANGE_TRUSTED_LOGS = []
    response = _post(body, push_key, "lo-2")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "/origin"


def test_numbers_json_cannot_carry_are_refused(push_key: str) -> None:
    too_big = Client().post(
        ENDPOINT,
        data='{"record_sets": [{"n": 9007199254740993}]}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {push_key}",
        HTTP_IDEMPOTENCY_KEY="lo-1",
    )
    assert too_big.status_code == 400 and "2^53" in too_big.json()["detail"]
    not_a_number = Client().post(
        ENDPOINT,
        data='{"record_sets": [{"n": NaN}]}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {push_key}",
        HTTP_IDEMPOTENCY_KEY="lo-2",
    )
    assert not_a_number.status_code == 400
