"""Trust bundles for the offline verifier, and proof files for single records.

A trust bundle is a folder (or the same files in a ZIP) made by ``hocba verification-bundle``::

    manifest.json        format, origin, creation time, what is inside
    log.vkey             the log's Ed25519 verifier key (C2SP note verifier)
    checkpoint.txt       the latest signed checkpoint (tlog-checkpoint, signed note)
    status-list.txt      the signed status list (ledger/statuslist.py)
    trust/*.pem, *.crl   the trusted roots, CA certificates and CRLs (settings.TRUST_DIR)

:func:`load_bundle` reads one and checks the checkpoint's and the status list's signatures with
the key; nothing here needs a database. A record's ``.tlog-proof`` (:func:`record_proof`, made
online) is the C2SP proof of its ``issued`` leaf with the leaf's event JSON as ``extra``, so the
offline verifier can rebuild the leaf and compare it with the file.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from hocba.ledger.note import NoteError, TlogProof, Verifier, open_checkpoint
from hocba.ledger.statuslist import StatusListError, open_status_list
from hocba.signing.certcheck import TrustStore
from hocba.verification.report import TrustBundle, VerificationError

FORMAT = "hocba.trust-bundle/1"
MAX_MEMBER_BYTES = 64 * 1024 * 1024
FILES = ("manifest.json", "log.vkey", "checkpoint.txt", "status-list.txt")


# --- reading (offline) ----------------------------------------------------------------------


def load_bundle(path: Path) -> TrustBundle:
    """The trust bundle at ``path`` (folder or ZIP), its signatures checked with its key."""
    files = _read_zip(path) if path.is_file() else _read_folder(path)
    try:
        manifest = json.loads(files.get("manifest.json", b"{}"))
    except ValueError:
        manifest = {}
    if manifest.get("format") != FORMAT:
        raise VerificationError(
            _("“%(path)s” không phải gói tin cậy của hệ thống học bạ.") % {"path": path}
        )
    try:
        key = Verifier.parse(files["log.vkey"].decode())
        checkpoint = open_checkpoint(files["checkpoint.txt"].decode(), key, key.name)
        status_list = open_status_list(files["status-list.txt"].decode(), key)
    except KeyError as error:
        raise VerificationError(
            _("Gói tin cậy thiếu tệp %(name)s.") % {"name": error.args[0]}
        ) from error
    except (NoteError, StatusListError, UnicodeDecodeError) as error:
        raise VerificationError(
            _(
                "Gói tin cậy không hợp lệ: điểm kiểm tra hoặc danh sách trạng thái không được "
                "ký bằng khoá của sổ cái (%(error)s)."
            )
            % {"error": error}
        ) from error
    store = _trust_store(files)
    return TrustBundle(
        store=store,
        log_key=key,
        checkpoint=checkpoint,
        status_list=status_list,
        created_at=str(manifest.get("created_at", "")),
    )


def _trust_store(files: dict[str, bytes]) -> TrustStore:
    import tempfile

    # TrustStore reads files by content; reuse its reader through a temporary folder.
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for name, data in files.items():
            if name.startswith("trust/") and "/" not in name[len("trust/") :]:
                (root / name[len("trust/") :]).write_bytes(data)
        try:
            store = TrustStore.from_folder(root)
        except ValueError as error:
            raise VerificationError(
                _("Gói tin cậy có tệp chứng thư hoặc CRL không đọc được: %(error)s")
                % {"error": error}
            ) from error
    if not store.roots:
        raise VerificationError(_("Gói tin cậy không có chứng thư gốc nào."))
    return store


def _read_folder(path: Path) -> dict[str, bytes]:
    if not path.is_dir():
        raise VerificationError(_("Không tìm thấy gói tin cậy “%(path)s”.") % {"path": path})
    files = {name: (path / name).read_bytes() for name in FILES if (path / name).is_file()}
    trust = path / "trust"
    if trust.is_dir():
        for item in sorted(trust.iterdir()):
            if item.is_file() and item.stat().st_size <= MAX_MEMBER_BYTES:
                files[f"trust/{item.name}"] = item.read_bytes()
    return files


def _read_zip(path: Path) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(path) as archive:
            files = {}
            for info in archive.infolist():
                if info.is_dir() or info.file_size > MAX_MEMBER_BYTES:
                    continue
                name = info.filename.split("/", 1)[1] if _prefixed(archive) else info.filename
                files[name] = archive.read(info)
            return files
    except zipfile.BadZipFile as error:
        raise VerificationError(
            _("“%(path)s” không phải thư mục hay tệp ZIP của gói tin cậy.") % {"path": path}
        ) from error


def _prefixed(archive: zipfile.ZipFile) -> bool:
    """Whether every member sits in one top folder (a zipped bundle folder)."""
    names = archive.namelist()
    return "manifest.json" not in names and any(n.endswith("/manifest.json") for n in names)


# --- writing (online) -----------------------------------------------------------------------


def bundle_files() -> dict[str, bytes]:
    """The files of a trust bundle of this deployment (needs the database and the log key)."""
    from django.conf import settings

    from hocba.ledger import keys, services
    from hocba.ledger.statuslist import build_status_list

    checkpoint = services.sign_checkpoint()
    status_list = build_status_list()
    files: dict[str, bytes] = {
        "log.vkey": (keys.verifier_key() + "\n").encode(),
        "checkpoint.txt": checkpoint.note.encode(),
        "status-list.txt": status_list.encode(),
    }
    trust_dir = Path(settings.TRUST_DIR)
    if trust_dir.is_dir():
        for item in sorted(trust_dir.rglob("*")):
            if item.is_file() and not item.name.startswith(".") and _is_pki_file(item):
                files[f"trust/{item.name}"] = item.read_bytes()
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "origin": keys.origin(),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "checkpoint_size": checkpoint.size,
        "files": sorted(files),
    }
    files["manifest.json"] = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
    return files


def _is_pki_file(path: Path) -> bool:
    return path.suffix.lower() in {".pem", ".crt", ".cer", ".der", ".crl"}


def write_bundle(out: Path, files: dict[str, bytes]) -> Path:
    """Write ``files`` as a ZIP when ``out`` ends in ``.zip``, else as a folder."""
    if out.suffix.lower() == ".zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in sorted(files.items()):
                archive.writestr(name, data)
        out.write_bytes(buffer.getvalue())
        return out
    out.mkdir(parents=True, exist_ok=True)
    (out / "trust").mkdir(exist_ok=True)
    for name, data in files.items():
        (out / name).write_bytes(data)
    return out


def record_proof(record: Any) -> str | None:
    """The ``.tlog-proof`` of a record version's ``issued`` leaf, event JSON as ``extra``."""
    from hocba.ledger.issuing import latest_bundle
    from hocba.ledger.models import IssuedRecord

    issuance = IssuedRecord.objects.filter(record=record).select_related("leaf").first()
    bundle = latest_bundle(record)
    if issuance is None or bundle is None:
        return None
    proof = TlogProof.parse(bundle.text)
    return TlogProof(
        proof.index, proof.hashes, proof.checkpoint_note, extra=issuance.leaf.event.encode()
    ).text()
