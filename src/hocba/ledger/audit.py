"""Audit replay (issue 6 §4): recompute the whole log and check the records it vouches for.

Every leaf hash is recomputed from its stored event, every stored node and every checkpoint root
from those leaves (in memory: 32 bytes a leaf), every checkpoint signature is checked, every
checkpoint is checked consistent with the one before it (hence with every earlier one), and
every ``issued`` event is compared with the record's current content hash, identity and the
SHA-256 of its current PDF; each issued version's status with its ``superseded`` / ``revoked``
events.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from hocba.common.errors import DomainError
from hocba.ledger import keys, merkle
from hocba.ledger.models import Checkpoint, EventType, LogHead, LogLeaf, LogNode
from hocba.ledger.note import NoteError, open_checkpoint
from hocba.records.models import YearRecord, YearRecordStatus
from hocba.signing.batch import current_pdf

Progress = Callable[[str, int, int], None]  # (stage, done, total)
CHUNK = 2000


@dataclass(frozen=True)
class Problem:
    kind: str
    message: str
    record: str = ""  # "<short code> (<pupil name>)" when a record is concerned

    def __str__(self) -> str:
        return f"{self.record}: {self.message}" if self.record else self.message


@dataclass
class AuditReport:
    leaves: int = 0
    checkpoints: int = 0
    records: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _quiet(stage: str, done: int, total: int) -> None:
    pass


def record_label(record: YearRecord) -> str:
    return f"{record.short_code} ({record.pupil.full_name})"


def run_audit(progress: Progress = _quiet) -> AuditReport:
    report = AuditReport()
    tree = _check_leaves(report, progress)
    _check_nodes(tree, report, progress)
    _check_checkpoints(tree, report, progress)
    _check_issued(report, progress)
    return report


def _leaves() -> Iterator[LogLeaf]:
    return LogLeaf.objects.order_by("index").iterator(chunk_size=CHUNK)


def _check_leaves(report: AuditReport, progress: Progress) -> merkle.MemoryTree:
    head = LogHead.objects.filter(pk=1).first()
    size = head.size if head else 0
    hashes: list[bytes] = []
    for leaf in _leaves():
        if leaf.index != len(hashes):
            report.problems.append(
                Problem(
                    "leaf_missing", _("Thiếu lá số %(index)s của sổ cái.") % {"index": len(hashes)}
                )
            )
            break
        recomputed = merkle.leaf_hash(leaf.event.encode())
        if recomputed.hex() != leaf.leaf_hash:
            report.problems.append(
                Problem(
                    "leaf_hash",
                    _("Mã băm lá số %(index)s không khớp sự kiện đã lưu.") % {"index": leaf.index},
                )
            )
        hashes.append(recomputed)
        progress("leaves", len(hashes), size)
    report.leaves = len(hashes)
    if report.leaves != size and not report.problems:
        report.problems.append(
            Problem(
                "log_size",
                _("Sổ cái ghi %(size)s lá nhưng có %(count)s lá.")
                % {"size": size, "count": report.leaves},
            )
        )
    return merkle.MemoryTree(hashes)


def _check_nodes(tree: merkle.MemoryTree, report: AuditReport, progress: Progress) -> None:
    levels = tree.levels()
    expected = sum(len(level) for level in levels[1:])
    seen = 0
    for node in LogNode.objects.order_by("level", "index").iterator(chunk_size=CHUNK):
        seen += 1
        known = levels[node.level] if node.level < len(levels) else []
        if node.index >= len(known) or known[node.index].hex() != node.hash:
            report.problems.append(
                Problem(
                    "node",
                    _("Nút (%(level)s, %(index)s) của cây Merkle không khớp các lá.")
                    % {"level": node.level, "index": node.index},
                )
            )
        progress("nodes", seen, expected)
    if seen != expected:
        report.problems.append(
            Problem(
                "node_count",
                _("Cây Merkle có %(seen)s nút lưu, cần %(expected)s.")
                % {"seen": seen, "expected": expected},
            )
        )


def _root(tree: merkle.MemoryTree, size: int) -> bytes:
    return merkle.root_hash(size, tree.subtree_fast)


def _check_checkpoints(tree: merkle.MemoryTree, report: AuditReport, progress: Progress) -> None:
    verifier = keys.verifier()
    checkpoints = list(Checkpoint.objects.order_by("size"))
    roots: list[tuple[int, bytes]] = []
    for number, checkpoint in enumerate(checkpoints, start=1):
        progress("checkpoints", number, len(checkpoints))
        try:
            signed = open_checkpoint(checkpoint.note, verifier, verifier.name)
        except NoteError as error:
            report.problems.append(
                Problem(
                    "checkpoint_signature",
                    _("Chữ ký điểm kiểm tra %(size)s không hợp lệ: %(error)s")
                    % {"size": checkpoint.size, "error": error},
                )
            )
            continue
        if signed.size > len(tree.leaf_hashes) or _root(tree, signed.size) != signed.root_hash:
            report.problems.append(
                Problem(
                    "checkpoint_root",
                    _("Điểm kiểm tra %(size)s không khớp cây Merkle tính lại.")
                    % {"size": signed.size},
                )
            )
            continue
        # Consistency is transitive: each checkpoint against the one before it suffices (and
        # keeps the audit linear in the number of checkpoints).
        for old_size, old_root in roots[-1:]:
            proof = merkle.consistency_proof(old_size, signed.size, tree.subtree_fast)
            if not merkle.verify_consistency(
                old_size, signed.size, proof, old_root, signed.root_hash
            ):
                report.problems.append(
                    Problem(
                        "checkpoint_consistency",
                        _("Điểm kiểm tra %(new)s không nhất quán với điểm kiểm tra %(old)s.")
                        % {"new": signed.size, "old": old_size},
                    )
                )
        roots.append((signed.size, signed.root_hash))
    report.checkpoints = len(checkpoints)


def _logged_statuses() -> dict[tuple[str, int], str]:
    """What the log says each issued version became: superseded or revoked (else still issued)."""
    statuses: dict[tuple[str, int], str] = {}
    changes = LogLeaf.objects.filter(event_type__in=[EventType.SUPERSEDED, EventType.REVOKED])
    for leaf in changes.order_by("index").iterator(chunk_size=CHUNK):
        event = json.loads(leaf.event)
        key = (event["record_id"], int(event["version"]))
        # Revocation is final; a superseded version cannot be revoked later.
        if statuses.get(key) != YearRecordStatus.REVOKED:
            statuses[key] = leaf.event_type
    return statuses


def _check_issued(report: AuditReport, progress: Progress) -> None:
    logged_status = _logged_statuses()
    issued = LogLeaf.objects.filter(event_type=EventType.ISSUED)
    total = issued.count()
    logged: set[int] = set()
    for number, leaf in enumerate(issued.order_by("index").iterator(chunk_size=CHUNK), start=1):
        progress("records", number, total)
        event = json.loads(leaf.event)
        record = (
            YearRecord.objects.select_related("pupil", "school", "school_year")
            .filter(record_id=event["record_id"], version=event["version"])
            .first()
        )
        if record is None:
            report.problems.append(
                Problem(
                    "record_missing",
                    _("Không tìm thấy học bạ của lá %(index)s.") % {"index": leaf.index},
                )
            )
            continue
        logged.add(record.pk)
        report.problems += _record_problems(record, event)
        expected = logged_status.get((event["record_id"], int(event["version"])), "issued")
        if record.status != expected:
            report.problems.append(
                Problem(
                    "record_status",
                    _(
                        "Trạng thái học bạ (%(status)s) khác trạng thái ghi trong sổ cái "
                        "(%(expected)s)."
                    )
                    % {
                        "status": record.get_status_display(),
                        "expected": YearRecordStatus(expected).label,
                    },
                    record_label(record),
                )
            )
    report.records = total
    _check_unlogged(logged, report)


def _identity(record: YearRecord) -> dict[str, object]:
    """What the record row says it is, as the canonical document spells it."""
    return {
        "record_id": str(record.record_id),
        "version": record.version,
        "short_code": record.short_code,
        "ministry_code": record.pupil.ministry_code,
        "school_code": record.school.code,
        "school_year": record.school_year.name,
    }


def _document_identity(document: dict[str, Any]) -> dict[str, object]:
    return {
        "record_id": document["record"]["id"],
        "version": document["record"]["version"],
        "short_code": document["record"]["short_code"],
        "ministry_code": document["pupil"]["ministry_code"],
        "school_code": document["school"]["code"],
        "school_year": document["school_year"],
    }


def _record_problems(record: YearRecord, event: dict[str, Any]) -> list[Problem]:
    label = record_label(record)
    problems = []
    own_hash = hashlib.sha256(record.canonical_json.encode()).hexdigest()
    if record.content_hash != event["content_hash"] or own_hash != event["content_hash"]:
        problems.append(Problem("record_data", _("Dữ liệu học bạ không khớp sổ cái."), label))
    else:
        # The content is the logged one: the row around it must be the one it was written for
        # (a swapped pupil, school or code would show another child's record under this one).
        try:
            document = _document_identity(json.loads(record.canonical_json))
        except (ValueError, KeyError, TypeError):
            document = {}
        if document != _identity(record):
            problems.append(
                Problem(
                    "record_identity",
                    _("Học bạ được gắn với học sinh, trường hoặc mã khác với dữ liệu đã ký."),
                    label,
                )
            )
    try:
        pdf_sha256 = hashlib.sha256(current_pdf(record)).hexdigest()
    except (DomainError, OSError):
        pdf_sha256 = ""
    if pdf_sha256 != event["pdf_sha256"]:
        problems.append(Problem("record_pdf", _("Tệp PDF học bạ không khớp sổ cái."), label))
    return problems


def _check_unlogged(logged: set[int], report: AuditReport) -> None:
    """Records that say they were issued but whose issued event is not in the log."""
    # Issued or revoked says "issued"; superseded too when it was (drafts are superseded unissued).
    claimed = YearRecord.objects.filter(
        Q(status__in=[YearRecordStatus.ISSUED, YearRecordStatus.REVOKED])
        | Q(issuance__isnull=False)
    )
    for record in claimed.exclude(pk__in=logged).select_related("pupil"):
        report.problems.append(
            Problem(
                "record_unlogged",
                _("Học bạ đã phát hành nhưng không có trong sổ cái."),
                record_label(record),
            )
        )
