"""``hocba ledger audit|checkpoint|tiles``: the transparency log from the shell.

``audit`` replays the whole log (:mod:`hocba.ledger.audit`) with a progress bar and exits
non-zero on any problem, naming the record concerned. ``checkpoint`` signs a checkpoint of the
current log (or prints the latest one if the log has not grown) and the log's verifier key.
``tiles DIR`` signs a checkpoint of the current log the same way and writes its C2SP tlog-tiles
layout to DIR (:func:`hocba.ledger.tiles.export_tiles`; full tiles already there are kept).
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hocba.ledger import keys, services, tiles
from hocba.ledger.audit import run_audit


class Command(BaseCommand):
    help = "Sổ cái minh bạch: “audit” kiểm tra lại toàn bộ, “checkpoint” ký điểm kiểm tra."

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        subcommands.add_parser("audit", help="kiểm tra lại toàn bộ sổ cái")
        subcommands.add_parser("checkpoint", help="ký điểm kiểm tra của sổ cái")
        export = subcommands.add_parser(
            "tiles", help="xuất sổ cái thành các tệp tĩnh (C2SP tlog-tiles) vào thư mục DIR"
        )
        export.add_argument("dir", metavar="DIR", help="thư mục đích")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "audit":
            self._audit()
        elif options["subcommand"] == "tiles":
            self._tiles(options["dir"], list_files=options["verbosity"] >= 2)
        else:
            self._checkpoint()

    def _tiles(self, folder: str, list_files: bool) -> None:
        checkpoint = services.sign_checkpoint()
        try:
            result = tiles.export_tiles(folder, checkpoint)
        except OSError as error:
            raise CommandError(
                _("Không ghi được vào thư mục %(dir)s: %(error)s") % {"dir": folder, "error": error}
            ) from error
        # Each file at -v 2, or when there are few (an incremental export writes a handful).
        for path in result.written if list_files or len(result.written) <= 20 else ():
            self.stdout.write(_("Đã ghi %(path)s") % {"path": path})
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Đã xuất sổ cái %(size)s lá vào %(dir)s: ghi %(written)s tệp, giữ nguyên "
                    "%(kept)s ô đầy đủ đã có."
                )
                % {
                    "size": result.size,
                    "dir": folder,
                    "written": len(result.written),
                    "kept": len(result.kept),
                }
            )
        )

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
        write_audit(self, report)


def write_audit(command: BaseCommand, report: Any) -> None:
    """Print an audit's counts and problems; :class:`CommandError` (exit 1) if it found any."""
    command.stdout.write(
        _("Đã kiểm tra %(leaves)s lá, %(checkpoints)s điểm kiểm tra, %(records)s học bạ.")
        % {
            "leaves": report.leaves,
            "checkpoints": report.checkpoints,
            "records": report.records,
        }
    )
    for problem in report.problems:
        command.stdout.write(command.style.ERROR(str(problem)))
    if not report.ok:
        raise CommandError(_("Sổ cái có %(count)s vấn đề.") % {"count": len(report.problems)})
    command.stdout.write(command.style.SUCCESS(_("Sổ cái toàn vẹn.")))
