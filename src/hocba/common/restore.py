"""``hocba restore``: an archive of :mod:`hocba.common.backup` into an EMPTY instance.

Everything that can refuse is checked before anything is written: the manifest and the SHA-256
of every member (a damaged or altered archive, a missing or extra member), the migrations (the
archive must come from the same schema as this code), the database (no data in it), the file
storage and the trust folder (no other file under a name the archive uses), and the log key
(the key file on this machine, copied from offline storage, must be the archive's log key).
Then: ``migrate``, every row in ONE transaction (inserts only, which the append-only triggers
allow; PostgreSQL sequences reset past the loaded ids), the stored files and the trust folder
(removed again if the transaction fails), an audit event; and finally the ledger audit.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.conf import settings
from django.core import serializers
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.migrations.loader import MigrationLoader
from django.utils.translation import gettext as _

from hocba.audit.services import record_event
from hocba.common.backup import (
    CHUNK,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    BackupError,
    dumped_models,
    file_sha256,
    member_name,
)
from hocba.ledger.audit import AuditReport, run_audit

Say = Callable[[str], None]
BATCH = 500
# Rows ``migrate`` itself creates (post_migrate): replaced by the archive's, ids and all.
SEEDED_MODELS = {"contenttypes.contenttype", "auth.permission"}


def _quiet(message: str) -> None:
    pass


@dataclass
class RestoreSummary:
    manifest: dict[str, Any]
    rows: int = 0
    files: int = 0
    trust_files: int = 0
    audit: AuditReport | None = None
    timings: dict[str, float] = field(default_factory=dict)


def _refuse(message: str) -> BackupError:
    return BackupError(message)


def _safe_name(name: str) -> bool:
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts


def _hash_member(tar: tarfile.TarFile, member: tarfile.TarInfo) -> str:
    source = tar.extractfile(member)
    if source is None:
        raise _refuse(_("Thành phần %(name)s không đọc được.") % {"name": member.name})
    digest = hashlib.sha256()
    while chunk := source.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    try:
        source = tar.extractfile(MANIFEST)
        manifest = json.loads(source.read()) if source else None
    except (KeyError, ValueError) as error:
        raise _refuse(_("Bản sao lưu không có manifest.json hợp lệ.")) from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _refuse(_("Tệp này không phải bản sao lưu của hocba."))
    if manifest.get("format_version") != FORMAT_VERSION:
        raise _refuse(
            _("Phiên bản định dạng sao lưu %(version)s không được hỗ trợ.")
            % {"version": manifest.get("format_version")}
        )
    return manifest


def check_members(tar: tarfile.TarFile, manifest: dict[str, Any]) -> None:
    """Every member is listed with its hash, every listed member is there, and nothing else."""
    expected: dict[str, dict[str, Any]] = manifest.get("members") or {}
    seen: set[str] = set()
    for member in tar.getmembers():
        if member.name == MANIFEST:
            continue
        if not member.isfile() or not _safe_name(member.name) or member.name in seen:
            raise _refuse(_("Thành phần lạ trong bản sao lưu: %(name)s.") % {"name": member.name})
        seen.add(member.name)
        listed = expected.get(member.name)
        if listed is None:
            raise _refuse(_("Thành phần %(name)s không có trong manifest.") % {"name": member.name})
        if member.size != listed.get("size") or _hash_member(tar, member) != listed.get("sha256"):
            raise _refuse(
                _("Bản sao lưu bị hỏng hoặc bị sửa: %(name)s không khớp mã băm trong manifest.")
                % {"name": member.name}
            )
    missing = sorted(set(expected) - seen)
    if missing:
        raise _refuse(
            _("Bản sao lưu thiếu %(count)s thành phần, ví dụ %(name)s.")
            % {"count": len(missing), "name": missing[0]}
        )


def check_migrations(manifest: dict[str, Any]) -> None:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    ours = {(app, name) for app, name in loader.graph.nodes}
    theirs = {(app, name) for app, names in manifest["migrations"].items() for name in names}
    if theirs != ours:
        raise _refuse(
            _(
                "Bản sao lưu được tạo với lược đồ dữ liệu khác phiên bản này (hocba "
                "%(version)s): hãy phục hồi bằng đúng phiên bản đó rồi mới nâng cấp."
            )
            % {"version": manifest.get("hocba_version", "?")}
        )


def tables_with_data() -> list[str]:
    connection = connections[DEFAULT_DB_ALIAS]
    tables = set(connection.introspection.table_names())
    found = []
    for model in dumped_models():
        label = model._meta.label_lower
        if label in SEEDED_MODELS or model._meta.db_table not in tables:
            continue
        if model._default_manager.exists():
            found.append(label)
    return found


def check_empty() -> None:
    found = tables_with_data()
    if found:
        raise _refuse(
            _("Cơ sở dữ liệu đích đã có dữ liệu (%(tables)s): chỉ phục hồi vào một hệ thống trống.")
            % {"tables": ", ".join(found[:5])}
        )


def check_log_key(manifest: dict[str, Any]) -> None:
    """The key file here must be the archive's log key (the operator copies it from offline)."""
    from hocba.ledger import keys

    expected = manifest["log"].get("verifier_key")
    if not expected:
        return  # the source had no log key yet: one is made here on first issue
    path = keys.key_file()
    if not path.exists():
        raise _refuse(
            _(
                "Không có khoá riêng của sổ cái tại %(path)s. Hãy chép tệp khoá từ nơi lưu trữ "
                "ngoại tuyến vào đó (hoặc đặt HOCBA_LEDGER_KEY_FILE) rồi chạy lại; khoá công khai "
                "cần khớp: %(key)s"
            )
            % {"path": path, "key": expected}
        )
    try:
        here = keys.verifier_key()
    except ValueError as error:
        raise _refuse(
            _("Tệp khoá sổ cái %(path)s không đọc được: %(error)s") % {"path": path, "error": error}
        ) from error
    if here != expected:
        raise _refuse(
            _(
                "Khoá sổ cái tại %(path)s (%(here)s) không phải khoá của bản sao lưu "
                "(%(expected)s). Kiểm tra tệp khoá và HOCBA_LEDGER_ORIGIN."
            )
            % {"path": path, "here": here, "expected": expected}
        )


def _member_bytes_equal(tar: tarfile.TarFile, name: str, data: IO[bytes]) -> bool:
    source = tar.extractfile(name)
    assert source is not None
    while chunk := source.read(CHUNK):
        if data.read(len(chunk)) != chunk:
            return False
    return not data.read(1)


def check_no_clobber(tar: tarfile.TarFile, manifest: dict[str, Any]) -> None:
    """No stored file or trust file is already there with other contents."""
    trust_dir = Path(settings.TRUST_DIR)
    for name in manifest["members"]:
        if name.startswith("files/"):
            stored = name.removeprefix("files/")
            if default_storage.exists(stored):
                with default_storage.open(stored, "rb") as handle:
                    same = _member_bytes_equal(tar, name, handle)
            else:
                same = True
        elif name.startswith("trust/"):
            path = trust_dir / name.removeprefix("trust/")
            same = True
            if path.exists():
                with path.open("rb") as handle:
                    same = _member_bytes_equal(tar, name, handle)
        else:
            continue
        if not same:
            raise _refuse(
                _("Đã có tệp %(name)s khác nội dung trong bản sao lưu: không ghi đè.")
                % {"name": name}
            )


def _deserialized(tar: tarfile.TarFile, name: str) -> Iterator[Any]:
    source = tar.extractfile(name)
    assert source is not None
    with gzip.GzipFile(fileobj=source, mode="rb") as compressed:
        text = io.TextIOWrapper(compressed, encoding="utf-8")
        yield from serializers.deserialize("jsonl", text)


def _insert_raw(model: type[models.Model], objects: list[models.Model]) -> int:
    """INSERT the rows as they are, like ``loaddata``'s raw save (``bulk_create`` would stamp
    ``auto_now`` / ``auto_now_add`` columns with the time of the restore), many per statement."""
    connection = connections[DEFAULT_DB_ALIAS]
    fields = list(model._meta.local_concrete_fields)
    size = max(1, connection.ops.bulk_batch_size(fields, objects))
    for start in range(0, len(objects), size):
        model._base_manager.all()._insert(  # type: ignore[attr-defined]
            objects[start : start + size], fields=fields, using=DEFAULT_DB_ALIAS, raw=True
        )
    return len(objects)


def _load_model(tar: tarfile.TarFile, model: type[models.Model]) -> int:
    name = member_name(model)
    batch: list[models.Model] = []
    relations: list[tuple[models.Model, dict[str, list[Any]]]] = []
    count = 0
    for item in _deserialized(tar, name):
        if type(item.object) is not model:
            raise _refuse(_("Thành phần %(name)s chứa dòng của bảng khác.") % {"name": name})
        batch.append(item.object)
        if item.m2m_data:
            relations.append((item.object, item.m2m_data))
        if len(batch) >= BATCH:
            count += _insert_raw(model, batch)
            batch = []
    if batch:
        count += _insert_raw(model, batch)
    for obj, m2m in relations:
        for field_name, values in m2m.items():
            getattr(obj, field_name).set(values)
    return count


def _load_rows(tar: tarfile.TarFile, manifest: dict[str, Any], say: Say) -> int:
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    connection = connections[DEFAULT_DB_ALIAS]
    Permission.objects.all().delete()
    ContentType.objects.all().delete()
    loaded = []
    total = 0
    for model in dumped_models():
        if member_name(model) not in manifest["members"]:
            raise _refuse(
                _("Bản sao lưu thiếu bảng %(label)s.") % {"label": model._meta.label_lower}
            )
        count = _load_model(tar, model)
        if count != manifest["rows"].get(model._meta.label_lower):
            raise _refuse(
                _("Số dòng của %(label)s không khớp manifest.") % {"label": model._meta.label_lower}
            )
        total += count
        loaded.append(model)
    ContentType.objects.clear_cache()
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), loaded):
            cursor.execute(statement)
    connection.check_constraints(table_names=[m._meta.db_table for m in loaded])
    say(_("Đã nạp %(rows)s dòng dữ liệu.") % {"rows": total})
    return total


def _write_files(tar: tarfile.TarFile, manifest: dict[str, Any], written: list[Path | str]) -> int:
    count = 0
    for name in manifest["members"]:
        if not name.startswith("files/"):
            continue
        stored = name.removeprefix("files/")
        count += 1
        if default_storage.exists(stored):
            continue  # the same bytes (checked before writing anything)
        source = tar.extractfile(name)
        assert source is not None
        saved = default_storage.save(stored, File(source, name=PurePosixPath(stored).name))
        written.append(saved)
        if saved != stored:
            raise _refuse(_("Kho lưu trữ đổi tên tệp %(name)s.") % {"name": stored})
    return count


def _write_trust(tar: tarfile.TarFile, manifest: dict[str, Any], written: list[Path | str]) -> int:
    trust_dir = Path(settings.TRUST_DIR)
    count = 0
    for name in manifest["members"]:
        if not name.startswith("trust/"):
            continue
        path = trust_dir / name.removeprefix("trust/")
        count += 1
        if path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        source = tar.extractfile(name)
        assert source is not None
        with path.open("xb") as handle:
            written.append(path)
            while chunk := source.read(CHUNK):
                handle.write(chunk)
    return count


def _remove(written: list[Path | str]) -> None:
    for item in reversed(written):
        if isinstance(item, Path):
            item.unlink(missing_ok=True)
        else:
            default_storage.delete(item)


def _timed(summary: RestoreSummary, stage: str, started: float) -> float:
    now = time.monotonic()
    summary.timings[stage] = now - started
    return now


def _open(archive: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(archive, "r:")
    except tarfile.TarError as error:
        raise _refuse(_("Tệp %(path)s không phải tệp tar hợp lệ.") % {"path": archive}) from error


def restore_backup(
    path: str | Path, *, expected_sha256: str = "", actor: Any = None, say: Say = _quiet
) -> RestoreSummary:
    """``expected_sha256``: the archive's hash as ``hocba backup`` printed it (kept apart from
    the archive, it also catches an archive altered together with its manifest)."""
    archive = Path(path)
    if not archive.is_file():
        raise _refuse(_("Không tìm thấy tệp %(path)s.") % {"path": archive})
    if expected_sha256 and file_sha256(archive) != expected_sha256.strip().lower():
        raise _refuse(_("Mã SHA-256 của tệp sao lưu không phải mã đã cho."))
    started = time.monotonic()
    with _open(archive) as tar:
        manifest = read_manifest(tar)
        summary = RestoreSummary(manifest=manifest)
        check_members(tar, manifest)
        say(
            _("Mã băm của %(count)s thành phần khớp manifest.")
            % {"count": len(manifest["members"])}
        )
        started = _timed(summary, "check", started)
        check_migrations(manifest)
        check_empty()
        check_log_key(manifest)
        check_no_clobber(tar, manifest)
        call_command("migrate", interactive=False, verbosity=0)
        started = _timed(summary, "migrate", started)
        _load(tar, manifest, summary, actor, say)
        started = _timed(summary, "load", started)
    say(_("Đang kiểm tra lại sổ cái…"))
    summary.audit = run_audit()
    _timed(summary, "audit", started)
    return summary


def _load(
    tar: tarfile.TarFile, manifest: dict[str, Any], summary: RestoreSummary, actor: Any, say: Say
) -> None:
    written: list[Path | str] = []
    try:
        with transaction.atomic():
            summary.rows = _load_rows(tar, manifest, say)
            summary.files = _write_files(tar, manifest, written)
            summary.trust_files = _write_trust(tar, manifest, written)
            say(
                _("Đã ghi %(files)s tệp PDF và %(trust)s tệp tin cậy.")
                % {"files": summary.files, "trust": summary.trust_files}
            )
            record_event(
                actor=actor,
                action="system.backup.restored",
                object_type="backup",
                object_label=PurePosixPath(str(tar.name or "")).name[:255],
                changes={
                    "created_at": manifest["created_at"],
                    "hocba_version": manifest["hocba_version"],
                    "rows": summary.rows,
                    "files": summary.files,
                    "log_size": manifest["log"]["size"],
                },
            )
    except BaseException:
        _remove(written)
        raise
