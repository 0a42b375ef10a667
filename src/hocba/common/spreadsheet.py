"""What every spreadsheet import shares: safe reading of the upload, and problems placed as
Excel shows them."""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

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


FileInput = str | os.PathLike[str] | bytes | IO[bytes]


class SpreadsheetFileError(Exception):
    """An uploaded file that cannot be read safely; ``message`` is shown to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def read_xlsx_upload(
    file: FileInput,
    *,
    max_bytes: int,
    max_unzipped_bytes: int,
    max_members: int,
    too_big_message: str,
) -> bytes:
    """The bytes of an uploaded .xlsx, refused when too big, not a zip, or a zip bomb.

    Every import reads its file through here; each passes its own limits and wording.
    """
    data = _read_bytes(file, max_bytes=max_bytes, too_big_message=too_big_message)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise SpreadsheetFileError(not_xlsx_message()) from exc
    unpacked = sum(member.file_size for member in members)
    if len(members) > max_members or unpacked > max_unzipped_bytes:
        raise SpreadsheetFileError(_("Tệp bảng tính quá lớn khi giải nén; không thể đọc an toàn."))
    return data


def not_xlsx_message() -> str:
    return _("Tệp không phải là bảng tính Excel (.xlsx) hợp lệ.")


def _read_bytes(file: FileInput, *, max_bytes: int, too_big_message: str) -> bytes:
    if isinstance(file, bytes):
        data = file
    elif isinstance(file, str | os.PathLike):
        path = Path(file)
        try:
            if path.stat().st_size > max_bytes:
                raise SpreadsheetFileError(too_big_message)
            data = path.read_bytes()
        except OSError as exc:
            raise SpreadsheetFileError(
                _("Không đọc được tệp “%(name)s”.") % {"name": path.name}
            ) from exc
    else:
        if hasattr(file, "seek"):
            file.seek(0)
        data = file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise SpreadsheetFileError(too_big_message)
    return data
