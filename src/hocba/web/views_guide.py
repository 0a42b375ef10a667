"""The Vietnamese user guide (issue 9 §4): an index and one page per task, open to everyone.

The screenshots the pages show are made by ``tests/browser/test_guide_screenshots.py`` on the
demo, so they follow the interface; the test fails if a page names a picture it does not make.
The "Hướng dẫn" link of the top bar passes the page it came from (``?tu=<view name>``) and lands
on the matching section.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class GuidePage:
    slug: str
    title: str | Promise
    summary: str | Promise

    @property
    def template(self) -> str:
        return f"web/guide/{self.slug}.html"


PAGES = (
    GuidePage(
        "nhap-diem",
        _("Nhập điểm và nhận xét"),
        _("Bảng nhập của lớp, phím tắt, dán từ Excel, tải tệp Excel về và tải lên."),
    ),
    GuidePage(
        "ky-so",
        _("Ký số và phát hành học bạ"),
        _("Khoá sổ, tổng hợp học bạ, giáo viên chủ nhiệm ký, hiệu trưởng ký, đóng dấu."),
    ),
    GuidePage(
        "dinh-chinh",
        _("Đính chính học bạ đã phát hành"),
        _("Sửa sai sót sau khi phát hành: phiên bản mới thay thế phiên bản cũ."),
    ),
    GuidePage(
        "xac-thuc",
        _("Xác thực học bạ"),
        _("Quét mã QR, tra cứu cho cha mẹ, kiểm tra tệp PDF, kiểm tra ngoại tuyến."),
    ),
)
BY_SLUG = {page.slug: page for page in PAGES}

# The page the "Hướng dẫn" link was followed from (its view name) -> the section that explains it.
CONTEXT = {
    "web:grid_subject": "nhap-diem#bang-nhap",
    "web:grid_subject_default": "nhap-diem#bang-nhap",
    "web:grid_homeroom": "nhap-diem#pham-chat",
    "web:grid_homeroom_default": "nhap-diem#pham-chat",
    "web:grid_facts": "nhap-diem#pham-chat",
    "web:class_overview": "nhap-diem#tong-hop",
    "web:comment_bank": "nhap-diem#nhan-xet-mau",
    "web:excel_class": "nhap-diem#excel",
    "web:excel_subject_upload": "nhap-diem#excel",
    "web:excel_class_upload": "nhap-diem#excel",
    "web:excel_competency_upload": "nhap-diem#excel",
    "web:excel_facts_upload": "nhap-diem#excel",
    "web:locks": "ky-so#khoa-so",
    "web:records_class": "ky-so#tong-hop",
    "web:signing_class": "ky-so#gvcn-ky",
    "web:signing_school": "ky-so#hieu-truong-ky",
    "web:signing_batch": "ky-so#theo-doi",
    "web:signing_certificates": "ky-so#chung-thu",
    "web:record_detail": "dinh-chinh",
    "verification:status": "xac-thuc#ma-qr",
    "verification:lookup": "xac-thuc#tra-cuu",
    "verification:file": "xac-thuc#kiem-tra-tep",
}


def guide_index(request: HttpRequest) -> HttpResponse:
    target = CONTEXT.get(request.GET.get("tu", ""))
    if target is not None:
        slug, _hash, anchor = target.partition("#")
        response = redirect("web:guide_page", slug=slug)
        response["Location"] += f"#{anchor}" if anchor else ""
        return response
    return render(request, "web/guide/index.html", {"pages": PAGES})


def guide_page(request: HttpRequest, slug: str) -> HttpResponse:
    page = BY_SLUG.get(slug)
    if page is None:
        raise Http404(_("Không có trang hướng dẫn này."))
    return render(request, page.template, {"pages": PAGES, "page": page})


urlpatterns = [
    path("", guide_index, name="guide"),
    path("<slug:slug>/", guide_page, name="guide_page"),
]
