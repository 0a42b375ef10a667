"""PDFs and render-job zips on an S3-compatible object store (issue 8 §2).

The store is moto's S3 server: an S3-compatible emulator that answers the real S3 HTTP API, run
in this process on loopback (``moto.server.ThreadedMotoServer``, a free port). The product talks
to it exactly as to MinIO, Ceph or a cloud bucket: ``HOCBA_S3_*`` read by the settings, then
django-storages' ``S3Storage`` and boto3 over HTTP. (The real MinIO server is not installable
here through pip, apt or npm; moto is.) No network beyond 127.0.0.1 is used.

The tests drive real product paths: signing and issuing store their PDFs in the bucket, the
staff and the public downloads read them back byte for byte, a render job's zip lands in the
bucket and downloads, and ``/readyz`` checks the bucket and names it when it is down.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from moto.server import ThreadedMotoServer

from hocba.ledger.tests.conftest import *  # noqa: F403 — issued, sealed and the signing world
from hocba.ledger.tests.conftest import Registered
from hocba.records import jobs, tasks
from hocba.records.models import RenderJob, RenderJobStatus, YearRecord
from hocba.records.tests.conftest import class_4a
from hocba.records.tests.test_jobs import EXPECTED_4A, work_queue
from hocba.settings import _s3_options
from hocba.signing.batch import current_pdf
from hocba.signing.models import LongTermValidation, RecordSignature
from hocba.verification.tests.portal_helpers import access_code, clean_limits  # noqa: F401

pytestmark = pytest.mark.django_db

PREFIX = "hocba/truong-a"  # HOCBA_S3_PREFIX: every object of this deployment under it
KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@dataclass
class Bucket:
    client: Any
    name: str
    endpoint: str

    def key(self, name: str) -> str:
        return f"{PREFIX}/{name}"

    def get(self, name: str) -> bytes:
        body: bytes = self.client.get_object(Bucket=self.name, Key=self.key(name))["Body"].read()
        return body

    def put(self, name: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.name, Key=self.key(name), Body=data)

    def keys(self) -> list[str]:
        listing = self.client.list_objects_v2(Bucket=self.name)
        return sorted(item["Key"] for item in listing.get("Contents", []))


def start_server() -> tuple[ThreadedMotoServer, str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server, endpoint = start_server()
    yield endpoint
    server.stop()


def use_s3(settings: Any, monkeypatch: pytest.MonkeyPatch, endpoint: str, bucket: str) -> None:
    """Configure the storage as a deployment does (``HOCBA_S3_*``, read by the settings' own
    code), then swap it in: Django drops ``default_storage`` when STORAGES changes."""
    for name, value in {
        "HOCBA_S3_BUCKET": bucket,
        "HOCBA_S3_ENDPOINT_URL": endpoint,
        "HOCBA_S3_REGION": "us-east-1",
        "HOCBA_S3_ACCESS_KEY_ID": KEYS["aws_access_key_id"],
        "HOCBA_S3_SECRET_ACCESS_KEY": KEYS["aws_secret_access_key"],
        "HOCBA_S3_PREFIX": f"/{PREFIX}/",
    }.items():
        monkeypatch.setenv(name, value)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": _s3_options()},
    }


@pytest.fixture
def s3(settings: Any, monkeypatch: pytest.MonkeyPatch, s3_endpoint: str) -> Bucket:
    """A fresh bucket, and the product's default storage pointing at it."""
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **KEYS)
    name = f"hocba-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    use_s3(settings, monkeypatch, s3_endpoint, name)
    assert type(default_storage._wrapped).__name__ != "FileSystemStorage"
    return Bucket(client, name, s3_endpoint)


@pytest.fixture
def s3_issued(s3: Bucket, issued: list[YearRecord]) -> list[YearRecord]:
    """Class 4A signed three times and issued, every PDF stored in the bucket (``s3`` is set up
    before the signing starts)."""
    return issued


def final_pdf_name(record: YearRecord) -> tuple[str, str]:
    ltv = LongTermValidation.objects.filter(record=record).first()
    if ltv is not None:
        return ltv.pdf_file, ltv.pdf_sha256
    last = RecordSignature.objects.filter(record=record).order_by("-signed_at").first()
    assert last is not None
    return last.pdf_file, last.pdf_sha256


def test_signed_and_issued_pdfs_land_in_the_bucket_and_download_byte_identical(
    s3: Bucket, s3_issued: list[YearRecord], registered: Registered, settings: Any
) -> None:
    record = s3_issued[0]
    stored = list(RecordSignature.objects.filter(record__in=s3_issued))
    assert len(stored) == 9  # teacher, principal and seal for each of three records
    keys = s3.keys()
    for signature in stored:
        assert s3.key(signature.pdf_file) in keys
        data = s3.get(signature.pdf_file)
        assert hashlib.sha256(data).hexdigest() == signature.pdf_sha256
        assert len(data) == signature.pdf_size
    assert all(key.startswith(f"{PREFIX}/records/") for key in keys)
    assert not Path(settings.MEDIA_ROOT).exists()  # nothing went to the local folder

    name, sha256 = final_pdf_name(record)
    in_bucket = s3.get(name)
    assert hashlib.sha256(in_bucket).hexdigest() == sha256

    # Staff: the record's PDF as it stands, read back from the bucket.
    staff = Client()
    staff.force_login(registered.world.own.users["homeroom_teacher"])
    response = staff.get(f"/hoc-ba/{record.short_code}.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content == in_bucket

    # The public: after the access code, the verification page's download.
    visitor = Client()
    unlocked = visitor.post(f"/xac-thuc/{record.short_code}", {"access_code": access_code(record)})
    assert unlocked.status_code == 302
    public = visitor.get(f"/xac-thuc/{record.short_code}/hoc-ba.pdf")
    assert public.status_code == 200 and public.content == in_bucket


def test_stored_objects_are_private(s3: Bucket, s3_issued: list[YearRecord]) -> None:
    name, _sha = final_pdf_name(s3_issued[0])
    grants = s3.client.get_object_acl(Bucket=s3.name, Key=s3.key(name))["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]  # the owner only
    assert all("URI" not in g["Grantee"] for g in grants)  # no AllUsers / AuthenticatedUsers
    url = default_storage.url(name)
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=300" in url


def test_a_pdf_changed_in_the_bucket_is_refused(s3: Bucket, s3_issued: list[YearRecord]) -> None:
    from hocba.common.errors import DomainError

    record = s3_issued[1]
    name, _sha = final_pdf_name(record)
    s3.put(name, s3.get(name) + b"\n% appended behind our back\n")
    with pytest.raises(DomainError, match="không khớp mã băm"):
        current_pdf(record)


def test_render_job_zip_lands_in_the_bucket_and_downloads(
    s3: Bucket,
    registered: Registered,
    compiled: list[YearRecord],
    django_capture_on_commit_callbacks: Any,
) -> None:
    teacher = registered.world.own.users["homeroom_teacher"]
    with django_capture_on_commit_callbacks(execute=False) as queued:
        job = jobs.request_render(actor=teacher, school_class=class_4a(registered.world))
    # What a run killed between saving its zip and committing leaves under the final name.
    s3.put(tasks.output_path(job.pk), b"PK half a zip")
    for callback in queued:
        callback()
    work_queue()
    job.refresh_from_db()
    assert job.status == RenderJobStatus.DONE, job.failure
    assert job.output_file == tasks.output_path(job.pk)  # replaced, not renamed around
    in_bucket = s3.get(job.output_file)
    assert zipfile.ZipFile(io.BytesIO(in_bucket)).namelist() == EXPECTED_4A
    assert s3.keys() == [s3.key(job.output_file)]

    client = Client()
    client.force_login(teacher)
    response = client.get(reverse("web:render_job_download", args=[job.pk]))
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "application/zip"
    assert int(response["Content-Length"]) == len(in_bucket)
    assert b"".join(response.streaming_content) == in_bucket

    # The zip gone from the bucket: a 404, not a server error.
    s3.client.delete_object(Bucket=s3.name, Key=s3.key(job.output_file))
    assert client.get(reverse("web:render_job_download", args=[job.pk])).status_code == 404


def test_a_superseded_run_leaves_nothing_in_the_bucket(
    s3: Bucket,
    registered: Registered,
    compiled: list[YearRecord],
    django_capture_on_commit_callbacks: Any,
) -> None:
    teacher = registered.world.own.users["homeroom_teacher"]
    with django_capture_on_commit_callbacks(execute=False):
        job = jobs.request_render(actor=teacher, school_class=class_4a(registered.world))
    claimed = tasks._claim(job.pk)
    assert claimed is not None
    RenderJob.objects.filter(pk=job.pk).update(attempt=claimed.attempt + 1)
    with io.BytesIO() as part, pytest.raises(tasks.Superseded):
        tasks._run(claimed, part)
    assert s3.keys() == []


def test_ready_with_the_bucket(s3: Bucket) -> None:
    response = Client().get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"]["storage"]["ok"] is True
    assert s3.keys() == []  # the probe object is deleted again


def test_not_ready_when_the_object_store_is_down(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, endpoint = start_server()
    try:
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **KEYS).create_bucket(
            Bucket="hocba-down"
        )
        use_s3(settings, monkeypatch, endpoint, "hocba-down")
        assert Client().get("/readyz").status_code == 200
    finally:
        server.stop()
    response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail" and body["checks"]["database"]["ok"] is True
    storage = body["checks"]["storage"]
    assert storage["ok"] is False and endpoint in storage["error"]


def _settings_error(**env: str) -> str:
    """Import the settings in a fresh interpreter with this environment; its error output."""
    result = subprocess.run(
        [sys.executable, "-c", "import hocba.settings"],
        env={**os.environ, "HOCBA_TESTING": "1", **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode != 0
    return result.stderr


def test_s3_without_a_bucket_is_refused_at_start() -> None:
    error = _settings_error(HOCBA_STORAGE="s3", HOCBA_S3_BUCKET="")
    assert "ImproperlyConfigured" in error
    assert "HOCBA_STORAGE=s3 cần tên bucket trong HOCBA_S3_BUCKET" in error
    error = _settings_error(HOCBA_STORAGE="ftp")
    assert "HOCBA_STORAGE phải là một trong ['local', 's3']" in error


def test_s3_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "HOCBA_S3_BUCKET": "hoc-ba",
        "HOCBA_S3_ENDPOINT_URL": "https://s3.example.vn",
        "HOCBA_S3_PREFIX": "/so-gd/",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("HOCBA_S3_ACCESS_KEY_ID", "HOCBA_S3_SECRET_ACCESS_KEY", "HOCBA_S3_REGION"):
        monkeypatch.delenv(name, raising=False)
    options = _s3_options()
    assert options["bucket_name"] == "hoc-ba" and options["location"] == "so-gd"
    assert options["default_acl"] is None and options["querystring_auth"] is True
    assert options["access_key"] is None  # boto3's own chain (AWS_* variables, instance role)
    assert options["client_config"].s3 == {"addressing_style": "path"}  # type: ignore[attr-defined]
    monkeypatch.setenv("HOCBA_S3_ADDRESSING_STYLE", "sideways")
    with pytest.raises(
        Exception, match="HOCBA_S3_ADDRESSING_STYLE phải là path, virtual hoặc auto"
    ):
        _s3_options()
    monkeypatch.setenv("HOCBA_S3_ADDRESSING_STYLE", "virtual")
    monkeypatch.setenv("HOCBA_S3_ACCESS_KEY_ID", "only-the-key")
    with pytest.raises(Exception, match="HOCBA_S3_SECRET_ACCESS_KEY"):
        _s3_options()
