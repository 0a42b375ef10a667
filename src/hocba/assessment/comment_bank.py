"""The comment bank (bảng mã nhận xét, DOMAIN §7): look-up and expansion of short codes.

A teacher sees the school's shared entries and their own; their own win on the same code.
Typing ``#CODE`` in a comment cell expands to the entry's text (issue 3 §4).
"""

from __future__ import annotations

import re

from django.db.models import Q

from hocba.assessment.models import CommentBankEntry
from hocba.schools.models import School, Staff

CODE_PATTERN = re.compile(r"#([0-9A-Za-zÀ-ỹ_.-]{1,20})")


def entries_for(school: School, staff: Staff | None, target: str = "") -> dict[str, str]:
    """Code → text for a teacher at a school, for one subject/item (and general entries)."""
    scope = Q(owner__isnull=True) | Q(owner=staff) if staff else Q(owner__isnull=True)
    rows = CommentBankEntry.objects.filter(scope, school=school)
    if target:
        rows = rows.filter(Q(target=target) | Q(target=""))
    entries: dict[str, str] = {}
    # Shared first, then the teacher's own, so their own entries override on the same code.
    for row in rows.order_by("owner_id", "code"):
        entries[row.code.upper()] = row.text
    return entries


def expand(text: str, entries: dict[str, str]) -> str:
    """Replace each ``#CODE`` with its text; unknown codes stay as typed."""
    return CODE_PATTERN.sub(lambda m: entries.get(m.group(1).upper(), m.group(0)), text)
