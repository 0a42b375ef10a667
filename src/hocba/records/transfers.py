"""Transfers between schools (chuyển trường), within one deployment or between two (issue 9 §1).

The sending school *releases* a pupil: the enrolment ends and a **transfer package** is made, a
ZIP (``hocba.transfer-package/1``)::

    manifest.json           the pupil's identity, the study history, the records in the package
                            (file names and SHA-256), the current year's assessments so far when
                            the pupil leaves before the year's record is issued
    record-set.json         the pupil's ``hocba.record-set/1`` (docs/interchange.md): every issued
                            version with its document, status and proof, checked against the schema
    manifest.sig            a signed note of the sending deployment's log key over the manifest's
                            SHA-256: the unsigned parts (identity, marks so far) cannot be altered
    log/checkpoint.txt      the sending log's latest signed checkpoint
    log/status-list.txt     its signed status list (every record's status when the package was made)
    records/<code>.pdf      each issued year record of the pupil, as issued (PAdES, B-LTA)
    records/<code>.tlog-proof   its inclusion proof, with the ``issued`` event

The receiving school *accepts* the package into one of its classes. Before anything is written,
every part is checked against what the receiver already trusts (a :class:`TrustedPeer` registered
from the sender's trust bundle, or its own log for a transfer inside the deployment), never against
keys the package carries: the manifest's signature, the checkpoint and status list signatures,
each file's hash, then each PDF's full validation (signatures and certificate paths to the
receiver's trust folder, the log proof, the status "valid"), and that every record names this
pupil. One failure refuses the whole package with the reason; nothing is written. Accepted, in one
transaction: the pupil (created, or matched by the Ministry code), the enrolment (``transfer_in``),
the records kept as :class:`TransferredRecord` with their PDFs and proofs, the study history lines
(:class:`PriorStudy`) and the year's marks so far, with an audit event.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hocba.assessment.models import (
    CellChange,
    Channel,
    CompetencyMark,
    PupilYearFacts,
    SubjectMark,
)
from hocba.audit.services import record_event
from hocba.common.errors import DomainError, PermissionRefused
from hocba.ledger import keys
from hocba.ledger.copies import record_copies
from hocba.ledger.models import CopyChannel, CopyPurpose
from hocba.ledger.note import NoteError, Signer, TlogProof, Verifier, open_checkpoint, open_note
from hocba.ledger.statuslist import StatusListError, open_status_list
from hocba.records import interchange
from hocba.records.models import (
    PriorStudy,
    Transfer,
    TransferDirection,
    TransferredRecord,
    TrustedPeer,
    YearRecord,
    YearRecordStatus,
)
from hocba.schools import access
from hocba.schools.models import Enrolment, EntryKind, Pupil, SchoolClass
from hocba.schools.services import PUPIL_TEXT_FIELDS

FORMAT = "hocba.transfer-package/1"
MAX_PACKAGE_BYTES = 200 * 1024 * 1024
MAX_MEMBERS = 200
SIGNING_STATES = frozenset(
    {
        YearRecordStatus.TEACHER_SIGNED,
        YearRecordStatus.PRINCIPAL_SIGNED,
        YearRecordStatus.SEALED,
    }
)
FACT_FIELDS = ("height_cm", "weight_kg", "days_absent_excused", "days_absent_unexcused")
_CODE = re.compile(r"^[A-Z0-9-]{4,14}$")


class TransferRefused(DomainError):
    """A package refused before anything was written; ``message`` names the reason."""


# --- sending ------------------------------------------------------------------------------------


def release_pupil(
    *, actor: Any, enrolment: Enrolment, destination: str, on: dt.date, reason: str = ""
) -> Transfer:
    """End the pupil's enrolment and make their transfer package (kept with the transfer)."""
    school = enrolment.school_class.school
    if not access.can_change(actor, school):
        raise PermissionRefused(_("Chỉ cán bộ quản lý của trường mới cho học sinh chuyển đi."))
    destination = destination.strip()
    if not destination:
        raise DomainError(_("Hãy ghi trường chuyển đến."), field="destination")
    if enrolment.left_on is not None:
        raise DomainError(
            _("Học sinh đã chuyển đi từ ngày %(d)s.") % {"d": _date(enrolment.left_on)}
        )
    if on < enrolment.joined_on:
        raise DomainError(_("Ngày chuyển đi trước ngày nhập học."), field="on")
    signing = YearRecord.objects.filter(enrolment=enrolment, status__in=SIGNING_STATES).first()
    if signing is not None:
        raise DomainError(
            _(
                "Học bạ năm học này của học sinh đang được ký (%(status)s): hãy hoàn tất việc "
                "phát hành trước khi chuyển trường."
            )
            % {"status": signing.get_status_display()}
        )
    records = _issued_records(enrolment.pupil)
    now = timezone.now()
    with transaction.atomic():
        enrolment = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
        if enrolment.left_on is not None:
            raise DomainError(_("Học sinh đã chuyển đi."))
        enrolment.left_on = on
        enrolment.left_reason = (
            _("Chuyển đến %(school)s") % {"school": destination}
            + (f" ({reason.strip()})" if reason.strip() else "")
        )[:255]
        enrolment.save(update_fields=["left_on", "left_reason"])
        data = build_package(enrolment, records, destination=destination, on=on)
        digest = hashlib.sha256(data).hexdigest()
        name = default_storage.save(
            f"transfers/{enrolment.pupil.ministry_code}-{digest[:12]}.zip", ContentFile(data)
        )
        transfer = Transfer.objects.create(
            direction=TransferDirection.OUT,
            pupil=enrolment.pupil,
            enrolment=enrolment,
            school=school,
            counterpart_school=destination[:200],
            reason=reason.strip()[:255],
            on=on,
            package_sha256=digest,
            package_file=name,
            records=len(records),
            carried_marks=_count_marks(enrolment) if not _issued_for(enrolment, records) else 0,
            actor=actor if getattr(actor, "is_authenticated", False) else None,
            at=now,
        )
        # The package hands out copies of the issued records: logged like any copy.
        record_copies(
            actor=actor,
            records=records,
            channel=CopyChannel.DOWNLOAD,
            purpose=CopyPurpose.TRANSFER,
            note=_("Gói hồ sơ chuyển trường đến %(school)s") % {"school": destination},
        )
        record_event(
            actor=actor,
            action="records.transfer_out",
            obj=transfer,
            school=school,
            changes={"destination": destination, "on": on.isoformat(), "records": len(records)},
        )
    return transfer


def package_bytes(transfer: Transfer) -> bytes:
    """The package kept with an outgoing transfer, checked against its recorded hash."""
    with default_storage.open(transfer.package_file, "rb") as handle:
        data = handle.read()
    if hashlib.sha256(data).hexdigest() != transfer.package_sha256:
        raise DomainError(_("Tệp gói hồ sơ đã bị thay đổi so với lúc tạo."))
    return data


def _issued_records(pupil: Pupil) -> list[YearRecord]:
    return list(
        YearRecord.objects.filter(pupil=pupil, status=YearRecordStatus.ISSUED)
        .select_related("school_year", "school", "issuance")
        .order_by("school_year__start_year", "pk")
    )


def _issued_for(enrolment: Enrolment, records: list[YearRecord]) -> bool:
    return any(record.enrolment_id == enrolment.pk for record in records)


def build_package(
    enrolment: Enrolment, records: list[YearRecord], *, destination: str, on: dt.date
) -> bytes:
    """The ZIP of a pupil's transfer (see the module docstring)."""
    from hocba.ledger import services as ledger
    from hocba.ledger.statuslist import build_status_list
    from hocba.signing.batch import current_pdf
    from hocba.verification.bundle import record_proof

    pupil = enrolment.pupil
    files: dict[str, bytes] = {}
    entries = []
    for record in records:
        pdf = current_pdf(record)
        proof = record_proof(record)
        if proof is None:
            raise DomainError(
                _("Chưa có bằng chứng sổ cái cho học bạ %(code)s.") % {"code": record.short_code}
            )
        base = f"records/{record.short_code}"
        files[f"{base}.pdf"] = pdf
        files[f"{base}.tlog-proof"] = proof.encode()
        entries.append(
            {
                "record_id": str(record.record_id),
                "version": record.version,
                "short_code": record.short_code,
                "school_year": record.school_year.name,
                "school_code": record.school.code,
                "content_hash": record.content_hash,
                "pdf": f"{base}.pdf",
                "pdf_sha256": hashlib.sha256(pdf).hexdigest(),
                "proof": f"{base}.tlog-proof",
            }
        )
    # The same record set the interchange format carries upward (docs/interchange.md).
    files["record-set.json"] = json.dumps(
        interchange.pupil_record_set(pupil), ensure_ascii=False, sort_keys=True
    ).encode()
    checkpoint = ledger.sign_checkpoint()
    files["log/checkpoint.txt"] = checkpoint.note.encode()
    files["log/status-list.txt"] = build_status_list().encode()
    school = enrolment.school_class.school
    manifest = {
        "format": FORMAT,
        "origin": keys.origin(),
        "created_at": timezone.now().astimezone(dt.UTC).isoformat(timespec="seconds"),
        "from_school": {"code": school.code, "name": school.name},
        "to_school": destination,
        "left_on": on.isoformat(),
        "pupil": interchange.pupil_identity(pupil),
        "study_history": _study_history(pupil),
        "records": entries,
        "current_year": None if _issued_for(enrolment, records) else _marks_so_far(enrolment),
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
    }
    manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode()
    files["manifest.json"] = manifest_bytes
    files["manifest.sig"] = _sign_manifest(keys.signer(), manifest_bytes).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            archive.writestr(name, data)
    return buffer.getvalue()


def _manifest_statement(manifest_bytes: bytes) -> str:
    return f"{FORMAT}\nmanifest sha256 {hashlib.sha256(manifest_bytes).hexdigest()}\n"


def _sign_manifest(signer: Signer, manifest_bytes: bytes) -> str:
    return signer.sign(_manifest_statement(manifest_bytes))


def _study_history(pupil: Pupil) -> list[dict[str, Any]]:
    lines = [
        {
            "school_year": row.school_year.name,
            "start_year": row.school_year.start_year,
            "class_name": row.school_class.name,
            "grade": row.school_class.grade,
            "school_name": row.school_class.school.name,
            "register_number": row.register_number,
            "joined_on": row.joined_on.isoformat(),
        }
        for row in Enrolment.objects.filter(pupil=pupil)
        .select_related("school_year", "school_class__school")
        .order_by("school_year__start_year", "joined_on", "pk")
    ]
    lines += [
        {
            "school_year": prior.school_year,
            "start_year": prior.start_year,
            "class_name": prior.class_name,
            "grade": None,
            "school_name": prior.school_name,
            "register_number": prior.register_number,
            "joined_on": prior.joined_on.isoformat(),
        }
        for prior in PriorStudy.objects.filter(pupil=pupil)
    ]
    return sorted(lines, key=lambda line: (line["start_year"], line["joined_on"]))


def _marks_so_far(enrolment: Enrolment) -> dict[str, Any]:
    facts = PupilYearFacts.objects.filter(enrolment=enrolment).first()
    return {
        "school_year": enrolment.school_year.name,
        "grade": enrolment.school_class.grade,
        "class_name": enrolment.school_class.name,
        "subjects": [
            {
                "subject": m.subject,
                "period": m.period,
                "level": m.level,
                "score": m.score,
                "comment": m.comment,
            }
            for m in SubjectMark.objects.filter(enrolment=enrolment).order_by("subject", "period")
        ],
        "competencies": [
            {"item": m.item, "period": m.period, "level": m.level, "comment": m.comment}
            for m in CompetencyMark.objects.filter(enrolment=enrolment).order_by("item", "period")
        ],
        "facts": {
            name: (str(getattr(facts, name)) if getattr(facts, name) is not None else None)
            for name in FACT_FIELDS
        }
        if facts
        else {},
    }


def _count_marks(enrolment: Enrolment) -> int:
    return (
        SubjectMark.objects.filter(enrolment=enrolment).count()
        + CompetencyMark.objects.filter(enrolment=enrolment).count()
    )


# --- trusting another deployment ----------------------------------------------------------------


def trust_peer(*, actor: Any, bundle_path: Path, name: str = "") -> TrustedPeer:
    """Register another deployment from its trust bundle (``hocba verification-bundle``): its log
    key, and its CA certificates and CRLs copied under ``TRUST_DIR/peers/<folder>/``."""
    from hocba.verification.bundle import _read_folder, _read_zip, load_bundle

    if actor is not None and not access.is_system_admin(actor):
        raise PermissionRefused(_("Chỉ quản trị hệ thống mới thêm hệ thống học bạ tin cậy."))
    bundle = load_bundle(bundle_path)  # checks the checkpoint's and status list's signatures
    assert bundle.log_key is not None
    origin = bundle.log_key.name
    if origin == keys.origin():
        raise DomainError(_("Đây là sổ cái của chính hệ thống này."))
    files = _read_zip(bundle_path) if bundle_path.is_file() else _read_folder(bundle_path)
    folder = "peer-" + re.sub(r"[^a-z0-9]+", "-", origin.lower()).strip("-")[:60]
    target = Path(settings.TRUST_DIR) / "peers" / folder
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for member, data in files.items():
        if member.startswith("trust/") and "/" not in member[len("trust/") :]:
            (target / f"{folder}-{member[len('trust/') :]}").write_bytes(data)
    with transaction.atomic():
        peer, _created = TrustedPeer.objects.update_or_create(
            origin=origin,
            defaults={
                "name": name.strip() or origin,
                "verifier_key": str(bundle.log_key),
                "trust_folder": f"peers/{folder}",
                "added_at": timezone.now(),
                "added_by": actor if getattr(actor, "is_authenticated", False) else None,
            },
        )
        record_event(
            actor=actor,
            action="records.trust_peer",
            obj=peer,
            changes={"origin": origin, "certificates": len(list(target.iterdir()))},
        )
    return peer


# --- receiving ----------------------------------------------------------------------------------


@dataclass
class CheckedRecord:
    entry: dict[str, Any]
    pdf: bytes
    proof: str
    document: dict[str, Any]
    log_index: int
    report: dict[str, Any]


@dataclass
class CheckedPackage:
    """A package every part of which passed the checks (see :func:`check_package`)."""

    manifest: dict[str, Any]
    origin: str
    own: bool
    sha256: str
    records: list[CheckedRecord] = field(default_factory=list)


def _refuse(message: str) -> TransferRefused:
    return TransferRefused(_("Gói hồ sơ chuyển trường bị từ chối: %(why)s") % {"why": message})


def _read_package(data: bytes) -> dict[str, bytes]:
    if len(data) > MAX_PACKAGE_BYTES:
        raise _refuse(_("tệp lớn hơn %(mb)s MB.") % {"mb": MAX_PACKAGE_BYTES // (1024 * 1024)})
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS:
                raise _refuse(_("có quá nhiều tệp bên trong."))
            total = sum(member.file_size for member in members)
            if total > MAX_PACKAGE_BYTES:
                raise _refuse(_("nội dung giải nén quá lớn."))
            return {m.filename: archive.read(m) for m in members if not m.is_dir()}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as error:
        raise _refuse(_("tệp không phải gói ZIP hợp lệ.")) from error


def _log_verifier(origin: str) -> tuple[Verifier, bool]:
    if origin == keys.origin():
        return keys.verifier(), True
    peer = TrustedPeer.objects.filter(origin=origin).first()
    if peer is None:
        raise _refuse(
            _(
                "hệ thống gửi (sổ cái “%(origin)s”) chưa được đăng ký là hệ thống tin cậy. Quản "
                "trị hệ thống cần thêm gói tin cậy của hệ thống đó trước."
            )
            % {"origin": origin}
        )
    try:
        return Verifier.parse(peer.verifier_key), False
    except NoteError as error:
        raise _refuse(_("khoá sổ cái đã đăng ký của hệ thống gửi bị hỏng.")) from error


def check_package(data: bytes) -> CheckedPackage:
    """Every check of the module docstring; :class:`TransferRefused` at the first failure."""
    files = _read_package(data)
    manifest_bytes = files.get("manifest.json")
    signature = files.get("manifest.sig")
    if manifest_bytes is None or signature is None:
        raise _refuse(_("thiếu tệp manifest.json hoặc manifest.sig."))
    try:
        manifest = json.loads(manifest_bytes)
    except ValueError as error:
        raise _refuse(_("manifest.json không đọc được.")) from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _refuse(_("không phải gói hồ sơ chuyển trường của hệ thống học bạ."))
    origin = str(manifest.get("origin", ""))
    verifier, own = _log_verifier(origin)
    try:
        statement = open_note(signature.decode(), verifier)
    except (NoteError, UnicodeDecodeError) as error:
        raise _refuse(_("chữ ký của gói hồ sơ không hợp lệ.")) from error
    if statement != _manifest_statement(manifest_bytes):
        raise _refuse(_("manifest.json đã bị sửa sau khi ký."))
    listed = manifest.get("files") or {}
    for name, data_member in files.items():
        if name in {"manifest.json", "manifest.sig"}:
            continue
        if listed.get(name) != hashlib.sha256(data_member).hexdigest():
            raise _refuse(_("tệp “%(name)s” không khớp với danh sách đã ký.") % {"name": name})
    missing = sorted(set(listed) - set(files))
    if missing:
        raise _refuse(_("thiếu tệp “%(name)s”.") % {"name": missing[0]})
    try:
        open_checkpoint(files["log/checkpoint.txt"].decode(), verifier, verifier.name)
        status_list = open_status_list(files["log/status-list.txt"].decode(), verifier)
    except (KeyError, NoteError, StatusListError, UnicodeDecodeError) as error:
        raise _refuse(
            _("điểm kiểm tra hoặc danh sách trạng thái của sổ cái không hợp lệ.")
        ) from error
    if "record-set.json" in files:
        try:
            interchange.validate_record_set(json.loads(files["record-set.json"]))
        except ValueError as error:
            raise _refuse(_("record-set.json không đọc được.")) from error
        except DomainError as error:
            raise _refuse(error.message) from error
    package = CheckedPackage(
        manifest=manifest, origin=origin, own=own, sha256=hashlib.sha256(data).hexdigest()
    )
    pupil = manifest.get("pupil") or {}
    for entry in manifest.get("records") or []:
        package.records.append(_check_record(entry, files, verifier, status_list, pupil))
    return package


def _check_record(
    entry: dict[str, Any],
    files: dict[str, bytes],
    verifier: Verifier,
    status_list: Any,
    pupil: dict[str, Any],
) -> CheckedRecord:
    from hocba.signing import registry
    from hocba.verification.report import TrustBundle, VerificationError, verify_pdf

    code = str(entry.get("short_code", ""))
    if not _CODE.match(code):
        raise _refuse(_("mã học bạ “%(code)s” không hợp lệ.") % {"code": code[:20]})
    pdf = files.get(str(entry.get("pdf")))
    proof_bytes = files.get(str(entry.get("proof")))
    if pdf is None or proof_bytes is None:
        raise _refuse(_("thiếu tệp của học bạ %(code)s.") % {"code": code})
    proof = proof_bytes.decode("utf-8", errors="replace")
    trust = TrustBundle(store=registry.trust_store(), log_key=verifier, status_list=status_list)
    try:
        report = verify_pdf(pdf, trust=trust, proof=proof)
    except VerificationError as error:
        raise _refuse(
            _("học bạ %(code)s: %(why)s") % {"code": code, "why": error.message}
        ) from error
    if not report.fully_valid:
        why = "; ".join(message.text for message in report.messages) or report.headline
        raise _refuse(_("học bạ %(code)s không hợp lệ: %(why)s") % {"code": code, "why": why})
    document = _embedded_document(pdf)
    if document.get("pupil", {}).get("ministry_code") != pupil.get("ministry_code"):
        raise _refuse(
            _("học bạ %(code)s là của học sinh khác (mã %(other)s).")
            % {"code": code, "other": document.get("pupil", {}).get("ministry_code", "?")}
        )
    record = document.get("record", {})
    if str(record.get("id")) != entry.get("record_id") or record.get("version") != entry.get(
        "version"
    ):
        raise _refuse(_("học bạ %(code)s không khớp với danh sách trong gói.") % {"code": code})
    return CheckedRecord(
        entry=entry,
        pdf=pdf,
        proof=proof,
        document=document,
        log_index=TlogProof.parse(proof).index,
        report={
            "verdict": report.verdict,
            "checked_at": report.checked_at,
            "signers": [
                {"role": s.role, "name": s.signer_name, "time": s.best_signature_time}
                for s in report.signatures
            ],
            "log_index": report.log.get("index"),
            "status": report.status.get("state"),
        },
    )


def _embedded_document(pdf: bytes) -> dict[str, Any]:
    from hocba.verification.report import embedded_document

    return embedded_document(pdf) or {}


def receive_package(
    *, actor: Any, data: bytes, school_class: SchoolClass, joined_on: dt.date
) -> Transfer:
    """Check the package, then accept the pupil into ``school_class`` (all or nothing)."""
    school = school_class.school
    if not access.can_change(actor, school):
        raise PermissionRefused(_("Chỉ cán bộ quản lý của trường mới nhận học sinh chuyển đến."))
    package = check_package(data)
    manifest = package.manifest
    current: dict[str, Any] = manifest.get("current_year") or {}
    years = {r.document.get("school_year") for r in package.records}
    if school_class.school_year.name in years:
        raise _refuse(
            _(
                "học sinh đã có học bạ được phát hành của năm học %(year)s; hãy chọn lớp của "
                "năm học sau."
            )
            % {"year": school_class.school_year.name}
        )
    carry = bool(current) and current.get("school_year") == school_class.school_year.name
    if carry and int(current.get("grade", 0)) != school_class.grade:
        raise _refuse(
            _("học sinh đang học khối %(g)s trong năm học này, lớp nhận là khối %(c)s.")
            % {"g": current.get("grade"), "c": school_class.grade}
        )
    now = timezone.now()
    with transaction.atomic():
        pupil = _pupil_for(manifest.get("pupil") or {})
        if Enrolment.objects.filter(
            pupil=pupil, school_year=school_class.school_year, left_on__isnull=True
        ).exists():
            raise _refuse(
                _("học sinh đang có tên trong một lớp của năm học %(year)s.")
                % {"year": school_class.school_year.name}
            )
        enrolment = Enrolment.objects.create(
            pupil=pupil,
            school_class=school_class,
            school_year=school_class.school_year,
            joined_on=joined_on,
            entry_kind=EntryKind.TRANSFER_IN,
            register_number=_register_number(manifest),
        )
        from_school = manifest.get("from_school") or {}
        transfer = Transfer.objects.create(
            direction=TransferDirection.IN,
            pupil=pupil,
            enrolment=enrolment,
            school=school,
            counterpart_school=str(from_school.get("name", ""))[:200],
            counterpart_origin=package.origin[:200],
            on=joined_on,
            package_sha256=package.sha256,
            records=len(package.records),
            actor=actor if getattr(actor, "is_authenticated", False) else None,
            at=now,
        )
        if not package.own:
            _keep_records(transfer, pupil, package, now)
            _keep_history(transfer, pupil, manifest)
        if carry:
            transfer.carried_marks = _carry_marks(actor, enrolment, current, from_school)
            transfer.save(update_fields=["carried_marks"])
        record_event(
            actor=actor,
            action="records.transfer_in",
            obj=transfer,
            school=school,
            changes={
                "from": from_school.get("name", ""),
                "origin": package.origin,
                "records": [r.entry["short_code"] for r in package.records],
                "carried_marks": transfer.carried_marks,
            },
        )
    return transfer


def _pupil_for(identity: dict[str, Any]) -> Pupil:
    code = str(identity.get("ministry_code", ""))
    if not re.fullmatch(r"\d{10}", code):
        raise _refuse(_("mã học sinh “%(code)s” không hợp lệ.") % {"code": code[:20]})
    existing = Pupil.objects.filter(ministry_code=code).first()
    try:
        born = dt.date.fromisoformat(str(identity.get("date_of_birth")))
    except ValueError as error:
        raise _refuse(_("ngày sinh của học sinh không hợp lệ.")) from error
    if existing is not None:
        if existing.date_of_birth != born or existing.given_name != identity.get("given_name"):
            raise _refuse(
                _(
                    "hệ thống đã có học sinh mã %(code)s (%(name)s) khác tên hoặc ngày sinh với "
                    "gói hồ sơ."
                )
                % {"code": code, "name": existing.full_name}
            )
        return existing
    personal_id = str(identity.get("personal_id") or "") or None
    if personal_id and Pupil.objects.filter(personal_id=personal_id).exists():
        raise _refuse(
            _("số định danh %(id)s đã thuộc về một học sinh khác trong hệ thống.")
            % {"id": personal_id}
        )
    values = {name: str(identity.get(name) or "") for name in (*PUPIL_TEXT_FIELDS, "sex")}
    if not values["family_name"] or not values["given_name"] or values["sex"] not in {"nam", "nu"}:
        raise _refuse(_("thông tin nhân thân của học sinh không đầy đủ."))
    return Pupil.objects.create(
        ministry_code=code, personal_id=personal_id, date_of_birth=born, **values
    )


def _register_number(manifest: dict[str, Any]) -> str:
    history = manifest.get("study_history") or []
    return str(history[-1].get("register_number", "")) if history else ""


def _keep_records(transfer: Transfer, pupil: Pupil, package: CheckedPackage, now: Any) -> None:
    for checked in package.records:
        document = checked.document
        school = document.get("school", {})
        entry = checked.entry
        if TransferredRecord.objects.filter(
            origin=package.origin, record_id=entry["record_id"], version=entry["version"]
        ).exists():
            continue  # the pupil came back: the record is already kept
        name = default_storage.save(
            f"transfers/received/{entry['short_code']}.pdf", ContentFile(checked.pdf)
        )
        TransferredRecord.objects.create(
            transfer=transfer,
            pupil=pupil,
            origin=package.origin,
            record_id=entry["record_id"],
            version=entry["version"],
            short_code=entry["short_code"],
            school_year=str(document.get("school_year", "")),
            start_year=int(str(document.get("school_year", "0-"))[:4] or 0),
            grade=int(document.get("class", {}).get("grade", 0)),
            class_name=str(document.get("class", {}).get("name", "")),
            school_code=str(school.get("code", "")),
            school_name=str(school.get("name", "")),
            content_hash=entry["content_hash"],
            pdf_sha256=hashlib.sha256(checked.pdf).hexdigest(),
            pdf_file=name,
            proof=checked.proof,
            log_index=checked.log_index,
            report=checked.report,
            received_at=now,
        )


def _keep_history(transfer: Transfer, pupil: Pupil, manifest: dict[str, Any]) -> None:
    known = set(
        PriorStudy.objects.filter(pupil=pupil).values_list(
            "school_year", "school_name", "joined_on"
        )
    )
    for line in manifest.get("study_history") or []:
        try:
            joined = dt.date.fromisoformat(str(line.get("joined_on")))
            start_year = int(line.get("start_year"))
        except (TypeError, ValueError) as error:
            raise _refuse(_("quá trình học tập trong gói không hợp lệ.")) from error
        key = (str(line.get("school_year", "")), str(line.get("school_name", "")), joined)
        if key in known:
            continue
        PriorStudy.objects.create(
            pupil=pupil,
            transfer=transfer,
            school_year=key[0][:9],
            start_year=start_year,
            class_name=str(line.get("class_name", ""))[:20],
            school_name=key[1][:200],
            register_number=str(line.get("register_number", ""))[:40],
            joined_on=joined,
        )


def _carry_marks(
    actor: Any, enrolment: Enrolment, current: dict[str, Any], from_school: dict[str, Any]
) -> int:
    """The year's marks so far, written to the new enrolment with their history line."""
    label = _("Chuyển từ %(school)s") % {"school": from_school.get("name", "")}
    changes = []
    subjects = [
        SubjectMark(
            enrolment=enrolment,
            subject=str(m["subject"]),
            period=str(m["period"]),
            level=str(m.get("level") or ""),
            score=m.get("score"),
            comment=str(m.get("comment") or ""),
        )
        for m in current.get("subjects") or []
    ]
    competencies = [
        CompetencyMark(
            enrolment=enrolment,
            item=str(m["item"]),
            period=str(m["period"]),
            level=str(m.get("level") or ""),
            comment=str(m.get("comment") or ""),
        )
        for m in current.get("competencies") or []
    ]
    if any(m.level not in {"", "T", "H", "C"} or (m.score or 0) > 10 for m in subjects) or any(
        m.level not in {"", "T", "Đ", "C"} for m in competencies
    ):
        raise _refuse(_("đánh giá trong năm học mang theo có giá trị không hợp lệ."))
    SubjectMark.objects.bulk_create(subjects)
    CompetencyMark.objects.bulk_create(competencies)
    for mark in subjects:
        for name in ("level", "score", "comment"):
            value = getattr(mark, name)
            if value not in (None, ""):
                changes.append(("subject", mark.subject, mark.period, name, value))
    for competency in competencies:
        for name in ("level", "comment"):
            value = getattr(competency, name)
            if value:
                changes.append(("competency", competency.item, competency.period, name, value))
    facts = current.get("facts") or {}
    if any(v is not None for v in facts.values()):
        values = {
            name: (
                Decimal(str(facts[name]))
                if name in {"height_cm", "weight_kg"}
                else int(facts[name])
            )
            for name in FACT_FIELDS
            if facts.get(name) is not None
        }
        PupilYearFacts.objects.create(enrolment=enrolment, **values)
        changes += [("facts", name, "", "value", value) for name, value in values.items()]
    user = actor if getattr(actor, "is_authenticated", False) else None
    CellChange.objects.bulk_create(
        CellChange(
            enrolment=enrolment,
            sheet=sheet,
            key=key,
            period=period,
            field=name,
            old_value="",
            new_value=str(value),
            actor=user,
            actor_label=label[:150],
            channel=Channel.SYSTEM,
        )
        for sheet, key, period, name, value in changes
    )
    return len(subjects) + len(competencies)


def received_pdf(record: TransferredRecord) -> bytes:
    """A received record's PDF as kept, checked against its hash."""
    with default_storage.open(record.pdf_file, "rb") as handle:
        data = handle.read()
    if hashlib.sha256(data).hexdigest() != record.pdf_sha256:
        raise DomainError(_("Tệp học bạ đã nhận bị thay đổi so với lúc nhận."))
    return data


def _date(value: dt.date) -> str:
    return value.strftime("%d/%m/%Y")
