"""The per-cell history in words (issue 3 §6): what changed, when, by whom, through which channel.

Read-side only: :class:`~hocba.assessment.models.CellChange` rows are written by the services and
never changed; this module names their cells ("Toán · Cuối năm học · Điểm KTĐK") for the pupil's
page, using the rule set of the enrolment's school year so old years keep their labels.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext as _

from hocba.assessment import selectors
from hocba.assessment.models import CellChange, Channel, Period, PupilYearFacts
from hocba.assessment.rules import RuleSet
from hocba.schools.models import Enrolment

HISTORY_LIMIT = 200


@dataclass(frozen=True)
class HistoryLine:
    at: datetime.datetime
    actor: str
    cell: str  # "Toán · Cuối năm học · Điểm KTĐK"
    class_name: str
    old_value: str
    new_value: str
    channel: str


@dataclass(frozen=True)
class History:
    lines: list[HistoryLine]
    total: int

    @property
    def is_truncated(self) -> bool:
        return self.total > len(self.lines)


def _field_label(field: str) -> str:
    labels = {
        "level": _("Mức đạt được"),
        "score": _("Điểm KTĐK"),
        "comment": _("Nhận xét"),
    }
    return labels.get(field, "")


def _key_label(change: CellChange, rules: RuleSet) -> str:
    if change.sheet == "facts":
        try:
            field = PupilYearFacts._meta.get_field(change.key)
        except FieldDoesNotExist:
            return change.key
        return str(getattr(field, "verbose_name", change.key)).capitalize()
    try:
        return rules.label(change.key)
    except KeyError:
        return change.key


def describe_cell(change: CellChange, rules: RuleSet) -> str:
    """The changed cell in words: subject or item, period, field."""
    parts = [_key_label(change, rules)]
    if change.period in Period.values:
        parts.append(str(Period(change.period).label))
    if field := _field_label(change.field):
        parts.append(field)
    return " · ".join(parts)


def _channel_label(channel: str) -> str:
    return str(Channel(channel).label) if channel in Channel.values else channel


def cell_history(enrolments: Iterable[Enrolment], *, limit: int = HISTORY_LIMIT) -> History:
    """The newest ``limit`` cell changes of some enrolments of one pupil, and how many exist."""
    by_id = {enrolment.pk: enrolment for enrolment in enrolments}
    changes = CellChange.objects.filter(enrolment_id__in=by_id).order_by("-at", "-id")
    rules = {
        pk: selectors.rules_for(enrolment.school_class.school_year)
        for pk, enrolment in by_id.items()
    }
    lines = [
        HistoryLine(
            at=change.at,
            actor=change.actor_label,
            cell=describe_cell(change, rules[change.enrolment_id]),
            class_name=by_id[change.enrolment_id].school_class.name,
            old_value=change.old_value,
            new_value=change.new_value,
            channel=_channel_label(change.channel),
        )
        for change in changes[:limit]
    ]
    return History(lines=lines, total=changes.count())
