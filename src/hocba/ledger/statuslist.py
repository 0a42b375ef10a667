"""The status of every issued record version, in the spirit of W3C Bitstring Status List v1.0.

One list per deployment. The index of an issued record version is the log index of its
``issued`` leaf. Two bits per entry (``statusSize`` 2, ``statusPurpose`` ``message``): 0x0 valid,
0x1 superseded, 0x2 revoked. Entry ``i`` is bits ``2i`` (high) and ``2i + 1`` (low) of the
bitstring, bit 0 being the most significant bit of the first byte (the spec's "left-most bit").
``encodedList`` is ``u`` + base64url (no padding) of the GZIP-compressed bitstring, which holds at
least 131,072 entries (herd privacy), in steps of 131,072.

The document is a JSON object signed with the log's Ed25519 key as a C2SP signed note whose text
is its RFC 8785 canonical form and a newline. Everything but ``build_status_list`` is pure Python
(no Django): an offline verifier needs this module, ``note`` and ``rfc8785`` only.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import gzip
import hashlib
import json
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import rfc8785

from hocba.ledger.note import NoteError, Signer, Verifier, open_note

STATUS_SIZE = 2
MIN_ENTRIES = 131_072
VALID, SUPERSEDED, REVOKED = 0, 1, 2
MESSAGES = {VALID: "valid", SUPERSEDED: "superseded", REVOKED: "revoked", 3: "undefined"}
TYPE = "BitstringStatusList"
PURPOSE = "message"
MAX_BITSTRING_BYTES = 64 * 1024 * 1024  # refuse gzip bombs when decoding


class StatusListError(ValueError):
    """A status list that is malformed, too short or not signed by the expected key."""


def entries_for(log_size: int) -> int:
    """The list length for a log of ``log_size`` leaves: a multiple of ``MIN_ENTRIES``."""
    blocks = max(1, -(-log_size // MIN_ENTRIES))
    return blocks * MIN_ENTRIES


def encode_bitstring(statuses: Mapping[int, int], entries: int) -> bytes:
    """The raw bitstring of ``entries`` 2-bit values, ``statuses`` mapping index → value."""
    if entries % (8 // STATUS_SIZE):
        raise ValueError("the entry count must fill whole bytes")
    bits = bytearray(entries * STATUS_SIZE // 8)
    for index, value in statuses.items():
        if not 0 <= index < entries or not 0 <= value < 1 << STATUS_SIZE:
            raise ValueError(f"status {value} at index {index} does not fit the list")
        byte, slot = divmod(index * STATUS_SIZE, 8)
        bits[byte] |= value << (8 - STATUS_SIZE - slot)
    return bytes(bits)


def encode_list(bitstring: bytes) -> str:
    compressed = gzip.compress(bitstring, compresslevel=9, mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).decode().rstrip("=")


def decode_list(encoded: str) -> bytes:
    """The bitstring of an ``encodedList``; ``StatusListError`` if it is not multibase base64url
    GZIP data."""
    if not encoded.startswith("u"):
        raise StatusListError("encodedList is not multibase base64url (prefix 'u')")
    body = encoded[1:]
    if "=" in body:
        raise StatusListError("encodedList must not be padded")
    try:
        compressed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        data = decompressor.decompress(compressed, MAX_BITSTRING_BYTES)
    except (binascii.Error, ValueError, zlib.error) as error:
        raise StatusListError("encodedList is not base64url GZIP data") from error
    if decompressor.unconsumed_tail or not decompressor.eof:
        raise StatusListError("encodedList is truncated or too large")
    return data


@dataclass(frozen=True)
class StatusList:
    origin: str
    valid_from: str
    log_size: int
    bitstring: bytes

    @property
    def entries(self) -> int:
        return len(self.bitstring) * 8 // STATUS_SIZE

    def code_of(self, index: int) -> int:
        if not 0 <= index < self.entries:
            raise IndexError(f"index {index} is outside the status list")
        byte, slot = divmod(index * STATUS_SIZE, 8)
        return (self.bitstring[byte] >> (8 - STATUS_SIZE - slot)) & ((1 << STATUS_SIZE) - 1)

    def status_of(self, index: int) -> str:
        """``"valid"``, ``"superseded"`` or ``"revoked"`` for the record version whose
        ``issued`` leaf has log index ``index``."""
        code = self.code_of(index)
        if code not in (VALID, SUPERSEDED, REVOKED):
            raise StatusListError(f"undefined status 0x{code:x} at index {index}")
        return MESSAGES[code]


def document(origin: str, statuses: Mapping[int, int], log_size: int, valid_from: str) -> dict:
    entries = entries_for(max(log_size, max(statuses, default=-1) + 1))
    return {
        "type": TYPE,
        "statusPurpose": PURPOSE,
        "statusSize": STATUS_SIZE,
        "statusMessage": [
            {"status": f"0x{code:x}", "message": message} for code, message in MESSAGES.items()
        ],
        "encodedList": encode_list(encode_bitstring(statuses, entries)),
        "validFrom": valid_from,
        "logSize": log_size,
        "origin": origin,
    }


def sign_status_list(
    signer: Signer, statuses: Mapping[int, int], log_size: int, when: dt.datetime
) -> str:
    """The signed note of the status list (pure: the caller supplies the data and the key)."""
    valid_from = when.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    body = rfc8785.dumps(document(signer.name, statuses, log_size, valid_from)).decode()
    return signer.sign(body + "\n")


def open_status_list(text: str, verifier_key: str | Verifier) -> StatusList:
    """Check the log's signature on a status list note and decode it (offline)."""
    try:
        verifier = (
            verifier_key if isinstance(verifier_key, Verifier) else Verifier.parse(verifier_key)
        )
        body = open_note(text, verifier)
    except NoteError as error:
        raise StatusListError(str(error)) from error
    try:
        doc = json.loads(body)
    except ValueError as error:
        raise StatusListError("status list is not JSON") from error
    if not isinstance(doc, dict):
        raise StatusListError("status list is not a JSON object")
    expected = {"type": TYPE, "statusPurpose": PURPOSE, "statusSize": STATUS_SIZE}
    if any(doc.get(key) != value for key, value in expected.items()):
        raise StatusListError("not a 2-bit message status list")
    if doc.get("origin") != verifier.name:
        raise StatusListError(f"status list origin is not {verifier.name!r}")
    log_size, valid_from, encoded = doc.get("logSize"), doc.get("validFrom"), doc.get("encodedList")
    if not isinstance(log_size, int) or log_size < 0 or not isinstance(valid_from, str):
        raise StatusListError("malformed logSize or validFrom")
    if not isinstance(encoded, str):
        raise StatusListError("malformed encodedList")
    bitstring = decode_list(encoded)
    status_list = StatusList(verifier.name, valid_from, log_size, bitstring)
    if status_list.entries < MIN_ENTRIES:
        raise StatusListError(f"status list has fewer than {MIN_ENTRIES} entries")
    return status_list


def _status_code(record_status: str) -> int:
    return {"superseded": SUPERSEDED, "revoked": REVOKED}.get(record_status, VALID)


def statuses_from(rows: Iterable[tuple[int, str]]) -> dict[int, int]:
    """``(log index, YearRecord.status)`` rows → the non-zero entries of the list."""
    return {index: code for index, status in rows if (code := _status_code(status))}


def build_status_list() -> str:
    """The signed status list of every issued record version, cached until an issuance or a
    status change (the fingerprint: the number of issued versions and of superseded and
    revoked ones — an issued record only moves on to superseded or revoked, and those are
    final, so these counts change whenever the list does)."""
    from django.core.cache import cache
    from django.db.models import Count, Q

    from hocba.ledger import keys, services
    from hocba.ledger.models import IssuedRecord
    from hocba.records.models import YearRecordStatus

    counts = IssuedRecord.objects.aggregate(
        issued=Count("pk"),
        superseded=Count("pk", filter=Q(record__status=YearRecordStatus.SUPERSEDED)),
        revoked=Count("pk", filter=Q(record__status=YearRecordStatus.REVOKED)),
    )
    signer = keys.signer()
    fingerprint = f"{signer.verifier}:{counts['issued']}:{counts['superseded']}:{counts['revoked']}"
    cache_key = "hocba.ledger.statuslist:" + hashlib.sha256(fingerprint.encode()).hexdigest()
    cached = cache.get(cache_key)
    if isinstance(cached, str):
        return cached
    rows = IssuedRecord.objects.values_list("leaf__index", "record__status")
    note = sign_status_list(
        signer, statuses_from(rows), services.log_size(), dt.datetime.now(dt.UTC)
    )
    cache.set(cache_key, note, timeout=24 * 3600)
    return note
