"""``hocba demo``: migrate, seed the demo world, print its logins, serve on 127.0.0.1:8000.

``hocba.cli`` turns DEBUG on for this subcommand, so runserver also serves the static files.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from hocba.schools.demo import DemoSummary, seed_demo
from hocba.schools.demo_plan import DISTRICTS, SUBJECT_TEACHERS

DEFAULT_ADDRPORT = "127.0.0.1:8000"
WILDCARD_HOSTS = frozenset({"", "0", "0.0.0.0", "[::]"})  # noqa: S104  (only for display)


def url_for(addrport: str) -> str:
    """The address to open in a browser for runserver's ``addrport`` ("8001", "0.0.0.0:8000")."""
    host, sep, port = addrport.rpartition(":")
    if not sep:
        host, port = "", addrport
    return f"http://{'127.0.0.1' if host in WILDCARD_HOSTS else host}:{port}/"


def _logins_table(summary: DemoSummary) -> Table:
    table = Table(title=_("Tài khoản demo"), title_justify="left", show_lines=False)
    for header in (_("Vai trò"), _("Tên đăng nhập"), _("Họ và tên"), _("Phạm vi")):
        table.add_column(header)
    for login in summary.logins:
        table.add_row(
            login.role_label, f"[bold]{login.username}[/bold]", login.full_name, login.scope
        )
    return table


def _other_accounts(summary: DemoSummary) -> str:
    subjects = ", ".join(spec.slug for spec in SUBJECT_TEACHERS)
    districts = ", ".join(f"phong.{d.slug}" for d in DISTRICTS)
    return _(
        "Tài khoản khác (cùng mật khẩu): ht.<trường>, pht.<trường>, qt.<trường>, "
        "gv.<trường>.<lớp 1a…5b>, gvbm.<trường>.<môn: %(subjects)s>, với <trường> là "
        "%(schools)s; %(districts)s."
    ) % {"subjects": subjects, "schools": ", ".join(summary.school_slugs), "districts": districts}


def _outcome(summary: DemoSummary) -> str:
    seconds = f"{summary.seconds:.1f}".replace(".", ",")
    if not summary.created:
        return _("Dữ liệu demo đã có sẵn, không tạo thêm gì (%(s)s giây).") % {"s": seconds}
    return _("Đã tạo dữ liệu demo trong %(s)s giây: %(pupils)s học sinh, %(staff)s tài khoản.") % {
        "s": seconds,
        "pupils": summary.created.get("schools.pupil", 0),
        "staff": summary.created.get("auth.user", 0),
    }


def _assessment_outcome(summary: DemoSummary) -> str:
    seeded = summary.assessments
    if seeded is None:
        return ""
    results = seeded.results
    counts = _(
        "Kết quả cuối năm: %(htxs)s Hoàn thành xuất sắc, %(htt)s Hoàn thành tốt, %(ht)s Hoàn "
        "thành, %(cht)s Chưa hoàn thành, %(none)s chưa đủ dữ liệu."
    ) % {
        "htxs": results.get("HTXS", 0),
        "htt": results.get("HTT", 0),
        "ht": results.get("HT", 0),
        "cht": results.get("CHT", 0),
        "none": results.get("", 0),
    }
    if not seeded.classes:
        return _("Đánh giá demo đã có sẵn.") + " " + counts
    seconds = f"{seeded.seconds:.1f}".replace(".", ",")
    written = _(
        "Đã tạo đánh giá cả năm cho %(classes)s lớp trong %(s)s giây: %(subjects)s đánh giá môn "
        "học, %(competencies)s đánh giá phẩm chất, năng lực."
    ) % {
        "classes": seeded.classes,
        "s": seconds,
        "subjects": seeded.subject_marks,
        "competencies": seeded.competency_marks,
    }
    return written + " " + counts


def render_summary(summary: DemoSummary, url: str, *, color: bool) -> str:
    """The logins table and how to get in, as text (coloured when printing to a terminal)."""
    width = shutil.get_terminal_size((120, 24)).columns if color else 160
    console = Console(file=io.StringIO(), force_terminal=color, width=width, highlight=False)
    banner = "DEMO — " + _("KHÔNG DÙNG CHO THỰC TẾ (NOT FOR PRODUCTION)")
    console.print(Panel(f"[bold red]{banner}[/bold red]", expand=False))
    console.print(_outcome(summary))
    if assessments := _assessment_outcome(summary):
        console.print(assessments)
    console.print(_logins_table(summary))
    console.print(_("Mật khẩu của mọi tài khoản: [bold]%(p)s[/bold]") % {"p": summary.password})
    console.print(_("Mở trình duyệt tại: [bold]%(url)s[/bold]") % {"url": url})
    console.print(_other_accounts(summary), markup=False)
    console.print(f"[bold red]{banner}[/bold red]")
    file = console.file
    assert isinstance(file, io.StringIO)
    return file.getvalue()


class Command(BaseCommand):
    help = "Tạo dữ liệu demo (Hà Nội, 3 trường tiểu học) và chạy máy chủ thử trên 127.0.0.1:8000."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--addrport",
            default=DEFAULT_ADDRPORT,
            help="Địa chỉ và cổng cho máy chủ thử (mặc định %(default)s).",
        )
        parser.add_argument(
            "--no-serve",
            action="store_true",
            help="Chỉ tạo dữ liệu, không chạy máy chủ (dùng cho kiểm thử và CI).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        quieter = max(options["verbosity"] - 1, 0)
        self.stdout.write(_("Cập nhật cấu trúc cơ sở dữ liệu…"))
        call_command("migrate", interactive=False, verbosity=quieter, stdout=self.stdout)
        call_command("createcachetable", verbosity=quieter, stdout=self.stdout)
        self.stdout.write(_("Tạo dữ liệu demo…"))
        summary = seed_demo(stdout=self.stdout)
        pki = self._seed_pki()
        self._seed_records(pki)
        text = render_summary(summary, url_for(options["addrport"]), color=self.stdout.isatty())
        self.stdout.write(text, ending="")
        if not options["no_serve"]:
            use_demo_pki_services(url_for(options["addrport"]))
            worker = start_worker()
            # SIGTERM as well as Ctrl+C unwinds through ``finally``, so the worker stops too.
            signal.signal(signal.SIGTERM, _exit_on_signal)
            try:
                # No autoreloader: it would restart the process and redo the migrate and seed.
                call_command("runserver", options["addrport"], use_reloader=False)
            finally:
                stop_worker(worker)

    def _seed_records(self, pki: Any) -> None:
        """Records at every stage: one school issued, one waiting for signatures (issue 5-6)."""
        from hocba.schools.selectors import current_school_year
        from hocba.signing.demo_records import seed_demo_records

        year = current_school_year()
        if year is None:
            return
        self.stdout.write(_("Ký số học bạ demo…"))
        summary = seed_demo_records(pki, year)
        if summary.compiled or summary.sealed:
            self.stdout.write(
                _(
                    "Học bạ demo: %(compiled)s học bạ được tổng hợp; %(sealed)s học bạ của Trường "
                    "Tiểu học Dịch Vọng A được giáo viên, Hiệu trưởng ký, đóng dấu và %(issued)s "
                    "học bạ đã phát hành (ghi vào sổ cái minh bạch)."
                )
                % {
                    "compiled": summary.compiled,
                    "sealed": summary.sealed,
                    "issued": summary.issued,
                }
            )
        if summary.corrected:
            self.stdout.write(
                _(
                    "Một học bạ đã được đính chính: mở /xac-thuc/%(code)s để thấy phiên bản cũ "
                    "được thay thế và liên kết tới phiên bản mới."
                )
                % {"code": summary.corrected}
            )
        self.stdout.write(
            _(
                "Thử ký số: gv.nghiatan.4a ký lớp 4A; ht.nghiatan ký và đóng dấu lớp 5A "
                "(Trường Tiểu học Nghĩa Tân)."
            )
        )

    def _seed_pki(self) -> Any:
        """Demo certificates for every signer and school (issue 5 §1), clearly not for real use."""
        from hocba.signing.demo import DEMO_PIN, seed_demo_pki

        pki = seed_demo_pki()
        self.stdout.write(
            _(
                "PKI thử nghiệm (KHÔNG DÙNG CHO THỰC TẾ): %(folder)s; %(people)s chứng thư cá "
                "nhân (PIN %(pin)s), %(seals)s con dấu."
            )
            % {
                "folder": pki.folder,
                "people": len(pki.people),
                "pin": DEMO_PIN,
                "seals": len(pki.seals),
            }
        )
        for seal in pki.seals.values():
            self.stdout.write(
                _("Con dấu số của %(school)s: PIN %(pin)s") % {"school": seal.name, "pin": seal.pin}
            )
        return pki


def use_demo_pki_services(url: str) -> None:
    """Serve the demo CRL and TSA from this server and sign with that TSA (unless one is set).

    Written to the environment too, so the worker process started next inherits it.
    """
    tsa_url = os.environ.get("HOCBA_TSA_URL") or f"{url.rstrip('/')}/pki/tsa"
    os.environ["HOCBA_TSA_URL"] = tsa_url
    os.environ["HOCBA_DEMO_PKI_SERVICES"] = "1"
    settings.TSA_URL = tsa_url
    settings.DEMO_PKI_SERVICES = True


def _exit_on_signal(signum: int, frame: object) -> None:
    sys.exit(0)


def start_worker() -> subprocess.Popen[bytes]:
    """The embedded mode's background worker (ARCHITECTURE §8): ``hocba worker``, same env.

    A separate process rather than a thread: its own SQLite connection and no GIL contention
    with the web server while it renders.
    """
    command = [sys.executable, "-m", "hocba.cli", "worker", "--verbosity", "0"]
    return subprocess.Popen(command, env=os.environ.copy())  # noqa: S603  (our own module)


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    """SIGTERM: the worker finishes its current task and exits; kill it if it takes too long."""
    if worker.poll() is not None:
        return
    worker.terminate()
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
