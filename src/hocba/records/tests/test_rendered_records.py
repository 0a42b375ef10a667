"""Compiled → rendered: the JSON embedded in each PDF validates and hashes to the content hash."""

from __future__ import annotations

import hashlib
import io
import json

from pyhanko.pdf_utils.reader import PdfFileReader

from hocba.conftest import World
from hocba.documents.render import ATTACHMENT_NAME, render_year_record
from hocba.records.export import render_records
from hocba.records.models import YearRecord
from hocba.records.schema import validate_document
from hocba.records.tests.conftest import compile_4a, finish


def embedded_files(pdf: bytes) -> dict[str, bytes]:
    """The catalog's /Names /EmbeddedFiles, as name → bytes."""
    reader = PdfFileReader(io.BytesIO(pdf))
    names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    return {
        str(names[index]): bytes(names[index + 1].get_object()["/EF"]["/F"].get_object().data)
        for index in range(0, len(names), 2)
    }


def test_embedded_json_validates_and_hashes_to_the_record(filled: World) -> None:
    finish(filled)
    report = compile_4a(filled)
    assert report.counts["compiled"] == 3
    records = list(YearRecord.objects.order_by("pk"))
    batch = render_records(records)
    for record, batch_pdf in zip(records, batch, strict=True):
        stored = record.canonical_json.encode("utf-8")
        single = render_year_record(json.loads(stored), canonical_json=stored)
        assert single == batch_pdf  # one at a time or in a batch: the same bytes
        data = embedded_files(single)[ATTACHMENT_NAME]
        assert data == stored
        assert hashlib.sha256(data).hexdigest() == record.content_hash
        document = json.loads(data)
        validate_document(document)
        assert document["record"]["short_code"] == record.short_code
        assert document["pupil"]["ministry_code"] == record.pupil.ministry_code
