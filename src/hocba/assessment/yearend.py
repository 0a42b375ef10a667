"""Year-end result, completion and computable award (DOMAIN §2.3-2.5, Circular 27 Art. 9, 11, 13).

Pure functions over plain data, so the same code answers the grid, the pupil's page and
``hocba rules evaluate``. Only end-of-year ratings and end-of-year test scores count. The four
results are checked top to bottom; a pupil with a missing rating or score is *not computable* and
the missing fields are listed, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hocba.assessment.rules import END_OF_YEAR, RuleOptions, RuleSet

HTXS, HTT, HT, CHT = "HTXS", "HTT", "HT", "CHT"
RESULT_LABELS = {
    HTXS: "Hoàn thành xuất sắc",
    HTT: "Hoàn thành tốt",
    HT: "Hoàn thành",
    CHT: "Chưa hoàn thành",
}
EXCELLENT_AWARD = "Học sinh Xuất sắc"
SUBJECT_LEVEL_LABELS = {"T": "Hoàn thành tốt", "H": "Hoàn thành", "C": "Chưa hoàn thành"}
COMPETENCY_LEVEL_LABELS = {"T": "Tốt", "Đ": "Đạt", "C": "Cần cố gắng"}

# (result, subject levels allowed, competency levels allowed, minimum end-of-year score)
THRESHOLDS = (
    (HTXS, {"T"}, {"T"}, 9),
    (HTT, {"T"}, {"T"}, 7),
    (HT, {"T", "H"}, {"T", "Đ"}, 5),
)


@dataclass(frozen=True)
class PupilYear:
    """One pupil's end-of-year data: levels by subject code, scores, and competency levels."""

    grade: int
    subject_levels: dict[str, str]
    scores: dict[str, int]
    competency_levels: dict[str, str]
    optional_subjects: frozenset[str] = frozenset()  # optional subjects the pupil studies


@dataclass(frozen=True)
class Evaluation:
    result: str | None
    completion: str | None
    award: str | None
    reasons: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def is_computable(self) -> bool:
        return self.result is not None

    @property
    def result_label(self) -> str | None:
        return RESULT_LABELS.get(self.result or "")

    def as_dict(self) -> dict[str, object]:
        return {
            "result": self.result,
            "result_label": self.result_label,
            "completion": self.completion,
            "award": self.award,
            "reasons": self.reasons,
            "missing": self.missing,
        }


def counted_subjects(pupil: PupilYear, rules: RuleSet, options: RuleOptions) -> list[str]:
    """Subjects that enter the year-end rule for this pupil (DOMAIN §2.1, §8 setting)."""
    codes = []
    for rule in rules.subjects_for(pupil.grade):
        optional = rule.grades[pupil.grade] == "optional"
        if optional and (
            not options.optional_subjects_count or rule.code not in pupil.optional_subjects
        ):
            continue
        codes.append(rule.code)
    return codes


def missing_fields(pupil: PupilYear, rules: RuleSet, options: RuleOptions) -> list[str]:
    missing = []
    for code in counted_subjects(pupil, rules, options):
        label = rules.subject(code).label
        if pupil.subject_levels.get(code) not in SUBJECT_LEVEL_LABELS:
            missing.append(f"{label}: thiếu mức đạt được cuối năm")
        if rules.is_tested(code, pupil.grade, END_OF_YEAR, options) and code not in pupil.scores:
            missing.append(f"{label}: thiếu điểm kiểm tra cuối năm")
    for item in rules.competency_items(pupil.grade, options):
        if pupil.competency_levels.get(item.code) not in COMPETENCY_LEVEL_LABELS:
            missing.append(f"{item.label}: thiếu mức đánh giá cuối năm")
    return missing


def _shortfalls(
    pupil: PupilYear,
    rules: RuleSet,
    options: RuleOptions,
    threshold: tuple[str, set[str], set[str], int],
) -> list[str]:
    """Why the pupil does not reach one result level, one line per failing field."""
    _result, subject_levels, competency_levels, minimum = threshold
    reasons = []
    for code in counted_subjects(pupil, rules, options):
        label = rules.subject(code).label
        level = pupil.subject_levels[code]
        if level not in subject_levels:
            reasons.append(f"{label}: mức {level} ({SUBJECT_LEVEL_LABELS[level]})")
        if rules.is_tested(code, pupil.grade, END_OF_YEAR, options):
            score = pupil.scores[code]
            if score < minimum:
                reasons.append(f"{label}: điểm {score} < {minimum}")
    for item in rules.competency_items(pupil.grade, options):
        level = pupil.competency_levels[item.code]
        if level not in competency_levels:
            reasons.append(f"{item.label}: mức {level} ({COMPETENCY_LEVEL_LABELS[level]})")
    return reasons


def completion_text(result: str, grade: int) -> str | None:
    """Art. 11: HTXS, HTT and HT complete the grade; grade 5 completes primary school."""
    if result == CHT:
        return None
    if grade == 5:
        return "Hoàn thành chương trình tiểu học"
    return f"Hoàn thành chương trình lớp {grade}"


def evaluate(pupil: PupilYear, rules: RuleSet, options: RuleOptions | None = None) -> Evaluation:
    """The year-end result with its explanation (DOMAIN §2.3)."""
    options = options or RuleOptions()
    if missing := missing_fields(pupil, rules, options):
        return Evaluation(result=None, completion=None, award=None, missing=missing)
    reasons: list[str] = []
    for threshold in THRESHOLDS:
        shortfalls = _shortfalls(pupil, rules, options, threshold)
        if not shortfalls:
            result = threshold[0]
            award = EXCELLENT_AWARD if result == HTXS else None
            return Evaluation(result, completion_text(result, pupil.grade), award, reasons)
        # Keep why the pupil missed the level just above the one finally reached.
        reasons = [f"Chưa đạt {RESULT_LABELS[threshold[0]]}: {line}" for line in shortfalls]
    return Evaluation(result=CHT, completion=None, award=None, reasons=reasons)
