"""Demo year records for the golden tests and the benchmark, built from the schema's example."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

EXAMPLE = Path(__file__).resolve().parents[2] / "records" / "schemas" / "example-year-record.json"

LONG_COMMENT = (
    "Em đọc to, rõ ràng, diễn cảm, biết ngắt nghỉ đúng chỗ; viết đúng chính tả, chữ viết đều "
    "nét, trình bày sạch đẹp. Em hiểu nội dung bài đọc, trả lời được các câu hỏi về nội dung "
    "và biết liên hệ với bản thân. Bài tập làm văn có bố cục rõ ràng, dùng từ phong phú, câu "
    "văn mạch lạc, giàu hình ảnh; em biết dùng biện pháp so sánh, nhân hoá để bài viết thêm "
    "sinh động. Em tích cực phát biểu xây dựng bài, mạnh dạn chia sẻ ý kiến với các bạn trong "
    "nhóm. Em biết tự đánh giá bài làm của mình và của bạn, biết sửa lỗi sau khi được góp ý. "
    "Cần tiếp tục luyện viết đoạn văn nghị luận ngắn và mở rộng vốn từ theo chủ điểm."
)
assert len(LONG_COMMENT) >= 600, len(LONG_COMMENT)

GRADE_SUBJECTS = {
    1: ["tieng_viet", "toan", "dao_duc", "tu_nhien_xa_hoi", "giao_duc_the_chat", "am_nhac",
        "mi_thuat", "hoat_dong_trai_nghiem"],
    3: ["tieng_viet", "toan", "ngoai_ngu_1", "tin_hoc", "cong_nghe", "dao_duc", "tu_nhien_xa_hoi",
        "giao_duc_the_chat", "am_nhac", "mi_thuat", "hoat_dong_trai_nghiem"],
    5: ["tieng_viet", "toan", "ngoai_ngu_1", "lich_su_dia_li", "khoa_hoc", "tin_hoc", "cong_nghe",
        "dao_duc", "giao_duc_the_chat", "am_nhac", "mi_thuat", "hoat_dong_trai_nghiem"],
}  # fmt: skip
TESTED = {
    1: {"tieng_viet", "toan"},
    3: {"tieng_viet", "toan", "ngoai_ngu_1", "tin_hoc", "cong_nghe"},
    5: {"tieng_viet", "toan", "ngoai_ngu_1", "lich_su_dia_li", "khoa_hoc", "tin_hoc", "cong_nghe"},
}
TNXH = {
    "code": "tu_nhien_xa_hoi",
    "label": "Tự nhiên và Xã hội",
    "level": "T",
    "level_label": "Hoàn thành tốt",
    "tested": False,
    "score": None,
    "comment": "Biết quan sát, nêu được đặc điểm của cây cối, con vật quanh em.",
}


def example() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return data


def _history(grade: int, first_year: int = 2020) -> list[dict[str, Any]]:
    rows = []
    for g in range(1, grade + 1):
        year = first_year + g
        rows.append(
            {
                "school_year": f"{year}-{year + 1}",
                "class_name": f"{g}A",
                "school_name": "Trường Tiểu học Dịch Vọng A",
                "register_number": f"57/{first_year + 1}",
                "joined_on": f"{year}-09-05",
            }
        )
    return rows


def for_grade(grade: int, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """The example moved to another grade: that grade's subjects, scores and competencies."""
    doc = copy.deepcopy(base or example())
    year = 2020 + grade
    doc["school_year"] = f"{year}-{year + 1}"
    doc["class"] = {"name": f"{grade}A", "grade": grade}
    doc["study_history"] = _history(grade)
    by_code = {s["code"]: s for s in doc["subjects"]}
    by_code["tu_nhien_xa_hoi"] = copy.deepcopy(TNXH)
    subjects = []
    for code in GRADE_SUBJECTS[grade]:
        subject = copy.deepcopy(by_code[code])
        if code not in TESTED[grade]:
            subject["tested"], subject["score"] = False, None
        elif subject.get("score") is None:
            subject["tested"], subject["score"] = True, 9
        subjects.append(subject)
    doc["subjects"] = subjects
    if grade < 3:
        doc["specific_competencies"] = [
            c
            for c in doc["specific_competencies"]
            if c["code"] not in {"nld.cong_nghe", "nld.tin_hoc"}
        ]
    doc["year_end"]["completion"] = (
        "Hoàn thành chương trình tiểu học" if grade == 5 else f"Hoàn thành chương trình lớp {grade}"
    )
    doc["signing"]["date"] = f"{year + 1}-05-28"
    doc["record"]["compiled_at"] = f"{year + 1}-05-28T10:15:00+07:00"
    return doc


def grade1() -> dict[str, Any]:
    doc = for_grade(1)
    doc["signing"]["principal_title"] = "KT. HIỆU TRƯỞNG\nPHÓ HIỆU TRƯỞNG"
    doc["signing"]["principal_name"] = "Lê Văn Hùng"
    return doc


def grade3() -> dict[str, Any]:
    doc = for_grade(3)
    doc["year_end"]["result"], doc["year_end"]["result_label"] = "HTXS", "Hoàn thành xuất sắc"
    doc["year_end"]["awards"] = ["Học sinh Xuất sắc"]
    return doc


def grade5() -> dict[str, Any]:
    doc = for_grade(5)
    doc["year_end"]["result"], doc["year_end"]["result_label"] = "HTT", "Hoàn thành tốt"
    doc["year_end"]["exemplary"] = True
    doc["year_end"]["exemplary_reason"] = "Tích cực trong phong trào đọc sách của trường"
    doc["year_end"]["adhoc_awards"] = "Giải Nhì Hội khoẻ Phù Đổng cấp quận"
    return doc


def long_comment() -> dict[str, Any]:
    doc = example()
    doc["subjects"][0]["comment"] = LONG_COMMENT
    doc["qualities"][2]["comment"] = LONG_COMMENT
    return doc


def cht() -> dict[str, Any]:
    doc = example()
    doc["pupil"].update(
        {"family_name": "Lò", "middle_name": "Văn", "given_name": "Páo", "full_name": "Lò Văn Páo"}
    )
    doc["pupil"]["sex"], doc["pupil"]["sex_label"] = "nam", "Nam"
    doc["pupil"]["ethnicity"] = "Thái"
    for subject in doc["subjects"]:
        if subject["code"] == "toan":
            subject.update(
                {
                    "level": "C",
                    "level_label": "Chưa hoàn thành",
                    "score": 4,
                    "comment": "Chưa thuộc bảng nhân, chia; cần luyện thêm.",
                }
            )
    doc["year_end"].update(
        {"result": "CHT", "result_label": "Chưa hoàn thành", "completion": None, "awards": []}
    )
    return doc


def transfer() -> dict[str, Any]:
    doc = example()
    doc["study_history"][0].update(
        {
            "school_name": "Trường Tiểu học Lê Quý Đôn, Quận Nam Từ Liêm",
            "register_number": "112/2021",
        }
    )
    doc["study_history"][1].update(
        {
            "school_name": "Trường Tiểu học Lê Quý Đôn, Quận Nam Từ Liêm",
            "register_number": "112/2021",
        }
    )
    doc["study_history"][2].update(
        {"register_number": "88/2023", "joined_on": "2023-11-20"}  # moved in mid-year
    )
    return doc


VARIANTS = {
    "grade1": grade1,
    "grade3": grade3,
    "grade5": grade5,
    "long_comment": long_comment,
    "cht": cht,
    "transfer": transfer,
}
