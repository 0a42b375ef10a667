"""Uploading a filled grid workbook: all or nothing, every problem by sheet, row and column.

Rows are matched to pupils by Mã học sinh, never by position. A cell is written only if the
teacher changed it in the file (it differs from the value downloaded, kept in the hidden sheet)
and it differs from what is stored now; a blank cell that held a value when downloaded clears it.
Each written row carries the version it had at download as ``expected_version``, so a row changed
on the web since then is reported as a conflict, naming who and when, and nothing is overwritten.
Values are checked by ``services.apply_edits`` itself (channel ``import``), whose refusals are
mapped back to their cells.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from hocba.assessment import selectors, services
from hocba.assessment.excel_files import (
    AssessmentImportIssue,
    AssessmentImportRejected,
    file_rejected,
    opened_workbook,
    sheet_rows,
)
from hocba.assessment.excel_grid import (
    CLASS,
    EXTRA_COLUMNS,
    FACTS,
    MAX_SHEET_ROWS,
    SUBJECT,
    Identity,
    grid_identity,
    grid_sheets,
    period_label,
    stored_rows,
    stored_version,
)
from hocba.assessment.excel_hidden import HiddenData, read_hidden
from hocba.assessment.excel_rows import Candidate, ReadContext, read_sheet
from hocba.assessment.models import Channel
from hocba.assessment.rules import RuleSet
from hocba.common.errors import PermissionRefused
from hocba.common.spreadsheet import FileInput
from hocba.schools import access
from hocba.schools.models import SchoolClass


@dataclass
class GridImportReport:
    """What an accepted upload wrote."""

    changed_cells: int = 0
    pupil_ids: set[int] = field(default_factory=set)
    cells_by_sheet: dict[str, int] = field(default_factory=dict)

    @property
    def changed_pupils(self) -> int:
        return len(self.pupil_ids)

    def summary(self) -> str:
        if not self.changed_cells:
            return _("Tệp không có ô nào khác với dữ liệu đã lưu; không có gì thay đổi.")
        return ngettext(
            "Đã nhập %(cells)s ô thay đổi của %(pupils)s học sinh.",
            "Đã nhập %(cells)s ô thay đổi của %(pupils)s học sinh.",
            self.changed_cells,
        ) % {"cells": self.changed_cells, "pupils": self.changed_pupils}


def import_grid_workbook(
    *,
    actor: Any,
    school_class: SchoolClass,
    kind: str,
    file: FileInput,
    period: str = "",
    subject: str = "",
) -> GridImportReport:
    """Store the changed cells of an uploaded grid workbook, or raise listing every problem."""
    expected = grid_identity(school_class, kind, period, subject)
    _require_entry(actor, school_class, expected)
    with opened_workbook(file) as workbook:
        hidden = read_hidden(workbook)
        _check_identity(hidden.identity, expected, school_class)
        values = _read_sheets(workbook, hidden)
    ctx = _context(actor, school_class, expected, hidden)
    expected_sheets = {
        s.name: s for s in grid_sheets(school_class, ctx.rules, ctx.options, expected)
    }
    for sheet in hidden.sheets:
        read_sheet(ctx, sheet, expected_sheets.get(sheet.name), values[sheet.name])
    sendable = _screen(ctx)
    return _apply(ctx, sendable)


def can_import_grid(actor: Any, school_class: SchoolClass, kind: str, subject: str = "") -> bool:
    """Only those who enter a grid's cells may upload it (the whole-class workbook: anyone who
    enters some of its sheets; the other sheets must come back unchanged)."""
    if kind == SUBJECT:
        return access.can_enter_subject(actor, school_class, subject)
    if kind == CLASS:
        rules = selectors.rules_for(school_class.school_year)
        return access.can_enter_homeroom(actor, school_class) or any(
            access.can_enter_subject(actor, school_class, code)
            for code in selectors.class_subjects(school_class, rules)
        )
    return access.can_enter_homeroom(actor, school_class)


def _require_entry(actor: Any, school_class: SchoolClass, identity: Identity) -> None:
    if not can_import_grid(actor, school_class, identity.kind, identity.subject):
        raise PermissionRefused(_("Bạn không được phân công nhập bảng này."))


def describe(identity: Identity, rules: RuleSet) -> str:
    """A grid in words for messages, such as "lớp 4A, năm học 2024-2025, …, môn Toán"."""
    parts = [
        _("lớp %(c)s, năm học %(y)s, trường %(s)s")
        % {"c": identity.class_name, "y": identity.school_year, "s": identity.school_code}
    ]
    if identity.kind == SUBJECT:
        try:
            label = rules.subject(identity.subject).label
        except KeyError:
            label = identity.subject
        parts.append(_("môn %(s)s") % {"s": label})
    elif identity.kind == FACTS:
        parts.append(_("chiều cao, cân nặng, số ngày nghỉ"))
    elif identity.kind == CLASS:
        parts.append(_("mọi môn học và phẩm chất, năng lực"))
    else:
        parts.append(_("phẩm chất, năng lực"))
    if identity.period:
        parts.append(period_label(rules, identity.period))
    return ", ".join(parts)


def _check_identity(found: Identity, expected: Identity, school_class: SchoolClass) -> None:
    same = (
        found.kind == expected.kind
        and found.class_id == expected.class_id
        and found.school_code == expected.school_code
        and found.school_year == expected.school_year
        and found.subject == expected.subject
        and found.period == expected.period
    )
    if same:
        return
    rules = selectors.rules_for(school_class.school_year)
    raise file_rejected(
        _(
            "Tệp này là bảng của %(file)s, không phải của %(page)s. Hãy tải lên đúng tệp, hoặc "
            "mở trang nhập của bảng trong tệp."
        )
        % {"file": describe(found, rules), "page": describe(expected, rules)}
    )


def _read_sheets(workbook: Any, hidden: HiddenData) -> dict[str, list[tuple[Any, ...]]]:
    values = {}
    for sheet in hidden.sheets:
        if sheet.name not in workbook.sheetnames:
            raise file_rejected(
                _("Thiếu trang “%(name)s”; tên trang không được đổi.") % {"name": sheet.name}
            )
        max_col = sheet.last_column + EXTRA_COLUMNS
        values[sheet.name] = sheet_rows(
            workbook[sheet.name], max_rows=MAX_SHEET_ROWS, max_col=max_col
        )
    return values


def _context(
    actor: Any, school_class: SchoolClass, identity: Identity, hidden: HiddenData
) -> ReadContext:
    roster = selectors.class_enrolments(school_class)
    return ReadContext(
        actor=actor,
        school_class=school_class,
        identity=identity,
        rules=selectors.rules_for(school_class.school_year),
        options=selectors.options_for(school_class.school_year),
        hidden=hidden,
        roster={e.pupil.ministry_code: e for e in roster},
        rows=stored_rows([e.pk for e in roster], hidden.sheets, identity.period),
    )


def _screen(ctx: ReadContext) -> list[Candidate]:
    """Drop (and report) changes to stale rows, to sheets the actor may not enter or locked.

    The service checks the versions again under a row lock; this pass reports every stale row
    at once instead of the first one only.
    """
    refused_sheets = _refused_sheets(ctx)
    pupils = {enrolment.pk: enrolment for enrolment in ctx.roster.values()}
    sendable: list[Candidate] = []
    for candidate in ctx.candidates:
        if candidate.sheet.name in refused_sheets:
            continue
        edit = candidate.edit
        current = stored_version(
            ctx.rows, edit.enrolment_id, edit.address.sheet, candidate.column.row_key
        )
        if current != edit.expected_version:
            message = services.stale_message(pupils[edit.enrolment_id], edit.address)
            ctx.issues.append(candidate.issue(message))
            continue
        # Every cell of a row carries the row's version at download: the service compares each
        # with the row's version before the batch, and moves the row on by one version.
        sendable.append(candidate)
    return sendable


def _refused_sheets(ctx: ReadContext) -> set[str]:
    locks = selectors.active_locks(ctx.school_class)
    refused = set()
    for sheet in ctx.hidden.sheets:
        if not any(c.sheet.name == sheet.name for c in ctx.candidates):
            continue
        scope = sheet.subject if sheet.kind == SUBJECT else services.HOMEROOM_SCOPE
        if sheet.kind == SUBJECT:
            allowed = access.can_enter_subject(ctx.actor, ctx.school_class, sheet.subject)
        else:
            allowed = access.can_enter_homeroom(ctx.actor, ctx.school_class)
        lock = selectors.lock_covering(locks, scope, ctx.identity.period)
        if not allowed:
            message = _(
                "Bạn không được phân công nhập trang này; hãy trả các ô đã sửa ở trang này về như "
                "cũ hoặc xoá trang khỏi bảng tính trước khi nhập."
            )
        elif lock is not None:
            message = _(
                "Trang này đã bị khoá (%(why)s); các thay đổi ở trang này không được nhập. Cần "
                "hiệu trưởng hoặc quản trị nhà trường mở khoá."
            ) % {"why": lock.reason or _("đã hoàn thành nhập")}
        else:
            continue
        refused.add(sheet.name)
        ctx.issues.append(AssessmentImportIssue(sheet.name, message))
    return refused


def _apply(ctx: ReadContext, sendable: list[Candidate]) -> GridImportReport:
    order = [sheet.name for sheet in ctx.hidden.sheets]
    edits = [candidate.edit for candidate in sendable]
    try:
        with transaction.atomic():
            if edits:
                try:
                    services.apply_edits(
                        actor=ctx.actor,
                        school_class=ctx.school_class,
                        edits=edits,
                        channel=Channel.IMPORT,
                    )
                except services.EditsRejected as rejected:
                    ctx.issues.extend(sendable[e.index].issue(e.message) for e in rejected.errors)
            if ctx.issues:
                raise AssessmentImportRejected(ctx.issues, order)  # rolls everything back
    except IntegrityError as exc:
        raise file_rejected(
            _("Bảng vừa được người khác thay đổi trong lúc nhập; chưa lưu gì. Hãy nhập lại.")
        ) from exc
    report = GridImportReport(changed_cells=len(edits))
    for candidate in sendable:
        report.pupil_ids.add(candidate.edit.enrolment_id)
        name = candidate.sheet.name
        report.cells_by_sheet[name] = report.cells_by_sheet.get(name, 0) + 1
    return report
