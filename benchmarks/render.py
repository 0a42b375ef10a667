"""Benchmark: render year records to PDF with Typst (issue 4, ARCHITECTURE §9-10).

The year records are canonical documents built in code from the schema's example
(``records/schemas/example-year-record.json``): a grade-4 class of 35 pupils, each with its own
name, codes and comments, so no two renders are the same input. Rendering reads no database, so
this benchmark needs none (it does not call ``django.setup()``).

Measured, each as the median of the repetitions:

* ``year_record_ms``: ``render_year_record`` of one record, complete (Typst compile to PDF/A-3b
  with the attached JSON and the QR code, the signature-box query, the pyHanko update adding the
  three empty signature fields); ``compile_ms``, ``query_ms`` and ``fields_ms`` split it;
* ``class_per_record_ms``: ``render_class`` of the 35 records divided by 35;
* ``booklet_ms``: ``render_booklet`` of one pupil with five year records;
* baseline ``weasyprint_ms``: the same year block (header, the three tables, result, awards,
  completion, date, signature blocks, QR as SVG) as plain HTML rendered by WeasyPrint.

``ratio`` is ``weasyprint_ms / year_record_ms`` (target ≥ 10); ``class_ratio`` is
``weasyprint_ms / class_per_record_ms``. Target: < 50 ms per record in a batch. Usage::

    .venv/bin/python benchmarks/render.py [--quick]
"""

from __future__ import annotations

import argparse
import copy
import html
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

PUPILS = 35
GIVEN = ["An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hải", "Hoa", "Khánh", "Lan", "Linh", "Minh"]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi"]
MIDDLE = ["Văn", "Thị", "Minh", "Bảo", "Ngọc", "Đức"]


def _class_documents(base: dict[str, Any], count: int, salt: str = "") -> list[dict[str, Any]]:
    docs = []
    for i in range(count):
        doc = copy.deepcopy(base)
        family, middle, given = FAMILY[i % 8], MIDDLE[i % 6], GIVEN[i % 12]
        doc["pupil"].update(
            {
                "family_name": family,
                "middle_name": middle,
                "given_name": given,
                "full_name": f"{family} {middle} {given}{salt}",
                "ministry_code": f"01557273{i:02d}",
            }
        )
        doc["record"]["short_code"] = f"HB7K-2M9Q-X{i:03d}"
        doc["record"]["verify_url"] = f"http://127.0.0.1:8000/xac-thuc/HB7K-2M9Q-X{i:03d}"
        for j, subject in enumerate(doc["subjects"]):
            subject["comment"] = f"{subject['comment']} Nhận xét riêng số {i}-{j}{salt}."
        docs.append(doc)
    return docs


def _median_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _html(doc: dict[str, Any], qr_svg: str) -> str:
    """The year block as plain HTML: the same tables and text, no layout tricks."""
    from hocba.documents import render

    view = render.year_view(render.nfc(doc))
    e = html.escape

    def rated(rows: list[dict[str, str]], head: str) -> str:
        body = "".join(
            f"<tr><td>{e(r['label'])}</td><td class=c>{e(r['level'])}</td>"
            f"<td>{e(r['comment'])}</td></tr>"
            for r in rows
        )
        return (
            f"<table><thead><tr><th>{head}</th><th>Mức đạt được</th><th>Nhận xét</th></tr>"
            f"</thead>{body}</table>"
        )

    subjects = "".join(
        f"<tr><td>{e(r['label'])}</td><td class=c>{e(r['level'])}</td>"
        f"<td class=c>{e(r['score'])}</td><td>{e(r['comment'])}</td></tr>"
        for r in view["subjects"]
    )
    return f"""<!doctype html><html lang=vi><head><meta charset=utf-8><style>
@page {{ size: A4; margin: 2cm 1.5cm 2cm 2.5cm; }}
body {{ font-family: 'Liberation Serif'; font-size: 13pt; }}
table {{ width: 100%; border-collapse: collapse; font-size: 12pt; }}
th, td {{ border: 0.6pt solid black; padding: 4pt; }} td.c {{ text-align: center; }}
thead {{ display: table-header-group; }} .sig {{ display: flex; justify-content: space-between; }}
.box {{ width: 5.8cm; height: 2.6cm; }} svg {{ width: 3.2cm; height: 3.2cm; }}
</style></head><body>
<h3 style="text-align:center">HỌC BẠ TIỂU HỌC</h3>
<p>Họ và tên: <b>{e(doc["pupil"]["full_name"])}</b> Lớp: <b>{e(view["class_name"])}</b>
Năm học: <b>{e(view["school_year"])}</b></p>
<p>Chiều cao: {e(view["height"])} Cân nặng: {e(view["weight"])} Số ngày nghỉ: có phép
{e(view["days_excused"])}, không phép {e(view["days_unexcused"])}</p>
<p><b>1. Các môn học và hoạt động giáo dục</b></p>
<table><thead><tr><th>Môn học và hoạt động giáo dục</th><th>Mức đạt được</th><th>Điểm KTĐK</th>
<th>Nhận xét</th></tr></thead>{subjects}</table>
<p><b>2. Những phẩm chất chủ yếu</b></p>{rated(view["qualities"], "Phẩm chất")}
<p><b>3. Những năng lực cốt lõi</b></p><p><i>3.1. Những năng lực chung</i></p>
{rated(view["general_competencies"], "Năng lực")}
<p><i>3.2. Những năng lực đặc thù</i></p>{rated(view["specific_competencies"], "Năng lực")}
<p><b>4. Đánh giá kết quả giáo dục:</b> {e(view["result"])}</p>
<p><b>5. Khen thưởng:</b> {e(view["awards"])}</p>
<p><b>6. Hoàn thành chương trình lớp học/chương trình tiểu học:</b><br>{e(view["completion"])}</p>
<p style="text-align:right"><i>{e(view["place_date"])}</i></p>
<div class=sig><div><b>Xác nhận của Hiệu trưởng</b><br><b>{e(view["principal_title"])}</b>
<div class=box></div><b>{e(view["principal_name"])}</b></div>
<div><b>Giáo viên chủ nhiệm</b><div class=box></div><b>{e(view["homeroom_teacher_name"])}</b>
</div></div>
<div>{qr_svg}<p>Mã tra cứu: <b>{e(view["short_code"])}</b></p></div>
</body></html>"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (smoke run)")
    args = parser.parse_args()
    repeat = 3 if args.quick else 15
    class_repeat = 1 if args.quick else 3
    class_size = 8 if args.quick else PUPILS

    from hocba.documents import render
    from hocba.documents.tests import variants

    base = variants.example()
    singles = iter(_class_documents(base, repeat * 4 + 2, salt=" s"))
    render.render_year_record(next(singles))  # warm-up: font loading, first compile

    year_ms = _median_ms(lambda: render.render_year_record(next(singles)), repeat)

    parts: dict[str, list[float]] = {"compile": [], "query": [], "fields": []}

    def split() -> None:
        doc = next(singles)
        files = render._year_files(doc, render.canonical_bytes(doc))
        ts = render._timestamp(doc)
        t0 = time.perf_counter()
        pdf = render._compile(files, ts)
        t1 = time.perf_counter()
        boxes = render.signature_boxes(files)
        t2 = time.perf_counter()
        render.add_signature_fields(pdf, boxes, modified=render._utc(ts))
        t3 = time.perf_counter()
        parts["compile"].append((t1 - t0) * 1000)
        parts["query"].append((t2 - t1) * 1000)
        parts["fields"].append((t3 - t2) * 1000)

    for _ in range(repeat):
        split()

    class_times = []
    for n in range(class_repeat):
        docs = _class_documents(base, class_size, salt=f" c{n}")
        start = time.perf_counter()
        pdfs = render.render_class(docs)
        class_times.append((time.perf_counter() - start) * 1000 / class_size)
        assert len(pdfs) == class_size
    class_ms = statistics.median(class_times)

    booklet_sets = iter(
        [
            _class_documents(d, 1, salt=f" b{n}")[0]
            for d in (variants.grade1(), variants.grade3(), variants.grade5(), base)
        ]
        for n in range(repeat)
    )
    # A fresh pupil name each time: Typst memoises identical inputs, which would flatter it.
    booklet_ms = _median_ms(lambda: render.render_booklet(next(booklet_sets)), repeat)

    weasy_ms: float | None
    try:
        import weasyprint

        qr = render._qr_svg(base["record"]["verify_url"]).decode()
        html_docs = iter(_class_documents(base, repeat + 1, salt=" w"))
        weasyprint.HTML(string=_html(next(html_docs), qr)).write_pdf()  # warm-up
        weasy_ms = _median_ms(
            lambda: weasyprint.HTML(string=_html(next(html_docs), qr)).write_pdf(), repeat
        )
    except (ImportError, OSError) as exc:  # missing pango: apt-get install libpango-1.0-0 ...
        print(f"WeasyPrint baseline unavailable: {exc}", file=sys.stderr)
        weasy_ms = None

    compile_ms = statistics.median(parts["compile"])
    query_ms = statistics.median(parts["query"])
    fields_ms = statistics.median(parts["fields"])
    print(f"Typst year record (one)            {year_ms:8.1f} ms")
    print(
        f"  compile / box query / fields     {compile_ms:.1f} / {query_ms:.1f} / {fields_ms:.1f} ms"
    )
    print(f"Typst class of {class_size}, per record      {class_ms:8.1f} ms")
    print(f"Typst booklet, 4 years             {booklet_ms:8.1f} ms")
    if weasy_ms is not None:
        print(f"WeasyPrint same year block         {weasy_ms:8.1f} ms")
        print(f"ratio (WeasyPrint / Typst one)     {weasy_ms / year_ms:8.1f} x")
        print(f"ratio (WeasyPrint / Typst batch)   {weasy_ms / class_ms:8.1f} x")
    print()
    print(f"year_record_ms={year_ms:.1f}")
    print(f"compile_ms={compile_ms:.1f}")
    print(f"query_ms={query_ms:.1f}")
    print(f"fields_ms={fields_ms:.1f}")
    print(f"class_per_record_ms={class_ms:.1f}")
    print(f"class_size={class_size}")
    print(f"booklet_ms={booklet_ms:.1f}")
    if weasy_ms is not None:
        print(f"weasyprint_ms={weasy_ms:.1f}")
        print(f"ratio={weasy_ms / year_ms:.1f}")
        print(f"class_ratio={weasy_ms / class_ms:.1f}")


if __name__ == "__main__":
    main()
