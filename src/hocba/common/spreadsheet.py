"""What every spreadsheet import reports: a problem placed as Excel shows it."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class SheetIssue:
    """One problem in an uploaded workbook (rows 1-based, columns by letter, as Excel shows)."""

    sheet: str
    message: str
    row: int | None = None
    column: str = ""
    column_title: str = ""

    def __str__(self) -> str:
        place = [self.sheet] if self.sheet else []
        if self.row is not None:
            place.append(_("dòng %(row)s") % {"row": self.row})
        if self.column:
            place.append(
                _("cột %(letter)s (%(title)s)")
                % {"letter": self.column, "title": self.column_title}
            )
        return f"{', '.join(place)}: {self.message}" if place else self.message
