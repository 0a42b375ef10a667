"""``hocba backup``: the whole instance in one tar archive, with no private key in it.

The archive (format ``hocba-backup`` version 1, docs/deployment.md) holds, in this order:

- ``db/<app_label>.<model>.jsonl.gz``: every row of every model, Django's ``jsonl`` serializer
  (plain primary keys, no natural keys), gzip-compressed, one member per model. All of them are
  read in ONE read transaction (PostgreSQL ``REPEATABLE READ READ ONLY``, SQLite a deferred
  read transaction that does not block writers in WAL mode), so the archive is one consistent
  state while the system runs. Each member is streamed through a temporary file, never held in
  memory. Left out: sessions, the PIN-protected PKCS#12 files of ``soft`` signers
  (``SigningCertificate.pkcs12``), the encrypted PINs of running batches, second-factor secrets
  and the API keys of upward sync targets.
- ``files/<name>``: every stored file a row of the snapshot names (signed PDFs, long-term
  validation PDFs, transferred records' PDFs), read through ``default_storage`` (folder or S3).
- ``ledger/verifier-key.txt`` and ``ledger/checkpoint.txt``: the log's PUBLIC key and its latest
  signed checkpoint.
- ``trust/…``: the trust folder (``TRUST_DIR``: CA certificates and CRLs); a file there holding
  a private key is skipped, with a warning.
- ``manifest.json`` (last): format, hocba version, creation time, applied migrations, rows per
  model, log size, and the SHA-256 and size of every other member.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import os
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils.translation import gettext as _

import hocba
from hocba.audit.services import record_event
from hocba.common.errors import DomainError

FORMAT = "hocba-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CHUNK = 1024 * 1024
ROWS_PER_QUERY = 2000

# Never in an archive: whole models, and fields holding keys or secrets derived from SECRET_KEY.
# Second-factor secrets (TOTP keys, recovery codes) stay out too: after a restore everyone sets
# up their authenticator again (HOCBA_2FA=required makes the strong roles do it first).
SKIPPED_MODELS = {
    "sessions.session",
    "otp_totp.totpdevice",
    "otp_static.staticdevice",
    "otp_static.statictoken",
}
SKIPPED_FIELDS = {
    "signing.signingcertificate": {"pkcs12"},  # PIN-protected private keys of soft signers
    "signing.signingbatch": {"authorisation"},  # a running batch's PIN, encrypted
    "exchange.synctarget": {"api_key"},  # the key for the upper store: set again after restore
}
# Columns naming a file in the default storage.
FILE_FIELDS = [
    ("signing.recordsignature", "pdf_file"),
    ("signing.longtermvalidation", "pdf_file"),
    ("records.transferredrecord", "pdf_file"),
]
PRIVATE_KEY_MARKERS = (b"PRIVATE KEY", b"PRIVATE-KEY")
PRIVATE_KEY_SUFFIXES = {".key", ".p12", ".pfx"}

Say = Callable[[str], None]


class BackupError(DomainError):
    """A backup or a restore that cannot go on; the message says why, in Vietnamese."""


def _quiet(message: str) -> None:
    pass


@dataclass
class BackupSummary:
    path: Path
    sha256: str
    size: int
    rows: dict[str, int]
    files: int
    log_size: int
    seconds: float
    skipped_trust_files: list[str] = field(default_factory=list)


class ExactJSONEncoder(DjangoJSONEncoder):
    """Django's encoder keeps milliseconds only; a restore gives back every microsecond."""

    def default(self, o: Any) -> Any:
        if isinstance(o, dt.datetime | dt.time) and o.microsecond:
            return o.isoformat()
        return super().default(o)


def dumped_models() -> list[type[models.Model]]:
    """Every model whose rows go into an archive (and come back from one), in a stable order."""
    chosen = []
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed or meta.label_lower in SKIPPED_MODELS:
            continue
        chosen.append(model)
    return sorted(chosen, key=lambda model: model._meta.label_lower)


def member_name(model: type[models.Model]) -> str:
    return f"db/{model._meta.label_lower}.jsonl.gz"


def dumped_fields(model: type[models.Model]) -> list[str]:
    skipped = SKIPPED_FIELDS.get(model._meta.label_lower, set())
    meta = model._meta
    names = [
        f.name for f in meta.local_fields if getattr(f, "serialize", True) and f.name not in skipped
    ]
    return names + [f.name for f in meta.local_many_to_many if f.name not in skipped]


@contextmanager
def read_snapshot(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """One read transaction: every query inside sees the same state of the database."""
    connection = connections[using]
    if connection.in_atomic_block:
        yield  # already one transaction (the caller's)
        return
    if connection.vendor == "postgresql":
        with transaction.atomic(using=using):
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield
        return
    # SQLite: Django would open BEGIN IMMEDIATE (a write lock for the whole backup); a deferred
    # transaction whose first read fixes the snapshot lets writers go on meanwhile (WAL).
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("BEGIN DEFERRED")
        cursor.execute("SELECT COUNT(*) FROM django_migrations")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ROLLBACK")


class _HashingWriter:
    """Copies bytes to a temporary file, counting and hashing them on the way."""

    def __init__(self) -> None:
        # Closed by ArchiveWriter.add once copied into the archive.
        self.file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.file.write(data)
        self.sha256.update(data)
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        self.file.flush()


class ArchiveWriter:
    def __init__(self, tar: tarfile.TarFile) -> None:
        self.tar = tar
        self.members: dict[str, dict[str, Any]] = {}
        self.mtime = int(time.time())

    def add(self, name: str, spooled: _HashingWriter) -> None:
        if name in self.members:
            raise BackupError(
                _("Tệp %(name)s xuất hiện hai lần trong bản sao lưu.") % {"name": name}
            )
        info = tarfile.TarInfo(name)
        info.size = spooled.size
        info.mtime = self.mtime
        info.mode = 0o600
        spooled.file.seek(0)
        self.tar.addfile(info, spooled.file)
        spooled.file.close()
        self.members[name] = {"sha256": spooled.sha256.hexdigest(), "size": spooled.size}

    def add_bytes(self, name: str, data: bytes) -> None:
        spooled = _HashingWriter()
        spooled.write(data)
        self.add(name, spooled)

    def add_stream(self, name: str, source: IO[bytes]) -> None:
        spooled = _HashingWriter()
        while chunk := source.read(CHUNK):
            spooled.write(chunk)
        self.add(name, spooled)


def _counted(objects: Iterable[models.Model], counter: list[int]) -> Iterator[models.Model]:
    for obj in objects:
        counter[0] += 1
        yield obj


def _dump_model(writer: ArchiveWriter, model: type[models.Model]) -> int:
    spooled = _HashingWriter()
    queryset: models.QuerySet[Any] = model._default_manager.order_by("pk")
    many = [f.name for f in model._meta.local_many_to_many]
    if many:
        queryset = queryset.prefetch_related(*many)
    counter = [0]
    with gzip.GzipFile(fileobj=spooled, mode="wb", mtime=0) as compressed:
        text = io.TextIOWrapper(compressed, encoding="utf-8", newline="\n")
        serializers.serialize(
            "jsonl",
            _counted(queryset.iterator(chunk_size=ROWS_PER_QUERY), counter),
            stream=text,
            fields=dumped_fields(model),
            cls=ExactJSONEncoder,
        )
        text.flush()
        text.detach()
    writer.add(member_name(model), spooled)
    return counter[0]


def _stored_file_names() -> list[str]:
    names: set[str] = set()
    for label, column in FILE_FIELDS:
        model = apps.get_model(label)
        names.update(n for n in model._default_manager.values_list(column, flat=True) if n)
    return sorted(names)


def _dump_files(writer: ArchiveWriter, say: Say) -> int:
    names = _stored_file_names()
    for number, name in enumerate(names, start=1):
        try:
            with default_storage.open(name, "rb") as handle:
                writer.add_stream(f"files/{name}", handle)
        except OSError as error:
            raise BackupError(
                _("Không đọc được tệp %(name)s trong kho lưu trữ: %(error)s")
                % {"name": name, "error": error}
            ) from error
        if number % 500 == 0:
            say(_("  đã chép %(done)s/%(total)s tệp") % {"done": number, "total": len(names)})
    return len(names)


def _ledger_state(writer: ArchiveWriter) -> dict[str, Any]:
    from hocba.ledger import keys
    from hocba.ledger.models import Checkpoint, LogHead

    head = LogHead.objects.filter(pk=1).first()
    latest = Checkpoint.objects.order_by("-size").first()
    # Never create a key here: a source without its key file has no log identity to record.
    verifier_key = keys.verifier_key() if keys.key_file().exists() else None
    if verifier_key:
        writer.add_bytes("ledger/verifier-key.txt", f"{verifier_key}\n".encode())
    if latest is not None:
        writer.add_bytes("ledger/checkpoint.txt", latest.note.encode())
    return {
        "size": head.size if head else 0,
        "origin": keys.origin(),
        "verifier_key": verifier_key,
        "checkpoint_size": latest.size if latest else None,
    }


def holds_private_key(path: Path) -> bool:
    if path.suffix.lower() in PRIVATE_KEY_SUFFIXES:
        return True
    data = path.read_bytes()
    return any(marker in data for marker in PRIVATE_KEY_MARKERS)


def _dump_trust(writer: ArchiveWriter, say: Say) -> list[str]:
    trust_dir = Path(settings.TRUST_DIR)
    skipped: list[str] = []
    if not trust_dir.is_dir():
        return skipped
    for path in sorted(p for p in trust_dir.rglob("*") if p.is_file() and not p.is_symlink()):
        relative = path.relative_to(trust_dir).as_posix()
        if holds_private_key(path):
            skipped.append(relative)
            say(
                _("Cảnh báo: bỏ qua %(name)s trong thư mục tin cậy (có khoá bí mật).")
                % {"name": relative}
            )
            continue
        with path.open("rb") as handle:
            writer.add_stream(f"trust/{relative}", handle)
    return skipped


def _applied_migrations() -> dict[str, list[str]]:
    applied: dict[str, list[str]] = {}
    recorder = MigrationRecorder(connections[DEFAULT_DB_ALIAS])
    for app_label, name in sorted(recorder.applied_migrations()):
        applied.setdefault(app_label, []).append(name)
    return applied


def _manifest(
    writer: ArchiveWriter, rows: dict[str, int], files: int, log: dict[str, Any]
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "hocba_version": hocba.__version__,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "database": connections[DEFAULT_DB_ALIAS].vendor,
        "migrations": _applied_migrations(),
        "rows": rows,
        "files": files,
        "log": log,
        "skipped_fields": {label: sorted(names) for label, names in SKIPPED_FIELDS.items()},
        "members": writer.members,
    }


def _write_archive(tar: tarfile.TarFile, say: Say) -> tuple[dict[str, Any], list[str]]:
    writer = ArchiveWriter(tar)
    rows: dict[str, int] = {}
    with read_snapshot():
        for model in dumped_models():
            rows[model._meta.label_lower] = _dump_model(writer, model)
        say(_("Đã chép %(rows)s dòng dữ liệu.") % {"rows": sum(rows.values())})
        files = _dump_files(writer, say)
        say(_("Đã chép %(files)s tệp PDF.") % {"files": files})
        log = _ledger_state(writer)
        manifest = _manifest(writer, rows, files, log)
    skipped = _dump_trust(writer, say)
    manifest["members"] = writer.members
    writer.add_bytes(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode())
    return manifest, skipped


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_backup(
    path: str | os.PathLike[str], *, actor: Any = None, say: Say = _quiet
) -> BackupSummary:
    """Write the archive to ``path`` (a temporary name, renamed when complete)."""
    started = time.monotonic()
    target = Path(path)
    if target.is_dir():
        raise BackupError(_("%(path)s là một thư mục; hãy ghi tên tệp .tar.") % {"path": target})
    partial = target.with_name(f".{target.name}.partial")
    try:
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
            manifest, skipped = _write_archive(tar, say)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    summary = BackupSummary(
        path=target,
        sha256=file_sha256(target),
        size=target.stat().st_size,
        rows=manifest["rows"],
        files=manifest["files"],
        log_size=manifest["log"]["size"],
        seconds=time.monotonic() - started,
        skipped_trust_files=skipped,
    )
    with transaction.atomic():
        record_event(
            actor=actor,
            action="system.backup.created",
            object_type="backup",
            object_id=summary.sha256[:16],
            object_label=target.name,
            changes={
                "sha256": summary.sha256,
                "rows": sum(summary.rows.values()),
                "files": summary.files,
                "log_size": summary.log_size,
            },
        )
    return summary
