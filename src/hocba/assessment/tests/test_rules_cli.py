"""``hocba rules evaluate`` and ``hocba rules list`` (docs/rules-evaluate.md)."""

from __future__ import annotations

import datetime
import io
import json
import os
import re
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from hocba.assessment.models import AssessmentSettings
from hocba.assessment.rules import END_OF_YEAR, RuleOptions, load_ruleset
from hocba.schools.models import SchoolYear

RULES = load_ruleset("tt27-2020")
DOC = Path(__file__).resolve().parents[4] / "docs" / "rules-evaluate.md"


@pytest.fixture(autouse=True)
def vietnamese() -> Iterator[None]:
    with translation.override("vi"):
        yield


@dataclass
class Run:
    status: int
    stdout: str
    stderr: str

    @property
    def output(self) -> dict[str, Any]:
        return json.loads(self.stdout)


def run(payload: dict[str, Any] | str, *args: str) -> Run:
    """Call the command with ``payload`` on its standard input, as the shell would."""
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("rules", "evaluate", *args, stdin=io.StringIO(text), stdout=out, stderr=err)
    except CommandError as error:
        return Run(error.returncode, out.getvalue(), str(error))
    return Run(0, out.getvalue(), err.getvalue())


def complete(grade: int, rules: RuleOptions | None = None, **overrides: Any) -> dict[str, Any]:
    """A complete pupil by code: every subject T with 10 where tested, every item T."""
    options = rules or RuleOptions()
    subjects: dict[str, Any] = {}
    for rule in RULES.subjects_for(grade):
        if rule.grades[grade] != "required":
            continue
        tested = RULES.is_tested(rule.code, grade, END_OF_YEAR, options)
        subjects[rule.code] = {"level": "T", "score": 10} if tested else "T"
    competencies = {item.code: "T" for item in RULES.competency_items(grade, options)}
    return {"grade": grade, "subjects": subjects, "competencies": competencies, **overrides}


def with_subject(payload: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    return {**payload, "subjects": {**payload["subjects"], key: value}}


def documented_example() -> dict[str, Any]:
    block = re.search(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert block is not None
    return json.loads(block.group(1))


# --- Computable results ------------------------------------------------------------------------


def test_the_documented_example_prints_what_the_document_says() -> None:
    result = run(documented_example())
    assert result.status == 0
    assert result.output == {
        "result": "HT",
        "result_label": "Hoàn thành",
        "completion": "Hoàn thành chương trình lớp 4",
        "award": None,
        "reasons": [
            "Chưa đạt Hoàn thành tốt: Toán: điểm 6 < 7",
            "Chưa đạt Hoàn thành tốt: Trung thực: mức Đ (Đạt)",
        ],
        "missing": [],
        "grade": 4,
        "scheme": "tt27-2020",
        "settings_from": "input",
    }
    documented = DOC.read_text(encoding="utf-8")
    assert json.dumps(result.output, ensure_ascii=False, indent=2) in documented


@pytest.mark.parametrize("grade", [1, 2, 3, 4, 5])
def test_a_perfect_pupil_is_htxs_in_every_grade(grade: int) -> None:
    result = run(complete(grade))
    assert result.status == 0
    assert result.output["result"] == "HTXS"
    assert result.output["award"] == "Học sinh Xuất sắc"
    expected = "tiểu học" if grade == 5 else f"lớp {grade}"
    assert result.output["completion"] == f"Hoàn thành chương trình {expected}"


def test_the_output_is_indented_utf8_json() -> None:
    result = run(complete(3))
    assert "Hoàn thành xuất sắc" in result.stdout  # not \\u escapes
    assert result.stdout.startswith('{\n  "result": "HTXS"')


@pytest.mark.parametrize(
    ("score", "result", "reason"),
    [(9, "HTXS", None), (8, "HTT", "Toán: điểm 8 < 9"), (6, "HT", "Toán: điểm 6 < 7"),
     (4, "CHT", "Toán: điểm 4 < 5")],
)  # fmt: skip
def test_reasons_name_the_field(score: int, result: str, reason: str | None) -> None:
    payload = with_subject(complete(5), "toan", {"level": "T", "score": score})
    output = run(payload).output
    assert output["result"] == result
    if reason:
        assert any(line.endswith(reason) for line in output["reasons"])
    assert output["completion"] is (None if result == "CHT" else output["completion"])


def test_labels_work_in_any_case_and_normalisation() -> None:
    payload = complete(2)
    subjects = dict(payload["subjects"])
    del subjects["toan"], subjects["tieng_viet"]
    subjects[unicodedata.normalize("NFD", "TOÁN")] = {"level": "t", "score": "7"}
    subjects["  tiếng việt "] = {"level": "T", "score": 10}
    competencies = dict(payload["competencies"])
    del competencies["pc.yeu_nuoc"], competencies["nld.tinh_toan"]
    competencies["YÊU NƯỚC"] = "d"
    competencies[unicodedata.normalize("NFD", "Tính toán")] = "Đ"
    output = run({**payload, "subjects": subjects, "competencies": competencies}).output
    assert output["result"] == "HT"
    assert "Chưa đạt Hoàn thành tốt: Yêu nước: mức Đ (Đạt)" in output["reasons"]
    assert "Chưa đạt Hoàn thành tốt: Tính toán: mức Đ (Đạt)" in output["reasons"]


def test_a_subject_given_as_a_plain_level() -> None:
    payload = with_subject(complete(1), "dao_duc", "H")
    assert run(payload).output["result"] == "HT"


# --- Not computable: exit 3 -------------------------------------------------------------------


def test_missing_fields_exit_3_with_the_json_printed() -> None:
    payload = complete(4)
    subjects = dict(payload["subjects"])
    del subjects["khoa_hoc"]
    subjects["toan"] = {"level": "T"}
    result = run({**payload, "subjects": subjects})
    assert result.status == 3
    assert result.output["result"] is None
    assert result.output["missing"] == [
        "Toán: thiếu điểm kiểm tra cuối năm",
        "Khoa học: thiếu mức đạt được cuối năm",
        "Khoa học: thiếu điểm kiểm tra cuối năm",
    ]
    assert "thiếu 3 mục" in result.stderr


def test_an_empty_level_is_missing_not_an_error() -> None:
    result = run(with_subject(complete(1), "am_nhac", {"level": "", "score": None}))
    assert result.status == 3
    assert result.output["missing"] == ["Nghệ thuật (Âm nhạc): thiếu mức đạt được cuối năm"]


def test_only_the_grade_is_all_missing() -> None:
    result = run({"grade": 1})
    assert result.status == 3
    assert len(result.output["missing"]) == 8 + 2 + 13  # levels, scores, items


# --- Malformed input: exit 2 ------------------------------------------------------------------


def test_bad_json_names_line_and_column() -> None:
    result = run('{\n  "grade": 4,\n  "subjects": {"toan": {"level": "T",}}\n}')
    assert result.status == 2
    assert result.stdout == ""
    assert "không phải JSON hợp lệ: dòng 3, cột" in result.stderr


def g4(**entries: Any) -> dict[str, Any]:
    """A grade-4 payload with some keys set."""
    return {"grade": 4, **entries}


BY_GRADE = "specific_competencies_by_grade"
MALFORMED: list[tuple[Any, str]] = [
    ("[1, 2]", "phải là một đối tượng JSON"),
    ("", "dòng 1, cột 1"),
    ({"subjects": {}}, "“grade” (khối lớp) phải là số nguyên từ 1 đến 5"),
    ({"grade": 6}, "từ 1 đến 5"),
    ({"grade": "4"}, "từ 1 đến 5"),
    ({"grade": True}, "từ 1 đến 5"),
    (g4(lop="4A"), "Khoá không được hỗ trợ trong dữ liệu vào: lop"),
    (g4(subjects=[]), "“subjects” phải là một đối tượng"),
    (g4(subjects={"hoa_hoc": "T"}), "Không có môn học “hoa_hoc”"),
    ({"grade": 2, "subjects": {"khoa_hoc": "T"}}, "Khối 2 không học môn Khoa học"),
    (g4(subjects={"tu_nhien_xa_hoi": "T"}), "Khối 4 không học môn Tự nhiên"),
    (g4(subjects={"toan": "X"}), "Toán: Mức đạt được “X” không hợp lệ"),
    (g4(subjects={"toan": {"level": "Đ"}}), "Toán: Mức đạt được “Đ”"),
    (g4(subjects={"toan": 9}), "Toán: cần mức đạt được"),
    (g4(subjects={"toan": {"level": "T", "diem": 9}}), "không được hỗ trợ trong Toán: diem"),
    (g4(subjects={"toan": {"score": 11}}), "Toán: Điểm 11 ngoài thang điểm"),
    (g4(subjects={"toan": {"score": 0}}), "Toán: Điểm 0 ngoài thang điểm"),
    (g4(subjects={"toan": {"score": 6.5}}), "Toán: Điểm “6.5” không hợp lệ"),
    (g4(subjects={"toan": {"score": "chín"}}), "Toán: Điểm “chín” không hợp lệ"),
    (g4(subjects={"toan": {"score": True}}), "Toán: điểm phải là một số nguyên"),
    (g4(subjects={"toan": {"score": [9]}}), "Toán: điểm phải là một số nguyên"),
    (g4(subjects={"dao_duc": {"score": 9}}), "Đạo đức: khối 4 không có bài kiểm tra cuối năm"),
    (g4(subjects={"toan": "T", "TOÁN": "T"}), "Môn Toán được ghi hai lần"),
    (g4(competencies={"pc.yeu_nuoc": "H"}), "Yêu nước: Mức đánh giá “H” không hợp lệ"),
    (g4(competencies={"pc.yeu_nuoc": 1}), "Yêu nước: mức đánh giá phải là T, Đ hoặc C"),
    (g4(competencies={"Dũng cảm": "T"}), "Không có phẩm chất hay năng lực “Dũng cảm”"),
    ({"grade": 1, "competencies": {"nld.cong_nghe": "T"}}, "Khối 1 không đánh giá “nld.cong_nghe”"),
    (g4(optional_subjects="ngoai_ngu_1"), "“optional_subjects” phải là danh sách"),
    (g4(scheme="tt99-2099"), "Không có bộ quy tắc đánh giá “tt99-2099”"),
    (g4(options={"allow_zero_score": "yes"}), "“options.allow_zero_score” phải là true hoặc false"),
    (g4(options={"zero": True}), "Khoá không được hỗ trợ trong options: zero"),
    (g4(options={BY_GRADE: {"1": ["nld.bay"]}}), "Không có năng lực đặc thù “nld.bay”"),
    (g4(options={BY_GRADE: {"6": []}}), "khối 1-5"),
]


@pytest.mark.parametrize(("payload", "message"), MALFORMED)
def test_malformed_input_exits_2_naming_what_is_wrong(payload: Any, message: str) -> None:
    result = run(payload)
    assert result.status == 2, result
    assert message in result.stderr
    assert result.stdout == ""


# --- Options and optional subjects ------------------------------------------------------------


def test_allow_zero_score_from_the_input_options() -> None:
    options = {"allow_zero_score": True}
    payload = with_subject(complete(3), "toan", {"level": "T", "score": 0})
    assert run(payload).status == 2
    output = run({**payload, "options": options}).output
    assert output["result"] == "CHT"
    assert output["reasons"] == ["Chưa đạt Hoàn thành: Toán: điểm 0 < 5"]


def test_single_score_tin_hoc_cong_nghe_from_the_input_options() -> None:
    payload = with_subject(complete(4), "cong_nghe", "T")
    assert run(payload).output["missing"] == [
        "Tin học và Công nghệ (Công nghệ): thiếu điểm kiểm tra cuối năm"
    ]
    output = run({**payload, "options": {"single_score_tin_hoc_cong_nghe": True}}).output
    assert output["result"] == "HTXS"


def test_an_optional_subject_counts_when_listed_or_rated() -> None:
    listed = run({**complete(1), "optional_subjects": ["Ngoại ngữ 1"]})
    assert listed.status == 3
    assert listed.output["missing"] == ["Ngoại ngữ 1: thiếu mức đạt được cuối năm"]
    rated = run(with_subject(complete(1), "ngoai_ngu_1", "C"))
    assert rated.output["result"] == "CHT"
    ethnic = run(with_subject(complete(4), "Tiếng dân tộc thiểu số", "H"))
    assert ethnic.output["result"] == "HT"


def test_optional_subjects_can_be_left_out_of_the_rule() -> None:
    payload = with_subject(complete(1), "ngoai_ngu_1", "C")
    output = run({**payload, "options": {"optional_subjects_count": False}}).output
    assert output["result"] == "HTXS"


def test_listing_a_required_subject_as_optional_changes_nothing() -> None:
    output = run({**complete(4), "optional_subjects": ["ngoai_ngu_1"]}).output
    assert output["result"] == "HTXS"


def test_specific_competencies_override_from_the_input_options() -> None:
    options = RuleOptions(specific_competencies_by_grade={1: ("nld.ngon_ngu",)})
    payload = complete(1, options, options={"specific_competencies_by_grade": {"1": ["Ngôn ngữ"]}})
    assert run(payload).output["result"] == "HTXS"


# --- The school year's settings ---------------------------------------------------------------


@pytest.fixture
def school_year(db: Any) -> SchoolYear:
    year = SchoolYear.objects.create(
        name="2023-2024",
        start_year=2023,
        starts_on=datetime.date(2023, 9, 5),
        ends_on=datetime.date(2024, 5, 31),
    )
    AssessmentSettings.objects.create(school_year=year, allow_zero_score=True)
    return year


def test_a_known_school_year_uses_its_stored_settings(school_year: SchoolYear) -> None:
    payload = with_subject(complete(3), "toan", {"level": "T", "score": 0})
    payload = {**payload, "school_year": "2023-2024", "options": {"allow_zero_score": False}}
    result = run(payload)
    assert result.status == 0
    assert result.output["result"] == "CHT"
    assert result.output["settings_from"] == "school_year"


def test_an_unknown_school_year_falls_back_to_the_input(school_year: SchoolYear) -> None:
    payload = with_subject(complete(3), "toan", {"level": "T", "score": 0})
    assert run({**payload, "school_year": "2030-2031"}).status == 2
    result = run({**payload, "school_year": "2030-2031", "options": {"allow_zero_score": True}})
    assert result.output["settings_from"] == "input"
    assert result.output["result"] == "CHT"


def test_a_school_year_must_be_a_string() -> None:
    result = run({**complete(3), "school_year": 2024})
    assert result.status == 2
    assert "“school_year” phải là một chuỗi" in result.stderr


# --- Ways in and out --------------------------------------------------------------------------


def test_reads_sys_stdin_when_no_stream_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(complete(2))))
    out = io.StringIO()
    call_command("rules", "evaluate", stdout=out)
    assert json.loads(out.getvalue())["result"] == "HTXS"


def test_reads_a_file_argument(tmp_path: Path) -> None:
    path = tmp_path / "pupil.json"
    path.write_text(json.dumps(complete(5), ensure_ascii=False), encoding="utf-8")
    assert run("ignored", str(path)).output["result"] == "HTXS"
    missing = run("", str(tmp_path / "khong-co.json"))
    assert missing.status == 2
    assert "Không đọc được tệp" in missing.stderr


def test_list_prints_the_rule_set_of_a_grade() -> None:
    out = io.StringIO()
    call_command("rules", "list", "--grade", "4", stdout=out)
    text = out.getvalue()
    assert text.startswith("tt27-2020: Thông tư 27/2020/TT-BGDĐT")
    assert re.search(r"toan\s+Toán\s+kiểm tra: gk1, ck1, gk2, cn", text)
    assert re.search(r"tieng_dan_toc\s+Tiếng dân tộc thiểu số \(tự chọn\)", text)
    assert "nld.tin_hoc" in text
    assert "Khối 1" not in text


def test_list_refuses_an_unknown_scheme() -> None:
    with pytest.raises(CommandError, match="tt27-2020") as raised:
        call_command("rules", "list", "--scheme", "tt30-2014", stdout=io.StringIO())
    assert raised.value.returncode == 2


def _cli(payload: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOCBA_TESTING": "1", "HOCBA_DATA_DIR": str(tmp_path / "data")}
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-m", "hocba.cli", "rules", "evaluate"],
        input=payload,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=60,
        check=False,
    )


def test_the_console_command_end_to_end(tmp_path: Path) -> None:
    example = json.dumps(documented_example(), ensure_ascii=False)
    done = _cli(example, tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["reasons"][0] == "Chưa đạt Hoàn thành tốt: Toán: điểm 6 < 7"
    # A school year in a data directory without a database falls back to the input's options.
    missing = _cli(json.dumps({"grade": 1, "school_year": "2024-2025"}), tmp_path)
    assert missing.returncode == 3
    assert json.loads(missing.stdout)["settings_from"] == "input"
    broken = _cli('{"grade": 4,', tmp_path)
    assert broken.returncode == 2
    assert broken.stdout == ""
    assert "không phải JSON hợp lệ: dòng 1, cột 13" in broken.stderr
