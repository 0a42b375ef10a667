"""Server-side SVG charts, inline in the page: no JavaScript, readable by screen readers.

A tiny builder (:class:`Svg`) writes escaped elements; two charts use it: the pipeline of each
row as a stacked horizontal bar, and the year's milestones on a timeline against their
deadlines. Every chart has a ``<title>`` and a ``<desc>``; every bar segment and milestone its
own ``<title>`` (shown as a tooltip).
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape, quoteattr

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from hocba.monitoring.deadlines import MilestoneStatus, dmy
from hocba.monitoring.figures import Figures
from hocba.monitoring.selectors import Row

_ids = itertools.count(1)

STAGE_COLOURS = {
    "issued": "#2e7d32",
    "principal_signed": "#66bb6a",
    "teacher_signed": "#a5d6a7",
    "compiled": "#90caf9",
    "pending": "#ffb74d",
    "not_compiled": "#e3e7eb",
}
STATE_COLOURS = {"done": "#2e7d32", "late": "#b3261e", "upcoming": "#0b5cad", "unknown": "#8a94a0"}
FONT = "system-ui, 'Liberation Sans', Arial, sans-serif"


def stage_labels() -> dict[str, str]:
    return {
        "issued": _("Đã phát hành"),
        "principal_signed": _("Hiệu trưởng đã ký, chưa phát hành"),
        "teacher_signed": _("Giáo viên chủ nhiệm đã ký, chờ hiệu trưởng"),
        "compiled": _("Đã tổng hợp, chờ ký"),
        "pending": _("Đang chờ (đánh giá bổ sung, số định danh)"),
        "not_compiled": _("Chưa tổng hợp"),
    }


def _attrs(attrs: dict[str, object]) -> str:
    return "".join(
        f" {name.rstrip('_').replace('_', '-')}={quoteattr(str(value))}"
        for name, value in attrs.items()
    )


def element(tag: str, *children: str, **attrs: object) -> str:
    """``<tag attrs>children</tag>``; children are markup already (use :func:`text` for text)."""
    if not children:
        return f"<{tag}{_attrs(attrs)}/>"
    return f"<{tag}{_attrs(attrs)}>{''.join(children)}</{tag}>"


def text(value: str) -> str:
    return escape(value)


class Svg:
    """An ``<svg>`` with an accessible title and description, built from elements."""

    def __init__(self, width: int, height: int, title: str, description: str = "") -> None:
        self.width, self.height = width, height
        self.title, self.description = title, description
        self.parts: list[str] = []

    def add(self, markup: str) -> None:
        self.parts.append(markup)

    def render(self) -> SafeString:
        ident = f"chart-{next(_ids)}"
        head = element("title", text(self.title), id=f"{ident}-title")
        head += element("desc", text(self.description), id=f"{ident}-desc")
        markup = element(
            "svg",
            head,
            *self.parts,
            xmlns="http://www.w3.org/2000/svg",
            viewBox=f"0 0 {self.width} {self.height}",
            width=self.width,
            height=self.height,
            role="img",
            aria_labelledby=f"{ident}-title {ident}-desc",
            font_family=FONT,
            font_size=12,
            class_="chart",
        )
        # Every text and attribute went through escape()/quoteattr() in element() and text().
        return mark_safe(markup)  # noqa: S308


def _short(label: str, limit: int = 30) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _legend(svg: Svg, labels: dict[str, str], y: int) -> None:
    x = 0
    for key, label in labels.items():
        svg.add(element("rect", x=x, y=y, width=12, height=12, fill=STAGE_COLOURS[key]))
        svg.add(element("text", text(label), x=x + 16, y=y + 10))
        x += 34 + int(len(label) * 6.6)


def pipeline_chart(rows: Sequence[Row], title: str) -> SafeString:
    """One stacked bar per row: its pupils in each stage of the record's lifecycle."""
    labels = stage_labels()
    label_width, bar_width, row_height, top = 230, 470, 24, 62
    svg = Svg(
        label_width + bar_width + 90,
        top + row_height * max(len(rows), 1) + 4,
        title,
        _("Mỗi thanh là số học sinh của một đơn vị, chia theo bước của học bạ năm học."),
    )
    # Two legend lines so that it fits in the width.
    keys = list(labels)
    _legend(svg, {k: labels[k] for k in keys[:3]}, 0)
    _legend(svg, {k: labels[k] for k in keys[3:]}, 20)
    right = label_width + bar_width + 8
    svg.add(element("text", text(_("Phát hành/HS")), x=right, y=top - 6, fill="#5b6877"))
    for index, row in enumerate(rows):
        y = top + index * row_height
        svg.add(element("text", text(_short(row.label)), x=0, y=y + 13))
        svg.add(_stacked_bar(row.figures, labels, label_width, y, bar_width))
        done = f"{row.figures.issued}/{row.figures.pupils}"
        svg.add(element("text", text(done), x=right, y=y + 13))
    if not rows:
        svg.add(element("text", text(_("Chưa có dữ liệu.")), x=0, y=top + 13))
    return svg.render()


def _stacked_bar(figures: Figures, labels: dict[str, str], x0: int, y: int, width: int) -> str:
    total = figures.pupils
    parts = [element("rect", x=x0, y=y, width=width, height=16, fill=STAGE_COLOURS["not_compiled"])]
    x = float(x0)
    for key, count in figures.pipeline():
        if not count or not total:
            continue
        segment = width * count / total
        tip = f"{labels[key]}: {count} ({100 * count / total:.1f}%)".replace(".", ",")
        parts.append(
            element(
                "rect",
                element("title", text(tip)),
                x=f"{x:.1f}",
                y=y,
                width=f"{segment:.1f}",
                height=16,
                fill=STAGE_COLOURS[key],
            )
        )
        x += segment
    return element("g", *parts)


def _date_x(
    day: datetime.date, start: datetime.date, end: datetime.date, x0: int, width: int
) -> float:
    span = max((end - start).days, 1)
    return x0 + width * (day - start).days / span


def timeline_chart(statuses: Sequence[MilestoneStatus], today: datetime.date) -> SafeString:
    """Milestones on a date axis: a diamond at each deadline (red when late), the progress bar
    on the right, and today's line (or an arrow at the edge when today is outside the range)."""
    label_width, axis_width, row_height, top = 200, 360, 30, 34
    dues = [s.due_on for s in statuses]
    start = min(dues) - datetime.timedelta(days=14)
    end = max(dues) + datetime.timedelta(days=14)
    svg = Svg(
        label_width + axis_width + 250,
        top + row_height * len(statuses) + 10,
        _("Tiến độ so với hạn của năm học"),
        _(
            "Mỗi dòng là một mốc: hình thoi ở hạn hoàn thành, màu đỏ khi đã quá hạn mà chưa "
            "xong; bên phải là tỷ lệ đã hoàn thành hôm nay."
        ),
    )
    _axis(svg, start, end, label_width, axis_width, top, len(statuses) * row_height)
    _today_marker(svg, today, start, end, label_width, axis_width, top, len(statuses) * row_height)
    for index, status in enumerate(statuses):
        y = top + index * row_height + row_height // 2
        svg.add(_milestone_row(status, start, end, label_width, axis_width, y))
    return svg.render()


def _month_starts(start: datetime.date, end: datetime.date) -> Iterable[datetime.date]:
    day = datetime.date(start.year, start.month, 1)
    while day <= end:
        if day >= start:
            yield day
        day = datetime.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _axis(
    svg: Svg, start: datetime.date, end: datetime.date, x0: int, width: int, top: int, height: int
) -> None:
    for day in _month_starts(start, end):
        x = _date_x(day, start, end, x0, width)
        svg.add(
            element(
                "line", x1=f"{x:.1f}", x2=f"{x:.1f}", y1=top - 6, y2=top + height, stroke="#d8dee6"
            )
        )
        svg.add(
            element(
                "text",
                text(day.strftime("%m/%Y")),
                x=f"{x:.1f}",
                y=top - 10,
                text_anchor="middle",
                fill="#5b6877",
            )
        )


def _today_marker(
    svg: Svg,
    today: datetime.date,
    start: datetime.date,
    end: datetime.date,
    x0: int,
    width: int,
    top: int,
    height: int,
) -> None:
    label = _("Hôm nay %(date)s") % {"date": dmy(today)}
    if start <= today <= end:
        x = _date_x(today, start, end, x0, width)
        svg.add(
            element(
                "line",
                element("title", text(label)),
                x1=f"{x:.1f}",
                x2=f"{x:.1f}",
                y1=top - 4,
                y2=top + height,
                stroke="#1d2733",
                stroke_dasharray="4 3",
            )
        )
        return
    anchor, x = ("start", x0) if today < start else ("end", x0 + width)
    arrow = ("← " + label) if today < start else (label + " →")
    svg.add(
        element("text", text(arrow), x=x, y=top + height + 8, text_anchor=anchor, fill="#1d2733")
    )


def _milestone_row(
    status: MilestoneStatus, start: datetime.date, end: datetime.date, x0: int, width: int, y: int
) -> str:
    colour = STATE_COLOURS[status.state]
    x = _date_x(status.due_on, start, end, x0, width)
    progress = "—" if status.progress is None else f"{status.progress:.1f}%".replace(".", ",")
    tip = f"{status.label}: {_('hạn')} {dmy(status.due_on)}, {progress}, {status.state_label}"
    diamond = f"{x:.1f},{y - 7} {x + 7:.1f},{y} {x:.1f},{y + 7} {x - 7:.1f},{y}"
    fill = 100 * min(status.progress or 0, 100) / 100
    bar_x = x0 + width + 12
    return element(
        "g",
        element("title", text(tip)),
        element("text", text(_short(status.label, 32)), x=0, y=y + 4),
        element("line", x1=x0, x2=x0 + width, y1=y, y2=y, stroke="#d8dee6", stroke_width=2),
        element("polygon", points=diamond, fill=colour),
        element("rect", x=bar_x, y=y - 6, width=100, height=12, fill="#e3e7eb"),
        element("rect", x=bar_x, y=y - 6, width=f"{fill:.1f}", height=12, fill=colour),
        element(
            "text", text(f"{progress} · {dmy(status.due_on)}"), x=bar_x + 108, y=y + 4, fill=colour
        ),
        class_=f"milestone {status.state}",
    )
