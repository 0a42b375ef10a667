# ruff: noqa: F811, F401 — pytest fixtures imported from reportfixtures
"""``hocba backup`` and ``hocba restore`` (issue 10 §4): a world with issued records is backed
up, restored into a second, empty instance (its own data folder, and on PostgreSQL its own
database ``hocba_restore_*``, in a process of its own), where the ledger audit passes and the
record PDFs verify as valid; a damaged archive, a missing log key or a non-empty target is
refused with nothing written. The archive holds no private key."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection, connections

from hocba.audit.models import AuditEvent
from hocba.common.backup import MANIFEST, read_snapshot, write_backup
from hocba.common.tests.test_storage_s3 import KEYS, PREFIX, Bucket, s3, s3_endpoint
from hocba.records.models import YearRecord
from hocba.schools.models import Province
from hocba.signing.models import SigningCertificate
from hocba.verification.report import PASSED, VALID
from hocba.verification.tests.reportfixtures import lta_issued

pytestmark = pytest.mark.django_db

VERIFY = """
import json
import django

django.setup()
from hocba.records.models import YearRecord
from hocba.schools.models import Province
from hocba.signing.batch import current_pdf
from hocba.verification.online import full_validation, verify_pdf_online

from hocba.audit.models import AuditEvent

events = AuditEvent.objects.order_by("pk").values_list("at", flat=True)
out = {"audit_at": [at.isoformat() for at in events]}
for record in YearRecord.objects.filter(status="issued").order_by("pk"):
    data = current_pdf(record)
    full, online = full_validation(data), verify_pdf_online(data)
    out[record.short_code] = [full.verdict, full.log["check"], online.verdict, online.mode]
print(json.dumps(out))
"""


def _postgres_server() -> dict[str, str] | None:
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.postgresql":
        return None
    return {k: str(database.get(k) or "") for k in ("HOST", "PORT", "USER", "PASSWORD")}


def _connect(server: dict[str, str], dbname: str) -> psycopg.Connection[Any]:
    return psycopg.connect(
        host=server["HOST"] or "127.0.0.1",
        port=server["PORT"] or "5432",
        user=server["USER"] or "postgres",
        password=server["PASSWORD"] or None,
        dbname=dbname,
        autocommit=True,
    )


@dataclass
class Instance:
    """A second hocba instance: its data folder and, on PostgreSQL, its own database."""

    data_dir: Path
    database: str | None
    server: dict[str, str] | None
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "HOCBA_"))}
        env.pop("DATABASE_URL", None)
        env.update(
            DJANGO_SETTINGS_MODULE="hocba.settings",
            HOCBA_TESTING="1",
            HOCBA_DATA_DIR=str(self.data_dir),
            HOCBA_LEDGER_ORIGIN="test.hocba.local/log",
        )
        env.update(self.extra_env)
        if self.server and self.database:
            server = self.server
            password = f":{server['PASSWORD']}" if server["PASSWORD"] else ""
            env["DATABASE_URL"] = (
                f"postgres://{server['USER'] or 'postgres'}{password}@"
                f"{server['HOST'] or '127.0.0.1'}:{server['PORT'] or '5432'}/{self.database}"
            )
        return env

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    def restore(self, archive: Path, *options: str) -> subprocess.CompletedProcess[str]:
        return self.run("-m", "hocba.cli", "restore", str(archive), *options)

    def tables(self) -> list[str]:
        if self.server and self.database:
            with _connect(self.server, self.database) as conn:
                rows = conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                ).fetchall()
            return [row[0] for row in rows]
        path = self.data_dir / "hocba.sqlite3"
        if not path.exists():
            return []
        with sqlite3.connect(path) as conn:
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        return [row[0] for row in rows]

    def written_files(self) -> list[Path]:
        return [
            p
            for folder in ("media", "pki")
            if (self.data_dir / folder).exists()
            for p in (self.data_dir / folder).rglob("*")
            if p.is_file()
        ]


@pytest.fixture
def new_instance(tmp_path: Path) -> Iterator[Any]:
    server = _postgres_server()
    created: list[str] = []

    def make(name: str, *, log_key: Path | None = None) -> Instance:
        data_dir = tmp_path / name
        data_dir.mkdir()
        if log_key is not None:
            (data_dir / "ledger").mkdir()
            shutil.copy(log_key, data_dir / "ledger" / "log.key")
        database = None
        if server is not None:
            database = f"hocba_restore_{uuid.uuid4().hex[:10]}"
            with _connect(server, "postgres") as conn:
                conn.execute(f"CREATE DATABASE {database}")  # type: ignore[arg-type]
            created.append(database)
        return Instance(data_dir, database, server)

    try:
        yield make
    finally:
        if server is not None:
            with _connect(server, "postgres") as conn:
                for database in created:
                    conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")  # type: ignore[arg-type]


def _members(archive: Path) -> dict[str, bytes]:
    """Every member's content, decompressed."""
    contents = {}
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            source = tar.extractfile(member)
            assert source is not None
            data = source.read()
            contents[member.name] = gzip.decompress(data) if member.name.endswith(".gz") else data
    return contents


def _tamper(archive: Path, prefix: str) -> str:
    """Flip one byte in the data of the first member whose name starts with ``prefix``."""
    with tarfile.open(archive) as tar:
        member = next(m for m in tar.getmembers() if m.name.startswith(prefix) and m.size > 100)
    with archive.open("r+b") as handle:
        handle.seek(member.offset_data + member.size // 2)
        byte = handle.read(1)
        handle.seek(-1, os.SEEK_CUR)
        handle.write(bytes([byte[0] ^ 0xFF]))
    return member.name


def test_backup_restores_into_an_empty_instance_where_the_audit_passes_and_pdfs_verify(
    lta_issued: list[YearRecord], log_key: Path, tmp_path: Path, new_instance: Any
) -> None:
    archive = tmp_path / "hocba.tar"
    summary = write_backup(archive)
    assert summary.files >= 3 * 4  # three signatures and the long-term file of each record
    assert summary.log_size == 3 and summary.rows["records.yearrecord"] >= len(lta_issued)
    assert AuditEvent.objects.filter(action="system.backup.created").count() == 1

    contents = _members(archive)
    manifest = json.loads(contents[MANIFEST])
    assert manifest["log"]["verifier_key"].startswith("test.hocba.local/log+")
    assert manifest["log"]["checkpoint_size"] == 3
    assert set(manifest["members"]) == set(contents) - {MANIFEST}
    assert any(name.startswith("trust/") for name in contents)
    # No private key anywhere: not the log key, not a CA key, not a signer's PKCS#12 file.
    for name, data in contents.items():
        assert b"PRIVATE KEY" not in data, name
    assert log_key.read_bytes() not in b"".join(contents.values())
    certificates = [
        json.loads(line) for line in contents["db/signing.signingcertificate.jsonl.gz"].splitlines()
    ]
    assert certificates and SigningCertificate.objects.exclude(pkcs12=None).exists()
    assert all("pkcs12" not in row["fields"] for row in certificates)
    assert "db/sessions.session.jsonl.gz" not in contents
    # Nor second-factor secrets.
    assert not any(name.startswith("db/otp_") for name in contents)

    target = new_instance("target", log_key=log_key)
    done = target.restore(archive, "--sha256", summary.sha256)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "Sổ cái toàn vẹn." in done.stdout
    assert "Đã kiểm tra 3 lá" in done.stdout

    verified = target.run("-c", VERIFY)
    assert verified.returncode == 0, verified.stderr[-3000:]
    verdicts = json.loads(verified.stdout.strip().splitlines()[-1])
    # Rows come back as they were, auto_now_add columns included (plus the restore's event).
    restored_at = verdicts.pop("audit_at")
    in_backup = AuditEvent.objects.exclude(action="system.backup.created").order_by("pk")
    source_at = [at.isoformat() for at in in_backup.values_list("at", flat=True)]
    assert restored_at[: len(source_at)] == source_at and len(restored_at) == len(source_at) + 1
    assert set(verdicts) == {record.short_code for record in lta_issued}
    assert all(v == [VALID, PASSED, VALID, "stored"] for v in verdicts.values()), verdicts

    # A second restore into the now populated instance is refused, and changes nothing.
    again = target.restore(archive)
    assert again.returncode != 0
    assert "đã có dữ liệu" in again.stderr


def test_a_damaged_archive_or_a_missing_log_key_is_refused_with_nothing_written(
    sealed: list[YearRecord], log_key: Path, tmp_path: Path, new_instance: Any
) -> None:
    from hocba.ledger import issuing

    assert issuing.issue_sealed([r.pk for r in sealed]) == (3, [])
    archive = tmp_path / "hocba.tar"
    write_backup(archive)
    assert default_storage.exists(sealed[0].signatures.first().pdf_file)  # type: ignore[union-attr]

    without_key = new_instance("no-key")
    refused = without_key.restore(archive)
    assert refused.returncode != 0
    assert "Không có khoá riêng của sổ cái" in refused.stderr
    assert without_key.tables() == [] and without_key.written_files() == []
    # The hash printed by ``hocba backup``, given to restore, is checked before anything else.
    refused = without_key.restore(archive, "--sha256", "0" * 64)
    assert refused.returncode != 0 and "không phải mã đã cho" in refused.stderr

    other_key = tmp_path / "other.key"
    other_key.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
        )
    )
    wrong_key = new_instance("wrong-key", log_key=other_key)
    refused = wrong_key.restore(archive)
    assert refused.returncode != 0
    assert "không phải khoá của bản sao lưu" in refused.stderr
    assert wrong_key.tables() == [] and wrong_key.written_files() == []

    for prefix in ("files/", "db/records.yearrecord", "trust/"):
        damaged = tmp_path / f"damaged-{prefix.replace('/', '_')}.tar"
        shutil.copy(archive, damaged)
        name = _tamper(damaged, prefix)
        target = new_instance(f"target-{prefix.replace('/', '_')}", log_key=log_key)
        refused = target.restore(damaged)
        assert refused.returncode != 0
        assert "bị hỏng hoặc bị sửa" in refused.stderr and name in refused.stderr
        assert target.tables() == [] and target.written_files() == []


@pytest.mark.django_db(transaction=True)
def test_the_backup_reads_one_snapshot_while_others_write() -> None:
    if connection.vendor != "postgresql":
        # The test database on SQLite is in memory with a shared cache (table locks, no WAL);
        # ``hocba backup`` on a real SQLite file is run by hand in docs/deployment.md.
        pytest.skip("needs PostgreSQL")
    Province.objects.create(code="01", name="Thành phố Hà Nội")

    def write_elsewhere() -> None:
        Province.objects.create(code="79", name="Thành phố Hồ Chí Minh")
        connections.close_all()

    with read_snapshot():
        before = Province.objects.count()
        writer = threading.Thread(target=write_elsewhere)
        writer.start()
        writer.join()
        assert Province.objects.count() == before == 1
    assert Province.objects.count() == 2


def test_backup_and_restore_through_an_s3_bucket(
    s3: Bucket, issued: list[YearRecord], log_key: Path, tmp_path: Path, new_instance: Any
) -> None:
    """The files are read from one bucket and restored into another, through the storage API."""
    archive = tmp_path / "hocba.tar"
    summary = write_backup(archive)
    assert summary.files == 9 and not Path(settings.MEDIA_ROOT).exists()

    bucket = f"hocba-{uuid.uuid4().hex[:12]}"
    s3.client.create_bucket(Bucket=bucket)
    target = new_instance("target-s3", log_key=log_key)
    target.extra_env = {
        "HOCBA_STORAGE": "s3",
        "HOCBA_S3_BUCKET": bucket,
        "HOCBA_S3_ENDPOINT_URL": s3.endpoint,
        "HOCBA_S3_REGION": "us-east-1",
        "HOCBA_S3_ACCESS_KEY_ID": KEYS["aws_access_key_id"],
        "HOCBA_S3_SECRET_ACCESS_KEY": KEYS["aws_secret_access_key"],
        "HOCBA_S3_PREFIX": PREFIX,
    }
    done = target.restore(archive)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "Sổ cái toàn vẹn." in done.stdout  # the audit read every PDF back from the bucket
    listing = s3.client.list_objects_v2(Bucket=bucket).get("Contents", [])
    assert sorted(item["Key"] for item in listing) == sorted(
        f"{PREFIX}/{name.removeprefix('files/')}"
        for name in json.loads(_members(archive)[MANIFEST])["members"]
        if name.startswith("files/")
    )
    assert not (target.data_dir / "media").exists()
