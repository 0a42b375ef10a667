"""``hocba sign_agent``: sign the teacher's pending batches with the USB token on this computer.

Issue 5 §3 "agent": run on the signer's own computer, it logs in to the hocba server, fetches the
digests of the records waiting for the signer, signs them all with the local PKCS#11 token (one
PIN entry) and uploads the signature values; no browser plugin. The server checks every value
against the registered certificate before it embeds anything (:mod:`hocba.signing.agent`).

::

    hocba sign_agent --server https://hocba.example.vn --username gv.hoa \\
        --module /usr/lib/softhsm/libsofthsm2.so --token-label "Token GV" [--key-label K] \\
        [--register] [--once] [--interval 30]

The password and the PIN are asked for (``getpass``); ``HOCBA_AGENT_PASSWORD`` and
``HOCBA_AGENT_PIN`` supply them for tests and automation. Only the standard library speaks HTTP.
If the token is pulled out mid-batch the command stops with a non-zero exit; the records already
prepared stay on the server and are handed out again (same digests) the next time it runs.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from hocba.signing.adapters import SignerError
from hocba.signing.adapters.pkcs11 import Pkcs11Signer, default_module_path

PASSWORD_ENV = "HOCBA_AGENT_PASSWORD"  # noqa: S105 — the variable's name
PIN_ENV = "HOCBA_AGENT_PIN"
API_PATH = "/api/v1/signing/agent"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class AgentError(Exception):
    """A refusal or failure to show the user as is (Vietnamese)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class AgentClient:
    """The sign-agent API over HTTP(S), with the bearer token; logs in again when it expires."""

    def __init__(self, server: str, *, timeout: float = 300) -> None:
        parts = urllib.parse.urlsplit(server.strip())
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise AgentError(_("Địa chỉ máy chủ phải bắt đầu bằng https:// hoặc http://."))
        path = parts.path.rstrip("/").removesuffix("/api/v1")
        self.base = urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", "")) + API_PATH
        self.is_encrypted = parts.scheme == "https" or parts.hostname in LOOPBACK
        self.timeout = timeout
        self._token = ""
        self._credentials: tuple[str, str] | None = None

    def login(self, username: str, password: str) -> dict[str, Any]:
        answer = self._call("POST", "/login", {"username": username, "password": password})
        self._token, self._credentials = str(answer["token"]), (username, password)
        return dict(answer)

    def batches(self) -> list[dict[str, Any]]:
        return list(self._authorised("GET", "/batches"))

    def prepare(self, batch_id: int, limit: int) -> dict[str, Any]:
        return dict(self._authorised("POST", f"/batches/{batch_id}/prepare?limit={limit}"))

    def submit(self, batch_id: int, signatures: list[dict[str, Any]]) -> dict[str, Any]:
        body = {"signatures": signatures}
        return dict(self._authorised("POST", f"/batches/{batch_id}/signatures", body))

    def register(self, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self._authorised("POST", "/certificates", body))

    def _authorised(self, method: str, path: str, body: Any = None) -> Any:
        try:
            return self._call(method, path, body, token=self._token)
        except AgentError as error:
            if error.status != 401 or self._credentials is None:
                raise
        self.login(*self._credentials)  # the 8-hour token ran out while the agent kept polling
        return self._call(method, path, body, token=self._token)

    def _call(self, method: str, path: str, body: Any = None, *, token: str = "") -> Any:
        headers = {"Accept": "application/json", "Accept-Language": "vi"}
        data = None if method == "GET" else json.dumps(body or {}).encode()
        if data is not None:
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        # The scheme was checked in __init__ (http or https only).
        request = urllib.request.Request(  # noqa: S310
            self.base + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            raise AgentError(_refusal_text(error), error.code) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise AgentError(
                _("Không kết nối được máy chủ %(url)s: %(reason)s")
                % {"url": self.base, "reason": reason}
            ) from None


def _refusal_text(error: urllib.error.HTTPError) -> str:
    try:
        detail = json.loads(error.read() or b"{}").get("detail")
    except (ValueError, AttributeError):
        detail = None
    if isinstance(detail, str) and detail:
        return detail
    return _("Máy chủ trả lời lỗi %(code)s.") % {"code": error.code}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class Command(BaseCommand):
    help = (
        "Ký các học bạ đang chờ bạn ký bằng USB ký số (PKCS#11) cắm trên máy này: đăng nhập máy "
        "chủ, lấy mã băm, ký một lần nhập mã PIN, gửi chữ ký lên."
    )
    # It runs on the signer's computer: no database there, nothing to check or migrate.
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--server", required=True, help="địa chỉ máy chủ hocba")
        parser.add_argument("--username", required=True, help="tên đăng nhập")
        parser.add_argument("--module", default=None, help="thư viện PKCS#11 của thiết bị ký")
        parser.add_argument("--token-label", required=True, help="nhãn của thiết bị ký")
        parser.add_argument("--key-label", default=None, help="nhãn của khoá trên thiết bị")
        parser.add_argument(
            "--chain", type=Path, default=None, help="tệp PEM các chứng thư CA (khi đăng ký)"
        )
        parser.add_argument(
            "--register", action="store_true", help="đăng ký chứng thư số trên thiết bị"
        )
        parser.add_argument("--once", action="store_true", help="ký hết rồi thoát")
        parser.add_argument("--interval", type=int, default=30, help="số giây giữa hai lần hỏi")
        parser.add_argument("--limit", type=int, default=50, help="số học bạ mỗi lượt lấy")

    def handle(self, *args: Any, **options: Any) -> None:
        module_path = options["module"] or default_module_path()
        if not module_path:
            raise CommandError(_("Không tìm thấy thư viện PKCS#11; hãy chỉ rõ bằng --module."))
        try:
            client = AgentClient(options["server"])
            self._login(client, options["username"])
        except AgentError as error:
            raise CommandError(error.message) from None
        pin = os.environ.get(PIN_ENV) or getpass.getpass(
            _("Mã PIN của thiết bị ký “%(label)s”: ") % {"label": options["token_label"]}
        )
        try:
            signer = Pkcs11Signer(
                module_path=module_path,
                token_label=options["token_label"],
                key_label=options["key_label"],
                pin=pin,
            )
        except SignerError as error:
            raise CommandError(error.message) from None
        try:
            self._run(client, signer, options)
        except SignerError as error:
            raise CommandError(
                error.message
                + " "
                + _(
                    "Các học bạ đã chuẩn bị vẫn được giữ trên máy chủ; chạy lại sign-agent "
                    "để ký tiếp."
                )
            ) from None
        except AgentError as error:
            raise CommandError(error.message) from None
        except KeyboardInterrupt:
            self.stdout.write(_("Đã dừng theo yêu cầu."))
        finally:
            signer.close()

    def _login(self, client: AgentClient, username: str) -> None:
        if not client.is_encrypted:
            self.stdout.write(
                self.style.WARNING(
                    _("Cảnh báo: kết nối tới máy chủ không được mã hoá (không phải https).")
                )
            )
        password = os.environ.get(PASSWORD_ENV) or getpass.getpass(
            _("Mật khẩu của %(username)s: ") % {"username": username}
        )
        me = client.login(username, password)
        self.stdout.write(
            _("Đã đăng nhập: %(name)s (%(username)s).")
            % {"name": me["full_name"], "username": me["username"]}
        )

    def _run(self, client: AgentClient, signer: Pkcs11Signer, options: dict[str, Any]) -> None:
        fingerprint = hashlib.sha256(signer.certificate.dump()).hexdigest()
        self.stdout.write(
            _("Thiết bị ký: %(subject)s (vân tay %(fingerprint)s…).")
            % {
                "subject": signer.certificate.subject.human_friendly,
                "fingerprint": fingerprint[:16],
            }
        )
        if options["register"]:
            self._register(client, signer, options)
        skipped: set[int] = set()
        while True:
            batches = client.batches()
            mine = [b for b in batches if b["certificate_fingerprint"] == fingerprint]
            for other in batches:
                if other not in mine and other["id"] not in skipped:
                    skipped.add(other["id"])
                    self.stdout.write(
                        self.style.WARNING(
                            _(
                                "Bỏ qua lượt ký #%(id)s: lượt này dùng chứng thư số khác "
                                "(%(subject)s)."
                            )
                            % {"id": other["id"], "subject": other["certificate_subject"]}
                        )
                    )
            progressed = any([self._work(client, signer, batch, options) for batch in mine])
            if mine and progressed:
                continue
            if mine:  # something waits but nothing could be signed this round
                message = _("Không ký thêm được học bạ nào trong lần này.")
                if options["once"]:
                    raise AgentError(message)
                self.stdout.write(self.style.WARNING(message))
            else:
                self.stdout.write(self.style.SUCCESS(_("Không còn học bạ nào chờ bạn ký.")))
                if options["once"]:
                    return
            time.sleep(max(1, options["interval"]))

    def _register(self, client: AgentClient, signer: Pkcs11Signer, options: dict[str, Any]) -> None:
        chain = list(signer.chain)
        if options["chain"] is not None:
            chain += _read_pem_certificates(options["chain"])
        answer = client.register(
            {
                "certificate": _b64(signer.certificate.dump()),
                "chain": [_b64(certificate.dump()) for certificate in chain],
                "token_label": options["token_label"],
                "key_label": options["key_label"] or "",
            }
        )
        self.stdout.write(
            self.style.SUCCESS(
                _("Đã đăng ký chứng thư số “%(subject)s” để ký bằng sign-agent.")
                % {"subject": answer["subject_name"]}
            )
        )

    def _work(
        self,
        client: AgentClient,
        signer: Pkcs11Signer,
        batch: dict[str, Any],
        options: dict[str, Any],
    ) -> bool:
        """Sign what the batch has, round after round; whether anything was signed."""
        self.stdout.write(
            _("Lượt ký #%(id)s — %(step)s, %(target)s: còn %(remaining)s/%(total)s học bạ.")
            % {
                "id": batch["id"],
                "step": batch["step_label"],
                "target": batch["school_class"] or batch["school"],
                "remaining": batch["remaining"],
                "total": batch["total"],
            }
        )
        progressed = False
        while True:
            prepared = client.prepare(batch["id"], options["limit"])
            items = prepared["items"]
            if not items:
                return progressed
            if prepared["certificate_fingerprint"] != batch["certificate_fingerprint"]:
                raise AgentError(_("Máy chủ yêu cầu ký bằng một chứng thư số khác; dừng lại."))
            if prepared["digest_algorithm"] != "sha256":
                raise AgentError(_("Máy chủ yêu cầu thuật toán băm không được hỗ trợ."))
            digests = [base64.b64decode(item["digest"]) for item in items]
            values = signer.sign_digests(digests)
            answer = client.submit(
                batch["id"],
                [
                    {"item_id": item["item_id"], "signature": _b64(value)}
                    for item, value in zip(items, values, strict=True)
                ],
            )
            signed = self._report(items, answer)
            if not signed:
                return progressed
            progressed = True
            if answer["batch"]["remaining"] == 0:
                return True

    def _report(self, items: list[dict[str, Any]], answer: dict[str, Any]) -> int:
        labels = {
            item["item_id"]: f"{item['record_code']} ({item['pupil_name']})" for item in items
        }
        signed = 0
        for result in answer["results"]:
            if result["outcome"] == "signed":
                signed += 1
            elif result["outcome"] != "already_signed":
                self.stdout.write(
                    self.style.ERROR(
                        f"  {labels.get(result['item_id'], result['item_id'])}: {result['message']}"
                    )
                )
        state = answer["batch"]
        self.stdout.write(
            self.style.SUCCESS(
                "  "
                + _("Đã ký %(count)s học bạ; cả lượt: %(done)s/%(total)s đã ký, %(failed)s lỗi.")
                % {
                    "count": signed,
                    "done": state["done_count"],
                    "total": state["total"],
                    "failed": state["failed_count"],
                }
            )
        )
        return signed


def _read_pem_certificates(path: Path) -> list[asn1_x509.Certificate]:
    try:
        data = path.read_bytes()
        if not pem.detect(data):
            return [asn1_x509.Certificate.load(data)]
        return [
            asn1_x509.Certificate.load(der)
            for kind, _headers, der in pem.unarmor(data, multiple=True)
            if kind == "CERTIFICATE"
        ]
    except (OSError, ValueError) as error:
        raise AgentError(
            _("Không đọc được tệp chứng thư %(path)s: %(error)s") % {"path": path, "error": error}
        ) from None
