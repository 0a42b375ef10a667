"""The signed status list: encoding per W3C Bitstring Status List, signature, record statuses."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import Client

from hocba.ledger import issuing, keys, statuslist
from hocba.ledger.models import IssuedRecord
from hocba.ledger.note import Signer
from hocba.ledger.statuslist import StatusListError, open_status_list
from hocba.records.models import YearRecord, YearRecordStatus

WHEN = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)


def _signer() -> Signer:
    return Signer("example.test/log", Ed25519PrivateKey.generate())


def test_w3c_example_decodes_to_16kb_of_zeros() -> None:
    # The encodedList of the spec's example BitstringStatusListCredential.
    example = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"
    assert statuslist.decode_list(example) == bytes(16 * 1024)


def test_bit_order_and_encoding() -> None:
    bits = statuslist.encode_bitstring({0: 2, 1: 1, 5: 3}, 8)
    # Index 0 is the left-most (most significant) pair of bits of the first byte.
    assert bits == bytes([0b10_01_00_00, 0b00_11_00_00])
    encoded = statuslist.encode_list(bits)
    assert encoded.startswith("u") and "=" not in encoded and "+" not in encoded
    compressed = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
    assert gzip.decompress(compressed) == bits
    assert statuslist.decode_list(encoded) == bits
    for bad in ["zabc", "u!!!", "uAAAA", "u" + encoded[1:] + "="]:
        with pytest.raises(StatusListError):
            statuslist.decode_list(bad)


def test_signed_list_opens_offline_and_keeps_the_minimum_length() -> None:
    signer = _signer()
    text = statuslist.sign_status_list(signer, {3: 1, 200_000: 2}, 200_001, WHEN)
    opened = open_status_list(text, str(signer.verifier))
    assert opened.entries == 2 * statuslist.MIN_ENTRIES  # grows in steps of 131,072
    assert (opened.origin, opened.log_size, opened.valid_from) == (
        "example.test/log",
        200_001,
        "2026-11-29T12:00:00Z",
    )
    assert opened.status_of(0) == "valid"
    assert opened.status_of(3) == "superseded"
    assert opened.status_of(200_000) == "revoked"
    with pytest.raises(IndexError):
        opened.status_of(opened.entries)

    small = open_status_list(statuslist.sign_status_list(signer, {}, 0, WHEN), signer.verifier)
    assert small.entries == statuslist.MIN_ENTRIES == 131_072
    assert len(small.bitstring) == 131_072 * 2 // 8

    body = json.loads(text.split("\n", 1)[0])
    assert body["statusMessage"] == [
        {"status": "0x0", "message": "valid"},
        {"status": "0x1", "message": "superseded"},
        {"status": "0x2", "message": "revoked"},
        {"status": "0x3", "message": "undefined"},
    ]
    assert set(body) == {
        "type",
        "statusPurpose",
        "statusSize",
        "statusMessage",
        "encodedList",
        "validFrom",
        "logSize",
        "origin",
    }


def test_forged_or_short_lists_are_refused() -> None:
    signer = _signer()
    text = statuslist.sign_status_list(signer, {3: 2}, 10, WHEN)
    forged = text.replace('"logSize":10', '"logSize":11')
    assert forged != text
    with pytest.raises(StatusListError):
        open_status_list(forged, signer.verifier)
    # Change one byte of the encoded list.
    start = text.index('"encodedList":"u') + len('"encodedList":"u') + 5
    flipped = text[:start] + ("A" if text[start] != "A" else "B") + text[start + 1 :]
    with pytest.raises(StatusListError):
        open_status_list(flipped, signer.verifier)
    with pytest.raises(StatusListError):
        open_status_list(text, _signer().verifier)  # another key
    # Correctly signed, but shorter than 131,072 entries.
    short = statuslist.document(signer.name, {}, 0, "2026-11-29T12:00:00Z")
    short["encodedList"] = statuslist.encode_list(bytes(1024))
    note = signer.sign(rfc8785.dumps(short).decode() + "\n")
    with pytest.raises(StatusListError, match="131072"):
        open_status_list(note, signer.verifier)


@pytest.mark.django_db
def test_status_of_issued_records_follows_their_status(
    sealed: list[YearRecord], client: Client
) -> None:
    assert issuing.issue_sealed([r.pk for r in sealed])[1] == []
    index = {
        issuance.record_id: issuance.leaf.index
        for issuance in IssuedRecord.objects.select_related("leaf")
    }
    public = keys.verifier_key()
    opened = open_status_list(statuslist.build_status_list(), public)
    assert [opened.status_of(index[r.pk]) for r in sealed] == ["valid"] * 3
    assert opened.entries >= statuslist.MIN_ENTRIES
    assert statuslist.build_status_list() == statuslist.build_status_list()  # cached

    # The database trigger lets an issued record move on to revoked or superseded.
    YearRecord.objects.filter(pk=sealed[0].pk).update(status=YearRecordStatus.REVOKED)
    opened = open_status_list(statuslist.build_status_list(), public)
    assert [opened.status_of(index[r.pk]) for r in sealed] == ["revoked", "valid", "valid"]

    YearRecord.objects.filter(pk=sealed[2].pk).update(status=YearRecordStatus.SUPERSEDED)
    opened = open_status_list(statuslist.build_status_list(), public)
    assert [opened.status_of(index[r.pk]) for r in sealed] == ["revoked", "valid", "superseded"]
    assert opened.log_size >= 3

    # The public URL serves the same, current list.
    response = client.get("/so-cai/status-list")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    served = open_status_list(response.content.decode(), client.get("/so-cai/key").content.decode())
    assert [served.status_of(index[r.pk]) for r in sealed] == ["revoked", "valid", "superseded"]
