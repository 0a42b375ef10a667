"""The comment bank (bảng mã nhận xét, DOMAIN §7): look-up, expansion and upkeep of short codes.

A teacher sees the school's shared entries and their own; their own win on the same code.
Typing ``#CODE`` in a comment cell expands to the entry's text (issue 3 §4).

Shared entries are kept by the school's managers (:func:`hocba.schools.access.can_change`), a
teacher's own entries by that teacher. Codes are stored in capitals, so ``#tv1`` and ``#TV1`` are
the same code, and are unique per owner (the shared bank counts as one owner). A target is a
subject or a quality/competency code of the school year's rule set, or blank for a general entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from hocba.assessment import cells, selectors
from hocba.assessment.models import CommentBankEntry
from hocba.assessment.rules import RuleSet, load_ruleset
from hocba.audit.services import record_event, snapshot
from hocba.common.errors import DomainError, PermissionRefused
from hocba.common.text import clean_text
from hocba.schools import access
from hocba.schools.models import AssessmentScheme, School, Staff
from hocba.schools.selectors import current_school_year

CODE_PATTERN = re.compile(r"#([0-9A-Za-zÀ-ỹ_.-]{1,20})")
CODE_FORMAT = re.compile(r"[0-9A-Za-zÀ-ỹ_.-]{1,20}")
AUDITED_FIELDS = ["code", "target", "text", "owner_id"]


def entries_for(school: School, staff: Staff | None, target: str = "") -> dict[str, str]:
    """Code → text for a teacher at a school, for one subject/item (and general entries)."""
    scope = Q(owner__isnull=True) | Q(owner=staff) if staff else Q(owner__isnull=True)
    rows = CommentBankEntry.objects.filter(scope, school=school)
    if target:
        rows = rows.filter(Q(target=target) | Q(target=""))
    entries: dict[str, str] = {}
    # Shared first, then the teacher's own, so their own entries override on the same code
    # (NULLs first explicitly: PostgreSQL sorts them last by default).
    for row in rows.order_by(F("owner_id").asc(nulls_first=True), "code"):
        entries[row.code.upper()] = row.text
    return entries


def expand(text: str, entries: dict[str, str]) -> str:
    """Replace each ``#CODE`` with its text; unknown codes stay as typed."""
    return CODE_PATTERN.sub(lambda m: entries.get(m.group(1).upper(), m.group(0)), text)


# --- Targets --------------------------------------------------------------------------------


def current_rules() -> RuleSet:
    """The rule set of the current school year (targets are checked against it)."""
    year = current_school_year()
    return selectors.rules_for(year) if year else load_ruleset(AssessmentScheme.TT27_2020)


def target_choices(rules: RuleSet) -> list[tuple[str, str]]:
    """Every target an entry may name: subjects, then qualities and competencies (all grades)."""
    choices = [(rule.code, rule.label) for rule in rules.subjects]
    choices += [(item.code, item.label) for item in (*rules.qualities, *rules.general_competencies)]
    choices += [(item.code, item.label) for item, _grades in rules.specific_competencies]
    return choices


def target_label(rules: RuleSet, target: str) -> str:
    if not target:
        return _("Chung")
    return dict(target_choices(rules)).get(target, target)


# --- Changes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryData:
    code: str
    text: str
    target: str = ""


def _clean(data: EntryData, rules: RuleSet) -> EntryData:
    code = clean_text(data.code).lstrip("#").upper()
    if not code:
        raise DomainError(_("Cần ghi mã nhận xét."), field="code")
    if not CODE_FORMAT.fullmatch(code):
        raise DomainError(
            _("Mã “%(c)s” không hợp lệ: dùng 1-20 chữ, số hoặc các dấu _ . - (không dấu cách).")
            % {"c": clean_text(data.code)},
            field="code",
        )
    target = clean_text(data.target)
    if target and target not in dict(target_choices(rules)):
        raise DomainError(
            _("“%(t)s” không phải môn học, phẩm chất hay năng lực.") % {"t": target},
            field="target",
        )
    text = cells.parse_comment(data.text)
    if not text:
        raise DomainError(_("Cần ghi nội dung nhận xét."), field="text")
    return EntryData(code=code, text=text, target=target)


def _owner_for(actor: Any, school: School, *, shared: bool) -> Staff | None:
    """Who will own the entry; refuses actors who may not keep that part of the bank."""
    if shared:
        if not access.can_change(actor, school):
            raise PermissionRefused(
                _("Chỉ ban giám hiệu và quản trị nhà trường sửa được mã nhận xét dùng chung.")
            )
        return None
    staff = access.staff_of(actor)
    if staff is None or staff.school_id != school.pk:
        raise PermissionRefused(_("Chỉ cán bộ của trường có bảng mã nhận xét riêng."))
    return staff


def _duplicate(code: str, shared: bool) -> DomainError:
    if shared:
        message = _("Mã “%(c)s” đã có trong bảng mã dùng chung của trường.")
    else:
        message = _("Mã “%(c)s” đã có trong bảng mã riêng của bạn.")
    return DomainError(message % {"c": code}, field="code")


def _save(entry: CommentBankEntry) -> None:
    """Save inside a savepoint: the unique constraints decide, a clash becomes a message."""
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError:
        raise _duplicate(entry.code, entry.owner_id is None) from None


@transaction.atomic
def create_entry(
    *, actor: Any, school: School, data: EntryData, shared: bool, rules: RuleSet | None = None
) -> CommentBankEntry:
    """Add a code to the school's shared bank (managers) or to the actor's own bank."""
    owner = _owner_for(actor, school, shared=shared)
    cleaned = _clean(data, rules or current_rules())
    entry = CommentBankEntry(
        school=school, owner=owner, code=cleaned.code, target=cleaned.target, text=cleaned.text
    )
    _save(entry)
    record_event(
        actor=actor,
        action="assessment.comment_bank.created",
        obj=entry,
        school=school,
        changes=snapshot(entry, AUDITED_FIELDS),
    )
    return entry


def _editable(actor: Any, entry_id: int) -> CommentBankEntry:
    entry = (
        CommentBankEntry.objects.select_for_update().select_related("school").filter(pk=entry_id)
    ).first()
    if entry is None:
        raise DomainError(_("Mã nhận xét này không còn nữa."))
    owner = _owner_for(actor, entry.school, shared=entry.owner_id is None)
    if owner is not None and owner.pk != entry.owner_id:
        raise PermissionRefused(_("Bạn chỉ sửa được mã nhận xét của mình."))
    return entry


@transaction.atomic
def update_entry(
    *, actor: Any, entry_id: int, data: EntryData, rules: RuleSet | None = None
) -> CommentBankEntry:
    entry = _editable(actor, entry_id)
    cleaned = _clean(data, rules or current_rules())
    before = snapshot(entry, AUDITED_FIELDS)
    entry.code, entry.target, entry.text = cleaned.code, cleaned.target, cleaned.text
    after = snapshot(entry, AUDITED_FIELDS)
    if before == after:
        return entry
    _save(entry)
    record_event(
        actor=actor,
        action="assessment.comment_bank.updated",
        obj=entry,
        school=entry.school,
        changes={key: [before[key], after[key]] for key in before if before[key] != after[key]},
    )
    return entry


@transaction.atomic
def delete_entry(*, actor: Any, entry_id: int) -> None:
    entry = _editable(actor, entry_id)
    record_event(
        actor=actor,
        action="assessment.comment_bank.deleted",
        obj=entry,
        school=entry.school,
        changes=snapshot(entry, AUDITED_FIELDS),
    )
    entry.delete()
