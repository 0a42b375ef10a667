"""The rollout figures of one place (a row of a dashboard table) and how they add up."""

from __future__ import annotations

from dataclasses import dataclass, fields

from hocba.monitoring.models import Milestone


def percent(count: int | None, total: int) -> float | None:
    """``count`` as a share of ``total`` in percent, one decimal; None when there is no total."""
    if count is None or total <= 0:
        return None
    return round(100 * count / total, 1)


@dataclass
class Figures:
    """Counts for one place and one school year.

    Record counts are pupils (enrolments) and cumulative: ``teacher_signed`` also counts the
    records the principal signed, that were sealed or issued; ``principal_signed`` also counts
    sealed and issued ones. ``compiled`` counts every pupil with a record, pending ones included;
    ``pending`` is the part waiting for summer re-assessment or a personal ID. ``synced`` is None
    when the upward exchange is not installed.
    """

    teachers: int = 0
    teachers_certified: int = 0
    principals: int = 0
    principals_certified: int = 0
    classes: int = 0
    classes_locked: int = 0
    pupils: int = 0
    compiled: int = 0
    teacher_signed: int = 0
    principal_signed: int = 0
    issued: int = 0
    pending: int = 0
    synced: int | None = 0

    def add(self, other: Figures) -> None:
        for field in fields(self):
            mine, theirs = getattr(self, field.name), getattr(other, field.name)
            total = None if mine is None or theirs is None else mine + theirs
            setattr(self, field.name, total)

    def update(self, values: dict[str, int]) -> None:
        for name, value in values.items():
            setattr(self, name, value)

    @property
    def staff(self) -> int:
        return self.teachers + self.principals

    @property
    def staff_certified(self) -> int:
        return self.teachers_certified + self.principals_certified

    def progress(self, milestone: Milestone) -> float | None:
        """How far the milestone is, in percent (certificates: of teachers and principals;
        classes: of classes; records: of pupils)."""
        parts: dict[Milestone, tuple[int | None, int]] = {
            Milestone.CERTIFICATES: (self.staff_certified, self.staff),
            Milestone.CLASSES_LOCKED: (self.classes_locked, self.classes),
            Milestone.TEACHER_SIGNED: (self.teacher_signed, self.pupils),
            Milestone.PRINCIPAL_SIGNED: (self.principal_signed, self.pupils),
            Milestone.ISSUED: (self.issued, self.pupils),
            Milestone.SYNCED: (self.synced, self.pupils),
        }
        count, total = parts[milestone]
        return percent(count, total)

    def pipeline(self) -> list[tuple[str, int]]:
        """Each pupil in exactly one stage (for the stacked bar), furthest stage first."""
        issued = self.issued
        principal_only = max(self.principal_signed - issued, 0)
        teacher_only = max(self.teacher_signed - self.principal_signed, 0)
        compiled_only = max(self.compiled - self.teacher_signed - self.pending, 0)
        not_compiled = max(self.pupils - self.compiled, 0)
        return [
            ("issued", issued),
            ("principal_signed", principal_only),
            ("teacher_signed", teacher_only),
            ("compiled", compiled_only),
            ("pending", self.pending),
            ("not_compiled", not_compiled),
        ]


@dataclass(frozen=True)
class Cell:
    key: str
    count: int | None
    total: int
    percent: float | None


@dataclass(frozen=True)
class Column:
    """One "count of total (percent)" column of the dashboard tables and their exports."""

    key: str
    header: str
    total_header: str
    help_text: str

    def cell(self, figures: Figures) -> Cell:
        count, total = _COLUMN_PARTS[self.key](figures)
        return Cell(self.key, count, total, percent(count, total))


_COLUMN_PARTS = {
    "teachers": lambda f: (f.teachers_certified, f.teachers),
    "principals": lambda f: (f.principals_certified, f.principals),
    "classes": lambda f: (f.classes_locked, f.classes),
    "compiled": lambda f: (f.compiled, f.pupils),
    "teacher_signed": lambda f: (f.teacher_signed, f.pupils),
    "principal_signed": lambda f: (f.principal_signed, f.pupils),
    "issued": lambda f: (f.issued, f.pupils),
    "pending": lambda f: (f.pending, f.pupils),
    "synced": lambda f: (f.synced, f.pupils),
}


def columns() -> list[Column]:
    """The table's columns, translated in the active language."""
    from django.utils.translation import gettext as _

    return [
        Column(
            "teachers",
            _("Giáo viên có chứng thư số"),
            _("Số giáo viên"),
            _(
                "Giáo viên chủ nhiệm và giáo viên bộ môn có chứng thư số cá nhân đã đăng ký, "
                "còn hiệu lực."
            ),
        ),
        Column(
            "principals",
            _("Hiệu trưởng, phó hiệu trưởng có chứng thư số"),
            _("Số hiệu trưởng, phó hiệu trưởng"),
            _("Hiệu trưởng và phó hiệu trưởng có chứng thư số cá nhân đã đăng ký, còn hiệu lực."),
        ),
        Column(
            "classes",
            _("Lớp đã khoá sổ"),
            _("Số lớp"),
            _("Lớp giáo viên chủ nhiệm đã xác nhận hoàn thành, hoặc đang bị khoá toàn lớp."),
        ),
        Column(
            "compiled",
            _("Đã tổng hợp"),
            _("Số học sinh"),
            _(
                "Học sinh đã có học bạ năm học được tổng hợp, kể cả học bạ đang chờ; tính trên "
                "số học sinh đang học."
            ),
        ),
        Column(
            "teacher_signed",
            _("Giáo viên chủ nhiệm đã ký"),
            _("Số học sinh"),
            _(
                "Cộng dồn: học bạ giáo viên chủ nhiệm đã ký, kể cả học bạ đã qua các bước sau "
                "(hiệu trưởng đã ký, đã đóng dấu, đã phát hành)."
            ),
        ),
        Column(
            "principal_signed",
            _("Hiệu trưởng đã ký"),
            _("Số học sinh"),
            _("Cộng dồn: học bạ hiệu trưởng đã ký, kể cả học bạ đã đóng dấu hoặc đã phát hành."),
        ),
        Column(
            "issued",
            _("Đã phát hành"),
            _("Số học sinh"),
            _(
                "Học sinh có học bạ năm học đã phát hành còn hiệu lực (bản bị thay thế hoặc thu "
                "hồi không được tính)."
            ),
        ),
        Column(
            "pending",
            _("Đang chờ"),
            _("Số học sinh"),
            _("Học bạ chờ đánh giá bổ sung sau hè hoặc chờ số định danh cá nhân."),
        ),
        Column(
            "synced",
            _("Đã đồng bộ lên cấp trên"),
            _("Số học sinh"),
            _("Học bạ đã được kho dữ liệu cấp trên (Sở, Bộ) xác nhận đã nhận."),
        ),
    ]
