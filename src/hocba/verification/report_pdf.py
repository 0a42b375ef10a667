"""The validation report as a printable Vietnamese PDF, laid out by Typst (like documents)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import typst
from django.utils.translation import gettext as _

from hocba.documents.render import fonts
from hocba.verification.report import (
    ValidationReport,
    check_label,
    indication_label,
)

TEMPLATE = Path(__file__).resolve().parent / "templates" / "verification" / "report.typ"
_typst: Any = typst  # in-memory files are accepted though the stub declares only paths


class ReportRenderError(RuntimeError):
    """Typst failed on the report template (a bug, not a user error)."""


@cache
def _template() -> bytes:
    return TEMPLATE.read_bytes()


def view(report: ValidationReport) -> dict[str, Any]:
    """Every string the template prints, in Vietnamese."""
    data = report.data
    facts = [
        (_("Kết luận"), report.headline),
        (
            _("Chữ ký (ETSI EN 319 102-1)"),
            indication_label(report.indication)
            + (f" / {report.sub_indication}" if report.sub_indication else ""),
        ),
        (_("Tệp"), f"SHA-256 {report.file_sha256} ({report.file_size} byte)"),
        (_("Thời điểm kiểm tra"), report.checked_at),
    ]
    if data.get("readable"):
        facts += [
            (_("Học sinh"), str(data.get("pupil_name", ""))),
            (_("Trường"), str(data.get("school", ""))),
            (_("Lớp, năm học"), f"{data.get('class_name', '')}, {data.get('school_year', '')}"),
            (
                _("Mã học bạ"),
                f"{data.get('short_code', '')} ({_('phiên bản')} {data.get('version', '')})",
            ),
        ]
    signatures = []
    for signature in report.signatures:
        signatures.append(
            {
                "title": f"{signature.role_label}: {signature.signer_name or '?'}",
                "indication": indication_label(signature.indication)
                + (f" / {signature.sub_indication}" if signature.sub_indication else ""),
                "lines": [
                    _("Ô chữ ký: %(f)s; lần cập nhật %(r)s")
                    % {"f": signature.field, "r": signature.revision},
                    _("Chứng thư: %(s)s") % {"s": signature.subject},
                    _("Tổ chức cấp: %(s)s") % {"s": signature.issuer},
                    _("Thời điểm ký (người ký khai): %(t)s") % {"t": signature.signing_time or "-"},
                    _("Dấu thời gian: %(t)s") % {"t": signature.timestamp_time or "-"},
                ],
                "explanation": signature.explanation,
            }
        )
    order = report.order
    checks = [
        (
            _("Thứ tự và đủ chữ ký"),
            _("Đủ và đúng thứ tự.")
            if not order.get("missing") and order.get("in_order")
            else _("Thiếu: %(m)s.") % {"m": ", ".join(order.get("missing_labels", [])) or "-"}
            if order.get("missing")
            else _("Sai thứ tự."),
        ),
        (_("Sửa đổi sau khi ký"), str(report.modifications.get("explanation", ""))),
        (_("Dữ liệu đính kèm (SHA-256)"), str(data.get("sha256", _("không có")))),
        (
            _("Sổ cái"),
            f"{check_label(report.log.get('check'))}. {report.log.get('explanation', '')}",
        ),
        (_("Trạng thái hiện tại"), str(report.status.get("explanation", ""))),
    ]
    return {
        "title": _("Báo cáo kiểm tra tệp học bạ"),
        "headline": report.headline,
        "verdict": report.verdict,
        "facts": facts,
        "signatures_title": _("Các chữ ký"),
        "signatures": signatures,
        "checks_title": _("Các kiểm tra khác"),
        "checks": checks,
        "messages_title": _("Vấn đề phát hiện"),
        "messages": [f"[{m.code}] {m.text}" for m in report.messages],
        "footer": _("Báo cáo %(schema)s — kiểm tra lúc %(at)s")
        % {"schema": report.schema, "at": report.checked_at},
    }


def render_report(report: ValidationReport) -> bytes:
    """The report as a PDF (A4, Vietnamese, the shipped Liberation Serif only)."""
    files = {
        "main.typ": _template(),
        "report.json": json.dumps(view(report), ensure_ascii=False).encode(),
    }
    try:
        pdf = _typst.compile(files, font_paths=fonts(), ignore_system_fonts=True, format="pdf")
    except typst.TypstError as error:
        raise ReportRenderError(f"Typst: {error.message}\n{error.diagnostic}") from error
    assert isinstance(pdf, bytes)
    return pdf
