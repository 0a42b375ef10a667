"""``hocba api-keys create|list|revoke``: institutions' keys for the verification API."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from hocba.api import keys
from hocba.api.models import ApiKey, ApiScope
from hocba.common.errors import DomainError


class Command(BaseCommand):
    help = "Khoá API cho cơ quan, tổ chức: tạo (hiện khoá một lần), liệt kê, thu hồi."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", required=True)
        create = commands.add_parser("create", help="tạo khoá mới và in khoá ra một lần")
        create.add_argument("--name", required=True, help="tên khoá (vd. hệ thống tuyển sinh)")
        create.add_argument("--institution", required=True, help="cơ quan, tổ chức dùng khoá")
        create.add_argument(
            "--scope",
            action="append",
            choices=ApiScope.values,
            help="quyền (lặp lại được); mặc định verify:read",
        )
        create.add_argument("--rate-limit", type=int, help="số yêu cầu tối đa mỗi phút")
        commands.add_parser("list", help="liệt kê các khoá")
        revoke = commands.add_parser("revoke", help="thu hồi một khoá theo tiền tố")
        revoke.add_argument("prefix", help="tiền tố của khoá (cột đầu của “list”)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "create":
            self._create(options)
        elif options["subcommand"] == "list":
            self._list()
        else:
            self._revoke(options["prefix"])

    def _create(self, options: dict[str, Any]) -> None:
        try:
            key, raw_key = keys.create_key(
                actor=None,
                name=options["name"],
                institution=options["institution"],
                scopes=options["scope"] or [ApiScope.VERIFY_READ],
                rate_limit=options["rate_limit"],
            )
        except DomainError as refused:
            raise CommandError(refused.message) from None
        self.stdout.write(raw_key)
        self.stderr.write(
            _("Đã tạo khoá %(prefix)s cho %(institution)s (%(scopes)s). Khoá chỉ hiện một lần.")
            % {
                "prefix": key.prefix,
                "institution": key.institution,
                "scopes": ", ".join(key.scopes),
            }
        )

    def _list(self) -> None:
        for key in ApiKey.objects.all():
            state = _("đang dùng") if key.is_active else _("đã thu hồi")
            used = key.last_used_at.strftime("%d/%m/%Y %H:%M") if key.last_used_at else "-"
            self.stdout.write(
                "\t".join(
                    [key.prefix, key.name, key.institution, ",".join(key.scopes), state, used]
                )
            )

    def _revoke(self, prefix: str) -> None:
        key = ApiKey.objects.filter(prefix=prefix.strip()).first()
        if key is None:
            raise CommandError(_("Không có khoá API có tiền tố %(prefix)s.") % {"prefix": prefix})
        keys.revoke_key(actor=None, key=key)
        self.stdout.write(_("Đã thu hồi khoá %(prefix)s.") % {"prefix": key.prefix})
