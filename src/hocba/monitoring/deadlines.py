"""The due date of each rollout milestone for a school year and a province.

Configured rows (:class:`RolloutDeadline`, in the admin) win: the province's own row first, then
the row for every province. A milestone nobody configured gets a computed default, counted in
days from the school year's last day (``SchoolYear.ends_on``, 31/05 in the demo year). The
defaults follow the season DOMAIN §1 describes (nearly all signatures between late May and July,
a tail in August) and are a planning aid, not a legal deadline:

=====================  ==============  ===================
milestone              days from end   demo year 2024-2025
=====================  ==============  ===================
certificates           -14             17/05/2025
classes locked         0               31/05/2025
teacher signed         +15             15/06/2025
principal signed       +25             25/06/2025
issued                 +30             30/06/2025
synced upward          +45             15/07/2025
=====================  ==============  ===================
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext as _

from hocba.monitoring.figures import Figures
from hocba.monitoring.models import Milestone, RolloutDeadline
from hocba.schools.models import Province, SchoolYear

DEFAULT_OFFSET_DAYS = {
    Milestone.CERTIFICATES: -14,
    Milestone.CLASSES_LOCKED: 0,
    Milestone.TEACHER_SIGNED: 15,
    Milestone.PRINCIPAL_SIGNED: 25,
    Milestone.ISSUED: 30,
    Milestone.SYNCED: 45,
}


@dataclass(frozen=True)
class Deadline:
    milestone: Milestone
    due_on: datetime.date
    is_configured: bool

    @property
    def label(self) -> str:
        return str(self.milestone.label)


def default_due_on(school_year: SchoolYear, milestone: Milestone) -> datetime.date:
    return school_year.ends_on + datetime.timedelta(days=DEFAULT_OFFSET_DAYS[milestone])


def deadlines_for(school_year: SchoolYear, province: Province | None) -> list[Deadline]:
    """Every milestone's deadline, in milestone order (one query)."""
    scope = Q(province__isnull=True)
    if province is not None:
        scope |= Q(province=province)
    configured: dict[str, RolloutDeadline] = {}
    # The all-provinces rows first, so that the province's own rows overwrite them.
    rows = RolloutDeadline.objects.filter(scope, school_year=school_year)
    for row in sorted(rows, key=lambda r: r.province_id is not None):
        configured[row.milestone] = row
    deadlines = []
    for milestone in Milestone:
        chosen = configured.get(milestone.value)
        due_on = chosen.due_on if chosen else default_due_on(school_year, milestone)
        deadlines.append(Deadline(milestone, due_on, is_configured=chosen is not None))
    return deadlines


def dmy(day: datetime.date) -> str:
    """A date as the forms print it: dd/mm/yyyy (DOMAIN §3)."""
    return day.strftime("%d/%m/%Y")


@dataclass(frozen=True)
class MilestoneStatus:
    """A milestone on the timeline: its deadline, today's progress and whether it is late."""

    key: str
    label: str
    due_on: datetime.date
    progress: float | None
    today: datetime.date

    @property
    def state(self) -> str:
        if self.progress is not None and self.progress >= 100:
            return "done"
        if self.progress is None:
            return "unknown"
        return "late" if self.today > self.due_on else "upcoming"

    @property
    def state_label(self) -> str:
        return {
            "done": _("Đã hoàn thành"),
            "late": _("Trễ hạn"),
            "upcoming": _("Chưa đến hạn"),
            "unknown": _("Chưa có dữ liệu"),
        }[self.state]


def milestone_statuses(
    deadlines: list[Deadline], figures: Figures, today: datetime.date
) -> list[MilestoneStatus]:
    return [
        MilestoneStatus(d.milestone.value, d.label, d.due_on, figures.progress(d.milestone), today)
        for d in deadlines
    ]
