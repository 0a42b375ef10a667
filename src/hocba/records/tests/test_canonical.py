"""The canonical document: schema, stable bytes and hash, no floats (issue 4 §1)."""

from __future__ import annotations

import copy
import datetime
import decimal
import hashlib
import json
import unicodedata
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hocba.assessment.models import PupilYearFacts
from hocba.common.errors import DomainError
from hocba.conftest import World
from hocba.records import canonical
from hocba.records.schema import validate_document
from hocba.records.tests.conftest import BASE_URL, class_4a, roster

EXAMPLE = Path(canonical.__file__).parent / "schemas" / "example-year-record.json"

# Computed once, on 2026-11-29, with:
#   python -c "import json, hashlib, rfc8785; d = json.load(open(EXAMPLE, encoding='utf-8'));
#              print(hashlib.sha256(rfc8785.dumps(d)).hexdigest())"
# and cross-checked by the second, independent serialisation in
# test_jcs_matches_plain_sorted_json_for_our_documents. If this changes, either the example file
# or the serialiser changed: both break every stored content hash.
EXAMPLE_SHA256 = "b638875c8b97ef9cf64937b7dd78c21a01a104bb0bbb5d49cc65d262f5755774"


def example() -> dict[str, Any]:
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


def walk(value: Any) -> list[Any]:
    """Every scalar of a JSON value, keys included."""
    if isinstance(value, dict):
        return [*value.keys(), *(leaf for v in value.values() for leaf in walk(v))]
    if isinstance(value, list):
        return [leaf for item in value for leaf in walk(item)]
    return [value]


def test_the_example_validates() -> None:
    validate_document(example())


def test_the_example_hashes_to_the_golden_value() -> None:
    data = canonical.canonical_bytes(example())
    assert canonical.content_hash(data) == EXAMPLE_SHA256


def test_jcs_matches_plain_sorted_json_for_our_documents() -> None:
    """With ASCII keys and no floats, JCS is sorted compact JSON: an independent cross-check."""
    document = example()
    plain = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical.canonical_bytes(document) == plain.encode("utf-8")


def _shuffled(value: Any, seed: int) -> Any:
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: hashlib.sha256(f"{seed}{k}".encode()).digest())
        return {key: _shuffled(value[key], seed) for key in keys}
    if isinstance(value, list):
        return [_shuffled(item, seed) for item in value]
    return value


@settings(max_examples=30)
@given(st.integers(min_value=0, max_value=10_000))
def test_key_order_does_not_change_the_hash(seed: int) -> None:
    shuffled = _shuffled(example(), seed)
    assert canonical.content_hash(canonical.canonical_bytes(shuffled)) == EXAMPLE_SHA256


def test_the_example_has_no_floats() -> None:
    assert not [leaf for leaf in walk(example()) if isinstance(leaf, float)]


@pytest.mark.parametrize(
    ("path", "value", "pointer"),
    [
        (("subjects", 0, "level"), "X", "/subjects/0/level"),
        (("facts", "height_cm"), 132.5, "/facts/height_cm"),
        (("pupil", "sex"), "female", "/pupil/sex"),
        (("record", "short_code"), "HB7K-2M9Q-XD40", "/record/short_code"),
    ],
)
def test_an_invalid_document_names_the_path(path: tuple, value: Any, pointer: str) -> None:
    document = example()
    target = document
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    with pytest.raises(DomainError) as raised:
        validate_document(document)
    assert pointer in raised.value.message
    assert raised.value.message.startswith("Dữ liệu học bạ không đúng lược đồ")


def test_an_unknown_key_is_refused() -> None:
    document = example()
    document["pupil"]["nickname"] = "Bé"
    with pytest.raises(DomainError, match="/pupil"):
        validate_document(document)


# --- Built from live data ----------------------------------------------------------------------

ENVELOPE = {
    "record_id": uuid.UUID("0c6f5a8e-3d2b-4f7a-9b1e-5a7c2d9e4f10"),
    "version": 1,
    "short_code": "HB7K-2M9Q-XD4T",
    "access_code": "7QK4M-W2ZP9",
    "compiled_at": datetime.datetime(2025, 5, 28, 3, 15, tzinfo=datetime.UTC),
    "verify_base_url": BASE_URL,
}


def _build(world: World, index: int = 0) -> dict[str, Any]:
    return canonical.build_document(roster(class_4a(world))[index], **ENVELOPE)


def test_a_built_document_validates_and_has_no_floats(filled: World) -> None:
    enrolment = roster(class_4a(filled))[0]
    PupilYearFacts.objects.create(
        enrolment=enrolment,
        height_cm=decimal.Decimal("132.5"),
        weight_kg=decimal.Decimal("28"),
        days_absent_excused=2,
        days_absent_unexcused=0,
    )
    document = _build(filled)
    validate_document(document)
    assert not [leaf for leaf in walk(document) if isinstance(leaf, float)]
    assert document["facts"] == {
        "height_cm": "132.5",
        "weight_kg": "28.0",
        "days_absent_excused": 2,
        "days_absent_unexcused": 0,
    }
    assert document["record"]["compiled_at"] == "2025-05-28T10:15:00+07:00"
    assert document["record"]["verify_url"] == f"{BASE_URL}/xac-thuc/HB7K-2M9Q-XD4T"
    assert document["signing"]["date"] == "2025-05-28"


def test_the_document_has_the_example_shape(filled: World) -> None:
    """Same keys at every level as the example the renderer is built against."""

    def shape(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: shape(v) for key, v in value.items() if key != "summer"}
        if isinstance(value, list):
            return shape(value[0]) if value and isinstance(value[0], dict) else "list"
        return "scalar"

    assert shape(_build(filled)) == shape(example())


def test_the_document_is_the_same_whatever_the_stored_normal_form(filled: World) -> None:
    nfc = _build(filled)
    pupil = roster(class_4a(filled))[0].pupil
    pupil.family_name = unicodedata.normalize("NFD", pupil.family_name)
    pupil.given_name = unicodedata.normalize("NFD", pupil.given_name) + "  "
    pupil.save(update_fields=["family_name", "given_name"])
    assert pupil.family_name != unicodedata.normalize("NFC", pupil.family_name)
    nfd = _build(filled)
    assert canonical.canonical_bytes(nfd) == canonical.canonical_bytes(nfc)


def test_rebuilding_gives_the_same_bytes(filled: World) -> None:
    first = canonical.canonical_bytes(_build(filled))
    assert canonical.canonical_bytes(copy.deepcopy(_build(filled))) == first


def test_a_pupil_with_missing_marks_is_not_computable(world: World) -> None:
    with pytest.raises(canonical.NotComputable) as raised:
        _build(world)
    assert raised.value.missing
