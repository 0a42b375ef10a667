"""The interchange format ``hocba.record-set/1``: one pupil's issued year records, for others.

A record set carries the pupil's identity and every *issued* version of their year records
(current, superseded and revoked ones, each with its status), each with the canonical document
exactly as signed (its RFC 8785 serialisation hashes to ``content_hash``), the PDF's SHA-256, the
ledger leaf and the proof bundle, so a receiver can check every version without asking us.
Versions never issued (drafts, signatures in progress) are not part of it.

``hocba.export/1`` wraps many record sets with who exported them, the scope and the log's latest
checkpoint. Field-by-field description and versioning rules: docs/interchange.md. Schemas:
``schemas/record-set-1.schema.json`` and ``schemas/export-1.schema.json``.

Builders take querysets and group by pupil so an export of a Department is a bounded number of
queries per chunk (:func:`record_sets`), not a few per record.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource

from hocba.common.errors import DomainError
from hocba.ledger.keys import origin as ledger_origin
from hocba.ledger.models import Checkpoint, ProofBundle
from hocba.ledger.note import TlogProof
from hocba.records.models import ISSUED_STATUSES, YearRecord
from hocba.records.schema import SCHEMA_DIR
from hocba.schools.models import Pupil, SchoolYear

RECORD_SET_FORMAT = "hocba.record-set/1"
EXPORT_FORMAT = "hocba.export/1"
RECORD_SET_SCHEMA = "record-set-1.schema.json"
EXPORT_SCHEMA = "export-1.schema.json"
YEAR_RECORD_SCHEMA = "year-record-1.schema.json"
CHUNK_SIZE = 500


def utc_text(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# --- building ----------------------------------------------------------------------------------


def issued_versions(records: QuerySet[YearRecord]) -> QuerySet[YearRecord]:
    """``records`` narrowed to issued versions, with everything a record set needs joined in."""
    bundles = ProofBundle.objects.order_by("-checkpoint__size")
    return (
        records.filter(status__in=ISSUED_STATUSES, issuance__isnull=False)
        .select_related(
            "pupil",
            "school",
            "school_year",
            "supersedes",
            "issuance__leaf",
            "supersession__leaf",
            "supersession__new",
            "revocation__leaf",
        )
        .prefetch_related(Prefetch("issuance__leaf__proof_bundles", queryset=bundles))
        .order_by("pupil_id", "school_year__start_year", "record_id", "version")
    )


def pupil_record_set(
    pupil: Pupil, *, school_year: SchoolYear | str | None = None, school: Any = None
) -> dict[str, Any]:
    """The ``hocba.record-set/1`` document of ``pupil``: all their issued versions, or those of
    one school year (a :class:`SchoolYear` or its name, "2024-2025") and/or one school."""
    records = YearRecord.objects.filter(pupil=pupil)
    if isinstance(school_year, SchoolYear):
        records = records.filter(school_year=school_year)
    elif school_year:
        records = records.filter(school_year__name=school_year)
    if school is not None:
        records = records.filter(school=school)
    versions = list(issued_versions(records))
    return build_record_set(pupil, versions)


def record_sets(records: QuerySet[YearRecord]) -> Iterator[dict[str, Any]]:
    """One record set per pupil among the issued versions in ``records``, streamed in chunks."""
    versions = issued_versions(records).iterator(chunk_size=CHUNK_SIZE)
    for _pupil_id, group in itertools.groupby(versions, key=lambda record: record.pupil_id):
        pupil_versions = list(group)
        yield build_record_set(pupil_versions[0].pupil, pupil_versions)


def build_record_set(pupil: Pupil, versions: Iterable[YearRecord]) -> dict[str, Any]:
    """The record set from versions loaded by :func:`issued_versions`."""
    return {
        "format": RECORD_SET_FORMAT,
        "origin": ledger_origin(),
        "pupil": pupil_identity(pupil),
        "records": [record_entry(record) for record in versions],
    }


def pupil_identity(pupil: Pupil) -> dict[str, Any]:
    return {
        "ministry_code": pupil.ministry_code,
        "personal_id": pupil.personal_id or None,
        "family_name": pupil.family_name,
        "middle_name": pupil.middle_name,
        "given_name": pupil.given_name,
        "full_name": pupil.full_name,
        "sex": pupil.sex,
        "date_of_birth": pupil.date_of_birth.isoformat(),
        "ethnicity": pupil.ethnicity,
        "nationality": pupil.nationality,
        "birthplace": pupil.birthplace,
        "hometown": pupil.hometown,
        "address": pupil.address,
        "father_name": pupil.father_name,
        "mother_name": pupil.mother_name,
        "guardian_name": pupil.guardian_name,
    }


def record_entry(record: YearRecord) -> dict[str, Any]:
    """One issued version (loaded by :func:`issued_versions`)."""
    issuance = record.issuance
    leaf = issuance.leaf
    return {
        "record_id": str(record.record_id),
        "version": record.version,
        "short_code": record.short_code,
        "status": record.status,
        "school": {"code": record.school.code, "name": record.school.name},
        "school_year": record.school_year.name,
        "schema_version": record.schema_version,
        "document": json.loads(record.canonical_json),
        "content_hash": record.content_hash,
        "pdf_sha256": issuance.pdf_sha256,
        "issued_at": utc_text(issuance.issued_at),
        "log": {
            "leaf_index": leaf.index,
            "leaf_event": leaf.event,
            "proof": _proof_text(leaf),
        },
        "supersedes_version": record.supersedes.version if record.supersedes else None,
        "superseded": _superseded(record),
        "revoked": _revoked(record),
    }


def _proof_text(leaf: Any) -> str | None:
    """As :func:`hocba.verification.bundle.record_proof`, from the prefetched bundles."""
    bundles = list(leaf.proof_bundles.all())
    if not bundles:
        return None
    proof = TlogProof.parse(bundles[0].text)
    return TlogProof(
        proof.index, proof.hashes, proof.checkpoint_note, extra=leaf.event.encode()
    ).text()


def _superseded(record: YearRecord) -> dict[str, Any] | None:
    supersession = getattr(record, "supersession", None)
    if supersession is None:
        return None
    return {
        "by_version": supersession.new.version,
        "at": utc_text(supersession.at),
        "reason": supersession.reason,
        "leaf_index": supersession.leaf.index,
    }


def _revoked(record: YearRecord) -> dict[str, Any] | None:
    revocation = getattr(record, "revocation", None)
    if revocation is None:
        return None
    return {
        "at": utc_text(revocation.at),
        "reason": revocation.reason,
        "leaf_index": revocation.leaf.index,
    }


def latest_checkpoint() -> dict[str, Any] | None:
    checkpoint = Checkpoint.objects.order_by("-size").first()
    if checkpoint is None:
        return None
    return {"size": checkpoint.size, "root_hash": checkpoint.root_hash, "note": checkpoint.note}


def export_header(
    *, exported_by: dict[str, Any], scope: dict[str, Any], school_year: str
) -> dict[str, Any]:
    """The ``hocba.export/1`` envelope without its ``record_sets`` array."""
    return {
        "format": EXPORT_FORMAT,
        "origin": ledger_origin(),
        "exported_by": exported_by,
        "scope": scope,
        "school_year": school_year,
        "generated_at": utc_text(timezone.now()),
        "checkpoint": latest_checkpoint(),
    }


# --- validating --------------------------------------------------------------------------------


@cache
def _registry() -> Registry:
    resources = []
    for name in (YEAR_RECORD_SCHEMA, RECORD_SET_SCHEMA, EXPORT_SCHEMA):
        schema = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
        resources.append((schema["$id"], Resource.from_contents(schema)))
    registry: Registry = Registry().with_resources(resources)
    return registry


@cache
def validator(name: str) -> Draft202012Validator:
    """The validator of one of our schemas, with the others resolvable by their ``$id``."""
    schema = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=_registry())


def schema_errors(document: Any, name: str = RECORD_SET_SCHEMA) -> list[ValidationError]:
    errors = validator(name).iter_errors(document)
    return sorted(errors, key=lambda error: [str(part) for part in error.absolute_path])


def error_path(error: ValidationError) -> str:
    return "/" + "/".join(str(part) for part in error.absolute_path)


def validate_record_set(document: Any) -> None:
    """Raise :class:`DomainError` naming the first offending field (JSON Pointer) if invalid."""
    errors = schema_errors(document, RECORD_SET_SCHEMA)
    if errors:
        first = errors[0]
        raise DomainError(
            _("Bộ hồ sơ không đúng lược đồ %(format)s tại “%(path)s”: %(detail)s.")
            % {
                "format": RECORD_SET_FORMAT,
                "path": error_path(first),
                "detail": first.message[:200],
            },
            field=error_path(first),
        )
