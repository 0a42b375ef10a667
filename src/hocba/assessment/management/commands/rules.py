"""``hocba rules``: explain a year-end result, or print a rule set (docs/rules-evaluate.md).

``hocba rules evaluate`` reads one pupil's end-of-year data as JSON on standard input and prints
the result with its reasons, as JSON. Exit status: 0 computable, 3 not computable (fields are
missing), 2 malformed input (a Vietnamese message on standard error says what is wrong).
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils.translation import gettext as _

from hocba.assessment import selectors
from hocba.assessment.pupil_input import DEFAULT_SCHEME, InputRejected, PupilInput, read_pupil
from hocba.assessment.rules import RuleOptions, RuleSet, available_versions, load_ruleset
from hocba.assessment.yearend import evaluate
from hocba.schools.models import SchoolYear

EXIT_NOT_COMPUTABLE = 3
EXIT_BAD_INPUT = 2


def stored_year_settings(name: str) -> tuple[str, RuleOptions] | None:
    """The scheme and settings of a school year in the database, or None if there is none."""
    try:
        year = SchoolYear.objects.filter(name=name).first()
        if year is None:
            return None
        return year.assessment_scheme, selectors.options_for(year)
    except DatabaseError:  # no database yet (a fresh data directory): use the input's options
        return None


def explanation(parsed: PupilInput) -> dict[str, Any]:
    evaluation = evaluate(parsed.pupil, parsed.rules, parsed.options)
    return {
        **evaluation.as_dict(),
        "grade": parsed.pupil.grade,
        "scheme": parsed.rules.version,
        "settings_from": "school_year" if parsed.school_year else "input",
    }


class Command(BaseCommand):
    help = (
        "Quy tắc đánh giá cuối năm (Thông tư 27): “evaluate” giải thích kết quả của một học sinh "
        "từ JSON trên đầu vào chuẩn; “list” in bộ quy tắc."
    )
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        evaluate_parser = subcommands.add_parser(
            "evaluate", help="xét kết quả cuối năm của một học sinh (JSON trên stdin)"
        )
        evaluate_parser.add_argument(
            "file", nargs="?", default="-", help="tệp JSON; mặc định “-” là đầu vào chuẩn"
        )
        list_parser = subcommands.add_parser("list", help="in bộ quy tắc đánh giá")
        list_parser.add_argument("--scheme", default=DEFAULT_SCHEME, help="phiên bản bộ quy tắc")
        list_parser.add_argument("--grade", type=int, choices=range(1, 6), help="chỉ một khối")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "list":
            self._list(options["scheme"], options["grade"])
            return
        self._evaluate(self._read(options))

    def _read(self, options: dict[str, Any]) -> str:
        if options.get("file", "-") != "-":
            try:
                with open(options["file"], encoding="utf-8") as handle:
                    return handle.read()
            except OSError as error:
                raise CommandError(
                    _("Không đọc được tệp %(path)s: %(err)s.")
                    % {"path": options["file"], "err": error.strerror},
                    returncode=EXIT_BAD_INPUT,
                ) from None
        stream: TextIO = options.get("stdin") or sys.stdin
        try:
            return stream.read()
        except UnicodeDecodeError:
            raise CommandError(
                _("Dữ liệu vào phải là văn bản UTF-8."), returncode=EXIT_BAD_INPUT
            ) from None

    def _evaluate(self, text: str) -> None:
        try:
            parsed = read_pupil(text, year_settings=stored_year_settings)
        except InputRejected as error:
            raise CommandError(error.message, returncode=EXIT_BAD_INPUT) from None
        output = explanation(parsed)
        self.stdout.write(json.dumps(output, ensure_ascii=False, indent=2))
        if output["result"] is None:
            raise CommandError(
                _("Chưa xét được kết quả: thiếu %(n)s mục (xem “missing”).")
                % {"n": len(output["missing"])},
                returncode=EXIT_NOT_COMPUTABLE,
            )

    def _list(self, scheme: str, grade: int | None) -> None:
        try:
            rules = load_ruleset(scheme)
        except LookupError:
            raise CommandError(
                _("Không có bộ quy tắc “%(s)s”. Có: %(all)s.")
                % {"s": scheme, "all": ", ".join(available_versions())},
                returncode=EXIT_BAD_INPUT,
            ) from None
        self.stdout.write(f"{rules.version}: {rules.title}")
        for number in [grade] if grade else range(1, 6):
            self._list_grade(rules, number)

    def _list_grade(self, rules: RuleSet, grade: int) -> None:
        options = RuleOptions()
        self.stdout.write("")
        self.stdout.write(_("Khối %(g)s — môn học và hoạt động giáo dục") % {"g": grade})
        for rule in rules.subjects_for(grade):
            periods = [
                p.code for p in rules.periods if rules.is_tested(rule.code, grade, p.code, options)
            ]
            optional = _(" (tự chọn)") if rules.is_optional(rule.code, grade) else ""
            tested = _("kiểm tra: %(p)s") % {"p": ", ".join(periods)} if periods else ""
            self.stdout.write(f"  {rule.code:<24} {rule.label}{optional}  {tested}".rstrip())
        self.stdout.write(_("Khối %(g)s — phẩm chất và năng lực") % {"g": grade})
        for item in rules.competency_items(grade, options):
            self.stdout.write(f"  {item.code:<24} {item.label}")
