"""``hocba ledger audit`` and ``hocba ledger checkpoint``: the transparency log from the shell.

``audit`` replays the whole log (:mod:`hocba.ledger.audit`) with a progress bar and exits
non-zero on any problem, naming the record concerned. ``checkpoint`` signs a checkpoint of the
current log (or prints the latest one if the log has not grown) and the log's verifier key.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hocba.ledger import keys, services
from hocba.ledger.audit import run_audit


class Command(BaseCommand):
    help = "Sổ cái minh bạch: “audit” kiểm tra lại toàn bộ, “checkpoint” ký điểm kiểm tra."

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        subcommands.add_parser("audit", help="kiểm tra lại toàn bộ sổ cái")
        subcommands.add_parser("checkpoint", help="ký điểm kiểm tra của sổ cái")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "audit":
            self._audit()
        else:
            self._checkpoint()

    def _checkpoint(self) -> None:
        checkpoint = services.sign_checkpoint()
        self.stdout.write(checkpoint.note, ending="")
        self.stdout.write(_("Khoá xác minh: %(key)s") % {"key": keys.verifier_key()})

    def _audit(self) -> None:
        console = Console(file=sys.stderr)
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, transient=False) as progress:
            tasks: dict[str, Any] = {}

            def advance(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = progress.add_task(stage, total=total)
                progress.update(tasks[stage], completed=done, total=max(total, done))

            report = run_audit(advance)
        self.stdout.write(
            _("Đã kiểm tra %(leaves)s lá, %(checkpoints)s điểm kiểm tra, %(records)s học bạ.")
            % {
                "leaves": report.leaves,
                "checkpoints": report.checkpoints,
                "records": report.records,
            }
        )
        for problem in report.problems:
            self.stdout.write(self.style.ERROR(str(problem)))
        if not report.ok:
            raise CommandError(_("Sổ cái có %(count)s vấn đề.") % {"count": len(report.problems)})
        self.stdout.write(self.style.SUCCESS(_("Sổ cái toàn vẹn.")))
